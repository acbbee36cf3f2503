"""The kiosk in a real browser (Debian's chromium; skipped without it): it advances by
itself, obeys the arrows and Space, hides the cursor, skips a work whose pictures are
gone, and drops a withdrawn work when it fetches its slides again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.gallery import exhibition_views
from app.gallery.models import Exhibition
from app.orgs.models import Organisation
from app.review.models import Publication

Orgs = Callable[[str], Organisation]
Publish = Callable[..., Publication]
CURRENT = "document.querySelector('.kiosk-slide.is-current').dataset.key"


def _current(tab: Any) -> str:
    key: str = tab.evaluate(CURRENT)
    return key


def _wait_until(tab: Any, expression: str, seconds: float = 5) -> None:
    """Poll ``expression`` in the page (the kiosk's CSP forbids the eval that
    ``wait_for_function`` uses)."""
    for _ in range(int(seconds * 10)):
        if tab.evaluate(expression):
            return
        tab.wait_for_timeout(100)
    raise AssertionError(f"still false after {seconds} s: {expression}")


def test_the_kiosk_moves_by_itself_and_by_keys_and_drops_withdrawn_works(
    page: Any,
    live_server: str,
    organisation: Orgs,
    publish: Publish,
    exhibit: Callable[..., Exhibition],
    take_down: Callable[[Publication], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exhibition_views, "KIOSK_SECONDS", 1)
    monkeypatch.setattr(exhibition_views, "KIOSK_REFRESH_SECONDS", 1)
    adpare = organisation("adpare")
    kept = publish(adpare, title="Kept", warnings=["loss"])
    gone = publish(adpare, title="Gone")
    exhibition = exhibit(adpare, [kept.work, gone.work])
    page.goto(f"{live_server}/exhibitions/{exhibition.slug}/kiosk")
    assert page.evaluate("document.documentElement.classList.contains('kiosk-js')")
    assert page.locator(".kiosk-slide:visible").count() == 1
    assert _current(page) == "opening"

    _wait_until(page, f"{CURRENT} !== 'opening'")  # by itself

    page.keyboard.press("Space")
    assert "Paused" in page.locator("#kiosk-status").inner_text()
    paused_on = _current(page)
    page.wait_for_timeout(2000)
    assert _current(page) == paused_on
    keys = [f"work-{kept.work_id}-warning", f"work-{kept.work_id}-1", f"work-{gone.work_id}-1"]
    slides = ["opening", *keys]
    page.keyboard.press("ArrowRight")
    assert _current(page) == slides[(slides.index(paused_on) + 1) % 4]
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert _current(page) == slides[(slides.index(paused_on) - 1) % 4]

    page.mouse.move(10, 10)
    assert "kiosk-idle" not in (page.get_attribute("body", "class") or "")
    _wait_until(page, "document.body.classList.contains('kiosk-idle')")

    take_down(gone)
    _wait_until(page, f"!document.querySelector('[data-work=\"{gone.work_id}\"]')")
    assert page.locator(f'[data-work="{kept.work_id}"]').count() == 2
    assert page.locator("a").count() == 0


def test_the_kiosk_skips_a_work_whose_pictures_are_gone(
    page: Any,
    live_server: str,
    organisation: Orgs,
    publish: Publish,
    exhibit: Callable[..., Exhibition],
) -> None:
    """Between two refreshes a withdrawn work's files answer 410 (as the media route
    does, see test_public_pages); here the browser is told so for every one of them,
    whenever it asks, since it may have fetched some before the script ran."""
    adpare = organisation("adpare")
    kept, gone = publish(adpare, title="Kept"), publish(adpare, title="Gone")
    exhibition = exhibit(adpare, [kept.work, gone.work])
    refused = {f"/media/{file.id}" for file in gone.files}

    def gone_files(route: Any) -> None:
        if urlsplit(route.request.url).path in refused:
            route.fulfill(status=410, content_type="text/html", body="Gone")
        else:
            route.fallback()

    page.route("**/media/*", gone_files)
    page.goto(f"{live_server}/exhibitions/{exhibition.slug}/kiosk")
    page.keyboard.press("Space")  # paused: only the keys move it
    page.keyboard.press("ArrowRight")
    assert _current(page) == f"work-{kept.work_id}-1"
    page.wait_for_timeout(500)  # the next slide's picture was asked for, and refused
    page.keyboard.press("ArrowRight")
    assert _current(page) == "opening"
    assert page.locator(f'[data-work="{gone.work_id}"]').count() == 1  # still listed
    page.keyboard.press("ArrowLeft")
    assert _current(page) == f"work-{kept.work_id}-1"
