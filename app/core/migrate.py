"""Alembic, driven from Python: upgrade, downgrade and inspect the schema version.

The CLI and the tests call these; nothing here imports Flask or reads the environment.
Each call opens its own short-lived engine and disposes of it before returning.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, pool

from app.core.config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(database_url: str, migrations_dir: Path = MIGRATIONS_DIR) -> Config:
    """Build an Alembic config for ``database_url`` without any ``alembic.ini``.

    ``%`` in the URL (a percent-encoded password, say) is escaped for ConfigParser.
    """
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(
    database_url: str, migrations_dir: Path = MIGRATIONS_DIR, revision: str = "head"
) -> None:
    """Migrate the database up to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(database_url, migrations_dir), revision)


def downgrade(database_url: str, migrations_dir: Path, revision: str) -> None:
    """Migrate the database down to ``revision`` (an id, ``-1`` or ``base``).

    Deliberately has no default revision: going down drops tables and their data.
    """
    command.downgrade(alembic_config(database_url, migrations_dir), revision)


def current(database_url: str, migrations_dir: Path = MIGRATIONS_DIR) -> str | None:
    """The revision the database is at, or ``None`` if no revision has been applied.

    ``migrations_dir`` is accepted for symmetry; the answer comes from the database.
    Raises ``alembic.util.CommandError`` if the database records several heads.
    """
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def heads(migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """The head revisions of the migration scripts; a healthy tree has exactly one."""
    script = ScriptDirectory(str(migrations_dir))
    return list(script.get_heads())


def is_empty(database_url: str) -> bool:
    """True if the database holds no schema yet, so ``upgrade`` can build it from scratch.

    That is: no tables at all, or only an ``alembic_version`` table recording no
    revision (what downgrading to ``base`` leaves behind). Tables made some other way
    (``create_all``) or a recorded revision make it not empty.
    """
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            if not tables:
                return True
            if tables != {VERSION_TABLE}:
                return False
            return MigrationContext.configure(connection).get_current_revision() is None
    finally:
        engine.dispose()


def _engine(database_url: str) -> Engine:
    return create_engine(database_url, poolclass=pool.NullPool)
