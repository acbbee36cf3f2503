"""Every gallery page loads nothing from another host, runs no inline code, marks the
language of each work, and the home page stays light."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.orgs.models import Organisation
from app.review.models import Publication
from app.works.models import WorkKind
from app.works.services import withdraw
from tests.gallery import media
from tests.gallery.conftest import CAPTIONS
from tests.web.conftest import parse_tags
from tests.web.test_security import _foreign_references

Publish = Callable[..., Publication]
Orgs = Callable[[str], Organisation]
HOME_BUDGET = 100 * 1024  # bytes of HTML, CSS and JavaScript, media aside


def _inline_code(html: str) -> list[str]:
    parsed = parse_tags(html)
    found = [f"<style> {css[:40]!r}" for css in parsed.styles]
    for tag, attrs, _ in parsed.tags:
        if tag == "script" and not attrs.get("src"):
            found.append("<script> without src")
        if "style" in attrs:
            found.append(f"<{tag} style=…>")
        found += [f"<{tag} {name}=…>" for name in attrs if name.startswith("on")]
    return found


def test_gallery_pages_load_nothing_from_elsewhere_and_run_no_inline_code(
    client: FlaskClient,
    session: Session,
    settings: Settings,
    organisation: Orgs,
    publish: Publish,
) -> None:
    mist, adpare = organisation("mist"), organisation("adpare")
    works = [
        publish(mist, WorkKind.FANZINE, [media.jpeg(), media.jpeg(seed=2)], warnings=["violence"]),
        publish(adpare, WorkKind.FANZINE, [media.pdf()], language="ro"),
        publish(mist, WorkKind.PERFORMANCE, [media.mp4()], captions=CAPTIONS, language="fr"),
        publish(mist, WorkKind.PODCAST, [media.noise_wav()]),
        publish(mist, WorkKind.SCRIPT, [media.script()], language="fr"),
    ]
    gone = publish(mist, WorkKind.SCRIPT, [media.script()])
    withdraw(session, actor=gone.work.created_by, work=gone.work)
    session.commit()
    urls = ["/", "/browse", "/browse?kind=fanzine", f"/gallery/works/{gone.work_id}"]
    urls += [f"/gallery/works/{p.work_id}" for p in works]

    problems = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 410), url
        html = response.get_data(as_text=True)
        found = _foreign_references(html, settings.quick_exit_url) + _inline_code(html)
        if found:
            problems[url] = found
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert not problems

    for publication in works:
        html = client.get(f"/gallery/works/{publication.work_id}").get_data(as_text=True)
        language = publication.work.language
        assert f'<h1 lang="{language}">' in html
        assert f'class="work-content work-{publication.work.kind.value}" lang="{language}"' in html


def test_the_home_page_stays_light(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    mist = organisation("mist")
    for index in range(13):  # a full page of cards and a "more" link
        publish(mist, WorkKind.FANZINE, [media.jpeg(seed=index)], warnings=["violence"])
    response = client.get("/")
    html = response.get_data()
    assets = [
        attrs.get("href") if tag == "link" else attrs.get("src")
        for tag, attrs, _ in parse_tags(html.decode()).tags
        if (tag == "link" and attrs.get("rel") == "stylesheet") or tag == "script"
    ]
    assert assets == ["/static/css/chorus.css", "/static/js/quick-exit.js"]
    weight = len(html)
    for url in assets:
        with client.get(url or "") as asset:
            weight += len(asset.get_data())
    assert weight <= HOME_BUDGET, weight


def test_the_viewer_script_is_served_and_needs_nothing_else(client: FlaskClient) -> None:
    with client.get("/static/js/viewer.js") as response:
        assert response.status_code == 200
        assert response.mimetype in {"text/javascript", "application/javascript"}
        script = response.get_data(as_text=True)
    for handled in ("ArrowLeft:", "ArrowRight:", "Home:", "End:", '"pointerup"'):
        assert handled in script
    for forbidden in ("fetch(", "XMLHttpRequest", "eval(", "innerHTML", ".style."):
        assert forbidden not in script
