"""Shared data for the HTTP tests: one organisation with a person in every role, a group,
a campaign and an open invitation, plus a second organisation to test isolation."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.accounts.services import create_invitation, create_staff_account, redeem_invitation
from app.accounts.throttle import ThrottleRules
from app.core.actors import SYSTEM
from app.groups.services import create_campaign, create_group
from app.orgs.models import Role
from app.orgs.services import create_organisation
from app.policies.loader import PolicyRegistry
from tests.conftest import TEST_PASSWORD, sign_in

ROLES = ("anonymous", "creator", "facilitator", "psychologist", "org_admin")
CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')


@dataclass
class Site:
    """The ids and login names of the standard test data."""

    slug: str
    other_slug: str
    logins: dict[str, str] = field(default_factory=dict)  # role -> login name
    user_ids: dict[str, int] = field(default_factory=dict)  # role -> user id
    group_id: int = 0
    campaign_id: int = 0
    invitation_id: int = 0
    other_group_id: int = 0
    other_campaign_id: int = 0
    other_invitation_id: int = 0
    other_creator_id: int = 0


def build_site(
    session: Session,
    policies: PolicyRegistry,
    rules: ThrottleRules,
    slug: str = "adpare",
    other_slug: str = "payoke",
) -> Site:
    """Create two organisations, each with every role, a group, a campaign and an open
    invitation; commit, and return what the tests need to address them."""
    site = Site(slug=slug, other_slug=other_slug)
    for current in (slug, other_slug):
        policy = policies.get(current)
        organisation = create_organisation(session, actor=SYSTEM, policy=policy)
        staff = {
            role: create_staff_account(
                session,
                actor=SYSTEM,
                organisation=organisation,
                login_name=f"{current}-{role.value}",
                password=TEST_PASSWORD,
                role=role,
            )
            for role in (Role.ORG_ADMIN, Role.FACILITATOR, Role.PSYCHOLOGIST)
        }
        facilitator = staff[Role.FACILITATOR]
        issued = create_invitation(session, actor=facilitator, organisation=organisation)
        creator = redeem_invitation(
            session,
            code=issued.code,
            login_name=f"{current}-creator",
            password=TEST_PASSWORD,
            address="192.0.2.1",
            rules=rules,
        )
        group = create_group(
            session, actor=facilitator, organisation=organisation, policy=policy, name="Dancers"
        )
        campaign = create_campaign(
            session, actor=facilitator, group=group, policy=policy, title="Speaking up"
        )
        invitation = create_invitation(session, actor=facilitator, organisation=organisation)
        if current == slug:
            for role, user in staff.items():
                site.logins[role.value] = user.login_name
                site.user_ids[role.value] = user.id
            site.logins["creator"] = creator.login_name
            site.user_ids["creator"] = creator.id
            site.group_id, site.campaign_id = group.id, campaign.id
            site.invitation_id = invitation.invitation.id
        else:
            site.other_group_id, site.other_campaign_id = group.id, campaign.id
            site.other_invitation_id = invitation.invitation.id
            site.other_creator_id = creator.id
    session.commit()
    return site


@pytest.fixture
def site(session: Session, policies: PolicyRegistry, rules: ThrottleRules) -> Site:
    return build_site(session, policies, rules)


@pytest.fixture
def client_as(app: Flask, site: Site) -> Callable[[str], FlaskClient]:
    """A new test client signed in as the site's person in ``role`` (or anonymous)."""

    def make(role: str) -> FlaskClient:
        client = app.test_client()
        if role != "anonymous":
            sign_in(client, site.logins[role])
        return client

    return make


def without_csrf(html: str) -> str:
    """The page with every CSRF token value blanked, so two responses can be compared."""
    return CSRF_VALUE.sub(r"\1\2", html)


class _Collector(HTMLParser):
    """Collects start tags (name, attributes) and whether they sit inside <body>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None], bool]] = []
        self.styles: list[str] = []
        self._in_body = False
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._in_body = True
        if tag == "style":
            self._in_style = True
        self.tags.append((tag, dict(attrs), self._in_body))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs), self._in_body))

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def parse_tags(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


# Every page (GET) of the application, with its URL variables filled from a ``Site``.
PAGE_TEMPLATES = (
    "/",
    "/safety",
    "/join",
    "/sign-in",
    "/dashboard",
    "/account/password",
    "/orgs/{slug}/invitations",
    "/orgs/{slug}/creators",
    "/orgs/{slug}/creators/{creator}/readiness",
    "/orgs/{slug}/groups",
    "/groups/{group}",
    "/orgs/{slug}/members",
    "/orgs/{slug}/staff/new",
)


def fill(page: str, site: Site) -> str:
    return page.format(
        slug=site.slug,
        other=site.other_slug,
        creator=site.user_ids["creator"],
        other_creator=site.other_creator_id,
        group=site.group_id,
        other_group=site.other_group_id,
    )


def crawl(client: FlaskClient, seeds: list[str], limit: int = 80) -> dict[str, TestResponse]:
    """GET every same-site page reachable by links from the seeds, following redirects:
    url -> response (HTML pages only)."""
    pages: dict[str, TestResponse] = {}
    seen: set[str] = set()
    queue = deque(seeds)
    while queue and len(pages) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            queue.append(urlsplit(response.headers["Location"]).path)
            continue
        if response.mimetype != "text/html":
            continue
        pages[url] = response
        for tag, attrs, _in_body in parse_tags(response.get_data(as_text=True)).tags:
            href = attrs.get("href") if tag == "a" else None
            if not href:
                continue
            parts = urlsplit(href)
            if parts.netloc or not parts.path.startswith("/") or parts.path.startswith("/static"):
                continue
            queue.append(parts.path)
    return pages
