"""``chorus audit``: check the audit log's hash chain."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.audit.services import verify
from app.web.database import db_session

audit = AppGroup("audit", help="The append-only audit log.")


@audit.command("verify")
def verify_command() -> None:
    """Walk the hash chain; exit 1 and list every modified, inserted or deleted event."""
    result = verify(db_session())
    if result.intact:
        click.echo(f"audit log intact: {result.events} events")
        return
    for problem in result.problems:
        click.echo(f"TAMPERED: {problem}", err=True)
    click.echo(f"audit log NOT intact: {len(result.problems)} problem(s)", err=True)
    sys.exit(1)
