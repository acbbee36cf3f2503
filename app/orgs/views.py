"""Org admin pages: members and their roles, new staff accounts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from app.accounts.services import create_staff_account
from app.core.errors import Conflict, ValidationFailed
from app.core.permissions import Permission
from app.orgs.forms import ActiveForm, RoleForm, StaffForm
from app.orgs.models import Role
from app.orgs.services import change_role, members, membership_in, set_active
from app.web.context import organisation_for
from app.web.database import db_session
from app.web.sessions import signed_in_user

bp = Blueprint("orgs", __name__)


@bp.get("/orgs/<slug>/members")
@login_required
def index(slug: str) -> str:
    actor = signed_in_user()
    organisation = organisation_for(slug, actor, Permission.MANAGE_MEMBERS)
    return render_template(
        "orgs/members.html",
        organisation=organisation,
        members=members(db_session(), actor=actor, organisation=organisation),
        role_form=RoleForm(),
        active_form=ActiveForm(),
        roles=list(Role),
        actor=actor,
    )


@bp.post("/orgs/<slug>/members/<int:user_id>/role")
@login_required
def role(slug: str, user_id: int) -> Response:
    actor = signed_in_user()
    organisation = organisation_for(slug, actor, Permission.MANAGE_MEMBERS)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(gettext("Choose one of the roles listed."), "error")
        return redirect(url_for("orgs.index", slug=slug))
    session = db_session()
    membership = membership_in(session, organisation, user_id)
    try:
        change_role(session, actor=actor, membership=membership, role=Role(form.role.data))
    except (Conflict, ValidationFailed) as error:
        flash(error.message, "error")
    else:
        session.commit()
        flash(gettext("The role is changed."), "success")
    return redirect(url_for("orgs.index", slug=slug))


@bp.post("/orgs/<slug>/members/<int:user_id>/<any(suspend, restore):action>")
@login_required
def active(slug: str, user_id: int, action: str) -> Response:
    actor = signed_in_user()
    organisation = organisation_for(slug, actor, Permission.MANAGE_MEMBERS)
    if not ActiveForm().validate_on_submit():
        flash(gettext("Please try again."), "error")
        return redirect(url_for("orgs.index", slug=slug))
    session = db_session()
    membership = membership_in(session, organisation, user_id)
    try:
        set_active(session, actor=actor, membership=membership, active=action == "restore")
    except Conflict as error:
        flash(error.message, "error")
    else:
        session.commit()
        flash(
            gettext("The account is suspended.")
            if action == "suspend"
            else gettext("The account is restored."),
            "success",
        )
    return redirect(url_for("orgs.index", slug=slug))


def _staff_page(slug: str, form: StaffForm, status: int = 200) -> tuple[str, int]:
    organisation = organisation_for(slug, signed_in_user(), Permission.CREATE_STAFF)
    return render_template("orgs/staff_new.html", organisation=organisation, form=form), status


@bp.get("/orgs/<slug>/staff/new")
@login_required
def new_staff(slug: str) -> tuple[str, int]:
    return _staff_page(slug, StaffForm())


@bp.post("/orgs/<slug>/staff/new")
@login_required
def new_staff_post(slug: str) -> tuple[str, int] | Response:
    actor = signed_in_user()
    organisation = organisation_for(slug, actor, Permission.CREATE_STAFF)
    form = StaffForm()
    if not form.validate_on_submit():
        return _staff_page(slug, form, 422)
    session = db_session()
    try:
        create_staff_account(
            session,
            actor=actor,
            organisation=organisation,
            login_name=form.login_name.data or "",
            password=form.password.data or "",
            role=Role(form.role.data),
        )
    except ValidationFailed as error:
        form.form_errors.append(error.message)
        return _staff_page(slug, form, 422)
    session.commit()
    flash(gettext("The staff account is created."), "success")
    return redirect(url_for("orgs.index", slug=slug))
