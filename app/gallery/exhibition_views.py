"""Public exhibition pages and the kiosk: a full-screen slideshow for events.

Only works live in the gallery right now are shown, so a withdrawn work leaves the page
on the next request; its files answer 410 at once. A draft exhibition is not found,
except as a preview for the people who may curate it; a closed one says so and shows
no works.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from app.core.errors import NotFound
from app.core.permissions import Permission, can
from app.gallery import exhibition_queries as queries
from app.gallery import services
from app.gallery.models import Exhibition
from app.gallery.services import ExhibitionState
from app.orgs.models import Organisation
from app.web.context import policy_for
from app.web.database import db_session
from app.web.sessions import current_actor

bp = Blueprint("exhibitions", __name__)

PAGE_SIZE = 48
KIOSK_SECONDS = 12  # each slide
KIOSK_REFRESH_SECONDS = 60  # the kiosk fetches its slides again


@bp.after_request
def _revalidate(response: Response) -> Response:
    # A cache may keep these pages but must ask again before each use, so a withdrawn
    # work is never shown from a copy.
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "file_url": queries.file_url,
        "work_url": queries.work_url,
        "paragraphs": queries.paragraphs,
    }


def _visible(slug: str) -> tuple[Exhibition, Organisation, ExhibitionState, bool]:
    """The exhibition, its organisation, its state, and whether this is a curator's
    preview of a draft the public cannot see."""
    session = db_session()
    exhibition = services.exhibition_by_slug(session, slug)
    organisation = queries.organisation_of(session, exhibition)
    if organisation is None:
        raise NotFound("There is no such exhibition.")
    state = services.state_of(exhibition)
    preview = state is ExhibitionState.DRAFT
    if preview and not can(current_actor(), Permission.CURATE_EXHIBITIONS, organisation.id):
        raise NotFound("There is no such exhibition.")
    return exhibition, organisation, state, preview


def _after() -> int:
    after = request.args.get("after", "")
    if not after:
        return 0
    if not (after.isdigit() and len(after) <= 9):
        raise NotFound("That page of the exhibition does not exist.")
    return int(after)


@bp.get("/exhibitions/<slug>")
def show(slug: str) -> str:
    exhibition, organisation, state, preview = _visible(slug)
    closed = state is ExhibitionState.CLOSED
    showing = (
        queries.Showing([], None)
        if closed
        else queries.showing(db_session(), exhibition, after=_after(), limit=PAGE_SIZE)
    )
    return render_template(
        "gallery/exhibition.html",
        exhibition=exhibition,
        organisation=organisation,
        showing=showing,
        closed=closed,
        preview=preview,
        first_page=not request.args.get("after"),
    )


@bp.get("/exhibitions/<slug>/kiosk")
def kiosk(slug: str) -> str:
    exhibition, organisation, state, preview = _visible(slug)
    closed = state is ExhibitionState.CLOSED
    channels = queries.kiosk_channels(policy_for(organisation))
    works = [] if closed else queries.showing(db_session(), exhibition, channels=channels).works
    return render_template(
        "gallery/kiosk.html",
        exhibition=exhibition,
        works=works,
        closed=closed,
        preview=preview,
        interval=KIOSK_SECONDS,
        refresh=KIOSK_REFRESH_SECONDS,
    )
