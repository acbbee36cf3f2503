"""Sign in and out, join with an invitation code, change one's password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.accounts.forms import ChangePasswordForm, RedeemInvitationForm, SignInForm
from app.accounts.models import User
from app.accounts.services import authenticate, change_password, end_sessions, redeem_invitation
from app.accounts.throttle import throttle_rules
from app.core.errors import SignInFailed, ValidationFailed
from app.web.database import db_session
from app.web.sessions import current_actor, signed_in_user

bp = Blueprint("accounts", __name__)


def _address() -> str:
    return request.remote_addr or "unknown"


@bp.get("/sign-in")
def sign_in() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return render_template("accounts/sign_in.html", form=SignInForm())


@bp.post("/sign-in")
def sign_in_post() -> tuple[str, int] | Response:
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("accounts/sign_in.html", form=form), 422
    session = db_session()
    try:
        user = authenticate(
            session,
            login_name=form.login_name.data or "",
            password=form.password.data or "",
            address=_address(),
            rules=throttle_rules(current_app.extensions["chorus.settings"]),
        )
    except SignInFailed as error:
        session.commit()  # keep the failure count
        form.form_errors.append(error.message)
        return render_template("accounts/sign_in.html", form=form), 401
    session.commit()
    login_user(user)
    return redirect(url_for("dashboard.index"))


@bp.post("/sign-out")
def sign_out() -> Response:
    actor = current_actor()
    if isinstance(actor, User):
        session = db_session()
        end_sessions(session, actor=actor)
        session.commit()
    logout_user()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("gallery.home"))


@bp.get("/join")
def join() -> str:
    return render_template("accounts/join.html", form=RedeemInvitationForm())


@bp.post("/join")
def join_post() -> tuple[str, int] | Response:
    form = RedeemInvitationForm()
    if not form.validate_on_submit():
        return render_template("accounts/join.html", form=form), 422
    session = db_session()
    try:
        user = redeem_invitation(
            session,
            code=form.code.data or "",
            login_name=form.login_name.data or "",
            password=form.password.data or "",
            address=_address(),
            rules=throttle_rules(current_app.extensions["chorus.settings"]),
        )
    except ValidationFailed as error:
        session.commit()  # keep the failure count; no account was created
        form.form_errors.append(error.message)
        return render_template("accounts/join.html", form=form), 422
    session.commit()
    login_user(user)
    flash(gettext("Welcome to Chorus. Your account is ready."), "success")
    return redirect(url_for("dashboard.index"))


@bp.get("/account/password")
@login_required
def password() -> str:
    return render_template("accounts/password.html", form=ChangePasswordForm())


@bp.post("/account/password")
@login_required
def password_post() -> tuple[str, int] | Response:
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return render_template("accounts/password.html", form=form), 422
    session = db_session()
    try:
        change_password(
            session,
            actor=signed_in_user(),
            current=form.current.data or "",
            new=form.new.data or "",
        )
    except ValidationFailed as error:
        form.form_errors.append(error.message)
        return render_template("accounts/password.html", form=form), 422
    session.commit()
    login_user(signed_in_user())  # this device stays signed in with the new session id
    flash(gettext("Your password is changed."), "success")
    return redirect(url_for("dashboard.index"))
