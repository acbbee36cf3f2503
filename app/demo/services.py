"""Demo content: the five partner organisations with one account of each role (as many
psychologists as publication needs approvals), a group and a campaign each, and a
creator made ready and joined — made through the same services a person would use.
``app.demo.works`` then takes demo works through the pipeline."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.services import create_invitation, create_staff_account, redeem_invitation
from app.accounts.throttle import ThrottleRules
from app.core.actors import SYSTEM
from app.core.clock import utcnow
from app.groups.models import Campaign
from app.groups.services import create_campaign, create_group, join_group, record_readiness
from app.orgs.models import Organisation, Role
from app.orgs.services import create_organisation
from app.policies.loader import PolicyRegistry
from app.policies.schema import MediaPolicy

DEMO_GROUP = "Demo group"
DEMO_CAMPAIGN = "Speaking up together"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    organisation: str
    role: Role
    login_name: str
    password: str


@dataclass(frozen=True, slots=True)
class DemoOrganisation:
    """One demo organisation and the people who act in it."""

    policy: MediaPolicy
    organisation: Organisation
    campaign: Campaign
    facilitator: User
    psychologists: tuple[User, ...]
    creator: User


@dataclass(frozen=True, slots=True)
class Demo:
    accounts: list[DemoAccount]
    organisations: list[DemoOrganisation]


def is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Organisation))


def _staff(
    session: Session, policy: MediaPolicy, organisation: Organisation
) -> tuple[dict[Role, list[User]], list[DemoAccount]]:
    """An org admin, a facilitator, and as many psychologists as publication needs."""
    wanted = [(Role.ORG_ADMIN, "admin"), (Role.FACILITATOR, "facilitator")]
    wanted += [
        (Role.PSYCHOLOGIST, "psychologist" if n == 1 else f"psychologist-{n}")
        for n in range(1, max(1, policy.review.approvals_required) + 1)
    ]
    staff: dict[Role, list[User]] = {}
    accounts = []
    for role, suffix in wanted:
        password = secrets.token_urlsafe(12)
        login_name = f"{policy.slug}-{suffix}"
        user = create_staff_account(
            session,
            actor=SYSTEM,
            organisation=organisation,
            login_name=login_name,
            password=password,
            role=role,
        )
        staff.setdefault(role, []).append(user)
        accounts.append(DemoAccount(policy.slug, role, login_name, password))
    return staff, accounts


def load_demo(session: Session, policies: PolicyRegistry, rules: ThrottleRules) -> Demo:
    """Create the demo organisations and accounts; return them with the credentials,
    which exist nowhere else in plain text."""
    accounts: list[DemoAccount] = []
    organisations: list[DemoOrganisation] = []
    today = utcnow().date()
    for policy in policies:
        organisation = create_organisation(session, actor=SYSTEM, policy=policy)
        staff, staff_accounts = _staff(session, policy, organisation)
        accounts += staff_accounts
        facilitator = staff[Role.FACILITATOR][0]
        group = create_group(
            session,
            actor=facilitator,
            organisation=organisation,
            policy=policy,
            name=DEMO_GROUP,
        )
        campaign = create_campaign(
            session,
            actor=facilitator,
            group=group,
            policy=policy,
            title=DEMO_CAMPAIGN,
            description="A first campaign to try Chorus with.",
        )
        issued = create_invitation(
            session, actor=facilitator, organisation=organisation, group=group
        )
        password = secrets.token_urlsafe(12)
        login_name = f"{policy.slug}-creator"
        creator = redeem_invitation(
            session,
            code=issued.code,
            login_name=login_name,
            password=password,
            address="demo",
            rules=rules,
        )
        record_readiness(
            session,
            actor=facilitator,
            organisation=organisation,
            creator=creator,
            informed_consent_on=today,
            crisis_period_ended_on=today - timedelta(days=30),
        )
        join_group(session, actor=creator, group=group, accept_rules=True)
        accounts.append(DemoAccount(policy.slug, Role.CREATOR, login_name, password))
        organisations.append(
            DemoOrganisation(
                policy=policy,
                organisation=organisation,
                campaign=campaign,
                facilitator=facilitator,
                psychologists=tuple(staff[Role.PSYCHOLOGIST]),
                creator=creator,
            )
        )
    return Demo(accounts=accounts, organisations=organisations)
