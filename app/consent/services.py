"""Recording and withdrawing consent.

A consent record is given in the app by a creator for themself, or recorded by a
facilitator for someone who signed on paper or agreed before a witness. Each record
gets a withdrawal code, shown once on the receipt and stored only as a sha256, that
withdraws it without an account: withdrawing must be as easy as giving (GDPR Art. 7(3)).
Withdrawal and expiry take down every publication that relied on the record.

The organisation's media policy is passed in (``policy``): it lists the publication
channels a consent may name, and whether faces and voices can appear at all.

Every function takes the acting party explicitly, writes an audit event for each
change and flushes; the caller commits.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import throttle
from app.accounts.models import ThrottleScope, User
from app.audit.models import AuditEvent
from app.audit.services import record as audit
from app.consent.models import ConsentMethod, ConsentRecord, Modality, Person
from app.consent.receipts import CODE_ALPHABET, CODE_LENGTH, code_hash, format_code, normalise_code
from app.core.actors import PUBLIC, SYSTEM, Actor
from app.core.clock import utcnow
from app.core.errors import PermissionDenied, ValidationFailed
from app.core.permissions import Permission, require, role_in
from app.groups.models import Campaign, GroupMember
from app.orgs.models import Organisation, Role
from app.policies.schema import MediaPolicy
from app.works.models import Work
from app.works.states import is_creator, organisation_id_of

log = logging.getLogger("chorus.consent")

PURPOSE = (
    "Showing the person in awareness-campaign works made with Chorus, only as the "
    "modalities and on the publication channels named in this record."
)
MAX_LABEL = 120
MAX_NOTICE = 10_000
OTHERS_METHODS = frozenset({ConsentMethod.PAPER, ConsentMethod.VERBAL_WITNESSED})
STAFF_ROLES = frozenset({Role.FACILITATOR, Role.PSYCHOLOGIST, Role.ORG_ADMIN})

CODE_NOT_RECOGNISED = (
    "That withdrawal code was not recognised. Check it against your receipt and try again."
)
TOO_MANY_ATTEMPTS = (
    "Too many codes were tried from this connection. Please wait {minutes} minutes and try "
    "again, or ask your facilitator: they can withdraw your consent for you."
)


class TooManyAttempts(ValidationFailed):
    """Too many unrecognised withdrawal codes from one address; try again later."""


@dataclass(frozen=True, slots=True)
class IssuedConsent:
    record: ConsentRecord
    code: str  # grouped "ABCDE-FGHJK"; shown once on the receipt, never stored


# --- Withdrawal codes --------------------------------------------------------------------


def _new_code(session: Session) -> tuple[str, str]:
    """A fresh code and its hash, unused by any record."""
    while True:
        symbols = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        digest = code_hash(symbols)
        taken = session.scalar(
            select(ConsentRecord.id).where(ConsentRecord.withdrawal_code_hash == digest)
        )
        if taken is None:
            return symbols, digest


# --- People ------------------------------------------------------------------------------


def person_for_user(session: Session, *, user: User, organisation: Organisation) -> Person:
    """The Person linked to ``user`` in ``organisation``, created on first use with a
    neutral label ("Creator #<id>"), never the login name. Raises ``ValidationFailed``
    if the user does not belong to the organisation."""
    if role_in(user, organisation.id) is None:
        raise ValidationFailed("That account does not belong to this organisation.")
    person = session.scalars(
        select(Person)
        .where(Person.user_id == user.id, Person.organisation_id == organisation.id)
        .order_by(Person.id)
    ).first()
    if person is not None:
        return person
    person = Person(organisation_id=organisation.id, user_id=user.id, label=f"Creator #{user.id}")
    session.add(person)
    session.flush()
    audit(
        session,
        actor=user,
        action="person.created",
        subject_type="person",
        subject_id=person.id,
        organisation_id=organisation.id,
        data={"user_id": user.id},
    )
    return person


def add_person(session: Session, *, actor: Actor, organisation: Organisation, label: str) -> Person:
    """Add someone who appears in works, known by a pseudonym or a description (1 to 120
    characters, unique in the organisation). Raises ``PermissionDenied``,
    ``ValidationFailed``."""
    require(actor, Permission.RECORD_CONSENT_FOR_OTHERS, organisation.id)
    label = " ".join(label.split())
    if not 1 <= len(label) <= MAX_LABEL:
        raise ValidationFailed(f"A label needs 1 to {MAX_LABEL} characters.")
    if any(unicodedata.category(ch).startswith("C") for ch in label):
        raise ValidationFailed("A label can only contain letters, digits and punctuation.")
    existing = session.scalars(
        select(Person.label).where(Person.organisation_id == organisation.id)
    )
    if any(other.casefold() == label.casefold() for other in existing):
        raise ValidationFailed("Someone in this organisation already has that label.")
    person = Person(organisation_id=organisation.id, label=label)
    session.add(person)
    session.flush()
    audit(
        session,
        actor=actor,
        action="person.added",
        subject_type="person",
        subject_id=person.id,
        organisation_id=organisation.id,
    )
    return person


# --- Recording ---------------------------------------------------------------------------


def allowed_modalities(policy: MediaPolicy) -> tuple[Modality, ...]:
    """What a person can consent to here: a face or voice the policy never lets appear
    needs no consent, and asking for one would mislead."""
    return tuple(
        m
        for m in Modality
        if (m is not Modality.FACE or policy.faces.allowed)
        and (m is not Modality.VOICE or policy.voices.allowed)
    )


def notice_text(policy: MediaPolicy) -> str:
    """The plain-language notice a person reads (or hears) before consenting; the record
    keeps the text they were given."""
    paragraphs = [
        "You decide whether your face, your voice or your story may appear in this work "
        "when it is shown to the public, and where it may be shown. You only agree to what "
        "you tick, and only for the channels you choose.",
        "Before anything is published, Chorus removes hidden information from the files, "
        "and a psychologist checks the work. Chorus detects faces and voices, but it never "
        "tries to recognise who anyone is.",
    ]
    if not policy.faces.allowed:
        paragraphs.append(f"{policy.organisation.name} never shows faces: they are always hidden.")
    if policy.voices.must_alter:
        paragraphs.append(
            f"{policy.organisation.name} only publishes voices altered. An altered voice "
            "is harder to recognise, but someone who knows you well might still recognise it."
        )
    paragraphs.append(
        "You can withdraw your consent at any time, without giving a reason and without "
        "an account: use the code on your receipt. Everything that depended on it is then "
        "taken down at once."
    )
    return "\n\n".join(paragraphs)


def _modalities(values: Sequence[Modality | str], policy: MediaPolicy) -> list[str]:
    try:
        chosen = list(dict.fromkeys(Modality(v) for v in values))
    except ValueError:
        raise ValidationFailed("A consent covers a face, a voice or a story.") from None
    if not chosen:
        raise ValidationFailed(
            "Choose at least one thing the consent covers: face, voice or story."
        )
    allowed = allowed_modalities(policy)
    for modality in chosen:
        if modality not in allowed:
            raise ValidationFailed(
                f"{policy.organisation.name} never shows a person's {modality.value}, "
                "so there is no consent to give for it."
            )
    return [m.value for m in Modality if m in chosen]


def _channels(values: Sequence[str], policy: MediaPolicy) -> list[str]:
    chosen = set(values)
    if not chosen:
        raise ValidationFailed("Choose at least one place where the work may be shown.")
    offered = policy.publication.channels
    if not chosen <= set(offered):
        raise ValidationFailed("Choose among the channels this organisation publishes on.")
    return [c for c in offered if c in chosen]


def _text(notice: str, language: str, policy: MediaPolicy) -> tuple[str, str]:
    notice = notice.strip()
    if not notice:
        raise ValidationFailed("The notice the person was given is missing.")
    if len(notice) > MAX_NOTICE:
        raise ValidationFailed(f"The notice can be at most {MAX_NOTICE:,} characters long.")
    if language != "en" and language not in policy.organisation.languages:
        raise ValidationFailed("Choose one of the organisation's languages.")
    return notice, language


def _issue(
    session: Session,
    *,
    actor: User,
    subject: Person,
    organisation_id: int,
    work: Work | None,
    campaign: Campaign | None,
    modalities: list[str],
    channels: list[str],
    method: ConsentMethod,
    given_at: datetime,
    expires_at: datetime | None,
    witness: User | None,
    notice: str,
    language: str,
) -> IssuedConsent:
    symbols, digest = _new_code(session)
    consent = ConsentRecord(
        subject_id=subject.id,
        organisation_id=organisation_id,
        work_id=work.id if work is not None else None,
        campaign_id=campaign.id if campaign is not None else None,
        purpose=PURPOSE,
        modalities=modalities,
        channels=channels,
        notice=notice,
        language=language,
        method=method,
        given_at=given_at,
        recorded_by_id=actor.id,
        witnessed_by_id=witness.id if witness is not None else None,
        recorded_at=utcnow(),
        expires_at=expires_at,
        withdrawal_code_hash=digest,
    )
    session.add(consent)
    session.flush()
    audit(
        session,
        actor=actor,
        action="consent.recorded",
        subject_type="consent_record",
        subject_id=consent.id,
        organisation_id=organisation_id,
        data={
            "person_id": subject.id,
            "work_id": consent.work_id,
            "campaign_id": consent.campaign_id,
            "method": method.value,
            "modalities": modalities,
            "channels": channels,
            "witness_id": consent.witnessed_by_id,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    log.info("consent record %s recorded by user %s", consent.id, actor.id)
    return IssuedConsent(record=consent, code=format_code(symbols))


def may_give_own_consent(session: Session, actor: Actor, work: Work) -> bool:
    """Whether ``actor`` is a creator of the work's organisation who made the work or
    belongs to its group (someone in the group may appear in a group-mate's work)."""
    if not isinstance(actor, User):
        return False
    if role_in(actor, organisation_id_of(work)) is not Role.CREATOR:
        return False
    return (
        is_creator(actor, work)
        or session.get(GroupMember, (work.campaign.group_id, actor.id)) is not None
    )


def record_own_consent(
    session: Session,
    *,
    actor: Actor,
    work: Work,
    policy: MediaPolicy,
    modalities: Sequence[Modality | str],
    channels: Sequence[str],
    expires_at: datetime | None,
    notice: str,
    language: str,
) -> IssuedConsent:
    """A creator consents, in the app and for themself, to appearing in ``work`` (the
    scope is the work). Given now; ``expires_at``, if any, must lie in the future.
    Raises ``PermissionDenied``, ``ValidationFailed``."""
    if not may_give_own_consent(session, actor, work):
        raise PermissionDenied("Only a creator of this work or of its group can give this consent.")
    assert isinstance(actor, User)  # noqa: S101 - may_give_own_consent checked it
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("The end date of the consent must be in the future.")
    organisation = work.campaign.group.organisation
    chosen_modalities = _modalities(modalities, policy)
    chosen_channels = _channels(channels, policy)
    notice, language = _text(notice, language, policy)
    return _issue(
        session,
        actor=actor,
        subject=person_for_user(session, user=actor, organisation=organisation),
        organisation_id=organisation.id,
        work=work,
        campaign=None,
        modalities=chosen_modalities,
        channels=chosen_channels,
        method=ConsentMethod.IN_APP,
        given_at=now,
        expires_at=expires_at,
        witness=None,
        notice=notice,
        language=language,
    )


def _check_witness(
    method: ConsentMethod, witness: User | None, recorder: User, organisation_id: int
) -> None:
    if witness is None:
        if method is ConsentMethod.VERBAL_WITNESSED:
            raise ValidationFailed("Consent given out loud needs a witness from the staff.")
        return
    if role_in(witness, organisation_id) not in STAFF_ROLES:
        raise ValidationFailed("The witness must be a staff member of this organisation.")
    if method is ConsentMethod.VERBAL_WITNESSED and witness.id == recorder.id:
        raise ValidationFailed("The witness must be someone other than the person recording.")


def record_consent_for_person(
    session: Session,
    *,
    actor: Actor,
    person: Person,
    work: Work | None,
    campaign: Campaign | None,
    policy: MediaPolicy,
    modalities: Sequence[Modality | str],
    channels: Sequence[str],
    method: ConsentMethod,
    given_at: datetime,
    expires_at: datetime | None,
    witnessed_by: User | None,
    notice: str,
    language: str,
) -> IssuedConsent:
    """A facilitator records consent someone gave on paper, or out loud before a staff
    witness, for one work or a whole campaign (exactly one of them). ``given_at`` is not
    in the future; ``expires_at``, if any, is after it and still ahead. Raises
    ``PermissionDenied``, ``ValidationFailed``."""
    if (work is None) == (campaign is None):
        raise ValidationFailed("A consent covers either one work or one whole campaign.")
    if campaign is not None:
        organisation_id = campaign.group.organisation_id
    else:
        assert work is not None  # noqa: S101 - checked above
        organisation_id = organisation_id_of(work)
    require(actor, Permission.RECORD_CONSENT_FOR_OTHERS, organisation_id)
    if not isinstance(actor, User):
        raise PermissionDenied("Consent is recorded by a facilitator, by name of account.")
    if person.organisation_id != organisation_id:
        raise ValidationFailed("That person is not known to this organisation.")
    if method not in OTHERS_METHODS:
        raise ValidationFailed("Record consent given on paper or out loud before a witness.")
    _check_witness(method, witnessed_by, actor, organisation_id)
    now = utcnow()
    if given_at > now:
        raise ValidationFailed("The date the consent was given cannot be in the future.")
    if expires_at is not None:
        if expires_at <= given_at:
            raise ValidationFailed("The end date must come after the date consent was given.")
        if expires_at <= now:
            raise ValidationFailed("That consent has already ended; there is nothing to record.")
    notice, language = _text(notice, language, policy)
    return _issue(
        session,
        actor=actor,
        subject=person,
        organisation_id=organisation_id,
        work=work,
        campaign=campaign,
        modalities=_modalities(modalities, policy),
        channels=_channels(channels, policy),
        method=method,
        given_at=given_at,
        expires_at=expires_at,
        witness=witnessed_by,
        notice=notice,
        language=language,
    )


# --- Withdrawal and expiry ---------------------------------------------------------------


def _take_down(session: Session, consent: ConsentRecord, actor: Actor, reason: str) -> None:
    from app.review.publishing import take_down_for_consent

    take_down_for_consent(session, consent, actor=actor, reason=reason)


def _withdraw(session: Session, consent: ConsentRecord, actor: Actor, via: str) -> ConsentRecord:
    if consent.withdrawn_at is not None:
        return consent
    consent.withdrawn_at = utcnow()
    session.flush()
    audit(
        session,
        actor=actor,
        action="consent.withdrawn",
        subject_type="consent_record",
        subject_id=consent.id,
        organisation_id=consent.organisation_id,
        data={"via": via},
    )
    _take_down(session, consent, actor, "consent withdrawn")
    log.info("consent record %s withdrawn (%s)", consent.id, via)
    return consent


def withdraw_by_code(
    session: Session,
    *,
    code: str,
    address: str,
    rules: throttle.ThrottleRules,
    actor: Actor = PUBLIC,
) -> ConsentRecord:
    """Withdraw the consent a withdrawal code belongs to, without an account, and take
    down what depended on it. Already withdrawn: returned as it is. Unrecognised codes
    count against ``address`` like failed sign-ins (flushed before raising, so the
    caller can commit them); the message never says more than "not recognised".
    Raises ``TooManyAttempts`` while the address is paused, ``ValidationFailed``."""
    now = utcnow()
    key = f"withdrawal-code:{address}"
    if throttle.is_locked(session, rules, ThrottleScope.ADDRESS, key, now):
        minutes = max(1, round(rules.lock.total_seconds() / 60))
        raise TooManyAttempts(TOO_MANY_ATTEMPTS.format(minutes=minutes))
    symbols = normalise_code(code)
    consent = None
    if symbols is not None:
        consent = session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.withdrawal_code_hash == code_hash(symbols))
            .with_for_update()
        ).first()
    if consent is None:
        if symbols is not None:  # a typo in the length is no guess at a code
            throttle.register_failure(session, rules, ThrottleScope.ADDRESS, key, now)
        raise ValidationFailed(CODE_NOT_RECOGNISED)
    return _withdraw(session, consent, actor, "code")


def withdraw_consent(session: Session, *, actor: Actor, record: ConsentRecord) -> ConsentRecord:
    """Withdraw a consent from within the app: by the person it belongs to, or by a
    facilitator of its organisation on their behalf. Idempotent. Raises
    ``PermissionDenied``."""
    subject_user_id = record.subject.user_id
    own = isinstance(actor, User) and actor.is_active and subject_user_id == actor.id
    if not own:
        require(actor, Permission.RECORD_CONSENT_FOR_OTHERS, record.organisation_id)
    return _withdraw(session, record, actor, "account" if own else "facilitator")


def expire_consents(
    session: Session, *, actor: Actor = SYSTEM, now: datetime | None = None
) -> list[ConsentRecord]:
    """Honour end dates: each record whose end date has passed (and that was not
    withdrawn) gets one "consent.expired" audit event, and what depended on it is taken
    down. The audit log remembers which records were handled, so each run only handles
    records that ended since; returns those."""
    now = now or utcnow()
    ended = list(
        session.scalars(
            select(ConsentRecord)
            .where(
                ConsentRecord.expires_at.is_not(None),
                ConsentRecord.expires_at <= now,
                ConsentRecord.withdrawn_at.is_(None),
            )
            .order_by(ConsentRecord.id)
        )
    )
    if not ended:
        return []
    handled = set(
        session.scalars(
            select(AuditEvent.subject_id).where(
                AuditEvent.action == "consent.expired",
                AuditEvent.subject_type == "consent_record",
                AuditEvent.subject_id.in_([r.id for r in ended]),
            )
        )
    )
    expired = [r for r in ended if r.id not in handled]
    for consent in expired:
        audit(
            session,
            actor=actor,
            action="consent.expired",
            subject_type="consent_record",
            subject_id=consent.id,
            organisation_id=consent.organisation_id,
        )
        _take_down(session, consent, actor, "consent expired")
        log.info("consent record %s expired", consent.id)
    return expired
