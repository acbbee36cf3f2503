"""Declarative base, column types and engine set-up. No Flask here."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone (SQLite has none) and always returns aware datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use app.core.clock.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_type(enum_cls: type[enum.Enum], name: str) -> SAEnum:
    """An enum stored as its value in a string column with a named CHECK constraint.

    Strings rather than native enums keep migrations alike on SQLite and PostgreSQL.
    """
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout on every connection."""
    engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


_AFTER_COMMIT = "chorus.after_commit"
_AFTER_ROLLBACK = "chorus.after_rollback"
log = logging.getLogger("chorus.db")


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's transaction has committed (never if it rolls
    back): how services enqueue jobs, so a job never sees uncommitted rows."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def after_rollback(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` if the session's transaction rolls back instead: how a service
    removes a stored file whose record will never exist."""
    session.info.setdefault(_AFTER_ROLLBACK, []).append(callback)


def _run(callbacks: list[Callable[[], None]]) -> None:
    # A failed callback (the queue unreachable, say) must not undo or hide what the
    # transaction did; the periodic sweeper picks up whatever was left.
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("transaction callback failed")


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_AFTER_ROLLBACK, None)
    _run(session.info.pop(_AFTER_COMMIT, []))


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is not None:  # a savepoint, not the transaction
        return
    session.info.pop(_AFTER_COMMIT, None)
    _run(session.info.pop(_AFTER_ROLLBACK, []))
