"""One SQLAlchemy session per app context, closed on teardown.

Views call a service, then ``commit()`` once; an exception anywhere rolls everything
back, so a failed request never half-commits.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.db import make_engine, make_session_factory


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session_factory: sessionmaker[Session] = make_session_factory(engine)


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["chorus.db"] = Database(make_engine(settings.database_url))
    app.teardown_appcontext(_close_session)


def db_session() -> Session:
    """The current app context's session, opened on first use."""
    if "db_session" not in g:
        database: Database = current_app.extensions["chorus.db"]
        g.db_session = database.session_factory()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
