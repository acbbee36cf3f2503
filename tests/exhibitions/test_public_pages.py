"""The public exhibition page and the kiosk: only live works, in the curated order,
warnings first, no way out of the kiosk, and a fixed number of SQL queries."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.gallery import exhibition_views
from app.gallery.models import Exhibition
from app.gallery.services import close_exhibition
from app.orgs.models import Organisation, Role
from app.review.models import FileRole, Publication
from app.works.models import WorkKind
from tests.conftest import sign_in
from tests.exhibitions.conftest import TRANSCRIPT, counting, jpeg, pdf
from tests.exhibitions.pages import linked_works, parse
from tests.studio.media import noise_wav

Orgs = Callable[[str], Organisation]
Staff = Callable[[Organisation, Role], User]
Publish = Callable[..., Publication]
Exhibit = Callable[..., Exhibition]
MEDIA = re.compile(r'src="(/media/\d+)"')


def test_the_page_shows_live_works_in_the_curated_order(
    client: FlaskClient, organisation: Orgs, publish: Publish, exhibit: Exhibit
) -> None:
    mist = organisation("mist")
    a = publish(mist, title="First made")
    b = publish(mist, title="Hard words", warnings=["violence", "loss"])
    c = publish(mist, WorkKind.PODCAST, [noise_wav()], title="Heard")
    exhibition = exhibit(
        mist,
        [c.work, a.work, b.work],
        title="Spring <voices>",
        introduction="We made this <b>together</b>.\nLine two.\n\n\nSecond paragraph.",
    )
    response = client.get(f"/exhibitions/{exhibition.slug}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    html = response.get_data(as_text=True)
    assert linked_works(html) == [c.work_id, a.work_id, b.work_id]
    assert "<h1>Spring &lt;voices&gt;</h1>" in html
    assert (
        "<p>We made this &lt;b&gt;together&lt;/b&gt;.\nLine two.</p><p>Second paragraph.</p>"
        in (html)
    )
    assert "An exhibition by MIST" in html
    assert "<strong>Content warning:</strong> violence, loss" in html
    # The warned work's picture waits behind the warning on its own page; the others show one.
    cards = html.split('<li class="work-card exhibition-card">')[1:]
    assert [("<img" in card) for card in cards] == [False, True, False]
    for url in MEDIA.findall(html):
        served = client.get(url)
        assert served.status_code == 200, url  # file_url matches the gallery's media route
        served.close()


def test_a_withdrawn_work_disappears_at_once(
    client: FlaskClient,
    organisation: Orgs,
    publish: Publish,
    exhibit: Exhibit,
    take_down: Callable[[Publication], None],
) -> None:
    adpare = organisation("adpare")
    kept, gone = publish(adpare, title="Kept"), publish(adpare, title="Gone")
    exhibition = exhibit(adpare, [gone.work, kept.work])
    page = client.get(f"/exhibitions/{exhibition.slug}").get_data(as_text=True)
    kiosk = client.get(f"/exhibitions/{exhibition.slug}/kiosk").get_data(as_text=True)
    gone_files = MEDIA.findall(kiosk)[:1]
    assert linked_works(page) == [gone.work_id, kept.work_id]
    assert f'data-work="{gone.work_id}"' in kiosk

    take_down(gone)
    page = client.get(f"/exhibitions/{exhibition.slug}").get_data(as_text=True)
    kiosk = client.get(f"/exhibitions/{exhibition.slug}/kiosk").get_data(as_text=True)
    assert linked_works(page) == [kept.work_id]
    assert "Gone" not in page
    assert f'data-work="{gone.work_id}"' not in kiosk
    assert f'data-work="{kept.work_id}"' in kiosk
    assert [client.get(url).status_code for url in gone_files] == [410]


def test_a_draft_is_not_found_except_by_its_curators(
    client: FlaskClient,
    organisation: Orgs,
    staff: Staff,
    make_creator: Callable[..., User],
    publish: Publish,
    exhibit: Exhibit,
) -> None:
    adpare = organisation("adpare")
    exhibition = exhibit(adpare, [publish(adpare).work], opened=False)
    urls = [f"/exhibitions/{exhibition.slug}", f"/exhibitions/{exhibition.slug}/kiosk"]
    assert [client.get(url).status_code for url in urls] == [404, 404]
    assert client.get("/exhibitions/no-such-thing").status_code == 404

    sign_in(client, make_creator(adpare).login_name)
    assert [client.get(url).status_code for url in urls] == [404, 404]

    curator = staff(adpare, Role.ORG_ADMIN)
    curating = client.application.test_client()
    sign_in(curating, curator.login_name)
    previews = [curating.get(url) for url in urls]
    assert [r.status_code for r in previews] == [200, 200]
    assert all(
        "Preview: this exhibition is not open yet" in r.get_data(as_text=True) for r in previews
    )


def test_a_closed_exhibition_says_so_and_shows_no_works(
    client: FlaskClient,
    session: Session,
    organisation: Orgs,
    staff: Staff,
    publish: Publish,
    exhibit: Exhibit,
) -> None:
    adpare = organisation("adpare")
    work = publish(adpare).work
    exhibition = exhibit(adpare, [work], introduction="About the works.")
    close_exhibition(session, actor=staff(adpare, Role.FACILITATOR), exhibition=exhibition)
    session.commit()
    page = client.get(f"/exhibitions/{exhibition.slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "This exhibition has closed." in html
    assert linked_works(html) == []
    assert "About the works." not in html
    kiosk = client.get(f"/exhibitions/{exhibition.slug}/kiosk").get_data(as_text=True)
    assert "This exhibition has closed." in kiosk
    assert "data-work=" not in kiosk


def test_long_exhibitions_page_by_position(
    client: FlaskClient,
    organisation: Orgs,
    publish: Publish,
    exhibit: Exhibit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exhibition_views, "PAGE_SIZE", 2)
    adpare = organisation("adpare")
    works = [publish(adpare, title=f"W{n}").work for n in range(3)]
    exhibition = exhibit(adpare, works, introduction="Hello there.")
    first = client.get(f"/exhibitions/{exhibition.slug}").get_data(as_text=True)
    assert linked_works(first) == [works[0].id, works[1].id]
    assert f'href="/exhibitions/{exhibition.slug}?after=2" rel="next"' in first
    second = client.get(f"/exhibitions/{exhibition.slug}?after=2").get_data(as_text=True)
    assert linked_works(second) == [works[2].id]
    assert 'rel="next"' not in second
    assert "Hello there." in first
    assert "Hello there." not in second
    for bad in ("x", "-1", "9" * 12):
        assert client.get(f"/exhibitions/{exhibition.slug}?after={bad}").status_code == 404


def test_the_kiosk_is_a_slideshow_with_no_way_out(
    client: FlaskClient, organisation: Orgs, publish: Publish, exhibit: Exhibit
) -> None:
    mist = organisation("mist")
    picture = publish(mist, title="A picture")
    zine = publish(mist, WorkKind.FANZINE, [pdf(pages=2)], title="A zine")
    heard = publish(mist, WorkKind.PODCAST, [noise_wav()], title="Heard", warnings=["loss"])
    exhibition = exhibit(mist, [heard.work, zine.work, picture.work], title="Spring")
    response = client.get(f"/exhibitions/{exhibition.slug}/kiosk")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = parse(html)

    assert [tag for tag, _ in page.tags if tag == "a"] == []
    assert [a.get("src") for tag, a in page.tags if tag == "script"] == ["/static/js/kiosk.js"]
    assert page.inline_scripts == page.styles == 0
    assert not any("style" in attributes for _, attributes in page.tags)
    assert 'id="quick-exit"' not in html
    assert "site-header" not in html
    body = next(a for tag, a in page.tags if tag == "body")
    assert (body["data-interval"], body["data-refresh"]) == ("12", "60")

    slides = [a for tag, a in page.tags if tag == "section" and "kiosk-slide" in (a["class"] or "")]
    assert [(s.get("data-work"), s["class"]) for s in slides] == [
        (None, "kiosk-slide kiosk-opening"),
        (str(heard.work_id), "kiosk-slide kiosk-warning"),  # the warning comes first
        (str(heard.work_id), "kiosk-slide kiosk-text"),
        (str(zine.work_id), "kiosk-slide kiosk-picture"),  # page 1
        (str(zine.work_id), "kiosk-slide kiosk-picture"),  # page 2
        (str(picture.work_id), "kiosk-slide kiosk-picture"),
    ]
    assert len({s["data-key"] for s in slides}) == len(slides)
    assert "Content warning" in html
    assert "Next: <span" in html
    assert TRANSCRIPT in html  # the podcast's transcript, as its slide's text
    assert "page 2 of 2" in html
    # The largest rendition is there for big screens.
    widths = [f.width or 0 for f in picture.files if f.role is FileRole.IMAGE]
    assert f" {max(widths)}w" in html


def test_a_kiosk_channel_in_the_policy_needs_its_own_publication(
    client: FlaskClient, organisation: Orgs, publish: Publish, exhibit: Exhibit
) -> None:
    """Payoke's people consent to kiosks separately: a work live only in the gallery
    is on Payoke's exhibition page but not on its kiosk."""
    payoke = organisation("payoke")
    work = publish(payoke).work
    exhibition = exhibit(payoke, [work])
    page = client.get(f"/exhibitions/{exhibition.slug}").get_data(as_text=True)
    kiosk = client.get(f"/exhibitions/{exhibition.slug}/kiosk").get_data(as_text=True)
    assert linked_works(page) == [work.id]
    assert "data-work=" not in kiosk


@pytest.mark.parametrize("suffix", ["", "/kiosk"])
def test_sql_queries_do_not_grow_with_the_number_of_works(
    app: Flask,
    client: FlaskClient,
    organisation: Orgs,
    publish: Publish,
    exhibit: Exhibit,
    suffix: str,
) -> None:
    mist = organisation("mist")
    makers: list[Callable[[], Publication]] = [
        lambda: publish(mist, files=[jpeg(seed=2), jpeg(seed=3)]),
        lambda: publish(mist, files=[pdf()], warnings=["loss"]),
        lambda: publish(mist, WorkKind.PODCAST, [noise_wav()]),
    ]
    works = [makers[n % 3]().work for n in range(20)]
    small = exhibit(mist, works[:3], title="Small")
    large = exhibit(mist, works, title="Large")
    engine = app.extensions["chorus.db"].engine
    counts = []
    for exhibition, expected in ((small, 3), (large, 20)):
        with counting(engine) as statements:
            response = client.get(f"/exhibitions/{exhibition.slug}{suffix}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        shown = {int(w) for w in re.findall(r'data-work="(\d+)"', html)} or set(linked_works(html))
        assert len(shown) == expected
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 6
