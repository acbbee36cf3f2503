"""The Atom feed: valid Atom, the latest live works, ids that name no person."""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree as ET

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.gallery import views
from app.orgs.models import Organisation
from app.review.models import Publication
from app.works.models import WorkKind
from app.works.services import withdraw
from tests.gallery import media

Publish = Callable[..., Publication]
Orgs = Callable[[str], Organisation]
A = "{http://www.w3.org/2005/Atom}"


def feed(client: FlaskClient) -> ET.Element:
    response = client.get("/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    return ET.fromstring(response.get_data())  # noqa: S314 - Chorus's own output


def test_the_feed_is_atom_with_the_latest_live_works(
    client: FlaskClient, session: Session, organisation: Orgs, publish: Publish
) -> None:
    mist, adpare = organisation("mist"), organisation("adpare")
    podcast = publish(mist, WorkKind.PODCAST, [media.noise_wav()], title="Night radio")
    fanzine = publish(adpare, WorkKind.FANZINE, [media.jpeg()], title="Paper boats", language="ro")
    gone = publish(mist, WorkKind.SCRIPT, [media.script()], title="Taken back")
    withdraw(session, actor=gone.work.created_by, work=gone.work)
    session.commit()

    root = feed(client)
    assert root.tag == f"{A}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{A}{required}") is not None, required
    assert (root.findtext(f"{A}id") or "").startswith("tag:localhost,")
    [self_link] = [link for link in root.findall(f"{A}link") if link.get("rel") == "self"]
    assert self_link.get("href") == "https://localhost/feed.atom"

    entries = root.findall(f"{A}entry")
    assert [e.findtext(f"{A}title") for e in entries] == ["Paper boats", "Night radio"]
    first = entries[0]
    assert first.findtext(f"{A}summary") == "Fanzine from ADPARE"
    assert first.get("{http://www.w3.org/XML/1998/namespace}lang") == "ro"
    [link] = first.findall(f"{A}link")
    assert link.get("href") == f"https://localhost/gallery/works/{fanzine.work_id}"
    assert first.findtext(f"{A}id") == f"tag:localhost,2026:gallery/publication/{fanzine.id}"
    assert (first.findtext(f"{A}updated") or "").endswith("Z")
    ids = [e.findtext(f"{A}id") or "" for e in entries]
    assert len(set(ids)) == len(ids)
    second = entries[1].find(f"{A}link")
    assert second is not None
    assert second.get("href") == f"https://localhost/gallery/works/{podcast.work_id}"
    text = ET.tostring(root, encoding="unicode")
    assert "Taken back" not in text
    creator = podcast.work.created_by
    for private in (creator.login_name, f"user/{creator.id}", "Sparrow"):
        assert private not in text


def test_the_feed_holds_at_most_its_limit(
    client: FlaskClient,
    organisation: Orgs,
    publish: Publish,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(3):
        publish(organisation("mist"), WorkKind.SCRIPT, [media.script()])
    monkeypatch.setattr(views, "FEED_ENTRIES", 2)
    assert len(feed(client).findall(f"{A}entry")) == 2


def test_an_empty_feed_is_still_valid(client: FlaskClient) -> None:
    root = feed(client)
    assert root.findall(f"{A}entry") == []
    assert root.findtext(f"{A}updated")
