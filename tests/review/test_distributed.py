"""The distributed mode end to end: PostgreSQL, S3 over HTTP (moto's server on
loopback) and a Redis queue consumed by a worker thread, exactly as several machines
would run it. Skipped without PostgreSQL or Redis, except on CI, where both run."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.consent.models import Modality
from app.core import migrate
from app.core.config import PROJECT_ROOT, Settings
from app.jobs import queue
from app.orgs.models import Organisation
from app.review.jobs import close_contexts
from app.works.models import Version, VersionState, Work, WorkKind
from app.works.services import add_file, current_draft, submit
from app.works.services import withdraw as withdraw_work
from tests.conftest import make_settings
from tests.media.checkers import MARKER_PREFIX
from tests.review.conftest import photo

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def settings(  # type: ignore[override]
    tmp_path: Path,
    template_database: Path,
    postgres_database_url: str,
    s3_bucket: dict[str, Any],
    redis_queue_url: str,
) -> Settings:
    migrate.upgrade(postgres_database_url, PROJECT_ROOT / "migrations")
    return replace(
        make_settings(tmp_path / "instance", template_database),
        database_url=postgres_database_url,
        storage_backend="s3",
        s3_endpoint_url=s3_bucket["endpoint"],
        s3_bucket=s3_bucket["bucket"],
        s3_prefix="chorus/",
        s3_access_key_id="test",
        s3_secret_access_key="test",
        redis_url=redis_queue_url,
        jobs_in_process=False,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:  # type: ignore[override]
    """The app on the distributed settings, with a worker consuming the Redis queue."""
    from app.factory import create_app

    application = create_app(settings)
    queue.configure(settings, name=f"chorus_test_{id(application)}")
    stop = queue.start_in_process_consumer(settings)
    yield application
    stop()
    queue.reset()
    close_contexts()
    application.extensions["chorus.db"].engine.dispose()


def wait_for_state(session: Session, version: Version, state: VersionState) -> None:
    deadline = time.monotonic() + 120
    while True:
        session.expire_all()
        if version.state is state:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"version stayed {version.state.value}: {version.state_reason}")
        time.sleep(0.2)


def public_objects(s3_client: Any, bucket: str) -> list[str]:
    listing = s3_client.list_objects_v2(Bucket=bucket, Prefix="chorus/public/")
    return [item["Key"] for item in listing.get("Contents", [])]


def test_upload_to_publication_and_takedown(
    app: Flask,
    session: Session,
    settings: Settings,
    s3_bucket: dict[str, Any],
    make_org: Callable[..., Organisation],
    make_work: Callable[..., Work],
    consent: Callable[..., object],
    approve: Callable[[Version], object],
) -> None:
    storage = app.extensions["chorus.storage"]
    client, bucket = s3_bucket["client"], s3_bucket["bucket"]
    work = make_work(make_org("adpare"), WorkKind.FANZINE)
    consent(work, Modality.FACE)
    version = current_draft(session, actor=work.created_by, work=work)
    add_file(
        session,
        actor=work.created_by,
        version=version,
        storage=storage,
        originals_key=settings.originals_key,
        stream=io.BytesIO(photo(faces=1)),
    )
    submit(session, actor=work.created_by, version=version)
    session.commit()  # the processing job goes to Redis; the worker takes it

    wait_for_state(session, version, VersionState.IN_REVIEW)
    assert version.assets[0].detections["faces"] == 1  # type: ignore[index]
    private = client.list_objects_v2(Bucket=bucket, Prefix="chorus/private/")["Contents"]
    assert len(private) == 2
    for item in private:
        body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        assert MARKER_PREFIX not in body

    approve(version)  # the last approval queues publication
    wait_for_state(session, version, VersionState.PUBLISHED)
    public = public_objects(client, bucket)
    assert len(public) > 1  # the clean photo and its renditions
    for key in public:
        assert MARKER_PREFIX not in client.get_object(Bucket=bucket, Key=key)["Body"].read()

    withdraw_work(session, actor=work.created_by, work=work)
    session.commit()
    deadline = time.monotonic() + 60
    while public_objects(client, bucket):
        assert time.monotonic() < deadline, "the public copy was not deleted"
        time.sleep(0.2)
