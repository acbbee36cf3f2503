"""Read-only questions about consent: what covers a work now, whose records are whose,
and what a page may list. No Flask here."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.consent.models import ConsentRecord, Modality, Person
from app.core.actors import Actor
from app.core.permissions import role_in
from app.groups.models import Campaign
from app.orgs.models import Membership, Role
from app.works.models import Work
from app.works.states import is_creator, organisation_id_of

STAFF_ROLES = frozenset({Role.FACILITATOR, Role.PSYCHOLOGIST, Role.ORG_ADMIN})


class ConsentStatus(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {
            ConsentStatus.VALID: "Valid",
            ConsentStatus.EXPIRED: "Expired",
            ConsentStatus.WITHDRAWN: "Withdrawn",
        }[self]


def status_of(record: ConsentRecord, at: datetime) -> ConsentStatus:
    """Withdrawn wins over expired: the person's own act is what they will look for."""
    if record.withdrawn_at is not None:
        return ConsentStatus.WITHDRAWN
    if record.expires_at is not None and record.expires_at <= at:
        return ConsentStatus.EXPIRED
    return ConsentStatus.VALID


def _scoped_to(work: Work) -> ColumnElement[bool]:
    return or_(ConsentRecord.work_id == work.id, ConsentRecord.campaign_id == work.campaign_id)


def covering_consents(
    session: Session, *, work: Work, modality: Modality, channel: str, at: datetime
) -> list[ConsentRecord]:
    """Records valid at ``at`` that cover ``work`` for ``modality`` on ``channel``: scoped
    to the work or to its whole campaign, given by then, neither withdrawn nor expired,
    and held by the work's organisation for a person of that organisation. Ordered by id.

    Several records may belong to one person (one for the work, one for the campaign):
    count people with ``len({r.subject_id for r in records})``, not records.
    """
    organisation_id = organisation_id_of(work)
    candidates = session.scalars(
        select(ConsentRecord)
        .join(Person, Person.id == ConsentRecord.subject_id)
        .where(
            _scoped_to(work),
            ConsentRecord.organisation_id == organisation_id,
            Person.organisation_id == organisation_id,
            ConsentRecord.given_at <= at,
            ConsentRecord.withdrawn_at.is_(None),
            or_(ConsentRecord.expires_at.is_(None), ConsentRecord.expires_at > at),
        )
        .order_by(ConsentRecord.id)
    )
    # Modalities and channels are JSON lists; matching them here keeps one query for
    # SQLite and PostgreSQL alike.
    return [r for r in candidates if modality.value in r.modalities and channel in r.channels]


def consents_of_user(session: Session, user: User) -> list[ConsentRecord]:
    """Every record whose subject is linked to this user, newest first."""
    return list(
        session.scalars(
            select(ConsentRecord)
            .join(Person, Person.id == ConsentRecord.subject_id)
            .where(Person.user_id == user.id)
            .order_by(ConsentRecord.id.desc())
        )
    )


def consents_for_work(session: Session, work: Work) -> list[ConsentRecord]:
    """Every record scoped to the work or its campaign, withdrawn and expired included,
    ordered by id."""
    return list(
        session.scalars(
            select(ConsentRecord)
            .where(_scoped_to(work), ConsentRecord.organisation_id == organisation_id_of(work))
            .order_by(ConsentRecord.id)
        )
    )


def may_see_work_consents(actor: Actor, work: Work) -> bool:
    """Staff of the work's organisation and the work's own creators may list its consents."""
    role = role_in(actor, organisation_id_of(work))
    if role is None:
        return False
    return role in STAFF_ROLES or is_creator(actor, work)


def people_of(session: Session, organisation_id: int) -> list[Person]:
    """People a facilitator can record consent for, by label."""
    return list(
        session.scalars(
            select(Person)
            .where(Person.organisation_id == organisation_id)
            .order_by(Person.label, Person.id)
        )
    )


def staff_of(session: Session, organisation_id: int) -> list[User]:
    """Active staff members of the organisation, who may witness a consent."""
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organisation_id == organisation_id,
                Membership.role.in_(STAFF_ROLES),
                User.is_active.is_(True),
            )
            .order_by(User.login_key)
        )
    )


@dataclass(frozen=True, slots=True)
class ConsentRow:
    """A record as a list shows it: its status now and what it covers."""

    record: ConsentRecord
    status: ConsentStatus
    work: Work | None
    campaign: Campaign | None


def rows(session: Session, records: list[ConsentRecord], at: datetime) -> list[ConsentRow]:
    return [
        ConsentRow(
            record=r,
            status=status_of(r, at),
            work=session.get(Work, r.work_id) if r.work_id is not None else None,
            campaign=session.get(Campaign, r.campaign_id) if r.campaign_id is not None else None,
        )
        for r in records
    ]
