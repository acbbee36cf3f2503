"""One mapping from errors to plain pages. Never a stack trace to anyone."""

from __future__ import annotations

import logging
import traceback
import uuid

from flask import Flask, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from app.core.errors import ChorusError, Conflict, NotFound, PermissionDenied, ValidationFailed
from app.i18n import N_
from app.storage.base import StorageUnavailable, StoredObjectMissing
from app.storage.crypto import OriginalCorrupt

log = logging.getLogger("chorus.web")

DOMAIN_STATUS: dict[type[ChorusError], int] = {
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    ValidationFailed: 422,
    StorageUnavailable: 503,
    StoredObjectMissing: 404,
    OriginalCorrupt: 500,
}

# In English here, translated when a page shows them.
MESSAGES: dict[int, tuple[str, str]] = {
    400: (N_("Something was wrong with that request"), N_("Please go back and try again.")),
    403: (N_("You cannot do that"), N_("Your account does not have permission for this page.")),
    404: (N_("Page not found"), N_("The page may have moved, or the address may be mistyped.")),
    405: (N_("That did not work"), N_("This page cannot be used that way. Go back and try again.")),
    409: (
        N_("That cannot be done now"),
        N_("Something changed in the meantime. Reload and retry."),
    ),
    410: (N_("No longer available"), N_("This has been taken down.")),
    413: (N_("That is too large"), N_("The file or form you sent is larger than Chorus accepts.")),
    422: (N_("Please check what you entered"), N_("Something you entered could not be accepted.")),
    429: (N_("Too many attempts"), N_("Please wait a few minutes, then try again.")),
    500: (
        N_("Something went wrong on our side"),
        N_("Nothing you did caused this. Please try again."),
    ),
}


FALLBACK_PAGE = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>{title} · Chorus</title>'
    '<h1>{title}</h1><p>{message}</p><p><a href="/">Go to the home page</a></p></html>'
)


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    """The plain error page; if even that cannot be drawn (say the database is down),
    a bare page that needs nothing."""
    title, default = MESSAGES.get(status, MESSAGES[400 if status < 500 else 500])
    text = message or default
    try:
        title, text = gettext(title), message or gettext(default)
        page = render_template("errors/error.html", status=status, title=title, message=text)
    except Exception:  # noqa: BLE001 - the last line of defence must not raise
        log.error("error page for status %s could not be rendered", status)
        page = FALLBACK_PAGE.format(title=escape(title), message=escape(text))
    return page, status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError) -> tuple[str, int]:
        return render_error(
            400,
            gettext(
                "This form has expired or was sent from somewhere else. Reload it and try again."
            ),
        )

    @app.errorhandler(ChorusError)
    def _domain(error: ChorusError) -> tuple[str, int]:
        status = next((code for cls, code in DOMAIN_STATUS.items() if isinstance(error, cls)), 400)
        return render_error(status, error.message)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int]:
        status = error.code or 500
        if status >= 500:
            return _unexpected(error)
        return render_error(status)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        original = getattr(error, "original_exception", None) or error
        if isinstance(original, InternalServerError) and original.original_exception is None:
            original = error
        incident = uuid.uuid4().hex[:12]
        # The endpoint and the frames only: never the URL, form values or the exception's
        # message, which (for database errors) can quote what a person typed.
        log.error(
            "unhandled %s at endpoint %s (incident %s)\n%s",
            type(original).__name__,
            request.endpoint,
            incident,
            "".join(traceback.format_tb(original.__traceback__)),
        )
        return render_error(
            500, gettext("Nothing you did caused this. Reference: %(incident)s.", incident=incident)
        )
