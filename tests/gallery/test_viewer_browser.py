"""The fanzine viewer in a real browser (Debian's chromium, as in ``tests/browser``):
the work waits behind its warnings, then turns pages with the keyboard, buttons and
swipes, zooms, and breaks no CSP rule; without JavaScript every page is shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.orgs.models import Organisation
from app.review.models import Publication
from app.works.models import WorkKind
from tests.gallery import media

Publish = Callable[..., Publication]
Orgs = Callable[[str], Organisation]
VISIBLE_PAGES = "Array.from(document.querySelectorAll('.viewer-page')).filter(p => !p.hidden)"


@pytest.fixture
def fanzine_url(live_server: str, organisation: Orgs, publish: Publish) -> str:  # noqa: F811
    publication = publish(
        organisation("mist"),
        WorkKind.FANZINE,
        [media.jpeg(seed=1), media.jpeg(seed=2), media.jpeg(seed=3)],
        warnings=["violence"],
    )
    return f"{live_server}/gallery/works/{publication.work_id}"


def _visible(tab: Any) -> list[str]:
    ids: list[str] = tab.evaluate(f"{VISIBLE_PAGES}.map(p => p.id)")
    return ids


def test_the_viewer_turns_pages_and_zooms(
    page: Any,  # noqa: F811
    live_server: str,  # noqa: F811
    fanzine_url: str,
) -> None:
    problems: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else problems.append(r.url))
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(fanzine_url)
    assert not page.is_visible(".viewer")  # behind the content warnings
    page.click("summary")
    assert page.is_visible(".viewer")
    status = page.locator(".viewer-status")
    assert status.text_content() == "Page 1 of 3"
    assert _visible(page) == ["page-1"]

    page.focus(".viewer")
    page.keyboard.press("ArrowRight")
    assert (status.text_content(), _visible(page)) == ("Page 2 of 3", ["page-2"])
    page.keyboard.press("End")
    assert _visible(page) == ["page-3"]
    page.keyboard.press("ArrowRight")
    assert _visible(page) == ["page-3"]
    page.keyboard.press("Home")
    assert _visible(page) == ["page-1"]
    page.keyboard.press("ArrowLeft")
    assert _visible(page) == ["page-1"]

    page.click("text=Next")
    assert _visible(page) == ["page-2"]
    page.click("text=Previous")
    assert _visible(page) == ["page-1"]

    box = page.locator("#page-1 img").bounding_box()
    y = box["y"] + box["height"] / 2
    page.dispatch_event(
        ".viewer", "pointerdown", {"pointerType": "touch", "clientX": 300, "clientY": y}
    )
    page.dispatch_event(
        ".viewer", "pointerup", {"pointerType": "touch", "clientX": 120, "clientY": y}
    )
    assert _visible(page) == ["page-2"]

    zoom = page.locator(".viewer-bar button", has_text="Zoom")
    zoom.click()
    assert page.get_attribute(".viewer", "class") == "viewer viewer-on viewer-zoomed"
    assert page.locator(".viewer-bar button[aria-pressed=true]").count() == 1
    page.wait_for_load_state("networkidle")
    assert not problems


def test_without_javascript_every_page_is_shown(browser: Any, fanzine_url: str) -> None:  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(fanzine_url)
        tab.click("summary")
        for number in (1, 2, 3):
            assert tab.is_visible(f"#page-{number} img")
        assert tab.locator(".viewer-bar").count() == 0
    finally:
        context.close()
