"""The periodic jobs and the faults they recover from: storage unreachable during an
upload, work a dead worker left behind, originals past their retention period."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.clock import utcnow
from app.core.config import Settings
from app.jobs import queue
from app.orgs.models import Organisation
from app.review import jobs
from app.storage.base import Area, Storage
from app.storage.s3 import S3Storage
from app.works.models import Asset, Version, VersionState, Work, WorkKind
from app.works.services import withdraw
from tests.review.conftest import photo, stored_files
from tests.studio.conftest import upload as upload_over_http

Make = Callable[..., Work]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_storage_unreachable_during_an_upload_leaves_nothing(
    app: Flask,
    session: Session,
    settings: Settings,
    make_org: Callable[..., Organisation],
    make_work: Make,
) -> None:
    from tests.conftest import sign_in

    work = make_work(make_org("adpare"), WorkKind.FANZINE)
    app.extensions["chorus.storage"] = S3Storage(
        bucket="chorus",
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        access_key_id="test",
        secret_access_key="test",
    )
    client = app.test_client()
    sign_in(client, work.created_by.login_name)
    message = "File storage cannot be reached right now; nothing was saved"
    response = upload_over_http(client, work.id, (photo(), "photo.jpg"), json=True)
    assert response.status_code == 503
    assert message in response.get_data(as_text=True)
    response = upload_over_http(client, work.id, (photo(), "photo.jpg"))  # without script
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in page
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Asset)) == 0
    assert stored_files(settings.local_storage_root, Area.PRIVATE) == []


def test_the_sweeper_queues_again_what_a_dead_worker_left(
    session: Session,
    settings: Settings,
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
) -> None:
    stuck = upload(make_work(make_org("adpare"), WorkKind.FANZINE), photo())
    fresh = upload(make_work(make_org("mist"), WorkKind.FANZINE), photo())
    # One was queued long ago and never started; the other was just queued.
    stuck.state_changed_at = utcnow() - timedelta(minutes=10)
    session.commit()
    queue.configure(settings, immediate=True)
    jobs.sweep.call_local()
    session.expire_all()
    assert stuck.state is VersionState.IN_REVIEW
    assert fresh.state is VersionState.SUBMITTED


def test_originals_go_when_retention_ends_or_the_work_is_withdrawn(
    session: Session,
    settings: Settings,
    storage: Storage,
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
    run_processing: Callable[[Version], Version],
) -> None:
    old = run_processing(upload(make_work(make_org("adpare"), WorkKind.FANZINE), photo()))
    kept = run_processing(upload(make_work(make_org("mist"), WorkKind.FANZINE), photo()))
    withdrawn = run_processing(upload(make_work(make_org("payoke"), WorkKind.FANZINE), photo()))
    old.assets[0].created_at = utcnow() - timedelta(days=61)  # ADPARE keeps them 60 days
    withdraw(session, actor=withdrawn.work.created_by, work=withdrawn.work)
    session.commit()

    jobs.purge_originals.call_local()
    session.expire_all()
    for version, gone in ((old, True), (kept, False), (withdrawn, True)):
        asset = version.assets[0]
        assert (asset.original_deleted_at is not None) is gone
        assert storage.exists(Area.PRIVATE, asset.original_key or "") is not gone
        assert storage.exists(Area.PRIVATE, asset.sanitized_key or "")  # clean copy stays


@pytest.mark.parametrize("slug", ["adpare"])
def test_a_fault_in_cleaning_fails_the_version_with_a_plain_message(
    slug: str,
    session: Session,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    make_org: Callable[..., Organisation],
    make_work: Make,
    upload: Callable[..., Version],
) -> None:
    from app.media.errors import MediaFault
    from app.review import processing

    def broken(*_args: object, **_kwargs: object) -> object:
        raise MediaFault("decoder crashed")

    monkeypatch.setattr(processing, "sanitize_file", broken)
    version = upload(make_work(make_org(slug), WorkKind.FANZINE), photo())
    jobs.process_version.call_local(version.id)
    session.expire_all()
    assert version.state is VersionState.FAILED
    assert "Something went wrong on our side" in version.state_reason
    assert "decoder" not in version.state_reason
    assert version.lease_until is None
