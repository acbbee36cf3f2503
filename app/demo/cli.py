"""``chorus demo``: load demo content, take demo works through the pipeline, and print
the credentials and how the works ended."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from app.accounts.throttle import throttle_rules
from app.core.config import Settings
from app.core.errors import ChorusError
from app.demo.services import DemoAccount, DemoOrganisation, is_empty, load_demo
from app.jobs import queue
from app.policies.loader import PolicyRegistry
from app.storage.base import Storage
from app.web.database import db_session


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has content.")
@click.option("--accounts-only", is_flag=True, help="Create the accounts but no demo works.")
def demo(if_empty: bool, accounts_only: bool) -> None:
    """Create the five partner organisations with one account of each role, and demo
    works of every kind taken through cleaning, the consent gate, review and
    publication."""
    session = db_session()
    if not is_empty(session):
        if if_empty:
            click.echo("demo: the database has content already; nothing loaded")
            return
        raise click.ClickException("the database has content already; demo needs an empty one")
    policies: PolicyRegistry = current_app.extensions["chorus.policies"]
    settings: Settings = current_app.extensions["chorus.settings"]
    storage: Storage = current_app.extensions["chorus.storage"]
    loaded = load_demo(session, policies, throttle_rules(settings))
    session.commit()
    path = _save_credentials(settings, loaded.accounts)
    if not accounts_only:
        _run_works(session, settings, storage, loaded.organisations)
    click.echo(f"Demo accounts (also saved, readable by you only, in {path}):")
    click.echo("\n".join(_credential_lines(loaded.accounts)))


def _run_works(
    session: Session,
    settings: Settings,
    storage: Storage,
    organisations: Sequence[DemoOrganisation],
) -> None:
    # Imported here: the demo's media builders load PyAV, pikepdf and NumPy, which the
    # other commands can do without.
    from app.demo.works import outcome as outcome_of
    from app.demo.works import run_demo_pipeline

    # Every job runs as soon as the step that queues it commits, so the demo is
    # complete before `make run` starts serving.
    queue.configure(settings, immediate=True)
    click.echo("Demo works: cleaning, checking and reviewing them (this takes a moment)...")
    started = time.monotonic()
    try:
        outcome = run_demo_pipeline(
            session,
            organisations=organisations,
            storage=storage,
            originals_key=settings.originals_key,
        )
    except ChorusError as error:
        # The accounts exist: say what stopped the works, and let Chorus start anyway.
        session.rollback()
        click.echo(f"demo: the demo works stopped early: {error.message}", err=True)
        outcome = outcome_of(session)
    click.echo(f"Demo versions by state ({time.monotonic() - started:.0f} s):")
    click.echo("\n".join(f"  {line}" for line in outcome.lines()))


def _credential_lines(accounts: list[DemoAccount]) -> list[str]:
    lines = [f"{'organisation':<24} {'role':<13} {'login name':<34} password"]
    lines += [
        f"{a.organisation:<24} {a.role.value:<13} {a.login_name:<34} {a.password}" for a in accounts
    ]
    return lines


def _save_credentials(settings: Settings, accounts: list[DemoAccount]) -> str:
    """Write the credentials to the instance folder, readable by the owner only."""
    path = settings.instance_path / "demo-credentials.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(_credential_lines(accounts)) + "\n")
    return str(path)
