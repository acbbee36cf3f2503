"""The gallery over ``chorus demo``'s works (every kind, masked faces, altered voices,
scripts): every page and file answers, names no other host and runs no inline code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.core.db import make_engine, make_session_factory
from app.review.models import Publication
from app.works.models import WorkKind
from tests.conftest import make_settings
from tests.gallery.test_privacy import _inline_code
from tests.web.test_security import _foreign_references

QUICK_EXIT = "https://www.bbc.co.uk/weather"


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory, template_database: Path) -> Iterator[Flask]:
    from app.factory import create_app
    from app.jobs import queue

    settings = make_settings(tmp_path_factory.mktemp("demo") / "instance", template_database)
    app = create_app(settings)
    app.config.update(TESTING=True)
    queue.configure(settings, immediate=True)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    yield app
    app.extensions["chorus.db"].engine.dispose()


@pytest.fixture(scope="module")
def live(demo_app: Flask) -> list[Publication]:
    engine = make_engine(demo_app.extensions["chorus.settings"].database_url)
    session = make_session_factory(engine)()
    try:
        publications = list(
            session.scalars(select(Publication).where(Publication.withdrawn_at.is_(None)))
        )
        for publication in publications:  # loaded before the session closes
            _ = publication.work.kind, [f.id for f in publication.files]
        return publications
    finally:
        session.close()
        engine.dispose()


def test_every_demo_work_is_shown_and_every_file_served(
    demo_app: Flask, live: list[Publication]
) -> None:
    client: FlaskClient = demo_app.test_client()
    assert {p.work.kind for p in live} == set(WorkKind)
    home = client.get("/").get_data(as_text=True)
    problems: dict[str, list[str]] = {}
    for publication in live:
        url = f"/gallery/works/{publication.work_id}"
        assert url in home or len(live) > 12
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        if found := _foreign_references(html, QUICK_EXIT) + _inline_code(html):
            problems[url] = found
        for public in publication.files:
            media = client.get(f"/media/{public.id}")
            media.close()
            assert media.status_code == 200, (url, public.role, public.media_type)
    assert not problems
    for url in ("/browse", "/feed.atom"):
        assert client.get(url).status_code == 200
