"""``chorus demo``: load demo content and print its credentials."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from app.accounts.throttle import throttle_rules
from app.core.config import Settings
from app.demo.services import is_empty, load_demo
from app.policies.loader import PolicyRegistry
from app.web.database import db_session


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has content.")
def demo(if_empty: bool) -> None:
    """Create the five partner organisations with one account of each role."""
    session = db_session()
    if not is_empty(session):
        if if_empty:
            click.echo("demo: the database has content already; nothing loaded")
            return
        raise click.ClickException("the database has content already; demo needs an empty one")
    policies: PolicyRegistry = current_app.extensions["chorus.policies"]
    settings: Settings = current_app.extensions["chorus.settings"]
    accounts = load_demo(session, policies, throttle_rules(settings))
    session.commit()

    lines = [f"{'organisation':<24} {'role':<13} {'login name':<34} password"]
    lines += [
        f"{a.organisation:<24} {a.role.value:<13} {a.login_name:<34} {a.password}" for a in accounts
    ]
    path = settings.instance_path / "demo-credentials.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    click.echo(f"Demo accounts (also saved, readable by you only, in {path}):")
    click.echo("\n".join(lines))
