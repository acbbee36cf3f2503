"""Each page renders for the roles it is for and is a 404 for everyone else (a 403 would
confirm that the page exists); anonymous visitors are sent to sign in. Every page a
creator can reach starts with the quick-exit control."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.accounts.models import User
from app.core.clock import utcnow
from app.core.config import PROJECT_ROOT
from app.groups.models import Group
from app.groups.services import join_group, record_readiness
from app.orgs.models import Organisation
from tests.web.conftest import PAGE_TEMPLATES, ROLES, Site, crawl, fill, parse_tags

OK, LOGIN, NOT_FOUND, DASHBOARD = 200, "login", 404, "dashboard"
# The consent pages answer 403, not 404, to people of the work's own organisation who may
# not use them (people of other organisations get 404). See tests/consent/test_views.py.
FORBIDDEN = 403
EVERYONE = dict.fromkeys(ROLES, OK)
SIGNED_IN = EVERYONE | {"anonymous": LOGIN}
STAFF_ONLY = dict.fromkeys(ROLES, NOT_FOUND) | {"anonymous": LOGIN}
AUTHOR_ONLY = STAFF_ONLY | {"author": OK}
NOBODY_ELSE = dict.fromkeys(ROLES, NOT_FOUND)  # not even sent to sign in
SAME_ORGANISATION_FORBIDDEN = dict.fromkeys(ROLES, FORBIDDEN) | {"anonymous": LOGIN}

# page -> role -> what that role gets
PAGES: dict[str, dict[str, int | str]] = {
    "/": EVERYONE,
    "/safety": EVERYONE,
    "/browse": EVERYONE,
    "/feed.atom": EVERYONE,
    "/gallery/works/{published}": EVERYONE,
    "/gallery/works/{published}/captions.vtt": EVERYONE,
    "/media/{public_file}": EVERYONE,
    "/join": EVERYONE,
    "/sign-in": dict.fromkeys(ROLES, DASHBOARD) | {"anonymous": OK},
    "/dashboard": SIGNED_IN,
    "/account/password": SIGNED_IN,
    "/orgs/{slug}/invitations": STAFF_ONLY | {"facilitator": OK},
    "/orgs/{slug}/creators": STAFF_ONLY | {"facilitator": OK},
    "/orgs/{slug}/creators/{creator}/readiness": STAFF_ONLY | {"facilitator": OK},
    "/orgs/{slug}/groups": STAFF_ONLY | {"facilitator": OK, "org_admin": OK},
    "/groups/{group}": SIGNED_IN,
    "/orgs/{slug}/members": STAFF_ONLY | {"org_admin": OK},
    "/orgs/{slug}/staff/new": STAFF_ONLY | {"org_admin": OK},
    # A creator not yet in any group has an (empty) studio too.
    "/studio": STAFF_ONLY | {"creator": OK, "author": OK},
    "/campaigns/{campaign}/works/new": AUTHOR_ONLY,
    "/works/{work}": AUTHOR_ONLY,
    "/works/{work}/withdraw": AUTHOR_ONLY,
    "/assets/{asset}/clean": NOBODY_ELSE
    | {"author": OK, "facilitator": OK, "psychologist": OK, "org_admin": OK},
    "/assets/{asset}/original": NOBODY_ELSE | {"author": OK},
    "/works/{work}/consent": SAME_ORGANISATION_FORBIDDEN | {"author": OK},
    "/works/{work}/consent/on-paper": SAME_ORGANISATION_FORBIDDEN | {"facilitator": OK},
    "/works/{work}/consents": SIGNED_IN | {"creator": FORBIDDEN},
    "/my/consents": SIGNED_IN,
    "/withdraw": EVERYONE,
    "/withdraw/{code}": EVERYONE,
    "/review": STAFF_ONLY | {"psychologist": OK},
    "/review/versions/{version}": STAFF_ONLY | {"psychologist": OK},
    "/orgs/{slug}/exhibitions": STAFF_ONLY | {"facilitator": OK, "org_admin": OK},
    "/orgs/{slug}/exhibitions/new": STAFF_ONLY | {"facilitator": OK, "org_admin": OK},
    "/orgs/{slug}/exhibitions/{exhibition}": STAFF_ONLY | {"facilitator": OK, "org_admin": OK},
    # An open exhibition and its kiosk are public.
    "/exhibitions/{exhibition_slug}": EVERYONE,
    "/exhibitions/{exhibition_slug}/kiosk": EVERYONE,
}

# Pages of the other organisation: a 404 for everyone in this one.
OTHER_ORGANISATION_PAGES = (
    "/orgs/{other}/invitations",
    "/orgs/{other}/creators",
    "/orgs/{other}/creators/{other_creator}/readiness",
    "/orgs/{slug}/creators/{other_creator}/readiness",
    "/orgs/{other}/groups",
    "/groups/{other_group}",
    "/orgs/{other}/members",
    "/orgs/{other}/staff/new",
    "/campaigns/{other_campaign}/works/new",
    "/works/{other_work}",
    "/works/{other_work}/withdraw",
    "/assets/{other_asset}/clean",
    "/assets/{other_asset}/original",
    "/works/{other_work}/consent",
    "/works/{other_work}/consent/on-paper",
    "/works/{other_work}/consents",
    "/review/versions/{other_version}",
    "/orgs/{other}/exhibitions",
    "/orgs/{other}/exhibitions/new",
    # This organisation's exhibition, asked for under the other organisation.
    "/orgs/{other}/exhibitions/{exhibition}",
)
# The URL variable each placeholder of the tables stands for.
RULE_VARIABLES = {
    "slug": "<slug>",
    "creator": "<int:user_id>",
    "group": "<int:group_id>",
    "campaign": "<int:campaign_id>",
    "work": "<int:work_id>",
    "published": "<int:work_id>",
    "asset": "<int:asset_id>",
    "version": "<int:version_id>",
    "code": "<code>",
    "public_file": "<int:file_id>",
    "exhibition": "<int:exhibition_id>",
    "exhibition_slug": "<slug>",
}


def _outcome(client: FlaskClient, url: str) -> int | str:
    response = client.get(url)
    response.close()  # a file sent from disk holds it open until closed
    if response.status_code == 302:
        target = urlsplit(response.headers["Location"]).path
        if target == "/sign-in":
            return LOGIN
        if target == "/dashboard":
            return DASHBOARD
        return f"302 to {target}"
    return response.status_code


def test_the_table_has_every_page(app: Flask) -> None:
    rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and rule.endpoint != "static"
    }
    as_rules = {page.format(**RULE_VARIABLES) for page in PAGES}
    assert as_rules == rules
    assert set(PAGES) == set(PAGE_TEMPLATES)


@pytest.mark.parametrize("page", list(PAGES))
def test_page_is_for_the_right_roles(
    client_as: Callable[[str], FlaskClient], site: Site, page: str
) -> None:
    url = fill(page, site)
    got = {role: _outcome(client_as(role), url) for role in ROLES}
    assert got == PAGES[page]


def test_anonymous_visitor_is_sent_to_sign_in(client: FlaskClient, site: Site) -> None:
    response = client.get(f"/groups/{site.group_id}")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query)["next"] == [f"/groups/{site.group_id}"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Please sign in to see that page." in page


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_other_organisations_pages_are_404(
    client_as: Callable[[str], FlaskClient], site: Site, role: str
) -> None:
    client = client_as(role)
    got = {page: _outcome(client, fill(page, site)) for page in OTHER_ORGANISATION_PAGES}
    assert got == dict.fromkeys(OTHER_ORGANISATION_PAGES, NOT_FOUND)


def _main_text(client: FlaskClient, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    html = re.sub(r'<input type="hidden" name="csrf_token"[^>]*>', "", html)
    return " ".join(html.split())


def test_an_organisation_one_may_not_see_looks_like_one_that_does_not_exist(
    client_as: Callable[[str], FlaskClient], site: Site
) -> None:
    client = client_as("org_admin")
    forbidden = _main_text(client, f"/orgs/{site.other_slug}/members")
    unknown = _main_text(client, "/orgs/no-such-organisation/members")
    assert forbidden == unknown


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("facilitator", "Invite a creator"),
        ("org_admin", "Members and roles"),
        (
            "creator",
            "your facilitator will talk with you about taking part and record that you are ready",
        ),
        ("author", "— your campaigns and works"),
        ("psychologist", "— 1 version waiting for you"),
    ],
)
def test_dashboard_says_what_to_do_next(
    client_as: Callable[[str], FlaskClient], role: str, expected: str
) -> None:
    text = _main_text(client_as(role), "/dashboard")
    assert expected in text


def test_ready_creator_sees_groups_to_join_instead(
    client_as: Callable[[str], FlaskClient], session: Session, site: Site
) -> None:
    _make_ready_member(session, site, join=False)
    text = _main_text(client_as("creator"), "/dashboard")
    assert "Groups you can join" in text
    assert "record that you are ready" not in text


# --- Quick exit -------------------------------------------------------------------------

FOCUSABLE = {"a", "button", "input", "select", "textarea"}


def _make_ready_member(session: Session, site: Site, *, join: bool = True) -> None:
    creator = session.get(User, site.user_ids["creator"])
    facilitator = session.get(User, site.user_ids["facilitator"])
    group = session.get(Group, site.group_id)
    assert creator is not None
    assert facilitator is not None
    assert group is not None
    organisation = session.get(Organisation, group.organisation_id)
    assert organisation is not None
    today = utcnow().date()
    record_readiness(
        session,
        actor=facilitator,
        organisation=organisation,
        creator=creator,
        informed_consent_on=today,
        crisis_period_ended_on=today - timedelta(days=30),
    )
    if join:
        join_group(session, actor=creator, group=group, accept_rules=True)
    session.commit()


def _first_focusable(html: str) -> tuple[str, dict[str, str | None]]:
    for tag, attrs, in_body in parse_tags(html).tags:
        if not in_body or tag not in FOCUSABLE:
            continue
        if tag == "input" and attrs.get("type") == "hidden":
            continue
        return tag, attrs
    raise AssertionError("the page has nothing focusable")


KIOSK = re.compile(r"/exhibitions/[^/]+/kiosk")


def _assert_quick_exit_first(pages: dict[str, TestResponse]) -> None:
    for url, response in pages.items():
        html = response.get_data(as_text=True)
        if KIOSK.fullmatch(url):
            # By design the kiosk (a slideshow on an event screen) has no quick exit and
            # no links at all: nobody browses from it.
            assert not [t for t, _a, _b in parse_tags(html).tags if t == "a"], url
            continue
        tag, attrs = _first_focusable(html)
        assert (tag, attrs.get("id")) == ("a", "quick-exit"), url
        assert (attrs.get("data-exit-url") or "").startswith("https://"), url
        scripts = [a.get("src") for t, a, _ in parse_tags(html).tags if t == "script"]
        assert "/static/js/quick-exit.js" in scripts, url


def test_every_page_a_creator_reaches_starts_with_quick_exit(
    client_as: Callable[[str], FlaskClient], session: Session, site: Site
) -> None:
    _make_ready_member(session, site)
    client = client_as("creator")
    pages = crawl(client, ["/dashboard", f"/groups/{site.group_id}", "/no/such/page"])
    # The crawl really went somewhere: the creator's own pages and the public ones.
    assert {"/dashboard", f"/groups/{site.group_id}", "/account/password", "/safety", "/"} <= set(
        pages
    )
    assert "/no/such/page" in pages  # the 404 page is a page too
    _assert_quick_exit_first(pages)


def test_every_page_an_author_reaches_starts_with_quick_exit(
    client_as: Callable[[str], FlaskClient], site: Site
) -> None:
    work = f"/works/{site.work_id}"
    # No page links to the list of a work's consents (a receipt does, after a POST).
    pages = crawl(client_as("author"), ["/dashboard", f"{work}/consents"])
    # Links lead from the dashboard through the studio to each page about the works.
    assert {
        "/studio",
        f"/campaigns/{site.campaign_id}/works/new",
        work,
        f"{work}/withdraw",
        f"{work}/consent",
        "/my/consents",
        f"/gallery/works/{site.published_work_id}",
    } <= set(pages)
    _assert_quick_exit_first(pages)


def test_every_page_staff_reach_about_a_work_starts_with_quick_exit(
    client_as: Callable[[str], FlaskClient], site: Site
) -> None:
    work = f"/works/{site.work_id}"
    pages = crawl(client_as("psychologist"), ["/dashboard"])
    assert {"/review", f"/review/versions/{site.version_id}"} <= set(pages)
    pages |= crawl(client_as("facilitator"), [f"{work}/consents"])
    assert f"{work}/consent/on-paper" in pages
    _assert_quick_exit_first(pages)


def test_public_pages_start_with_quick_exit(client: FlaskClient, site: Site) -> None:
    seeds = [
        "/",
        "/sign-in",
        "/join",
        "/safety",
        "/browse",
        "/withdraw",
        f"/withdraw/{site.code}",
        f"/exhibitions/{site.exhibition_slug}",
    ]
    pages = crawl(client, seeds)
    assert {*seeds, f"/gallery/works/{site.published_work_id}"} <= set(pages)
    for url, response in pages.items():
        if KIOSK.fullmatch(url):
            continue  # no quick exit by design: see _assert_quick_exit_first
        tag, attrs = _first_focusable(response.get_data(as_text=True))
        assert (tag, attrs.get("id")) == ("a", "quick-exit"), url


def test_a_work_not_published_is_not_in_the_gallery(
    client_as: Callable[[str], FlaskClient], site: Site
) -> None:
    """Only a live publication has a public page, whoever asks (its author too)."""
    for url in (f"/gallery/works/{site.work_id}", f"/gallery/works/{site.work_id}/captions.vtt"):
        got = {role: _outcome(client_as(role), url) for role in ROLES}
        assert got == dict.fromkeys(ROLES, NOT_FOUND), url


def test_quick_exit_url_comes_from_settings(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    _tag, attrs = _first_focusable(html)
    assert attrs.get("data-exit-url") == "https://www.bbc.co.uk/weather"
    assert attrs.get("href") == "https://www.bbc.co.uk/weather"
    assert "noreferrer" in (attrs.get("rel") or "")


def test_quick_exit_script_leaves_without_history(client: FlaskClient) -> None:
    script = (PROJECT_ROOT / "app" / "static" / "js" / "quick-exit.js").read_text("utf-8")
    assert "location.replace(" in script  # Back does not return to Chorus
    assert '"Escape"' in script
    assert '"Shift"' in script
    assert re.search(r"(>=|===?)\s*3\b", script), "three Shift presses"
    served = client.get("/static/js/quick-exit.js")
    assert served.status_code == 200
    assert served.mimetype in {"text/javascript", "application/javascript"}
    served.close()
