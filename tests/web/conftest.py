"""Shared data for the HTTP tests: one organisation with a person in every role, a group,
a campaign, an open invitation and works at several stages, plus a second organisation
to test isolation."""

from __future__ import annotations

import io
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.accounts.models import User
from app.accounts.services import create_invitation, create_staff_account, redeem_invitation
from app.accounts.throttle import ThrottleRules
from app.consent.services import (
    IssuedConsent,
    allowed_modalities,
    notice_text,
    record_own_consent,
)
from app.core.actors import SYSTEM
from app.core.clock import utcnow
from app.core.config import Settings
from app.gallery.services import add_work, create_exhibition, open_exhibition
from app.groups.models import Campaign, Group
from app.groups.services import create_campaign, create_group, join_group, record_readiness
from app.jobs import queue
from app.orgs.models import Organisation, Role
from app.orgs.services import create_organisation
from app.policies.loader import PolicyRegistry
from app.policies.schema import MediaPolicy
from app.review import jobs
from app.review.models import Publication, ReviewDecision
from app.review.services import decide, start_review
from app.storage import storage_from_settings
from app.works.models import Credit, Version, VersionState, Work, WorkKind
from app.works.services import add_file, create_work, current_draft, describe_work, submit
from tests.conftest import TEST_PASSWORD, sign_in

# "creator" is a creator not yet ready, in no group; "author" is a ready creator of the
# site's group who made its works.
ROLES = ("anonymous", "creator", "author", "facilitator", "psychologist", "org_admin")
CAPTIONS = "WEBVTT\n\n00:00.000 --> 00:02.000\nWe fold paper boats.\n"
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
    # The author's work waiting for review: its version, its processed file, and the
    # author's own consent to appear in it (with the receipt's withdrawal code).
    work_id: int = 0
    version_id: int = 0
    asset_id: int = 0
    record_id: int = 0
    code: str = ""
    # The author's second work, approved and published in the gallery.
    published_work_id: int = 0
    published_version_id: int = 0
    published_asset_id: int = 0
    public_file_id: int = 0
    # The author's third work: a draft holding one file, not yet submitted.
    draft_work_id: int = 0
    draft_version_id: int = 0
    draft_asset_id: int = 0
    # An open exhibition of the first organisation showing the published work.
    exhibition_id: int = 0
    exhibition_slug: str = ""
    # The same, in the other organisation (its published work would be public anyway).
    other_work_id: int = 0
    other_version_id: int = 0
    other_asset_id: int = 0
    other_record_id: int = 0
    other_code: str = ""


@dataclass
class _Submitted:
    work: Work
    version: Version
    consent: IssuedConsent


def picture() -> bytes:
    """A small JPEG of noise: nothing in it to mask or remove."""
    pixels = np.random.default_rng(11).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _ready_member(
    session: Session, facilitator: User, organisation: Organisation, group: Group, user: User
) -> None:
    today = utcnow().date()
    record_readiness(
        session,
        actor=facilitator,
        organisation=organisation,
        creator=user,
        informed_consent_on=today,
        crisis_period_ended_on=today,
    )
    join_group(session, actor=user, group=group, accept_rules=True)


def _draft(
    session: Session,
    settings: Settings,
    policy: MediaPolicy,
    author: User,
    campaign: Campaign,
    title: str,
    captions: str = "",
) -> _Submitted:
    """A described fanzine with the author's consent, and a draft holding one picture."""
    work = create_work(
        session,
        actor=author,
        campaign=campaign,
        policy=policy,
        kind=WorkKind.FANZINE,
        title=title,
        credit=Credit(policy.credit.default),
    )
    describe_work(
        session,
        actor=author,
        work=work,
        title=title,
        content_warnings=work.content_warnings,
        alt_text="Folded paper boats on a table.",
        transcript="",
        captions=captions,
    )
    consent = record_own_consent(
        session,
        actor=author,
        work=work,
        policy=policy,
        modalities=list(allowed_modalities(policy)),
        channels=[policy.publication.channels[0]],
        expires_at=None,
        notice=notice_text(policy),
        language="en",
    )
    version = current_draft(session, actor=author, work=work)
    add_file(
        session,
        actor=author,
        version=version,
        storage=storage_from_settings(settings),
        originals_key=settings.originals_key,
        stream=io.BytesIO(picture()),
    )
    session.commit()
    return _Submitted(work, version, consent)


def _submitted_work(
    session: Session,
    settings: Settings,
    policy: MediaPolicy,
    author: User,
    campaign: Campaign,
    title: str,
    captions: str = "",
) -> _Submitted:
    """A draft, submitted: processing runs on the commit (the queue is immediate), so it
    is waiting for review on return."""
    submitted = _draft(session, settings, policy, author, campaign, title, captions)
    submit(session, actor=author, version=submitted.version)
    session.commit()
    session.expire_all()
    assert submitted.version.state is VersionState.IN_REVIEW, submitted.version.state_reason
    assert submitted.version.assets[0].sanitized_key
    return submitted


def _approve(
    session: Session, policy: MediaPolicy, reviewers: list[User], version: Version
) -> None:
    """Approval by as many psychologists as the policy asks: published on the commit."""
    for reviewer in reviewers[: policy.review.approvals_required]:
        review = start_review(session, actor=reviewer, version=version)
        decide(
            session,
            actor=reviewer,
            review=review,
            decision=ReviewDecision.APPROVED,
            policy=policy,
            note="",
        )
        session.commit()
    session.expire_all()
    assert version.state is VersionState.PUBLISHED, version.state_reason


def build_site(
    session: Session,
    policies: PolicyRegistry,
    rules: ThrottleRules,
    settings: Settings,
    slug: str = "adpare",
    other_slug: str = "payoke",
) -> Site:
    """Create two organisations, each with every role, a group, a campaign, an open
    invitation and an author's work waiting for review; the first also has a published
    work and a draft. Commit, and return what the tests need to address them.

    Jobs run at once, against ``settings``' database, while this builds."""
    queue.configure(settings, immediate=True)
    try:
        return _build_site(session, policies, rules, settings, slug, other_slug)
    finally:
        jobs.close_contexts()


def _build_site(
    session: Session,
    policies: PolicyRegistry,
    rules: ThrottleRules,
    settings: Settings,
    slug: str,
    other_slug: str,
) -> Site:
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
        creator, author = (
            redeem_invitation(
                session,
                code=create_invitation(session, actor=facilitator, organisation=organisation).code,
                login_name=f"{current}-{name}",
                password=TEST_PASSWORD,
                address="192.0.2.1",
                rules=rules,
            )
            for name in ("creator", "author")
        )
        group = create_group(
            session, actor=facilitator, organisation=organisation, policy=policy, name="Dancers"
        )
        campaign = create_campaign(
            session, actor=facilitator, group=group, policy=policy, title="Speaking up"
        )
        invitation = create_invitation(session, actor=facilitator, organisation=organisation)
        _ready_member(session, facilitator, organisation, group, author)
        session.commit()
        waiting = _submitted_work(session, settings, policy, author, campaign, "Paper boats")
        if current == slug:
            for role, user in staff.items():
                site.logins[role.value] = user.login_name
                site.user_ids[role.value] = user.id
            for name, user in (("creator", creator), ("author", author)):
                site.logins[name] = user.login_name
                site.user_ids[name] = user.id
            site.group_id, site.campaign_id = group.id, campaign.id
            site.invitation_id = invitation.invitation.id
            site.work_id, site.version_id = waiting.work.id, waiting.version.id
            site.asset_id = waiting.version.assets[0].id
            site.record_id, site.code = waiting.consent.record.id, waiting.consent.code
            published = _submitted_work(
                session, settings, policy, author, campaign, "Paper rivers", CAPTIONS
            )
            _approve(session, policy, [staff[Role.PSYCHOLOGIST]], published.version)
            publication = session.scalars(
                select(Publication).where(Publication.work_id == published.work.id)
            ).one()
            site.published_work_id = published.work.id
            site.published_version_id = published.version.id
            site.published_asset_id = published.version.assets[0].id
            site.public_file_id = publication.files[0].id
            draft = _draft(session, settings, policy, author, campaign, "Paper cranes")
            site.draft_work_id, site.draft_version_id = draft.work.id, draft.version.id
            site.draft_asset_id = draft.version.assets[0].id
            exhibition = create_exhibition(
                session,
                actor=facilitator,
                organisation=organisation,
                title="Paper and water",
                introduction="Works about paper.\n\nAnd about water.",
            )
            add_work(session, actor=facilitator, exhibition=exhibition, work=published.work)
            open_exhibition(session, actor=facilitator, exhibition=exhibition)
            session.commit()
            site.exhibition_id, site.exhibition_slug = exhibition.id, exhibition.slug
        else:
            site.other_group_id, site.other_campaign_id = group.id, campaign.id
            site.other_invitation_id = invitation.invitation.id
            site.other_creator_id = creator.id
            site.other_work_id, site.other_version_id = waiting.work.id, waiting.version.id
            site.other_asset_id = waiting.version.assets[0].id
            site.other_record_id = waiting.consent.record.id
            site.other_code = waiting.consent.code
    session.commit()
    return site


@pytest.fixture
def site(
    session: Session, policies: PolicyRegistry, rules: ThrottleRules, settings: Settings
) -> Site:
    return build_site(session, policies, rules, settings)


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
    "/browse",
    "/feed.atom",
    "/gallery/works/{published}",
    "/gallery/works/{published}/captions.vtt",
    "/media/{public_file}",
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
    "/studio",
    "/campaigns/{campaign}/works/new",
    "/works/{work}",
    "/works/{work}/withdraw",
    "/assets/{asset}/clean",
    "/assets/{asset}/original",
    "/works/{work}/consent",
    "/works/{work}/consent/on-paper",
    "/works/{work}/consents",
    "/my/consents",
    "/withdraw",
    "/withdraw/{code}",
    "/review",
    "/review/versions/{version}",
    "/orgs/{slug}/exhibitions",
    "/orgs/{slug}/exhibitions/new",
    "/orgs/{slug}/exhibitions/{exhibition}",
    "/exhibitions/{exhibition_slug}",
    "/exhibitions/{exhibition_slug}/kiosk",
)


def fill(page: str, site: Site) -> str:
    return page.format(
        slug=site.slug,
        other=site.other_slug,
        creator=site.user_ids["creator"],
        other_creator=site.other_creator_id,
        group=site.group_id,
        other_group=site.other_group_id,
        campaign=site.campaign_id,
        other_campaign=site.other_campaign_id,
        work=site.work_id,
        other_work=site.other_work_id,
        version=site.version_id,
        other_version=site.other_version_id,
        asset=site.asset_id,
        other_asset=site.other_asset_id,
        code=site.code,
        published=site.published_work_id,
        public_file=site.public_file_id,
        exhibition=site.exhibition_id,
        exhibition_slug=site.exhibition_slug,
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
            response.close()  # a file sent from disk holds it open until closed
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
