"""Public pages: the home page, browsing, each work's page, the Atom feed and the
quick-exit help page. Everything shown comes from live gallery publications
(``app.gallery.queries``); a withdrawn work answers 410 Gone at once."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from werkzeug.wrappers import Response

from app.core.languages import name_of
from app.gallery import feed, queries
from app.gallery.media_views import bp as media_bp
from app.policies.loader import PolicyRegistry
from app.storage.base import Storage
from app.web.database import db_session
from app.works.models import WorkKind

bp = Blueprint("gallery", __name__)
bp.register_blueprint(media_bp)  # /media/… and captions, endpoints "gallery.media.*"

HOME_WORKS = 12
BROWSE_WORKS = 24
FEED_ENTRIES = 50


@bp.after_request
def _revalidate(response: Response) -> Response:
    # Gallery pages name published works: a cache may keep them but must ask again
    # each time, so a withdrawn work disappears from every page at once.
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"language_name": name_of}


@bp.errorhandler(queries.Withdrawn)
def _withdrawn(_error: queries.Withdrawn) -> tuple[str, int]:
    return render_template("gallery/withdrawn.html"), 410


@bp.get("/")
def home() -> str:
    session = db_session()
    policies: PolicyRegistry = current_app.extensions["chorus.policies"]
    return render_template(
        "gallery/home.html",
        exhibitions=queries.current_exhibitions(session),
        latest=queries.latest(session, limit=HOME_WORKS),
        policies=list(policies),
    )


@bp.get("/browse")
def browse() -> str:
    session = db_session()
    filters = queries.Filters.parse(request.args)
    after = request.args.get("after", "")
    listing = queries.latest(
        session,
        filters=filters,
        after=queries.Cursor.decode(after) if after else None,
        limit=BROWSE_WORKS,
    )
    return render_template(
        "gallery/browse.html",
        listing=listing,
        filters=filters,
        choices=queries.choices(session),
        kinds=queries.KIND_LABELS,
        first_page=not after,
    )


@bp.get("/gallery/works/<int:work_id>")
def work(work_id: int) -> str:
    view = queries.work_view(db_session(), work_id)
    script = None
    if view.work.kind is WorkKind.SCRIPT and view.media is not None:
        storage: Storage = current_app.extensions["chorus.storage"]
        script = queries.script_html(storage, view.media)
    return render_template("gallery/work.html", view=view, work=view.work, script=script)


@bp.get("/feed.atom")
def atom_feed() -> Response:
    listing = queries.latest(db_session(), limit=FEED_ENTRIES, pictures=False)
    body = feed.atom(
        listing.cards,
        host=request.host,
        feed_url=url_for("gallery.atom_feed", _external=True),
        home_url=url_for("gallery.home", _external=True),
        work_url=lambda card: url_for("gallery.work", work_id=card.work.id, _external=True),
    )
    return Response(body, mimetype="application/atom+xml")


@bp.get("/safety")
def safety() -> str:
    return render_template("gallery/safety.html")
