"""The languages of the interface: Flask-Babel, the visitor's choice and the switcher.

Pages speak the language the visitor chose (the ``chorus_lang`` cookie, set by the
switcher in every page's footer), else the best match for their browser's
Accept-Language, else English. Only the interface is translated: a work keeps the
language it was made in, and its templates mark it with ``lang="{{ work.language }}"``.

Catalogs live in ``app/translations`` (see the README there for translators).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

from flask import Flask, current_app, has_request_context, redirect, request, url_for
from flask_babel import Babel, get_locale, gettext
from werkzeug.wrappers import Response

from app.core.languages import NAMES

DEFAULT_LANGUAGE = "en"
# The interface's languages, in the switcher's order, each under its own name.
LANGUAGES: dict[str, str] = {code: NAMES[code] for code in ("en", "fr", "es", "it", "ro", "nl")}
COOKIE = "chorus_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
MAX_PATH_LENGTH = 2000


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it yet: for text defined at
    import time, translated with ``gettext`` when a request shows it."""
    return message


def select_language() -> str:
    """The interface language of this request: a valid ``chorus_lang`` cookie, else
    the best Accept-Language match, else English. Outside a request, English."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return _browser_language() or DEFAULT_LANGUAGE


def _browser_language() -> str | None:
    """The first language the browser asks for that Chorus speaks, in the browser's
    order of preference: ``en-GB,fr;q=0.5`` is English (Werkzeug's ``best_match``
    would pick French, the only exact match)."""
    for tag, quality in request.accept_languages:
        code = tag.lower().replace("_", "-").split("-", 1)[0]
        if quality > 0 and code in LANGUAGES:
            return code
    return None


def current_language() -> str:
    """The language code pages are drawn in (``en``, ``fr``…)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def local_path(target: str) -> str:
    """``target`` if it is a path on this site, else the home page: a redirect must
    never send anyone to another host (``//host``, ``/\\host``, ``https://…``)."""
    parts = urlsplit(target)
    local = (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not parts.scheme
        and not parts.netloc
        and len(target) <= MAX_PATH_LENGTH
        and all(" " < character != "\x7f" for character in target)
    )
    return target if local else url_for("gallery.home")


def _this_path() -> str:
    """This page's address without its query, as a path on this site."""
    return quote(request.script_root + request.path, safe="/:@!$&'()*+,;=-._~")


def _switch_language() -> Response | None:
    """The footer's form sends ``?chorus_lang=fr`` to the page it is on (so no page
    ever has to echo its own address): remember the choice for a year and show the
    same page again, without the parameter."""
    code = request.args.get(COOKIE)
    if code not in LANGUAGES or request.method not in ("GET", "HEAD"):
        return None
    response = redirect(local_path(_this_path()), 303)
    response.set_cookie(
        COOKIE,
        code,
        max_age=COOKIE_MAX_AGE,
        secure=current_app.extensions["chorus.settings"].secure_cookies,
        httponly=True,
        samesite="Lax",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Install Flask-Babel (with Jinja's i18n extension), the switcher and its helpers."""
    from app.web.sessions import login_manager

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_language)
    # Multi-line {% trans %} blocks become one-line msgids (babel.cfg: trimmed = true).
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    login_manager.localize_callback = gettext
    app.before_request(_switch_language)

    @app.context_processor
    def _language() -> dict[str, object]:
        return {"ui_language": current_language(), "languages": LANGUAGES, "language_field": COOKIE}

    @app.after_request
    def _vary(response: Response) -> Response:
        # A page's words depend on the cookie and the browser's languages.
        if response.mimetype == "text/html":
            response.vary.add("Cookie")
            response.vary.add("Accept-Language")
        return response
