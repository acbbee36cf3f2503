"""``chorus orgs``: organisations, one per media policy."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.actors import SYSTEM
from app.core.errors import ChorusError
from app.orgs.services import create_organisation
from app.policies.loader import PolicyRegistry
from app.web.database import db_session

orgs = AppGroup("orgs", help="Organisations.")


@orgs.command("create")
@click.argument("slug")
def create(slug: str) -> None:
    """Create the organisation whose media policy is media_policies/SLUG.toml."""
    policies: PolicyRegistry = current_app.extensions["chorus.policies"]
    if slug not in policies:
        raise click.ClickException(f"there is no media policy {slug!r}; see media_policies/")
    policy = policies.get(slug)
    session = db_session()
    try:
        organisation = create_organisation(session, actor=SYSTEM, policy=policy)
    except ChorusError as error:
        raise click.ClickException(error.message) from None
    session.commit()
    click.echo(f"created organisation {organisation.id} ({slug})")
