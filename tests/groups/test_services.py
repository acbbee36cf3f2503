"""Groups, campaigns and the readiness gate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.core.actors import SYSTEM
from app.core.clock import utcnow
from app.core.errors import Conflict, PermissionDenied, ValidationFailed
from app.groups.models import CampaignStage, GroupMember
from app.groups.services import (
    create_campaign,
    create_group,
    join_group,
    move_campaign,
    record_readiness,
)
from app.orgs.models import Role

TODAY = utcnow().date()


@pytest.fixture
def org_setup(session: Session, make_org, make_staff, make_creator, policy_of):
    def build(slug: str = "adpare"):
        organisation = make_org(slug)
        facilitator = make_staff(organisation, Role.FACILITATOR)
        creator = make_creator(organisation)
        group = create_group(
            session,
            actor=facilitator,
            organisation=organisation,
            policy=policy_of(organisation),
            name="Dance group",
        )
        session.commit()
        return organisation, facilitator, creator, group

    return build


def _ready(session, facilitator, organisation, creator, ended_days_ago: int = 10) -> None:
    record_readiness(
        session,
        actor=facilitator,
        organisation=organisation,
        creator=creator,
        informed_consent_on=TODAY,
        crisis_period_ended_on=TODAY - timedelta(days=ended_days_ago),
    )
    session.commit()


def test_creator_cannot_join_before_readiness(session: Session, org_setup) -> None:
    organisation, facilitator, creator, group = org_setup()
    with pytest.raises(Conflict, match="ready to take part"):
        join_group(session, actor=creator, group=group, accept_rules=True)
    assert session.get(GroupMember, (group.id, creator.id)) is None
    _ready(session, facilitator, organisation, creator)
    member = join_group(session, actor=creator, group=group, accept_rules=False)
    session.commit()
    assert member.rules_accepted_at is None
    with pytest.raises(Conflict, match="already a member"):
        join_group(session, actor=creator, group=group, accept_rules=False)


@pytest.mark.parametrize(
    ("consent_days", "ended_days", "message"),
    [(-1, 10, "informed consent cannot be in the future"), (0, -1, "has not ended yet")],
)
def test_readiness_dates_must_be_past(
    session: Session, org_setup, consent_days: int, ended_days: int, message: str
) -> None:
    organisation, facilitator, creator, _ = org_setup()
    with pytest.raises(ValidationFailed, match=message):
        record_readiness(
            session,
            actor=facilitator,
            organisation=organisation,
            creator=creator,
            informed_consent_on=TODAY - timedelta(days=consent_days),
            crisis_period_ended_on=TODAY - timedelta(days=ended_days),
        )


def test_readiness_only_by_a_facilitator_of_that_organisation(
    session: Session, org_setup, make_org, make_staff
) -> None:
    organisation, _, creator, _ = org_setup()
    other = make_org("payoke")
    stranger = make_staff(other, Role.FACILITATOR)
    psychologist = make_staff(organisation, Role.PSYCHOLOGIST)
    admin = make_staff(organisation, Role.ORG_ADMIN)
    for actor in (stranger, psychologist, admin, creator, SYSTEM):
        with pytest.raises(PermissionDenied):
            record_readiness(
                session,
                actor=actor,
                organisation=organisation,
                creator=creator,
                informed_consent_on=TODAY,
                crisis_period_ended_on=TODAY,
            )


def test_readiness_is_for_creators_only(session: Session, org_setup, make_staff) -> None:
    organisation, facilitator, _, _ = org_setup()
    psychologist = make_staff(organisation, Role.PSYCHOLOGIST)
    with pytest.raises(ValidationFailed, match="creators"):
        record_readiness(
            session,
            actor=facilitator,
            organisation=organisation,
            creator=psychologist,
            informed_consent_on=TODAY,
            crisis_period_ended_on=TODAY,
        )


def test_readiness_is_recorded_with_staff_member_and_audited(session: Session, org_setup) -> None:
    organisation, facilitator, creator, _ = org_setup()
    _ready(session, facilitator, organisation, creator, ended_days_ago=3)
    _ready(session, facilitator, organisation, creator, ended_days_ago=5)  # an update
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "readiness.recorded")
    ).all()
    assert len(event) == 2
    assert event[0].actor_id == facilitator.id
    assert event[0].data == {"user_id": creator.id}


def test_mist_groups_require_their_rules(session: Session, org_setup) -> None:
    organisation, facilitator, creator, group = org_setup("mist")
    assert group.rules_required
    assert "pseudonyms" in group.rules
    _ready(session, facilitator, organisation, creator)
    with pytest.raises(ValidationFailed, match="accept its rules"):
        join_group(session, actor=creator, group=group, accept_rules=False)
    assert session.get(GroupMember, (group.id, creator.id)) is None
    member = join_group(session, actor=creator, group=group, accept_rules=True)
    assert member.rules_accepted_at is not None


def test_a_group_may_ask_for_rules_even_where_policy_does_not(
    session: Session, org_setup, policy_of
) -> None:
    organisation, facilitator, _, _ = org_setup()
    with pytest.raises(ValidationFailed, match="rules"):
        create_group(
            session,
            actor=facilitator,
            organisation=organisation,
            policy=policy_of(organisation),
            name="Strict",
            rules_required=True,
        )
    group = create_group(
        session,
        actor=facilitator,
        organisation=organisation,
        policy=policy_of(organisation),
        name="Strict",
        rules="Be kind.",
        rules_required=True,
    )
    assert group.rules_required


def test_creators_cannot_join_another_organisations_group(
    session: Session, org_setup, make_org, make_creator
) -> None:
    _, _, _, group = org_setup()
    outsider = make_creator(make_org("payoke"))
    with pytest.raises(PermissionDenied):
        join_group(session, actor=outsider, group=group, accept_rules=True)


def test_staff_cannot_join_groups_as_creators(session: Session, org_setup) -> None:
    _, facilitator, _, group = org_setup()
    with pytest.raises(PermissionDenied):
        join_group(session, actor=facilitator, group=group, accept_rules=True)


def test_campaign_starts_at_policy_first_stage_and_moves_within_it(
    session: Session, org_setup, policy_of
) -> None:
    organisation, facilitator, creator, group = org_setup("fundacion-cruz-blanca")
    policy = policy_of(organisation)
    campaign = create_campaign(
        session, actor=facilitator, group=group, policy=policy, title="Voices"
    )
    assert campaign.stage is CampaignStage.IDEA
    move_campaign(
        session,
        actor=facilitator,
        campaign=campaign,
        policy=policy,
        stage=CampaignStage.CREATIVE_WORK,
    )
    assert campaign.stage is CampaignStage.CREATIVE_WORK
    with pytest.raises(PermissionDenied):
        move_campaign(
            session,
            actor=creator,
            campaign=campaign,
            policy=policy,
            stage=CampaignStage.BROADCASTING,
        )
    with pytest.raises(PermissionDenied):
        create_campaign(session, actor=creator, group=group, policy=policy, title="Mine")


def test_group_names_are_checked(session: Session, org_setup, policy_of) -> None:
    organisation, facilitator, _, _ = org_setup()
    policy = policy_of(organisation)
    for name, message in (("   ", "1 to 120"), ("x" * 121, "1 to 120"), ("Dance group", "already")):
        with pytest.raises(ValidationFailed, match=message):
            create_group(
                session, actor=facilitator, organisation=organisation, policy=policy, name=name
            )
