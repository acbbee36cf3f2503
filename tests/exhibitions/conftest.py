"""Exhibitions' fixtures: the two blueprints on the application, works published
through the real pipeline (processing runs at once: the ``app`` fixture makes the queue
immediate), exhibitions made by the real services, and a counter of SQL statements."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.actors import SYSTEM
from app.core.config import Settings
from app.gallery import services
from app.gallery.models import Exhibition
from app.groups.models import Campaign
from app.orgs.models import Organisation, Role
from app.policies.loader import PolicyRegistry
from app.review.models import Publication, ReviewDecision
from app.review.publishing import withdraw
from app.review.services import decide, start_review
from app.storage.base import Storage
from app.works.models import Credit, VersionState, Work, WorkKind
from app.works.services import add_file, create_work, current_draft, describe_work, submit
from tests.media.face_images import noisy_background

TRANSCRIPT = "We speak about leaving and arriving, and about the people who listened."


def jpeg(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(noisy_background(width, height, seed=seed)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def pdf(pages: int = 2) -> bytes:
    buffer = io.BytesIO()
    images = [Image.fromarray(noisy_background(200, 280, seed=s)) for s in range(1, pages + 1)]
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=72)
    return buffer.getvalue()


@pytest.fixture
def organisation(make_org: Callable[..., Organisation]) -> Callable[[str], Organisation]:
    """The organisation with that slug, created on first use."""
    made: dict[str, Organisation] = {}

    def get(slug: str) -> Organisation:
        if slug not in made:
            made[slug] = make_org(slug)
        return made[slug]

    return get


@pytest.fixture
def staff(make_staff: Callable[..., User]) -> Callable[[Organisation, Role], User]:
    """The organisation's one member in that role, created on first use."""
    made: dict[tuple[int, Role], User] = {}

    def get(organisation: Organisation, role: Role) -> User:
        if (organisation.id, role) not in made:
            login_name = f"{organisation.slug}-{role.value}-staff"
            made[organisation.id, role] = make_staff(organisation, role, login_name)
        return made[organisation.id, role]

    return get


@pytest.fixture
def publish(
    app: Flask,
    session: Session,
    settings: Settings,
    policies: PolicyRegistry,
    make_campaign: Callable[..., Campaign],
    make_member: Callable[..., User],
    make_staff: Callable[..., User],
) -> Callable[..., Publication]:
    """Publish a new work in the organisation's gallery through the real services and
    return its live publication. One campaign and creator per organisation."""
    storage: Storage = app.extensions["chorus.storage"]
    campaigns: dict[int, tuple[Campaign, User]] = {}
    reviewers: dict[int, list[User]] = {}

    def run(
        organisation: Organisation,
        kind: WorkKind = WorkKind.FANZINE,
        files: Sequence[bytes] = (),
        *,
        title: str = "Paper boats",
        warnings: Sequence[str] = (),
    ) -> Publication:
        policy = policies.get(organisation.slug)
        if organisation.id not in campaigns:
            campaign = make_campaign(organisation)
            campaigns[organisation.id] = (campaign, make_member(campaign))
            reviewers[organisation.id] = [
                make_staff(organisation, Role.PSYCHOLOGIST, f"{organisation.slug}-reviewer-{n}")
                for n in range(policy.review.approvals_required)
            ]
        campaign, creator = campaigns[organisation.id]
        work = create_work(
            session,
            actor=creator,
            campaign=campaign,
            policy=policy,
            kind=kind,
            title=title,
            credit=Credit(policy.credit.default),
            pseudonym="Sparrow",
            content_warnings=list(warnings),
        )
        describe_work(
            session,
            actor=creator,
            work=work,
            title=title,
            content_warnings=list(warnings),
            alt_text="Hands folding paper boats on a kitchen table.",
            transcript=TRANSCRIPT,
        )
        version = current_draft(session, actor=creator, work=work)
        for data in files or [jpeg()]:
            add_file(
                session,
                actor=creator,
                version=version,
                storage=storage,
                originals_key=settings.originals_key,
                stream=io.BytesIO(data),
            )
        submit(session, actor=creator, version=version)
        session.commit()  # processing runs now
        session.refresh(version)
        assert version.state is VersionState.IN_REVIEW, version.state_reason
        for reviewer in reviewers[organisation.id]:
            review = start_review(session, actor=reviewer, version=version)
            decide(
                session,
                actor=reviewer,
                review=review,
                decision=ReviewDecision.APPROVED,
                policy=policy,
                note="",
            )
            session.commit()  # the last approval publishes
        session.expire_all()
        assert version.state is VersionState.PUBLISHED, version.state_reason
        return session.scalars(
            select(Publication).where(
                Publication.work_id == work.id, Publication.withdrawn_at.is_(None)
            )
        ).one()

    return run


@pytest.fixture
def take_down(session: Session) -> Callable[[Publication], None]:
    def run(publication: Publication) -> None:
        withdraw(session, publication=publication, actor=SYSTEM, reason="test")
        session.commit()

    return run


@pytest.fixture
def exhibit(
    session: Session, staff: Callable[[Organisation, Role], User]
) -> Callable[..., Exhibition]:
    """An exhibition of the organisation holding these works, in this order; opened
    unless ``opened`` is false."""

    def make(
        organisation: Organisation,
        works: Sequence[Work] = (),
        *,
        title: str = "Voices of spring",
        introduction: str = "",
        opened: bool = True,
    ) -> Exhibition:
        curator = staff(organisation, Role.FACILITATOR)
        exhibition = services.create_exhibition(
            session,
            actor=curator,
            organisation=organisation,
            title=title,
            introduction=introduction,
        )
        for work in works:
            services.add_work(session, actor=curator, exhibition=exhibition, work=work)
        if opened:
            services.open_exhibition(session, actor=curator, exhibition=exhibition)
        session.commit()
        return exhibition

    return make


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block."""
    statements: list[str] = []

    def before(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
