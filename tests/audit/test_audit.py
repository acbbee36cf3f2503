"""The audit log: append-only, hash-chained, and tampering shows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.audit.services import event_hash, record, verify
from app.core import migrate
from app.core.actors import SYSTEM
from app.core.config import PROJECT_ROOT
from app.core.db import make_engine, make_session_factory


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def audit_session(request: pytest.FixtureRequest) -> Iterator[Session]:
    """A session on a freshly migrated database of each backend."""
    fixture = {"sqlite": "sqlite_database_url", "postgresql": "postgres_database_url"}
    url: str = request.getfixturevalue(fixture[request.param])
    migrate.upgrade(url, PROJECT_ROOT / "migrations")
    engine = make_engine(url)
    session = make_session_factory(engine)()
    try:
        yield session
    finally:
        session.close()
        engine.dispose()


def _write(session: Session, count: int = 5) -> None:
    for i in range(count):
        record(
            session,
            actor=SYSTEM,
            action="test.event",
            subject_type="thing",
            subject_id=i,
            organisation_id=1,
            data={"n": i},
        )
    session.commit()


def _unguard(session: Session) -> None:
    """What an intruder with database rights would do first: remove the triggers."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))
    else:
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    session.commit()


def test_chain_is_intact_and_sequential(audit_session: Session) -> None:
    _write(audit_session)
    result = verify(audit_session)
    assert result.intact, result.problems
    assert result.events == 5
    events = audit_session.query(AuditEvent).order_by(AuditEvent.seq).all()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert all(event_hash(e) == e.hash for e in events)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"]
)
def test_database_refuses_updates_and_deletes(audit_session: Session, statement: str) -> None:
    _write(audit_session, 2)
    with pytest.raises(DatabaseError):
        audit_session.execute(text(statement))
    audit_session.rollback()
    assert verify(audit_session).events == 2


def test_modified_row_is_reported(audit_session: Session) -> None:
    _write(audit_session)
    _unguard(audit_session)
    audit_session.execute(text("UPDATE audit_events SET subject_id = 99 WHERE seq = 3"))
    audit_session.commit()
    result = verify(audit_session)
    assert not result.intact
    assert result.problems == ["event 3 was modified after it was written"]


def test_deleted_row_is_reported(audit_session: Session) -> None:
    _write(audit_session)
    _unguard(audit_session)
    audit_session.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    audit_session.commit()
    assert any("events 2 to 2 are missing" in p for p in verify(audit_session).problems)


def test_deleted_tail_is_reported(audit_session: Session) -> None:
    _write(audit_session)
    _unguard(audit_session)
    audit_session.execute(text("DELETE FROM audit_events WHERE seq >= 4"))
    audit_session.commit()
    assert any("events 4 to 5 are missing" in p for p in verify(audit_session).problems)


def test_replaced_row_is_reported(audit_session: Session) -> None:
    """A forged event put in place of a real one, hashed correctly for its own contents."""
    _write(audit_session)
    _unguard(audit_session)
    original = audit_session.query(AuditEvent).filter_by(seq=3).one()
    forged = AuditEvent(
        seq=3,
        occurred_at=original.occurred_at,
        actor_kind="system",
        actor_id=None,
        organisation_id=1,
        action="test.forged",
        subject_type="thing",
        subject_id=3,
        data={},
        prev_hash="f" * 64,
    )
    forged.hash = event_hash(forged)
    audit_session.delete(original)
    audit_session.flush()
    audit_session.add(forged)
    audit_session.commit()
    problems = verify(audit_session).problems
    assert any("event 3 does not follow event 2" in p for p in problems)
    assert any("event 4 does not follow event 3" in p for p in problems)


def test_inserted_row_is_reported(audit_session: Session) -> None:
    """An event appended behind the log's back, even one hashed correctly."""
    _write(audit_session)
    last = audit_session.query(AuditEvent).filter_by(seq=5).one()
    forged = AuditEvent(
        seq=6,
        occurred_at=last.occurred_at,
        actor_kind="system",
        actor_id=None,
        organisation_id=1,
        action="test.inserted",
        subject_type="thing",
        subject_id=6,
        data={},
        prev_hash=last.hash,
    )
    forged.hash = event_hash(forged)
    audit_session.add(forged)
    audit_session.commit()
    assert any("do not match the recorded head" in p for p in verify(audit_session).problems)


def test_cli_exits_non_zero_on_tampering(runner, app) -> None:
    from app.web.database import db_session

    with app.app_context():
        session = db_session()
        _write(session, 3)
        ok = runner.invoke(args=["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert "intact: 3 events" in ok.output
        _unguard(session)
        session.execute(text("UPDATE audit_events SET data = '{\"n\": 7}' WHERE seq = 2"))
        session.commit()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert "event 2 was modified" in bad.output
