"""A version's path through processing, the consent gate, review and publication,
driven step by step through the services on local storage."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.throttle import ThrottleRules
from app.consent.models import Modality
from app.consent.services import withdraw_by_code
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.errors import Conflict
from app.media.types import MediaType
from app.orgs.models import Organisation
from app.policies.loader import PolicyRegistry
from app.review import jobs
from app.review.models import Publication, PublicationConsent
from app.review.processing import claim
from app.review.publishing import public_key, publish
from app.storage.base import Area, Storage
from app.works.models import Version, VersionState, Work, WorkKind
from app.works.services import pause
from tests.media.checkers import markers_in
from tests.media.dirty_images import dirty_jpeg
from tests.review.conftest import photo, stored_files

Make = Callable[..., Work]


def test_a_photo_is_cleaned_and_its_original_kept_encrypted(
    session: Session,
    settings: Settings,
    storage: Storage,
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
    run_processing: Callable[[Version], Version],
) -> None:
    work = make_work(make_org("adpare"), WorkKind.FANZINE)
    version = run_processing(upload(work, photo()))
    assert version.state is VersionState.IN_REVIEW, version.state_reason
    asset = version.assets[0]
    assert asset.media_type == "image/jpeg"
    assert asset.sanitized_type == "image/jpeg"
    assert asset.report
    assert asset.report["removed"]
    assert asset.detections == {
        "faces": 0,
        "faces_found": 0,
        "faces_masked": False,
        "speech_seconds": 0,
        "voice_altered": False,
        "personal_data": 0,
    }
    root = settings.local_storage_root
    private = stored_files(root, Area.PRIVATE)
    assert len(private) == 2  # the encrypted original and the clean copy
    for path in private:
        assert markers_in(path) == []
    assert stored_files(root, Area.PUBLIC) == []


def test_processing_twice_does_nothing_more(
    session: Session,
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
    run_processing: Callable[[Version], Version],
) -> None:
    work = make_work(make_org("adpare"), WorkKind.FANZINE)
    version = run_processing(upload(work, photo()))
    key = version.assets[0].sanitized_key
    assert run_processing(version).assets[0].sanitized_key == key
    assert version.state is VersionState.IN_REVIEW


def test_a_refused_file_fails_the_version_in_plain_words(
    session: Session,
    settings: Settings,
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
    run_processing: Callable[[Version], Version],
) -> None:
    work = make_work(make_org("adpare"), WorkKind.FANZINE)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    version = run_processing(upload(work, svg))
    assert version.state is VersionState.FAILED
    assert version.state_reason.startswith("We could not accept one of the files:")
    assert "SVG" in version.state_reason or "svg" in version.state_reason.lower()
    assert version.assets[0].sanitized_key is None


def test_a_file_of_the_wrong_kind_fails(
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
    run_processing: Callable[[Version], Version],
) -> None:
    work = make_work(make_org("mist"), WorkKind.PODCAST)
    version = run_processing(upload(work, photo()))
    assert version.state is VersionState.FAILED
    assert "a podcast takes an audio recording" in version.state_reason


def test_an_unconsented_face_blocks_where_the_policy_blocks(
    session: Session,
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
    run_processing: Callable[[Version], Version],
    consent: Callable[..., object],
) -> None:
    work = make_work(make_org("mist"), WorkKind.FANZINE)
    version = run_processing(upload(work, photo(faces=1)))
    assert version.state is VersionState.BLOCKED
    assert "Record the missing consent, or choose masking" in version.state_reason
    # The way forward: consent, then submit again.
    consent(work, Modality.FACE)
    from app.works.services import submit

    submit(session, actor=work.created_by, version=version)
    session.commit()
    assert run_processing(version).state is VersionState.IN_REVIEW


def test_an_unconsented_face_is_masked_where_the_policy_masks(
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
    run_processing: Callable[[Version], Version],
) -> None:
    work = make_work(make_org("adpare"), WorkKind.FANZINE)
    version = run_processing(upload(work, photo(faces=1)))
    assert version.state is VersionState.IN_REVIEW
    detections = version.assets[0].detections
    assert detections is not None
    assert detections["faces_masked"] is True
    assert version.assets[0].report["anonymised"]["faces_masked"] >= 1  # type: ignore[index]


def test_a_worker_that_dies_leaves_the_version_to_be_processed_again(
    session: Session,
    settings: Settings,
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
    run_processing: Callable[[Version], Version],
) -> None:
    work = make_work(make_org("adpare"), WorkKind.FANZINE)
    version = upload(work, photo())
    assert claim(session, version.id) is not None  # ...and the worker dies here
    assert version.state is VersionState.PROCESSING
    assert run_processing(version).state is VersionState.PROCESSING  # lease still held
    assert version.assets[0].sanitized_key is None
    assert stored_files(settings.local_storage_root, Area.PUBLIC) == []
    version.lease_until = utcnow() - timedelta(seconds=1)
    session.commit()
    assert run_processing(version).state is VersionState.IN_REVIEW


@pytest.fixture
def approved(
    session: Session,
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
    run_processing: Callable[[Version], Version],
    consent: Callable[..., object],
    approve: Callable[[Version], object],
) -> Version:
    """An approved, not yet published fanzine with one consented face (ADPARE)."""
    work = make_work(make_org("adpare"), WorkKind.FANZINE)
    consent(work, Modality.FACE)
    version = run_processing(upload(work, photo(faces=1)))
    assert version.state is VersionState.IN_REVIEW, version.state_reason
    assert version.assets[0].detections["faces"] == 1  # type: ignore[index]
    approve(version)
    assert version.state is VersionState.APPROVED
    return version


def _publish(
    session: Session, version: Version, storage: Storage, policies: PolicyRegistry
) -> Publication:
    policy = policies.get(version.work.campaign.group.organisation.slug)
    publication = publish(session, version=version, storage=storage, policy=policy)
    session.commit()
    return publication


def test_publish_copies_the_clean_file_and_records_its_consents(
    session: Session,
    settings: Settings,
    storage: Storage,
    policies: PolicyRegistry,
    approved: Version,
) -> None:
    publication = _publish(session, approved, storage, policies)
    assert approved.state is VersionState.PUBLISHED
    key = public_key(
        publication.public_prefix,
        approved.assets[0].sha256 or "",
        MediaType(approved.assets[0].sanitized_type or ""),
    )
    path = storage.local_path(Area.PUBLIC, key)
    assert path is not None
    assert path.is_file()
    roles = sorted({(f.role.value, f.media_type) for f in publication.files})
    assert roles == [("file", "image/jpeg"), ("image", "image/jpeg"), ("image", "image/webp")]
    for file in publication.files:
        public = storage.local_path(Area.PUBLIC, file.key)
        assert public is not None
        assert markers_in(public) == []
    assert len(publication.consents) == 1


def _tamper_sha(session: Session, version: Version, storage: Storage) -> None:
    version.assets[0].sha256 = "0" * 64


def _dirty_clean_copy(session: Session, version: Version, storage: Storage) -> None:
    import hashlib

    data = dirty_jpeg()
    asset = version.assets[0]
    storage.save(Area.PRIVATE, asset.sanitized_key or "", io.BytesIO(data))
    asset.sha256 = hashlib.sha256(data).hexdigest()


PRECONDITIONS: dict[str, Callable[[Session, Version, Storage], None]] = {
    "not approved": lambda s, v, _: setattr(v, "state", VersionState.IN_REVIEW),
    "paused": lambda s, v, _: setattr(v.work, "paused_at", utcnow()),
    "too few approvals": lambda s, v, _: [s.delete(r) for r in _reviews(s, v)[:1]] and None,
    "no alt text": lambda s, v, _: setattr(v.work, "alt_text", ""),
    "consent withdrawn": lambda s, v, _: _withdraw_all(s, v.work),
    "file changed after review": _tamper_sha,
    "metadata in the clean copy": _dirty_clean_copy,
}


def _reviews(session: Session, version: Version) -> list[object]:
    from app.review.models import Review

    return list(session.scalars(select(Review).where(Review.version_id == version.id)))


def _withdraw_all(session: Session, work: Work) -> None:
    from app.consent.queries import consents_for_work

    for record in consents_for_work(session, work):
        record.withdrawn_at = utcnow()


@pytest.mark.parametrize("broken", list(PRECONDITIONS))
def test_publish_refuses_when_any_precondition_fails(
    session: Session,
    settings: Settings,
    storage: Storage,
    policies: PolicyRegistry,
    approved: Version,
    broken: str,
) -> None:
    PRECONDITIONS[broken](session, approved, storage)
    session.flush()
    with pytest.raises(Conflict):
        _publish(session, approved, storage, policies)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Publication)) == 0
    assert stored_files(settings.local_storage_root, Area.PUBLIC) == []


def test_publish_refuses_a_channel_outside_the_policy(
    session: Session, storage: Storage, policies: PolicyRegistry, approved: Version
) -> None:
    policy = policies.get("adpare")
    with pytest.raises(Conflict):
        publish(session, version=approved, storage=storage, policy=policy, channel="radio")


def test_consent_withdrawn_after_approval_blocks_instead_of_publishing(
    session: Session,
    settings: Settings,
    approved: Version,
) -> None:
    _withdraw_all(session, approved.work)
    session.commit()
    jobs.publish_version.call_local(approved.id)
    session.refresh(approved)
    assert approved.state is VersionState.BLOCKED
    assert approved.state_reason.startswith("It was not published:")
    assert stored_files(settings.local_storage_root, Area.PUBLIC) == []


def test_withdrawing_consent_takes_the_work_down_at_once(
    session: Session,
    settings: Settings,
    storage: Storage,
    policies: PolicyRegistry,
    rules: ThrottleRules,
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
    run_processing: Callable[[Version], Version],
    consent: Callable[..., object],
    approve: Callable[[Version], object],
) -> None:
    from app.jobs import queue

    work = make_work(make_org("adpare"), WorkKind.FANZINE)
    issued = consent(work, Modality.FACE)
    version = run_processing(upload(work, photo(faces=1)))
    approve(version)
    publication = _publish(session, version, storage, policies)
    public = stored_files(settings.local_storage_root, Area.PUBLIC)
    assert len(public) == len(publication.files) > 1  # the photo and its renditions

    queue.configure(settings, immediate=True)  # the deletion job runs on commit
    withdraw_by_code(session, code=issued.code, address="192.0.2.9", rules=rules)  # type: ignore[attr-defined]
    session.commit()
    session.refresh(publication)
    session.refresh(version)
    assert publication.withdrawn_at is not None
    assert version.state is VersionState.WITHDRAWN
    assert stored_files(settings.local_storage_root, Area.PUBLIC) == []
    assert session.scalar(select(func.count()).select_from(PublicationConsent)) == 1


def test_pausing_a_published_work_takes_it_down(
    session: Session,
    settings: Settings,
    storage: Storage,
    policies: PolicyRegistry,
    approved: Version,
) -> None:
    from app.jobs import queue

    publication = _publish(session, approved, storage, policies)
    queue.configure(settings, immediate=True)
    pause(session, actor=approved.work.created_by, work=approved.work)
    session.commit()
    assert publication.withdrawn_at is not None
    assert approved.state is VersionState.APPROVED
    assert stored_files(settings.local_storage_root, Area.PUBLIC) == []
