"""Demo content: the five partner organisations with one account of each role, a group
and a campaign each — made through the same services a person would use."""

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
from app.groups.services import create_campaign, create_group, join_group, record_readiness
from app.orgs.models import Organisation, Role
from app.orgs.services import create_organisation
from app.policies.loader import PolicyRegistry

DEMO_GROUP = "Demo group"
DEMO_CAMPAIGN = "Speaking up together"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    organisation: str
    role: Role
    login_name: str
    password: str


def is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Organisation))


def load_demo(
    session: Session, policies: PolicyRegistry, rules: ThrottleRules
) -> list[DemoAccount]:
    """Create the demo organisations and accounts; return the credentials, which exist
    nowhere else in plain text."""
    accounts: list[DemoAccount] = []
    today = utcnow().date()
    for policy in policies:
        organisation = create_organisation(session, actor=SYSTEM, policy=policy)
        staff: dict[Role, User] = {}
        for role, suffix in (
            (Role.ORG_ADMIN, "admin"),
            (Role.FACILITATOR, "facilitator"),
            (Role.PSYCHOLOGIST, "psychologist"),
        ):
            password = secrets.token_urlsafe(12)
            login_name = f"{policy.slug}-{suffix}"
            staff[role] = create_staff_account(
                session,
                actor=SYSTEM,
                organisation=organisation,
                login_name=login_name,
                password=password,
                role=role,
            )
            accounts.append(DemoAccount(policy.slug, role, login_name, password))

        facilitator = staff[Role.FACILITATOR]
        group = create_group(
            session,
            actor=facilitator,
            organisation=organisation,
            policy=policy,
            name=DEMO_GROUP,
        )
        create_campaign(
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
    return accounts
