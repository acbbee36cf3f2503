"""Consent test data: an organisation with a person in every role, a group whose
creators are ready and members, two campaigns with works, and a second organisation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.consent.models import Modality
from app.consent.services import IssuedConsent, record_own_consent
from app.core.clock import utcnow
from app.groups.models import Campaign, Group
from app.groups.services import create_campaign, create_group, join_group, record_readiness
from app.orgs.models import Organisation, Role
from app.policies.loader import PolicyRegistry
from app.policies.schema import MediaPolicy
from app.works.models import Credit, Work, WorkContributor, WorkKind


@dataclass
class Org:
    organisation: Organisation
    policy: MediaPolicy
    facilitator: User
    psychologist: User
    admin: User
    creator: User  # made ``work`` and ``campaign_work``
    groupmate: User  # in the same group, made nothing
    outsider: User  # a creator of the organisation in another group
    group: Group
    campaign: Campaign
    other_campaign: Campaign
    work: Work
    campaign_work: Work  # a second work of ``campaign``
    other_work: Work  # in ``other_campaign``, another group


@pytest.fixture
def make_work(session: Session) -> Callable[..., Work]:
    def make(campaign: Campaign, creator: User, title: str = "Our fanzine") -> Work:
        work = Work(
            campaign_id=campaign.id,
            kind=WorkKind.FANZINE,
            title=title,
            credit=Credit.COLLECTIVE,
            created_by_id=creator.id,
        )
        session.add(work)
        session.flush()
        session.add(WorkContributor(work_id=work.id, user_id=creator.id))
        session.commit()
        return work

    return make


@pytest.fixture
def make_world(
    session: Session,
    policies: PolicyRegistry,
    make_org: Callable[..., Organisation],
    make_staff: Callable[..., User],
    make_creator: Callable[..., User],
    make_work: Callable[..., Work],
) -> Callable[[str], Org]:
    def build(slug: str = "adpare") -> Org:
        organisation = make_org(slug)
        policy = policies.get(slug)
        facilitator = make_staff(organisation, Role.FACILITATOR)
        psychologist = make_staff(organisation, Role.PSYCHOLOGIST)
        admin = make_staff(organisation, Role.ORG_ADMIN)
        creators = [make_creator(organisation) for _ in range(3)]
        groups = [
            create_group(
                session, actor=facilitator, organisation=organisation, policy=policy, name=name
            )
            for name in ("Dancers", "Writers")
        ]
        today = utcnow().date()
        for creator, group in zip(creators, (groups[0], groups[0], groups[1]), strict=True):
            record_readiness(
                session,
                actor=facilitator,
                organisation=organisation,
                creator=creator,
                informed_consent_on=today,
                crisis_period_ended_on=today - timedelta(days=30),
            )
            join_group(session, actor=creator, group=group, accept_rules=True)
        campaign, other_campaign = (
            create_campaign(session, actor=facilitator, group=g, policy=policy, title=title)
            for g, title in zip(groups, ("Speaking up", "Quiet words"), strict=True)
        )
        session.commit()
        return Org(
            organisation=organisation,
            policy=policy,
            facilitator=facilitator,
            psychologist=psychologist,
            admin=admin,
            creator=creators[0],
            groupmate=creators[1],
            outsider=creators[2],
            group=groups[0],
            campaign=campaign,
            other_campaign=other_campaign,
            work=make_work(campaign, creators[0], "Our fanzine"),
            campaign_work=make_work(campaign, creators[0], "Second fanzine"),
            other_work=make_work(other_campaign, creators[2], "Their zine"),
        )

    return build


@pytest.fixture
def world(make_world: Callable[[str], Org]) -> Org:
    return make_world("adpare")


@pytest.fixture
def other(make_world: Callable[[str], Org], world: Org) -> Org:
    """A second organisation (Payoke: faces never shown, voices always altered)."""
    return make_world("payoke")


@pytest.fixture
def give_own(session: Session, world: Org) -> Callable[..., IssuedConsent]:
    """The creator's own consent for ``world.work``, committed."""

    def give(
        *,
        modalities: tuple[Modality, ...] = (Modality.FACE, Modality.VOICE),
        channels: tuple[str, ...] = ("gallery",),
        expires_at: datetime | None = None,
        actor: User | None = None,
        work: Work | None = None,
    ) -> IssuedConsent:
        issued = record_own_consent(
            session,
            actor=actor or world.creator,
            work=work or world.work,
            policy=world.policy,
            modalities=list(modalities),
            channels=list(channels),
            expires_at=expires_at,
            notice="What you agree to.",
            language="en",
        )
        session.commit()
        return issued

    return give
