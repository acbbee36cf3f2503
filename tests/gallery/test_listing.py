"""Browsing: filters, keyset pagination without gaps or repeats, and a number of SQL
queries per page that does not grow with the number of works."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.gallery import views
from app.groups.models import Campaign
from app.orgs.models import Organisation
from app.review.models import Publication
from app.works.models import WorkKind
from tests.gallery import media
from tests.gallery.conftest import counting

Publish = Callable[..., Publication]
Orgs = Callable[[str], Organisation]
WORK_LINK = re.compile(r'<a class="work-card-link" href="/gallery/works/(\d+)">')
NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next">')


def listed(client: FlaskClient, url: str) -> tuple[list[int], str | None]:
    """The work ids a page lists, in order, and the address of the next page."""
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    following = NEXT_LINK.search(html)
    return [int(i) for i in WORK_LINK.findall(html)], (
        unescape(following.group(1)) if following else None
    )


def walk(client: FlaskClient, url: str) -> list[int]:
    """Every work id listed from ``url`` on, following "Older works" to the end."""
    found: list[int] = []
    next_url: str | None = url
    while next_url:
        ids, next_url = listed(client, next_url)
        found += ids
    return found


def test_browse_filters_by_kind_organisation_campaign_and_language(
    client: FlaskClient,
    organisation: Orgs,
    publish: Publish,
    make_campaign: Callable[..., Campaign],
) -> None:
    mist, adpare = organisation("mist"), organisation("adpare")
    campaign = make_campaign(mist)
    script_fr = publish(mist, WorkKind.SCRIPT, [media.script()], language="fr", campaign=campaign)
    podcast = publish(mist, WorkKind.PODCAST, [media.noise_wav()])
    fanzine = publish(adpare, WorkKind.FANZINE, [media.jpeg()], language="ro")

    everything = {script_fr.work_id, podcast.work_id, fanzine.work_id}
    assert set(walk(client, "/browse")) == everything
    assert walk(client, "/browse?kind=script") == [script_fr.work_id]
    assert set(walk(client, "/browse?organisation=mist")) == {script_fr.work_id, podcast.work_id}
    assert walk(client, f"/browse?campaign={campaign.id}") == [script_fr.work_id]
    assert walk(client, "/browse?language=ro") == [fanzine.work_id]
    assert walk(client, "/browse?kind=podcast&organisation=adpare") == []
    assert set(walk(client, "/browse?kind=&organisation=&campaign=&language=")) == everything

    form = client.get("/browse?language=fr").get_data(as_text=True)
    assert '<form method="get" action="/browse"' in form
    assert '<option value="fr" lang="fr" selected>Français</option>' in form
    assert '<option value="mist">MIST</option>' in form
    assert f'<option value="{campaign.id}">' in form


@pytest.mark.parametrize(
    "query", ["kind=poem", "campaign=abc", "campaign=-1", "after=yesterday", "after=12-x"]
)
def test_nonsense_in_the_address_is_404(client: FlaskClient, query: str) -> None:
    assert client.get(f"/browse?{query}").status_code == 404


def test_keyset_pages_have_no_gaps_or_repeats_when_times_are_equal(
    client: FlaskClient,
    session: Session,
    organisation: Orgs,
    publish: Publish,
    make_campaign: Callable[..., Campaign],
    make_member: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mist = organisation("mist")
    campaign = make_campaign(mist)
    creator = make_member(campaign)
    publications = [
        publish(mist, WorkKind.SCRIPT, [media.script()], campaign=campaign, creator=creator)
        for _ in range(7)
    ]
    # Five share one moment to the microsecond; one is older, one newer.
    same = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    times = [same.replace(day=2), same, same, same, same, same, same.replace(day=1, hour=0)]
    for publication, moment in zip(publications, times, strict=True):
        session.execute(
            update(Publication).where(Publication.id == publication.id).values(published_at=moment)
        )
    session.commit()
    monkeypatch.setattr(views, "BROWSE_WORKS", 2)

    expected = [
        p.work_id
        for p in sorted(
            publications, key=lambda p: (times[publications.index(p)], p.id), reverse=True
        )
    ]
    pages = []
    next_url: str | None = "/browse"
    while next_url:
        ids, next_url = listed(client, next_url)
        pages.append(ids)
        assert next_url is None or re.fullmatch(r"/browse\?after=\d+-\d+", next_url)
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert [i for p in pages for i in p] == expected


def _statements(client: FlaskClient, url: str) -> list[str]:
    """The SQL a page runs when it is rendered (not served from the page cache)."""
    app: Flask = client.application
    app.extensions["chorus.page_cache"].clear()
    with counting(app.extensions["chorus.db"].engine) as statements:
        assert client.get(url).status_code == 200
    return statements


def _publish_mix(
    count: int, organisation: Orgs, publish: Publish, **kwargs: object
) -> list[Publication]:
    """``count`` works of every kind, by several organisations (pictures included)."""
    kinds: list[tuple[str, WorkKind, Callable[[], list[bytes]]]] = [
        ("mist", WorkKind.FANZINE, lambda: [media.jpeg(), media.jpeg(seed=4)]),
        ("adpare", WorkKind.FANZINE, lambda: [media.pdf()]),
        ("mist", WorkKind.SCRIPT, lambda: [media.script()]),
        ("equality", WorkKind.PODCAST, lambda: [media.noise_wav()]),
        ("fundacion-cruz-blanca", WorkKind.SCRIPT, lambda: [media.script()]),
    ]
    made = []
    for index in range(count):
        slug, kind, files = kinds[index % len(kinds)]
        made.append(publish(organisation(slug), kind, files(), **kwargs))
    return made


def test_queries_per_page_do_not_grow_with_the_number_of_works(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    pages = ["/", "/browse", "/browse?kind=fanzine", "/feed.atom"]
    first = _publish_mix(3, organisation, publish)
    few = {url: len(_statements(client, url)) for url in pages}
    _publish_mix(27, organisation, publish)
    _, older = listed(client, "/browse")
    assert older is not None
    many = {url: len(_statements(client, url)) for url in pages}
    assert many == few
    assert len(_statements(client, older)) == few["/browse"]
    work_page = f"/gallery/works/{first[0].work_id}"
    assert len(_statements(client, work_page)) <= 5
