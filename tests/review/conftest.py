"""Fixtures for the review pipeline: storage, test files with faces and planted
metadata, and versions taken through processing and review by the real services."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.consent.models import Modality
from app.consent.services import IssuedConsent, notice_text, record_own_consent
from app.core.config import Settings
from app.jobs import queue
from app.orgs.models import Organisation, Role
from app.policies.loader import PolicyRegistry
from app.review.models import ReviewDecision
from app.review.processing import process
from app.review.services import decide, start_review
from app.storage.base import Area, Storage
from app.storage.local import LocalStorage
from app.works.models import Version, Work
from app.works.services import add_file, current_draft, submit
from tests.media.dirty_images import dirty_jpeg
from tests.media.face_images import face_crop, noisy_background


@pytest.fixture(autouse=True)
def _queue(settings: Settings) -> Iterator[None]:
    """Jobs queued by the services go to the test's own SQLite queue and are not run:
    each test drives processing and publication itself, step by step."""
    queue.configure(settings)
    return


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return LocalStorage(settings.local_storage_root)


def stored_files(storage_root: Path, area: Area) -> list[Path]:
    folder = storage_root / area.value
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def photo(*, faces: int = 0) -> bytes:
    """A dirty JPEG (every metadata slot carries a marker) with ``faces`` faces."""
    picture = Image.fromarray(noisy_background(640, 480))
    for index in range(faces):
        picture.paste(face_crop(120), (40 + index * 200, 120))
    return dirty_jpeg(picture)


@pytest.fixture
def upload(session: Session, settings: Settings, storage: Storage) -> Callable[..., Version]:
    """Upload files to a work's draft and submit it (processing is queued, not run)."""

    def run(work: Work, *files: bytes) -> Version:
        creator = work.created_by
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
        session.commit()
        return version

    return run


@pytest.fixture
def run_processing(
    session: Session, settings: Settings, storage: Storage, policies: PolicyRegistry
) -> Callable[[Version], Version]:
    def run(version: Version) -> Version:
        policy = policies.get(version.work.campaign.group.organisation.slug)
        process(
            session,
            version_id=version.id,
            storage=storage,
            policy=policy,
            key=settings.originals_key,
        )
        session.refresh(version)
        return version

    return run


@pytest.fixture
def consent(session: Session, policies: PolicyRegistry) -> Callable[..., IssuedConsent]:
    """The work's creator consents to showing their face and voice in the gallery."""

    def give(work: Work, *modalities: Modality) -> IssuedConsent:
        policy = policies.get(work.campaign.group.organisation.slug)
        issued = record_own_consent(
            session,
            actor=work.created_by,
            work=work,
            policy=policy,
            modalities=list(modalities) or [Modality.FACE, Modality.VOICE],
            channels=["gallery"],
            expires_at=None,
            notice=notice_text(policy),
            language="en",
        )
        session.commit()
        return issued

    return give


@pytest.fixture
def approve(
    session: Session, policies: PolicyRegistry, make_staff: Callable[..., User]
) -> Callable[[Version], list[User]]:
    """As many of the organisation's psychologists as the policy asks approve."""

    def run(version: Version) -> list[User]:
        organisation: Organisation = version.work.campaign.group.organisation
        policy = policies.get(organisation.slug)
        reviewers = [
            make_staff(organisation, Role.PSYCHOLOGIST, f"{organisation.slug}-psy-{n}-{version.id}")
            for n in range(policy.review.approvals_required)
        ]
        for reviewer in reviewers:
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
        session.refresh(version)
        return reviewers

    return run
