"""Which consents cover a work, and whose records are whose."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from app.consent.models import ConsentMethod, ConsentRecord, Modality
from app.consent.queries import (
    ConsentStatus,
    consents_for_work,
    consents_of_user,
    covering_consents,
    may_see_work_consents,
    status_of,
)
from app.consent.services import (
    IssuedConsent,
    add_person,
    record_consent_for_person,
    withdraw_consent,
)
from app.core.actors import PUBLIC
from app.core.clock import utcnow
from tests.consent.conftest import Org

FACE, VOICE, STORY = Modality.FACE, Modality.VOICE, Modality.STORY


def ids(records: list[ConsentRecord]) -> list[int]:
    return [r.id for r in records]


def covering(session: Session, world: Org, **changes: object) -> list[int]:
    arguments: dict[str, object] = {
        "work": world.work,
        "modality": FACE,
        "channel": "gallery",
        "at": utcnow(),
        **changes,
    }
    return ids(covering_consents(session, **arguments))  # type: ignore[arg-type]


def campaign_consent(session: Session, world: Org) -> IssuedConsent:
    person = add_person(
        session, actor=world.facilitator, organisation=world.organisation, label="Whole campaign"
    )
    return record_consent_for_person(
        session,
        actor=world.facilitator,
        person=person,
        work=None,
        campaign=world.campaign,
        policy=world.policy,
        modalities=[FACE],
        channels=["gallery"],
        method=ConsentMethod.PAPER,
        given_at=utcnow() - timedelta(days=1),
        expires_at=None,
        witnessed_by=None,
        notice="n",
        language="en",
    )


def test_work_scope_covers_only_that_work(
    session: Session, world: Org, give_own: Callable[..., IssuedConsent]
) -> None:
    record = give_own(modalities=(FACE,)).record
    assert covering(session, world) == [record.id]
    assert covering(session, world, work=world.campaign_work) == []
    assert covering(session, world, work=world.other_work) == []


def test_campaign_scope_covers_every_work_of_the_campaign(session: Session, world: Org) -> None:
    record = campaign_consent(session, world).record
    assert covering(session, world) == [record.id]
    assert covering(session, world, work=world.campaign_work) == [record.id]
    assert covering(session, world, work=world.other_work) == []


def test_modality_and_channel_must_match(
    session: Session, world: Org, give_own: Callable[..., IssuedConsent]
) -> None:
    record = give_own(modalities=(FACE, STORY), channels=("gallery", "print")).record
    assert covering(session, world, modality=FACE) == [record.id]
    assert covering(session, world, modality=STORY, channel="print") == [record.id]
    assert covering(session, world, modality=VOICE) == []
    assert covering(session, world, channel="stage") == []


def test_time_expiry_and_withdrawal(
    session: Session, world: Org, give_own: Callable[..., IssuedConsent]
) -> None:
    now = utcnow()
    record = give_own(expires_at=now + timedelta(days=5)).record
    assert covering(session, world, at=now + timedelta(days=4)) == [record.id]
    assert covering(session, world, at=now + timedelta(days=5)) == []  # ends at expires_at
    assert covering(session, world, at=now - timedelta(days=1)) == []  # not given yet
    withdraw_consent(session, actor=world.creator, record=record)
    assert covering(session, world, at=now) == []


def test_records_are_ordered_by_id(
    session: Session, world: Org, give_own: Callable[..., IssuedConsent]
) -> None:
    first = give_own().record
    second = campaign_consent(session, world).record
    third = give_own(actor=world.groupmate).record
    assert covering(session, world) == [first.id, second.id, third.id]


def test_a_record_of_another_organisation_never_covers(
    session: Session, world: Org, other: Org
) -> None:
    """Even a record pointing at this work, if another organisation holds it."""
    stranger = add_person(
        session, actor=other.facilitator, organisation=other.organisation, label="Elsewhere"
    )
    session.add(
        ConsentRecord(
            subject_id=stranger.id,
            organisation_id=other.organisation.id,
            work_id=world.work.id,
            purpose="p",
            modalities=["face"],
            channels=["gallery"],
            method=ConsentMethod.PAPER,
            given_at=utcnow() - timedelta(days=1),
            recorded_by_id=other.facilitator.id,
            withdrawal_code_hash="0" * 64,
        )
    )
    session.flush()
    assert covering(session, world) == []
    assert consents_for_work(session, world.work) == []


def test_consents_of_a_user_and_of_a_work(
    session: Session, world: Org, give_own: Callable[..., IssuedConsent]
) -> None:
    mine = give_own().record
    theirs = give_own(actor=world.groupmate).record
    campaign = campaign_consent(session, world).record
    elsewhere = give_own(actor=world.outsider, work=world.other_work).record
    withdraw_consent(session, actor=world.creator, record=mine)
    expired = give_own(expires_at=utcnow() + timedelta(seconds=1)).record

    assert ids(consents_of_user(session, world.creator)) == [expired.id, mine.id]
    assert ids(consents_of_user(session, world.groupmate)) == [theirs.id]
    assert ids(consents_for_work(session, world.work)) == [
        mine.id,
        theirs.id,
        campaign.id,
        expired.id,
    ]
    assert ids(consents_for_work(session, world.campaign_work)) == [campaign.id]
    assert ids(consents_for_work(session, world.other_work)) == [elsewhere.id]

    later = utcnow() + timedelta(minutes=1)
    assert status_of(mine, later) is ConsentStatus.WITHDRAWN
    assert status_of(expired, later) is ConsentStatus.EXPIRED
    assert status_of(theirs, later) is ConsentStatus.VALID


def test_who_may_see_a_works_consents(world: Org, other: Org) -> None:
    for actor in (world.facilitator, world.psychologist, world.admin, world.creator):
        assert may_see_work_consents(actor, world.work)
    for actor in (world.groupmate, world.outsider, other.facilitator, other.creator, PUBLIC):
        assert not may_see_work_consents(actor, world.work)
