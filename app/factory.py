"""The application factory: it only wires the parts together."""

from __future__ import annotations

import logging

from flask import Flask

from app.core.config import Settings, load_settings
from app.web.routing import BoundedIntConverter


def create_app(settings: Settings | None = None) -> Flask:
    """Build Chorus. Raises ``ConfigError`` or ``PolicyError`` on a bad configuration."""
    from app.accounts import passwords
    from app.policies.loader import load_policies

    settings = settings or load_settings()
    policies = load_policies(settings.policies_dir)

    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_request_bytes,
        SESSION_COOKIE_NAME="chorus_session",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        WTF_CSRF_TIME_LIMIT=4 * 3600,
        # Pages send no Referer (Referrer-Policy: no-referrer), so the token and SameSite
        # cookies carry CSRF protection rather than flask-wtf's Referer check.
        WTF_CSRF_SSL_STRICT=False,
        TEMPLATES_AUTO_RELOAD=False,
    )
    # Ids in URLs fit a 64-bit integer column; anything larger is simply not found.
    app.url_map.converters["int"] = BoundedIntConverter
    app.extensions["chorus.settings"] = settings
    app.extensions["chorus.policies"] = policies
    logging.getLogger("chorus").setLevel(settings.log_level)
    passwords.configure(
        memory_kib=settings.password_memory_kib, time_cost=settings.password_time_cost
    )

    from app.jobs import queue
    from app.storage import storage_from_settings

    app.extensions["chorus.storage"] = storage_from_settings(settings)
    queue.configure(settings)

    from app.web import database, errors, security, sessions

    database.init_app(app, settings)
    sessions.init_app(app)
    security.init_app(app, settings)
    errors.init_app(app)

    from app import i18n

    i18n.init_app(app)

    from app.gallery import page_cache

    page_cache.init_app(app)  # after the language switch, which redirects

    from app.accounts.invitation_views import bp as invitations_bp
    from app.accounts.views import bp as accounts_bp
    from app.consent.views import bp as consent_bp
    from app.gallery.curate_views import bp as curate_bp
    from app.gallery.exhibition_views import bp as exhibitions_bp
    from app.gallery.views import bp as gallery_bp
    from app.groups.readiness_views import bp as readiness_bp
    from app.groups.views import bp as groups_bp
    from app.orgs.views import bp as orgs_bp
    from app.review.views import bp as review_bp
    from app.web.dashboard import bp as dashboard_bp
    from app.works.media_views import bp as media_bp
    from app.works.views import bp as studio_bp

    for blueprint in (
        gallery_bp,
        accounts_bp,
        dashboard_bp,
        invitations_bp,
        readiness_bp,
        groups_bp,
        orgs_bp,
        consent_bp,
        studio_bp,
        media_bp,
        review_bp,
        curate_bp,
        exhibitions_bp,
    ):
        app.register_blueprint(blueprint)
    app.jinja_env.globals["quick_exit_url"] = settings.quick_exit_url

    from app.cli import register_commands

    register_commands(app)
    return app
