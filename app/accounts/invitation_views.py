"""Facilitator pages: invitation codes for new creators."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from app.accounts.models import Invitation
from app.accounts.services import create_invitation, revoke_invitation
from app.core.clock import utcnow
from app.core.errors import NotFound, ValidationFailed
from app.core.permissions import Permission
from app.groups import queries
from app.groups.forms import InvitationForm
from app.orgs.models import Organisation
from app.web.context import organisation_for
from app.web.database import db_session
from app.web.forms import choices
from app.web.sessions import signed_in_user

bp = Blueprint("invitations", __name__)


def _form(organisation: Organisation) -> InvitationForm:
    form = InvitationForm()
    form.group.choices = choices(
        [("", gettext("No group yet"))]
        + [(str(g.id), g.name) for g in queries.organisation_groups(db_session(), organisation)]
    )
    return form


def _page(organisation: Organisation, form: InvitationForm, code: str | None = None) -> str:
    return render_template(
        "accounts/invitations.html",
        organisation=organisation,
        form=form,
        invitations=queries.invitations(db_session(), organisation),
        new_code=code,
        now=utcnow(),
        valid_days=current_app.extensions["chorus.settings"].invitation_days,
    )


@bp.get("/orgs/<slug>/invitations")
@login_required
def index(slug: str) -> str:
    organisation = organisation_for(slug, signed_in_user(), Permission.INVITE_CREATORS)
    return _page(organisation, _form(organisation))


@bp.post("/orgs/<slug>/invitations")
@login_required
def create(slug: str) -> str | tuple[str, int]:
    actor = signed_in_user()
    organisation = organisation_for(slug, actor, Permission.INVITE_CREATORS)
    form = _form(organisation)
    if not form.validate_on_submit():
        return _page(organisation, form), 422
    session = db_session()
    group = None
    if form.group.data:
        groups = {str(g.id): g for g in queries.organisation_groups(session, organisation)}
        group = groups.get(form.group.data)
    settings = current_app.extensions["chorus.settings"]
    issued = create_invitation(
        session,
        actor=actor,
        organisation=organisation,
        group=group,
        valid_for=timedelta(days=settings.invitation_days),
    )
    session.commit()
    # The code is shown once, in this response only: it is never stored in clear.
    return _page(organisation, _form(organisation), code=issued.code)


@bp.post("/orgs/<slug>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke(slug: str, invitation_id: int) -> Response:
    actor = signed_in_user()
    organisation = organisation_for(slug, actor, Permission.INVITE_CREATORS)
    session = db_session()
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != organisation.id:
        raise NotFound(gettext("There is no such invitation."))
    try:
        revoke_invitation(session, actor=actor, invitation=invitation)
    except ValidationFailed as error:
        flash(error.message, "error")
    else:
        session.commit()
        flash(gettext("The invitation is revoked."), "success")
    return redirect(url_for("invitations.index", slug=slug))
