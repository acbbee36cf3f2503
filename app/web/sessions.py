"""Sign-in sessions (flask-login) and CSRF protection (flask-wtf) on every POST."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.actors import PUBLIC, PublicActor
from app.core.errors import PermissionDenied
from app.i18n import N_
from app.web.database import db_session

login_manager = LoginManager()
login_manager.login_view = "accounts.sign_in"
login_manager.login_message = N_("Please sign in to see that page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"
csrf = CSRFProtect()


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()) or len(session_id) > 40:
        return None
    user = db_session().get(User, int(user_id), options=[selectinload(User.memberships)])
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    csrf.init_app(app)


def current_actor() -> User | PublicActor:
    """The signed-in user as a plain model object, or the public actor."""
    if current_user.is_authenticated:
        user: User = current_user._get_current_object()  # type: ignore[attr-defined]
        return user
    return PUBLIC


def signed_in_user() -> User:
    """The signed-in user; for views behind ``login_required``."""
    actor = current_actor()
    if not isinstance(actor, User):
        raise PermissionDenied(gettext("Please sign in."))
    return actor
