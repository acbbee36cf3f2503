"""Every studio and review page keeps the strict CSP's rules: no inline script or
style, nothing from another host, the quick-exit control first."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from app.accounts.models import User
from app.works.models import Version, WorkKind
from tests.studio import media
from tests.studio.conftest import Org
from tests.web.conftest import parse_tags


def _problems(html: str) -> list[str]:
    parsed = parse_tags(html)
    found = [f"<{tag} style>" for tag, attrs, _ in parsed.tags if "style" in attrs]
    found += ["<style>" for tag, _, _ in parsed.tags if tag == "style"]
    found += [
        "inline <script>"
        for tag, attrs, _ in parsed.tags
        if tag == "script" and not attrs.get("src")
    ]
    for tag, attrs, _ in parsed.tags:
        for name in ("src", "href", "action"):
            value = attrs.get(name) or ""
            if value.startswith(("http:", "https:", "//")) and not value.startswith(
                "https://www.bbc.co.uk/weather"  # the quick-exit destination
            ):
                found.append(f"<{tag} {name}={value}>")
    body = [tag for tag, _, in_body in parsed.tags if in_body and tag != "body"]
    if body[:1] != ["a"] or 'id="quick-exit"' not in html:
        found.append("quick exit is not first")
    return found


def test_the_pages_keep_the_content_security_rules(
    adpare: Org,
    make_site: Callable[[str], Org],
    client_for: Callable[[User | None], FlaskClient],
    submitted: Callable[..., Version],
) -> None:
    image = submitted(adpare, WorkKind.FANZINE, (media.face_jpeg(1), "f.jpg"))
    payoke = make_site("payoke")
    script = submitted(payoke, WorkKind.SCRIPT, (media.markdown_script(), "s.md"))
    pages = [
        (adpare.creator, "/studio"),
        (adpare.creator, f"/campaigns/{adpare.campaign.id}/works/new"),
        (adpare.creator, f"/works/{image.work_id}"),
        (adpare.creator, f"/works/{image.work_id}/withdraw"),
        (adpare.psychologist, "/review"),
        (adpare.psychologist, f"/review/versions/{image.id}"),
        (payoke.psychologist, f"/review/versions/{script.id}"),
    ]
    found = {}
    for user, url in pages:
        response = client_for(user).get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        if problems := _problems(response.get_data(as_text=True)):
            found[url] = problems
    assert not found
