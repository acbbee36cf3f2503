"""Facilitator pages: creators of the organisation and their readiness to take part."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from app.accounts.models import User
from app.core.errors import NotFound, ValidationFailed
from app.core.permissions import Permission
from app.groups import queries
from app.groups.forms import ReadinessForm
from app.groups.services import readiness_of, record_readiness
from app.orgs.models import Organisation
from app.web.context import organisation_for
from app.web.database import db_session
from app.web.sessions import signed_in_user

bp = Blueprint("readiness", __name__)


@bp.get("/orgs/<slug>/creators")
@login_required
def creators(slug: str) -> str:
    organisation = organisation_for(slug, signed_in_user(), Permission.RECORD_READINESS)
    return render_template(
        "groups/creators.html",
        organisation=organisation,
        creators=queries.creators(db_session(), organisation),
    )


def _creator(organisation: Organisation, user_id: int) -> User:
    for status in queries.creators(db_session(), organisation):
        if status.user.id == user_id:
            return status.user
    raise NotFound(gettext("There is no such creator in this organisation."))


def _page(slug: str, user_id: int, form: ReadinessForm, status: int = 200) -> tuple[str, int]:
    organisation = organisation_for(slug, signed_in_user(), Permission.RECORD_READINESS)
    creator = _creator(organisation, user_id)
    existing = readiness_of(db_session(), creator.id, organisation.id)
    return render_template(
        "groups/readiness.html",
        organisation=organisation,
        creator=creator,
        existing=existing,
        form=form,
    ), status


@bp.get("/orgs/<slug>/creators/<int:user_id>/readiness")
@login_required
def readiness(slug: str, user_id: int) -> tuple[str, int]:
    return _page(slug, user_id, ReadinessForm())


@bp.post("/orgs/<slug>/creators/<int:user_id>/readiness")
@login_required
def readiness_post(slug: str, user_id: int) -> tuple[str, int] | Response:
    actor = signed_in_user()
    organisation = organisation_for(slug, actor, Permission.RECORD_READINESS)
    form = ReadinessForm()
    if not form.validate_on_submit():
        return _page(slug, user_id, form, 422)
    session = db_session()
    try:
        record_readiness(
            session,
            actor=actor,
            organisation=organisation,
            creator=_creator(organisation, user_id),
            informed_consent_on=form.informed_consent_on.data,  # type: ignore[arg-type]
            crisis_period_ended_on=form.crisis_period_ended_on.data,  # type: ignore[arg-type]
        )
    except ValidationFailed as error:
        form.form_errors.append(error.message)
        return _page(slug, user_id, form, 422)
    session.commit()
    flash(gettext("Readiness is recorded. The creator can now join a group."), "success")
    return redirect(url_for("readiness.creators", slug=slug))
