"""Withdrawing consent (by code, in the app, on someone's behalf) and expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.throttle import ThrottleRules
from app.audit.models import AuditEvent
from app.consent.models import ConsentRecord
from app.consent.services import (
    CODE_NOT_RECOGNISED,
    IssuedConsent,
    TooManyAttempts,
    expire_consents,
    withdraw_by_code,
    withdraw_consent,
)
from app.core.actors import PUBLIC, SYSTEM
from app.core.clock import utcnow
from app.core.errors import PermissionDenied, ValidationFailed
from tests.consent.conftest import Org

ADDRESS = "198.51.100.7"


@pytest.fixture
def takedowns(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, Any, str]]:
    """Calls to ``take_down_for_consent``: (record id, actor, reason)."""
    from app.review import publishing

    calls: list[tuple[int, Any, str]] = []

    def fake(session: Session, record: ConsentRecord, *, actor: Any, reason: str) -> list[Any]:
        calls.append((record.id, actor, reason))
        return []

    monkeypatch.setattr(publishing, "take_down_for_consent", fake)
    return calls


def actions(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- By code ------------------------------------------------------------------------------


def test_withdraw_by_code_without_an_account(
    session: Session,
    give_own: Callable[..., IssuedConsent],
    rules: ThrottleRules,
    takedowns: list[tuple[int, Any, str]],
) -> None:
    issued = give_own()
    typed = " " + issued.code.lower().replace("-", " ") + " "
    record = withdraw_by_code(session, code=typed, address=ADDRESS, rules=rules)
    session.commit()
    assert record.id == issued.record.id
    assert record.withdrawn_at is not None
    [event] = actions(session, "consent.withdrawn")
    assert (event.actor_kind, event.actor_id) == ("public", None)
    assert event.subject_id == record.id
    assert event.data == {"via": "code"}
    assert takedowns == [(record.id, PUBLIC, "consent withdrawn")]


def test_withdraw_by_code_is_idempotent(
    session: Session,
    give_own: Callable[..., IssuedConsent],
    rules: ThrottleRules,
    takedowns: list[tuple[int, Any, str]],
) -> None:
    issued = give_own()
    first = withdraw_by_code(session, code=issued.code, address=ADDRESS, rules=rules)
    when = first.withdrawn_at
    again = withdraw_by_code(session, code=issued.code, address=ADDRESS, rules=rules)
    assert again.id == first.id
    assert again.withdrawn_at == when
    assert len(actions(session, "consent.withdrawn")) == 1
    assert len(takedowns) == 1


def test_withdraw_runs_the_real_takedown(
    session: Session, give_own: Callable[..., IssuedConsent], rules: ThrottleRules
) -> None:
    issued = give_own()
    record = withdraw_by_code(session, code=issued.code, address=ADDRESS, rules=rules)
    session.commit()
    assert record.withdrawn_at is not None


@pytest.mark.parametrize("code", ["AAAAA-AAAAA", "ABCDE", "not a code at all", ""])
def test_unknown_code_is_not_recognised(
    session: Session, give_own: Callable[..., IssuedConsent], rules: ThrottleRules, code: str
) -> None:
    give_own()
    with pytest.raises(ValidationFailed) as raised:
        withdraw_by_code(session, code=code, address=ADDRESS, rules=rules)
    assert raised.value.message == CODE_NOT_RECOGNISED
    assert session.scalars(select(ConsentRecord.withdrawn_at)).all() == [None]


def test_code_guessing_is_throttled_by_address(
    session: Session, give_own: Callable[..., IssuedConsent], rules: ThrottleRules
) -> None:
    issued = give_own()
    for _ in range(rules.address_failures - 1):
        with pytest.raises(ValidationFailed, match="not recognised"):
            withdraw_by_code(session, code="ZZZZZ-ZZZZZ", address=ADDRESS, rules=rules)
    for _ in range(5):  # a wrong length is a typo, not a guess
        with pytest.raises(ValidationFailed, match="not recognised"):
            withdraw_by_code(session, code="ZZZZ", address=ADDRESS, rules=rules)
    with pytest.raises(ValidationFailed, match="not recognised"):
        withdraw_by_code(session, code="ZZZZZ-ZZZZY", address=ADDRESS, rules=rules)
    session.commit()
    # Locked now: even the right code waits, and says why.
    with pytest.raises(TooManyAttempts, match="wait 15 minutes"):
        withdraw_by_code(session, code=issued.code, address=ADDRESS, rules=rules)
    assert issued.record.withdrawn_at is None
    # Another address is not affected, and sign-in from this one is a separate count.
    record = withdraw_by_code(session, code=issued.code, address="192.0.2.99", rules=rules)
    assert record.withdrawn_at is not None
    from app.accounts.models import ThrottleScope
    from app.accounts.throttle import is_locked

    assert not is_locked(session, rules, ThrottleScope.ADDRESS, ADDRESS, utcnow())


# --- In the app ---------------------------------------------------------------------------


def test_the_person_withdraws_their_own_consent(
    session: Session,
    world: Org,
    give_own: Callable[..., IssuedConsent],
    takedowns: list[tuple[int, Any, str]],
) -> None:
    record = give_own().record
    withdraw_consent(session, actor=world.creator, record=record)
    withdraw_consent(session, actor=world.creator, record=record)  # idempotent
    assert record.withdrawn_at is not None
    [event] = actions(session, "consent.withdrawn")
    assert event.actor_id == world.creator.id
    assert event.data == {"via": "account"}
    assert takedowns == [(record.id, world.creator, "consent withdrawn")]


def test_a_facilitator_withdraws_on_someones_behalf(
    session: Session, world: Org, give_own: Callable[..., IssuedConsent]
) -> None:
    record = give_own().record
    withdraw_consent(session, actor=world.facilitator, record=record)
    [event] = actions(session, "consent.withdrawn")
    assert event.actor_id == world.facilitator.id
    assert event.data == {"via": "facilitator"}


def test_nobody_else_withdraws_a_consent(
    session: Session, world: Org, other: Org, give_own: Callable[..., IssuedConsent]
) -> None:
    record = give_own().record
    for actor in (
        world.groupmate,
        world.psychologist,
        world.admin,
        other.facilitator,
        PUBLIC,
    ):
        with pytest.raises(PermissionDenied):
            withdraw_consent(session, actor=actor, record=record)
    assert record.withdrawn_at is None


# --- Expiry ------------------------------------------------------------------------------


def test_expiry_is_handled_once_per_record(
    session: Session,
    world: Org,
    give_own: Callable[..., IssuedConsent],
    takedowns: list[tuple[int, Any, str]],
) -> None:
    now = utcnow()
    soon = give_own(expires_at=now + timedelta(days=1)).record
    later = give_own(expires_at=now + timedelta(days=10)).record
    give_own()  # no end date
    withdrawn = give_own(expires_at=now + timedelta(days=1)).record
    withdraw_consent(session, actor=world.creator, record=withdrawn)
    takedowns.clear()

    assert expire_consents(session, now=now) == []
    assert [r.id for r in expire_consents(session, now=now + timedelta(days=2))] == [soon.id]
    assert expire_consents(session, now=now + timedelta(days=3)) == []
    assert [r.id for r in expire_consents(session, now=now + timedelta(days=11))] == [later.id]
    session.commit()

    events = actions(session, "consent.expired")
    assert [e.subject_id for e in events] == [soon.id, later.id]
    assert all(e.actor_kind == "system" for e in events)
    assert takedowns == [
        (soon.id, SYSTEM, "consent expired"),
        (later.id, SYSTEM, "consent expired"),
    ]


def test_expiry_with_the_real_takedown(
    session: Session, give_own: Callable[..., IssuedConsent]
) -> None:
    record = give_own(expires_at=utcnow() + timedelta(seconds=1)).record
    expired = expire_consents(session, now=utcnow() + timedelta(minutes=1))
    session.commit()
    assert [r.id for r in expired] == [record.id]
