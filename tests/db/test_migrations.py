"""The migrations build exactly the models' schema, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pprint
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, Connection, inspect, text
from sqlalchemy.exc import DatabaseError, IntegrityError

from app.core import migrate
from app.core.db import make_engine
from app.models import Base

MIGRATIONS = migrate.MIGRATIONS_DIR
PARTIAL_UNIQUE_INDEXES = {
    "uq_reviews_one_open_per_version": ("reviews", "decision IS NULL"),
    "uq_publications_one_live_per_work_channel": ("publications", "withdrawn_at IS NULL"),
}


@contextmanager
def connect(database_url: str) -> Iterator[Connection]:
    """A connection through the app's own engine set-up, disposed of afterwards."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def table_names(database_url: str) -> set[str]:
    with connect(database_url) as connection:
        return set(inspect(connection).get_table_names())


def test_exactly_one_head() -> None:
    assert len(migrate.heads(MIGRATIONS)) == 1


def test_alembic_config_escapes_percent_in_url(tmp_path: Path) -> None:
    url = "postgresql+psycopg://chorus:p%40ss%25word@db.example/chorus"
    config = migrate.alembic_config(url, tmp_path)
    assert config.get_main_option("sqlalchemy.url") == url
    assert config.get_main_option("script_location") == str(tmp_path)


def test_upgrade_head_yields_the_models_schema(database_url: str) -> None:
    migrate.upgrade(database_url, MIGRATIONS)
    with connect(database_url) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], "migrations differ from the models:\n" + pprint.pformat(diff)


def test_partial_unique_indexes_keep_their_where_clause(database_url: str) -> None:
    migrate.upgrade(database_url, MIGRATIONS)
    with connect(database_url) as connection:
        if connection.dialect.name == "sqlite":
            query = "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'"
        else:
            query = "SELECT indexname, tablename, indexdef FROM pg_indexes"
        found = {name: (table, sql) for name, table, sql in connection.execute(text(query))}
    for name, (table, predicate) in PARTIAL_UNIQUE_INDEXES.items():
        assert name in found, f"index {name} is missing"
        found_table, definition = found[name]
        assert found_table == table
        normalised = " ".join(definition.replace("(", " ").replace(")", " ").split()).upper()
        assert normalised.startswith("CREATE UNIQUE INDEX"), definition
        assert f"WHERE {predicate.upper()}" in normalised, definition


def test_check_constraints_match_the_models(database_url: str) -> None:
    """compare_metadata does not look at CHECK constraints; this does, by name."""
    migrate.upgrade(database_url, MIGRATIONS)
    with connect(database_url) as connection:
        inspector = inspect(connection)
        for table in Base.metadata.sorted_tables:
            expected = {
                str(constraint.name)
                for constraint in table.constraints
                if isinstance(constraint, CheckConstraint)
            }
            found = {check["name"] for check in inspector.get_check_constraints(table.name)}
            assert found == expected, table.name


def test_every_revision_goes_down_and_up(database_url: str) -> None:
    script = ScriptDirectory(str(MIGRATIONS))
    for revision in reversed(list(script.walk_revisions("base", "heads"))):
        migrate.upgrade(database_url, MIGRATIONS, revision.revision)
        migrate.downgrade(database_url, MIGRATIONS, "-1")
        migrate.upgrade(database_url, MIGRATIONS, revision.revision)
        assert migrate.current(database_url, MIGRATIONS) == revision.revision

    migrate.downgrade(database_url, MIGRATIONS, "base")
    assert table_names(database_url) <= {"alembic_version"}
    assert migrate.current(database_url, MIGRATIONS) is None
    with connect(database_url) as connection:
        if connection.dialect.name == "sqlite":
            leftovers = (
                "SELECT name FROM sqlite_master"
                " WHERE type IN ('trigger', 'index') AND tbl_name <> 'alembic_version'"
            )
        else:
            leftovers = "SELECT proname FROM pg_proc WHERE proname = 'audit_events_append_only'"
        assert connection.execute(text(leftovers)).all() == []

    migrate.upgrade(database_url, MIGRATIONS)
    assert migrate.current(database_url, MIGRATIONS) == script.get_current_head()


def test_current_and_is_empty_follow_the_migrations(database_url: str) -> None:
    assert migrate.is_empty(database_url)
    assert migrate.current(database_url, MIGRATIONS) is None
    migrate.upgrade(database_url, MIGRATIONS)
    assert not migrate.is_empty(database_url)
    assert migrate.current(database_url, MIGRATIONS) == migrate.heads(MIGRATIONS)[0]
    migrate.downgrade(database_url, MIGRATIONS, "base")
    assert migrate.is_empty(database_url)


def test_upgrade_runs_on_a_connection_handed_over(database_url: str) -> None:
    config = migrate.alembic_config(database_url, MIGRATIONS)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    assert migrate.current(database_url, MIGRATIONS) == migrate.heads(MIGRATIONS)[0]
    assert "audit_events" in table_names(database_url)


def test_audit_events_refuse_update_and_delete(database_url: str) -> None:
    migrate.upgrade(database_url, MIGRATIONS)
    select = text("SELECT seq, action, prev_hash, hash FROM audit_events")
    with connect(database_url) as connection:
        connection.execute(
            text(
                "INSERT INTO audit_events"
                " (seq, occurred_at, actor_kind, action, subject_type, data, prev_hash, hash)"
                " VALUES (1, CURRENT_TIMESTAMP, 'system', 'test.appended', 'test', '{}',"
                " :prev_hash, :hash)"
            ),
            {"prev_hash": "0" * 64, "hash": "a" * 64},
        )
        connection.commit()
        before = connection.execute(select).all()

        for statement in (
            "UPDATE audit_events SET action = 'test.rewritten'",
            "DELETE FROM audit_events",
        ):
            with pytest.raises(DatabaseError, match="append-only"):
                connection.execute(text(statement))
            connection.rollback()

        assert connection.execute(select).all() == before
        assert len(before) == 1


def test_enum_columns_refuse_unknown_values(database_url: str) -> None:
    migrate.upgrade(database_url, MIGRATIONS)
    insert_membership = text(
        "INSERT INTO memberships (user_id, organisation_id, role, created_at)"
        " VALUES (1, 1, :role, CURRENT_TIMESTAMP)"
    )
    with connect(database_url) as connection:
        connection.execute(
            text(
                "INSERT INTO organisations (id, slug, name, country, created_at)"
                " VALUES (1, 'org', 'Organisation', 'GB', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO users (id, login_name, login_key, password_hash, is_active,"
                " session_version, created_at)"
                " VALUES (1, 'Robin', 'robin', 'x', :active, 1, CURRENT_TIMESTAMP)"
            ),
            {"active": True},
        )
        connection.commit()

        with pytest.raises(IntegrityError, match="ck_memberships_role"):
            connection.execute(insert_membership, {"role": "superuser"})
        connection.rollback()

        connection.execute(insert_membership, {"role": "creator"})
        connection.commit()
        roles = connection.execute(text("SELECT role FROM memberships")).scalars().all()
    assert roles == ["creator"]
