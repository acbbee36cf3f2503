"""The ``chorus`` command: Flask's own commands (run, shell, routes) plus Chorus's."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from app.core import migrate
from app.core.errors import ChorusError


def _make_app() -> Flask:
    from app.factory import create_app

    try:
        return create_app()
    except ChorusError as error:
        click.echo(f"Chorus cannot start: {error.message}", err=True)
        sys.exit(2)


db = AppGroup("db", help="Database schema migrations.")


def _settings():  # type: ignore[no-untyped-def]
    return current_app.extensions["chorus.settings"]


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = _settings()
    migrate.upgrade(settings.database_url, settings.migrations_dir, revision)
    click.echo(f"database at {migrate.current(settings.database_url, settings.migrations_dir)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes every table)."""
    settings = _settings()
    migrate.downgrade(settings.database_url, settings.migrations_dir, revision)
    click.echo(f"database at {migrate.current(settings.database_url, settings.migrations_dir)}")


@db.command("current")
def db_current() -> None:
    """Print the database's revision."""
    settings = _settings()
    click.echo(migrate.current(settings.database_url, settings.migrations_dir) or "empty")


def register_commands(app: Flask) -> None:
    """Attach Chorus's commands to the app, so ``flask --app app`` has them too."""
    from app.accounts.cli import users
    from app.audit.cli import audit
    from app.demo.cli import demo
    from app.jobs.cli import worker
    from app.orgs.cli import orgs

    for command in (db, users, audit, demo, orgs, worker):
        app.cli.add_command(command)


@click.group(cls=FlaskGroup, create_app=_make_app, add_version_option=False)
def cli() -> None:
    """Chorus: survivor-led campaigns behind an anonymity-preserving review pipeline."""


def _add_standalone_commands(group: click.Group) -> None:
    # Registered on the group itself, so FlaskGroup finds them without loading the app:
    # checking policies must work when a bad policy stops the app from starting, and
    # sanitizing a file needs neither configuration nor a database.
    from app.jobs.cli import run
    from app.media.cli import sanitize
    from app.policies.cli import policies

    group.add_command(policies)
    group.add_command(sanitize)
    group.add_command(run)  # Flask's run, also consuming jobs in a thread


_add_standalone_commands(cli)


def main() -> None:
    cli()
