"""Recording consent: who may, what is checked, and the withdrawal code."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.consent.models import ConsentMethod, ConsentRecord, Modality, Person
from app.consent.receipts import CODE_ALPHABET, code_hash, normalise_code
from app.consent.services import (
    IssuedConsent,
    add_person,
    person_for_user,
    record_consent_for_person,
    record_own_consent,
)
from app.core.actors import PUBLIC, SYSTEM
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.errors import PermissionDenied, ValidationFailed
from tests.consent.conftest import Org

CODE = re.compile(rf"^[{CODE_ALPHABET}]{{5}}-[{CODE_ALPHABET}]{{5}}$")


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
    )


def on_paper(session: Session, world: Org, **changes: object) -> IssuedConsent:
    """Consent recorded by the facilitator for a new person; ``changes`` override."""
    arguments: dict[str, object] = {
        "actor": world.facilitator,
        "person": None,
        "work": world.work,
        "campaign": None,
        "policy": world.policy,
        "modalities": [Modality.FACE],
        "channels": ["gallery", "print"],
        "method": ConsentMethod.PAPER,
        "given_at": utcnow() - timedelta(days=2),
        "expires_at": None,
        "witnessed_by": None,
        "notice": "The form read to them.",
        "language": "ro",
        **changes,
    }
    if arguments["person"] is None:
        arguments["person"] = add_person(
            session,
            actor=world.facilitator,
            organisation=world.organisation,
            label=f"Dancer in red {utcnow().timestamp()}",
        )
    return record_consent_for_person(session, **arguments)  # type: ignore[arg-type]


# --- The code ---------------------------------------------------------------------------


def test_code_is_ten_unambiguous_symbols_stored_only_as_a_hash(
    session: Session, world: Org, give_own: Callable[..., IssuedConsent], settings: Settings
) -> None:
    issued = give_own()
    assert CODE.match(issued.code), issued.code
    assert not set(issued.code) & set("ILOU")
    symbols = issued.code.replace("-", "")
    assert issued.record.withdrawal_code_hash == code_hash(symbols)
    assert len(issued.record.withdrawal_code_hash) == 64
    session.close()
    database = Path(settings.database_url.removeprefix("sqlite:///")).read_bytes()
    for clear in (issued.code, symbols):
        assert clear.encode() not in database


def test_codes_differ(give_own: Callable[..., IssuedConsent]) -> None:
    codes = {give_own().code for _ in range(5)}
    assert len(codes) == 5


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ABCDE-FGHJK", "ABCDEFGHJK"),
        (" abcde fghjk ", "ABCDEFGHJK"),
        ("abcdefghjk", "ABCDEFGHJK"),
        ("AB-CD-EF-GH-JK", "ABCDEFGHJK"),
        ("o0iIl-L1234", "0011111234"),  # O reads as 0; I and L as 1
        ("ABCDE-FGHJ", None),  # too short
        ("ABCDE-FGHJKM", None),  # too long
        ("ABCDE-FGHJU", None),  # U is not in the alphabet
        ("ABCDE+FGHJK", None),
        ("", None),
    ],
)
def test_code_normalisation(typed: str, expected: str | None) -> None:
    assert normalise_code(typed) == expected


# --- People -----------------------------------------------------------------------------


def test_person_for_user_has_a_neutral_label_and_is_reused(session: Session, world: Org) -> None:
    person = person_for_user(session, user=world.creator, organisation=world.organisation)
    again = person_for_user(session, user=world.creator, organisation=world.organisation)
    assert person.id == again.id
    assert person.label == f"Creator #{world.creator.id}"
    assert world.creator.login_name not in person.label
    [event] = events(session, "person.created")
    assert event.data == {"user_id": world.creator.id}


def test_person_for_user_outside_the_organisation(session: Session, world: Org, other: Org) -> None:
    with pytest.raises(ValidationFailed):
        person_for_user(session, user=other.creator, organisation=world.organisation)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("", "1 to 120"),
        ("   ", "1 to 120"),
        ("x" * 121, "1 to 120"),
        ("a\x00b", "letters, digits"),
        ("a\u200bb", "letters, digits"),
    ],
)
def test_add_person_label_rules(session: Session, world: Org, label: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        add_person(session, actor=world.facilitator, organisation=world.organisation, label=label)


def test_add_person_trims_refuses_duplicates_and_audits_without_the_label(
    session: Session, world: Org
) -> None:
    person = add_person(
        session, actor=world.facilitator, organisation=world.organisation, label="  Dancer  in red "
    )
    assert person.label == "Dancer in red"
    assert person.user_id is None
    with pytest.raises(ValidationFailed, match="already has that label"):
        add_person(
            session, actor=world.facilitator, organisation=world.organisation, label="dancer in RED"
        )
    [event] = events(session, "person.added")
    assert event.actor_id == world.facilitator.id
    assert "Dancer" not in str(event.data)
    assert add_person(
        session, actor=world.facilitator, organisation=world.organisation, label="x" * 120
    )


def test_add_person_only_by_a_facilitator_of_the_organisation(
    session: Session, world: Org, other: Org
) -> None:
    for actor in (world.psychologist, world.admin, world.creator, other.facilitator, PUBLIC):
        with pytest.raises(PermissionDenied):
            add_person(session, actor=actor, organisation=world.organisation, label="Someone")


# --- A creator's own consent -------------------------------------------------------------


def test_own_consent_is_recorded_in_app_for_the_work_and_audited(
    session: Session, world: Org, give_own: Callable[..., IssuedConsent]
) -> None:
    issued = give_own(
        modalities=(Modality.STORY, Modality.FACE, Modality.FACE),
        channels=("stage", "gallery"),
        expires_at=utcnow() + timedelta(days=30),
    )
    record = issued.record
    assert record.method is ConsentMethod.IN_APP
    assert record.work_id == world.work.id
    assert record.campaign_id is None
    assert record.organisation_id == world.organisation.id
    assert record.modalities == ["face", "story"]
    assert record.channels == ["gallery", "stage"]  # in the policy's order
    assert record.recorded_by_id == world.creator.id
    assert record.witnessed_by_id is None
    assert record.subject.user_id == world.creator.id
    assert record.purpose.startswith("Showing the person")
    assert record.given_at <= utcnow()
    [event] = events(session, "consent.recorded")
    assert event.subject_id == record.id
    assert event.data["method"] == "in_app"
    assert issued.code not in str(event.data)
    assert issued.code.replace("-", "") not in str(event.data)


def test_a_groupmate_may_consent_for_a_work_they_did_not_make(
    world: Org, give_own: Callable[..., IssuedConsent]
) -> None:
    issued = give_own(actor=world.groupmate)
    assert issued.record.subject.user_id == world.groupmate.id


def test_own_consent_refused_to_everyone_else(
    session: Session, world: Org, other: Org, give_own: Callable[..., IssuedConsent]
) -> None:
    for actor in (
        world.outsider,  # a creator of the organisation, in another group
        world.facilitator,
        world.psychologist,
        world.admin,
        other.creator,
    ):
        with pytest.raises(PermissionDenied):
            give_own(actor=actor)
    for actor in (SYSTEM, PUBLIC):
        with pytest.raises(PermissionDenied):
            record_own_consent(
                session,
                actor=actor,
                work=world.work,
                policy=world.policy,
                modalities=[Modality.FACE],
                channels=["gallery"],
                expires_at=None,
                notice="n",
                language="en",
            )
    assert session.scalars(select(ConsentRecord)).all() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"modalities": ()}, "at least one thing"),
        ({"modalities": ("smell",)}, "face, a voice or a story"),
        ({"channels": ()}, "at least one place"),
        ({"channels": ("gallery", "social_media")}, "channels this organisation publishes on"),
        ({"expires_at": "past"}, "must be in the future"),
    ],
)
def test_own_consent_input_rules(
    session: Session,
    world: Org,
    give_own: Callable[..., IssuedConsent],
    changes: dict[str, object],
    message: str,
) -> None:
    if changes.get("expires_at") == "past":
        changes = {"expires_at": utcnow() - timedelta(seconds=1)}
    with pytest.raises(ValidationFailed, match=message):
        give_own(**changes)
    session.rollback()
    assert session.scalars(select(ConsentRecord)).all() == []
    assert session.scalars(select(Person)).all() == []


def test_no_face_consent_where_faces_are_never_shown(session: Session, other: Org) -> None:
    def give(modality: Modality) -> IssuedConsent:
        return record_own_consent(
            session,
            actor=other.creator,
            work=other.work,
            policy=other.policy,
            modalities=[modality],
            channels=["kiosk"],
            expires_at=None,
            notice="n",
            language="en",
        )

    with pytest.raises(ValidationFailed, match="never shows a person's face"):
        give(Modality.FACE)
    assert give(Modality.VOICE).record.modalities == ["voice"]  # altered, but still a voice


def test_notice_and_language_are_checked(session: Session, world: Org) -> None:
    base = {
        "actor": world.creator,
        "work": world.work,
        "policy": world.policy,
        "modalities": [Modality.FACE],
        "channels": ["gallery"],
        "expires_at": None,
    }
    with pytest.raises(ValidationFailed, match="notice"):
        record_own_consent(session, **base, notice="  ", language="en")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="languages"):
        record_own_consent(session, **base, notice="n", language="fr")  # type: ignore[arg-type]
    record = record_own_consent(session, **base, notice="n", language="ro")  # type: ignore[arg-type]
    assert record.record.language == "ro"


# --- Consent recorded by a facilitator ---------------------------------------------------


def test_paper_consent_keeps_method_witness_and_dates(session: Session, world: Org) -> None:
    given = utcnow() - timedelta(days=3)
    expires = utcnow() + timedelta(days=300)
    issued = on_paper(
        session, world, given_at=given, expires_at=expires, witnessed_by=world.psychologist
    )
    record = issued.record
    assert record.method is ConsentMethod.PAPER
    assert record.witnessed_by_id == world.psychologist.id
    assert record.recorded_by_id == world.facilitator.id
    assert record.given_at == given
    assert record.expires_at == expires
    assert record.language == "ro"
    assert record.subject.user_id is None
    assert CODE.match(issued.code)


def test_paper_consent_for_a_whole_campaign(session: Session, world: Org) -> None:
    record = on_paper(session, world, work=None, campaign=world.campaign).record
    assert record.campaign_id == world.campaign.id
    assert record.work_id is None


def test_verbal_consent_needs_another_staff_member_as_witness(
    session: Session, world: Org, other: Org
) -> None:
    verbal = ConsentMethod.VERBAL_WITNESSED
    with pytest.raises(ValidationFailed, match="needs a witness"):
        on_paper(session, world, method=verbal)
    with pytest.raises(ValidationFailed, match="someone other than the person recording"):
        on_paper(session, world, method=verbal, witnessed_by=world.facilitator)
    for witness in (world.creator, other.facilitator):
        with pytest.raises(ValidationFailed, match="staff member of this organisation"):
            on_paper(session, world, method=verbal, witnessed_by=witness)
    for witness in (world.psychologist, world.admin):
        record = on_paper(session, world, method=verbal, witnessed_by=witness).record
        assert record.method is verbal
        assert record.witnessed_by_id == witness.id
    # On paper the signature is the evidence; the recorder may sign as witness too.
    assert on_paper(session, world, witnessed_by=world.facilitator).record.witnessed_by_id


def test_only_paper_or_verbal_may_be_recorded_for_someone(session: Session, world: Org) -> None:
    with pytest.raises(ValidationFailed, match="on paper or out loud"):
        on_paper(session, world, method=ConsentMethod.IN_APP)


@pytest.mark.parametrize(
    ("given_days", "expires_days", "message"),
    [
        (-1, None, "cannot be in the future"),
        (5, 6, "must come after the date consent was given"),
        (5, 5, "must come after the date consent was given"),
        (10, 2, "already ended"),
    ],
)
def test_paper_consent_dates(
    session: Session,
    world: Org,
    given_days: int,
    expires_days: int | None,
    message: str,
) -> None:
    now = utcnow()
    given = now - timedelta(days=given_days)
    expires = None if expires_days is None else now - timedelta(days=expires_days)
    with pytest.raises(ValidationFailed, match=message):
        on_paper(session, world, given_at=given, expires_at=expires)


def test_paper_consent_scope_and_person_rules(session: Session, world: Org, other: Org) -> None:
    with pytest.raises(ValidationFailed, match="either one work or one whole campaign"):
        on_paper(session, world, work=world.work, campaign=world.campaign)
    with pytest.raises(ValidationFailed, match="either one work or one whole campaign"):
        on_paper(session, world, work=None, campaign=None)
    stranger = add_person(
        session, actor=other.facilitator, organisation=other.organisation, label="Elsewhere"
    )
    with pytest.raises(ValidationFailed, match="not known to this organisation"):
        on_paper(session, world, person=stranger)
    with pytest.raises(PermissionDenied):
        on_paper(session, world, work=None, campaign=other.campaign)


def test_paper_channels_must_be_the_policys(session: Session, world: Org) -> None:
    with pytest.raises(ValidationFailed, match="channels this organisation publishes on"):
        on_paper(session, world, channels=["kiosk"])


def test_paper_consent_only_by_a_facilitator_of_the_organisation(
    session: Session, world: Org, other: Org
) -> None:
    person = add_person(
        session, actor=world.facilitator, organisation=world.organisation, label="Someone"
    )
    for actor in (
        world.psychologist,
        world.admin,
        world.creator,
        other.facilitator,
        PUBLIC,
        SYSTEM,  # records name a person who recorded them
    ):
        with pytest.raises(PermissionDenied):
            on_paper(session, world, actor=actor, person=person)
