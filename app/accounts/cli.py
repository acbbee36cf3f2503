"""``chorus users``: staff accounts from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts.services import STAFF_ROLES, create_staff_account
from app.core.actors import SYSTEM
from app.core.errors import ChorusError
from app.orgs.models import Role
from app.orgs.services import organisation_by_slug
from app.web.database import db_session

users = AppGroup("users", help="Staff accounts.")


@users.command("create")
@click.option("--org", "org_slug", required=True, help="Organisation slug, e.g. payoke.")
@click.option(
    "--role",
    type=click.Choice(sorted(role.value for role in STAFF_ROLES)),
    required=True,
    help="The account's role in the organisation.",
)
@click.argument("login_name")
@click.password_option(help="Asked twice without echo when not given.")
def create(org_slug: str, role: str, login_name: str, password: str) -> None:
    """Create a staff account LOGIN_NAME in an organisation."""
    session = db_session()
    try:
        organisation = organisation_by_slug(session, org_slug)
        user = create_staff_account(
            session,
            actor=SYSTEM,
            organisation=organisation,
            login_name=login_name,
            password=password,
            role=Role(role),
        )
    except ChorusError as error:
        raise click.ClickException(error.message) from None
    session.commit()
    click.echo(f"created user {user.id} as {role} of {org_slug}")
