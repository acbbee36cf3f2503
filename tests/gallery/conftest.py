"""Works published through the real services for the gallery's tests: created,
described, uploaded, submitted (processing runs at once: the ``app`` fixture makes the
queue immediate), approved by as many psychologists as the policy asks, and so
published by the publication job. Plus a counter of SQL statements."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.consent.models import Modality
from app.consent.services import notice_text, record_own_consent
from app.core.config import Settings
from app.groups.models import Campaign
from app.orgs.models import Organisation, Role
from app.policies.loader import PolicyRegistry
from app.review.models import FileRole, Publication, PublicationFile, ReviewDecision
from app.review.services import decide, start_review
from app.storage.base import Storage
from app.works.models import Credit, VersionState, WorkKind
from app.works.services import add_file, create_work, current_draft, describe_work, submit

ALT_TEXT = "Hands folding paper boats on a kitchen table."
TRANSCRIPT = "We speak about leaving and arriving, and about the people who listened."
CAPTIONS = "WEBVTT\n\n00:00.000 --> 00:01.000\nWe walked together.\n"


@pytest.fixture
def storage(app: Flask) -> Storage:
    """The storage the application itself uses."""
    found: Storage = app.extensions["chorus.storage"]
    return found


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
def psychologists(
    policies: PolicyRegistry, make_staff: Callable[..., User]
) -> Callable[[Organisation], list[User]]:
    made: dict[int, list[User]] = {}

    def get(organisation: Organisation) -> list[User]:
        if organisation.id not in made:
            needed = policies.get(organisation.slug).review.approvals_required
            made[organisation.id] = [
                make_staff(organisation, Role.PSYCHOLOGIST, f"{organisation.slug}-psy-{n}")
                for n in range(needed)
            ]
        return made[organisation.id]

    return get


@pytest.fixture
def publish(
    app: Flask,
    session: Session,
    settings: Settings,
    storage: Storage,
    policies: PolicyRegistry,
    make_campaign: Callable[..., Campaign],
    make_member: Callable[..., User],
    psychologists: Callable[[Organisation], list[User]],
) -> Callable[..., Publication]:
    """Publish a new work of ``kind`` made of ``files`` in the organisation's gallery
    (its creator consenting first to the ``consent`` modalities); return its live
    publication."""

    def run(
        organisation: Organisation,
        kind: WorkKind,
        files: Sequence[bytes],
        *,
        title: str = "Paper boats",
        credit: Credit | None = None,
        pseudonym: str = "Sparrow",
        language: str = "en",
        warnings: Sequence[str] = (),
        captions: str = "",
        campaign: Campaign | None = None,
        creator: User | None = None,
        consent: Sequence[Modality] = (),
    ) -> Publication:
        policy = policies.get(organisation.slug)
        campaign = campaign or make_campaign(organisation)
        creator = creator or make_member(campaign)
        work = create_work(
            session,
            actor=creator,
            campaign=campaign,
            policy=policy,
            kind=kind,
            title=title,
            credit=credit or Credit(policy.credit.default),
            pseudonym=pseudonym,
            language=language,
            content_warnings=list(warnings),
        )
        describe_work(
            session,
            actor=creator,
            work=work,
            title=title,
            content_warnings=list(warnings),
            alt_text=ALT_TEXT,
            transcript=TRANSCRIPT,
            captions=captions,
        )
        if consent:
            record_own_consent(
                session,
                actor=creator,
                work=work,
                policy=policy,
                modalities=list(consent),
                channels=["gallery"],
                expires_at=None,
                notice=notice_text(policy),
                language="en",
            )
        version = current_draft(session, actor=creator, work=work)
        for data in files:
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
        for reviewer in psychologists(organisation):
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
        assert version.state.value == "published", version.state_reason
        return session.scalars(
            select(Publication).where(
                Publication.work_id == work.id, Publication.withdrawn_at.is_(None)
            )
        ).one()

    return run


def original(publication: Publication) -> PublicationFile:
    """The publication's one clean file (its "file" row, not a rendition)."""
    [found] = [f for f in publication.files if f.role is FileRole.FILE]
    return found


def renditions(publication: Publication, role: FileRole) -> list[PublicationFile]:
    return [f for f in publication.files if f.role is role]


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
