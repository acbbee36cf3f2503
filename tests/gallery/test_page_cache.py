"""The gallery's page cache: pages are served from it, and a publication or withdrawal
shows on the very next request."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.gallery.generation import current
from app.orgs.models import Organisation
from app.review.models import Publication
from app.works.models import WorkKind
from app.works.services import withdraw
from tests.gallery import media


def _statements(app: Flask) -> list[str]:
    seen: list[str] = []
    engine = app.extensions["chorus.db"].engine
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_cached_page_costs_one_query_and_a_withdrawal_shows_at_once(
    app: Flask,
    session: Session,
    organisation: Callable[[str], Organisation],
    publish: Callable[..., Publication],
) -> None:
    publication = publish(organisation("adpare"), WorkKind.FANZINE, [media.jpeg()])
    client = app.test_client()
    url = f"/gallery/works/{publication.work_id}"
    first = client.get(url)
    assert first.status_code == 200
    seen = _statements(app)
    again = client.get(url)
    assert again.get_data() == first.get_data()
    assert len(seen) == 1  # the generation counter only
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]

    before = current(session)
    withdraw(session, actor=publication.work.created_by, work=publication.work)
    session.commit()
    assert current(session) > before
    assert client.get(url).status_code == 410
    assert publication.work.title not in client.get("/").get_data(as_text=True)


def test_signed_in_people_are_never_served_from_the_cache(
    app: Flask,
    organisation: Callable[[str], Organisation],
    publish: Callable[..., Publication],
) -> None:
    from tests.conftest import sign_in

    publication = publish(organisation("adpare"), WorkKind.FANZINE, [media.jpeg()])
    url = f"/gallery/works/{publication.work_id}"
    app.test_client().get(url)  # cached for visitors
    client = app.test_client()
    sign_in(client, publication.work.created_by.login_name)
    seen = _statements(app)
    assert client.get(url).status_code == 200
    assert len(seen) > 1
