"""WCAG 2.2 AA in a real browser (Debian's chromium, as in ``tests/browser``): axe-core
finds no serious or critical violation on any kind of public page, and the pages work by
keyboard alone.

Works of every kind are published through the real services (``tests/gallery``'s
fixtures); each case publishes only what its page shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.gallery import services as exhibitions
from app.orgs.models import Organisation, Role
from app.review.models import Publication
from app.works.models import WorkKind
from app.works.services import withdraw
from tests.browser.axe import blocking, report, run_axe, summary
from tests.gallery import media
from tests.gallery.conftest import (  # noqa: F401 - fixtures
    CAPTIONS,
    organisation,
    psychologists,
    publish,
    storage,
)

Publish = Callable[..., Publication]
Orgs = Callable[[str], Organisation]

# --- What the pages show ---------------------------------------------------------------


@dataclass
class Gallery:
    """Works published on demand, once each per test."""

    session: Session
    organisation: Orgs
    publish: Publish
    make_staff: Callable[..., User]
    made: dict[str, Any] = field(default_factory=dict)

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.made:
            self.made[key] = make()
        return self.made[key]

    def fanzine(self) -> Publication:
        """Three pictures behind a content warning."""
        return self._once(
            "fanzine",
            lambda: self.publish(
                self.organisation("mist"),
                WorkKind.FANZINE,
                [media.jpeg(seed=1), media.jpeg(seed=2), media.jpeg(seed=3)],
                title="Paper boats",
                warnings=["violence"],
            ),
        )

    def fanzine_open(self) -> Publication:
        """Two pictures without a content warning: shown at once."""
        return self._once(
            "fanzine_open",
            lambda: self.publish(
                self.organisation("mist"),
                WorkKind.FANZINE,
                [media.jpeg(seed=4), media.jpeg(seed=5)],
                title="Harbour lights",
            ),
        )

    def pdf(self) -> Publication:
        return self._once(
            "pdf",
            lambda: self.publish(
                self.organisation("adpare"), WorkKind.FANZINE, [media.pdf()], title="Letters"
            ),
        )

    def performance(self) -> Publication:
        return self._once(
            "performance",
            lambda: self.publish(
                self.organisation("mist"),
                WorkKind.PERFORMANCE,
                [media.mp4()],
                title="Dance of the harbour",
                captions=CAPTIONS,
                language="fr",
            ),
        )

    def podcast(self) -> Publication:
        return self._once(
            "podcast",
            lambda: self.publish(
                self.organisation("mist"),
                WorkKind.PODCAST,
                [media.noise_wav()],
                title="Night radio",
            ),
        )

    def script(self) -> Publication:
        return self._once(
            "script",
            lambda: self.publish(
                self.organisation("mist"),
                WorkKind.SCRIPT,
                [media.script("The crossing")],
                title="The crossing",
            ),
        )

    def withdrawn(self) -> Publication:
        def make() -> Publication:
            publication = self.publish(
                self.organisation("mist"), WorkKind.PODCAST, [media.noise_wav()], title="Gone"
            )
            withdraw(self.session, actor=publication.work.created_by, work=publication.work)
            self.session.commit()
            return publication

        return self._once("withdrawn", make)

    def exhibition(self) -> str:
        """An open exhibition of a fanzine behind a warning, one without, and a podcast:
        its slug."""

        def make() -> str:
            mist = self.organisation("mist")
            curator = self.make_staff(mist, Role.FACILITATOR, "mist-curator")
            exhibition = exhibitions.create_exhibition(
                self.session,
                actor=curator,
                organisation=mist,
                title="Voices of spring",
                introduction="Works made this spring.\n\nThey travel to three cities.",
            )
            for publication in (self.fanzine(), self.fanzine_open(), self.podcast()):
                exhibitions.add_work(
                    self.session, actor=curator, exhibition=exhibition, work=publication.work
                )
            exhibitions.open_exhibition(self.session, actor=curator, exhibition=exhibition)
            self.session.commit()
            return exhibition.slug

        slug: str = self._once("exhibition", make)
        return slug


@pytest.fixture
def gallery(
    session: Session,
    organisation: Orgs,  # noqa: F811 - the fixture imported above
    publish: Publish,  # noqa: F811
    make_staff: Callable[..., User],
) -> Gallery:
    return Gallery(session, organisation, publish, make_staff)


def _work(publication: Publication) -> str:
    return f"/gallery/works/{publication.work_id}"


def _home(g: Gallery, tab: Any, base: str) -> None:
    g.fanzine_open(), g.podcast(), g.exhibition()
    tab.goto(f"{base}/")


def _browse(g: Gallery, tab: Any, base: str) -> None:
    g.fanzine_open(), g.pdf(), g.podcast(), g.script()
    tab.goto(f"{base}/browse")


def _browse_filtered(g: Gallery, tab: Any, base: str) -> None:
    g.fanzine_open(), g.fanzine(), g.podcast()
    tab.goto(f"{base}/browse?kind=fanzine&organisation=mist&language=en")


def _fanzine_warning_closed(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(base + _work(g.fanzine()))


def _fanzine_warning_open(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(base + _work(g.fanzine()))
    tab.click("details.reveal > summary")
    tab.wait_for_selector(".viewer-page:not([hidden]) img")


def _fanzine_images(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(base + _work(g.fanzine_open()))


def _fanzine_pdf(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(base + _work(g.pdf()))


def _performance(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(base + _work(g.performance()))


def _podcast(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(base + _work(g.podcast()))


def _script(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(base + _work(g.script()))


def _withdrawn(g: Gallery, tab: Any, base: str) -> None:
    response = tab.goto(base + _work(g.withdrawn()))
    assert response.status == 410


def _exhibition(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(f"{base}/exhibitions/{g.exhibition()}")


def _kiosk(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(f"{base}/exhibitions/{g.exhibition()}/kiosk")


def _kiosk_warning(g: Gallery, tab: Any, base: str) -> None:
    """The kiosk paused on a content-warning slide."""
    _kiosk(g, tab, base)
    tab.keyboard.press("Space")  # paused
    for _ in range(10):
        if tab.evaluate("!!document.querySelector('.kiosk-slide.is-current.kiosk-warning')"):
            return
        tab.keyboard.press("ArrowRight")
    raise AssertionError("the kiosk never showed its content-warning slide")


def _safety(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(f"{base}/safety")


def _sign_in(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(f"{base}/sign-in")


def _sign_in_errors(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(f"{base}/sign-in")
    tab.click("main button[type=submit]")
    tab.wait_for_selector("#error-summary")


def _withdraw_consent(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(f"{base}/withdraw")


def _withdraw_consent_errors(g: Gallery, tab: Any, base: str) -> None:
    tab.goto(f"{base}/withdraw")
    tab.fill("main input[name=code]", "NOT-A-CODE")
    tab.click("main button[type=submit]")
    tab.wait_for_selector(".error-summary, .field-message")


PAGES: dict[str, Callable[[Gallery, Any, str], None]] = {
    "home": _home,
    "browse": _browse,
    "browse-filtered": _browse_filtered,
    "fanzine-images": _fanzine_images,
    "fanzine-warning-closed": _fanzine_warning_closed,
    "fanzine-warning-open": _fanzine_warning_open,
    "fanzine-pdf": _fanzine_pdf,
    "performance-captions": _performance,
    "podcast-transcript": _podcast,
    "script": _script,
    "withdrawn-410": _withdrawn,
    "exhibition": _exhibition,
    "kiosk": _kiosk,
    "kiosk-warning": _kiosk_warning,
    "safety": _safety,
    "sign-in": _sign_in,
    "sign-in-errors": _sign_in_errors,
    "withdraw-consent": _withdraw_consent,
    "withdraw-consent-errors": _withdraw_consent_errors,
}

# Violations that only a template can fix (templates are not this test's to change).
TEMPLATE_FIXES: dict[str, str] = {}


def _case(name: str) -> Any:
    if name in TEMPLATE_FIXES:
        return pytest.param(
            name, id=name, marks=pytest.mark.xfail(strict=True, reason=TEMPLATE_FIXES[name])
        )
    return pytest.param(name, id=name)


@pytest.mark.parametrize("name", [_case(name) for name in PAGES])
def test_no_serious_or_critical_axe_violation(
    page: Any,
    live_server: str,
    gallery: Gallery,
    name: str,
) -> None:
    PAGES[name](gallery, page, live_server)
    page.wait_for_load_state("networkidle")
    violations = run_axe(page)
    print(f"axe on {name}:\n{report(violations)}")
    assert not blocking(violations), f"axe on {name} ({page.url}):\n" + "\n".join(
        summary(violations)
    )


# --- Keyboard ----------------------------------------------------------------------------

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) { return null; }
  const style = getComputedStyle(e);
  return {
    tag: e.tagName.toLowerCase(), id: e.id, cls: e.className, text: (e.textContent || '').trim(),
    href: e.getAttribute('href'),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== 'none',
    visible: !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length),
  };
}"""
VISIBLE_PAGES = "Array.from(document.querySelectorAll('.viewer-page')).filter(p => !p.hidden)"


def _tab(tab: Any) -> dict[str, Any] | None:
    tab.keyboard.press("Tab")
    focused: dict[str, Any] | None = tab.evaluate(FOCUSED)
    return focused


def _tab_to(tab: Any, matches: Callable[[dict[str, Any]], bool], limit: int = 40) -> dict[str, Any]:
    """Press Tab until the focused element matches; the element."""
    seen = []
    for _ in range(limit):
        focused = _tab(tab)
        if focused and matches(focused):
            return focused
        seen.append(focused and (focused["tag"], focused["id"] or focused["text"][:30]))
    raise AssertionError(f"Tab never reached it; focus went through {seen}")


def _visible_pages(tab: Any) -> list[str]:
    ids: list[str] = tab.evaluate(f"{VISIBLE_PAGES}.map(p => p.id)")
    return ids


@pytest.mark.parametrize("key", ["Enter", "Space"])
def test_fanzine_by_keyboard_alone(
    page: Any,
    live_server: str,
    gallery: Gallery,
    key: str,
) -> None:
    page.goto(live_server + _work(gallery.fanzine()))
    first = _tab(page)
    assert first is not None
    assert first["id"] == "quick-exit"
    # The first control after the quick exit: the skip link, shown once focused.
    skip = _tab(page)
    assert skip is not None
    assert (skip["cls"], skip["visible"]) == ("skip-link", True), skip
    assert skip["outline"] or skip["shadow"], skip
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # From the main content, the next stop is the content warning's <summary>.
    summary_ = _tab_to(page, lambda f: f["tag"] == "summary", limit=1)
    assert summary_["outline"] or summary_["shadow"], summary_
    assert not page.is_visible(".viewer")
    page.keyboard.press(key)
    assert page.evaluate("document.querySelector('details.reveal').open")
    assert page.is_visible(".viewer")

    viewer = _tab_to(page, lambda f: "viewer" in f["cls"].split(), limit=5)
    assert viewer["outline"] or viewer["shadow"], viewer
    status = page.locator(".viewer-status")
    assert (status.text_content(), _visible_pages(page)) == ("Page 1 of 3", ["page-1"])
    page.keyboard.press("ArrowRight")
    assert (status.text_content(), _visible_pages(page)) == ("Page 2 of 3", ["page-2"])
    page.keyboard.press("ArrowRight")
    assert _visible_pages(page) == ["page-3"]
    page.keyboard.press("ArrowLeft")
    assert (status.text_content(), _visible_pages(page)) == ("Page 2 of 3", ["page-2"])

    # The viewer's own buttons: Previous and Next work with the keyboard too.
    previous = _tab_to(page, lambda f: f["tag"] == "button", limit=5)
    assert previous["text"].endswith("Previous"), previous
    assert previous["outline"] or previous["shadow"], previous
    page.keyboard.press("Enter")
    assert _visible_pages(page) == ["page-1"]


def test_every_link_on_the_home_page_is_reached_by_tab_and_shows_focus(
    page: Any,
    live_server: str,
    gallery: Gallery,
) -> None:
    gallery.fanzine_open(), gallery.podcast(), gallery.exhibition()
    page.goto(f"{live_server}/")
    links = page.evaluate(
        "Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
    )
    assert len(links) > 8
    reached: list[str] = []
    unmarked: list[dict[str, Any]] = []
    for _ in range(len(links) + 20):
        focused = _tab(page)
        if focused is None:  # past the last control, back to the document
            break
        if focused["tag"] == "a":
            reached.append(focused["href"])
        if not (focused["outline"] or focused["shadow"]) or not focused["visible"]:
            unmarked.append(focused)
    assert reached == links
    assert unmarked == [], "focused without a visible focus indicator"


def test_browse_filters_work_by_keyboard(
    page: Any,
    live_server: str,
    gallery: Gallery,
) -> None:
    gallery.fanzine_open(), gallery.podcast()
    page.goto(f"{live_server}/browse")
    select = _tab_to(page, lambda f: f["id"] == "kind")
    assert select["outline"] or select["shadow"], select
    page.keyboard.press("ArrowDown")  # "Fanzine", the first kind after "Any kind"
    assert page.evaluate("document.getElementById('kind').value") == "fanzine"
    button = _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Show works")
    assert button["outline"] or button["shadow"], button
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"[?&]kind=fanzine\b", page.url)
    assert page.locator(".work-card-title").all_text_contents() == ["Harbour lights"]


OBSCURED = """() => {
  const e = document.activeElement, bar = document.getElementById('quick-exit');
  if (!e || e === document.body || e === bar) { return null; }
  const box = e.getBoundingClientRect(), barBox = bar.getBoundingClientRect();
  return {text: (e.textContent || '').trim().slice(0, 40), top: box.top, barBottom: barBox.bottom};
}"""


def test_focus_is_not_hidden_under_the_sticky_quick_exit(
    page: Any,
    live_server: str,
    gallery: Gallery,
) -> None:
    """WCAG 2.4.11: going back up a long page with Shift+Tab, the browser scrolls each
    control into view; the sticky quick-exit bar must not cover it."""
    gallery.fanzine_open(), gallery.podcast(), gallery.script(), gallery.pdf()
    page.set_viewport_size({"width": 360, "height": 640})
    page.goto(f"{live_server}/")
    count = page.evaluate("document.querySelectorAll('a[href], button, summary').length")
    for _ in range(count):
        page.keyboard.press("Tab")
    covered = []
    for _ in range(count):
        page.keyboard.press("Shift+Tab")
        focused = page.evaluate(OBSCURED)
        if focused and focused["top"] < focused["barBottom"] - 0.5:
            covered.append(focused)
    assert covered == [], "focused controls (partly) under the quick-exit bar"
