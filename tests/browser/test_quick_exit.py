"""The quick-exit control in a real browser: click, Esc, Shift x3; history replaced."""

from __future__ import annotations

import pytest

from app.orgs.models import Role
from tests.conftest import TEST_PASSWORD

NEUTRAL = "https://www.bbc.co.uk/weather"


@pytest.fixture
def signed_in_creator_page(page, live_server, make_org, make_creator):  # type: ignore[no-untyped-def]
    make_creator(make_org("mist"), login_name="quiet-river")
    page.goto(f"{live_server}/sign-in")
    page.fill("#login_name", "quiet-river")
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/dashboard")
    return page


def _history_length(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.evaluate("history.length"))


def test_quick_exit_is_first_in_keyboard_order(signed_in_creator_page) -> None:  # type: ignore[no-untyped-def]
    page = signed_in_creator_page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "quick-exit"


@pytest.mark.parametrize("how", ["click", "escape", "shift-three-times"])
def test_quick_exit_leaves_and_replaces_the_history_entry(signed_in_creator_page, how: str) -> None:  # type: ignore[no-untyped-def]
    page = signed_in_creator_page
    before = _history_length(page)
    if how == "click":
        page.click("#quick-exit")
    elif how == "escape":
        page.keyboard.press("Escape")
    else:
        for _ in range(3):
            page.keyboard.press("Shift")
    page.wait_for_url(f"{NEUTRAL}**")
    assert page.title() == "Weather"
    # location.replace(): the dashboard's entry is gone, not pushed behind the new page.
    assert _history_length(page) == before


def test_two_shift_presses_do_not_exit(signed_in_creator_page) -> None:  # type: ignore[no-untyped-def]
    page = signed_in_creator_page
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("a")
    page.keyboard.press("Shift")
    page.wait_for_timeout(300)
    assert "/dashboard" in page.url


def test_pages_load_nothing_from_other_hosts_and_break_no_csp(
    page, live_server, make_org, make_staff
) -> None:  # type: ignore[no-untyped-def]
    make_staff(make_org(), Role.FACILITATOR, login_name="looker")
    requested: list[str] = []
    console_errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    for path in ("/", "/sign-in", "/join", "/safety", "/no-such-page"):
        page.goto(f"{live_server}{path}")
    page.goto(f"{live_server}/sign-in")
    page.fill("#login_name", "looker")
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/orgs/adpare/invitations")
    assert requested
    # A page that broke the Content-Security-Policy would log it here.
    assert [e for e in console_errors if "Content Security Policy" in e] == []
    assert all(url.startswith(live_server) for url in requested), [
        url for url in requested if not url.startswith(live_server)
    ]
