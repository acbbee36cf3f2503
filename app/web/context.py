"""Small helpers views share: the organisation in the URL, checked against the actor."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext

from app.accounts.models import User
from app.core.errors import NotFound
from app.core.permissions import Permission, can
from app.orgs.models import Organisation
from app.orgs.services import organisation_by_slug
from app.policies.loader import PolicyRegistry
from app.policies.schema import MediaPolicy
from app.web.database import db_session


def organisation_for(slug: str, actor: User, permission: Permission) -> Organisation:
    """The organisation named in the URL, if the actor holds the permission there.

    Anyone else gets 404, so the page does not confirm which organisations exist to
    people outside them.
    """
    try:
        organisation = organisation_by_slug(db_session(), slug)
    except NotFound:
        organisation = None
    if organisation is None or not can(actor, permission, organisation.id):
        raise NotFound(gettext("There is no such page."))
    return organisation


def policy_for(organisation: Organisation) -> MediaPolicy:
    policies: PolicyRegistry = current_app.extensions["chorus.policies"]
    return policies.get(organisation.slug)
