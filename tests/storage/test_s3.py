"""What only the S3 backend does, over real HTTP against moto's S3 server."""

from __future__ import annotations

import io
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from app.storage.base import Area, StorageUnavailable, new_key
from app.storage.s3 import PART_SIZE, S3Storage
from tests.storage.conftest import CREDENTIALS
from tests.storage.streams import BrokenUpload, GeneratedStream

MiB = 1024 * 1024


def fetch(url: str) -> tuple[bytes, Any]:
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (test server)
        return response.read(), response.headers


def test_objects_live_under_prefix_and_area(
    make_s3_storage: Callable[..., S3Storage], s3_client: Any
) -> None:
    storage = make_s3_storage(prefix="chorus/")
    key = new_key("originals")
    storage.save(Area.PRIVATE, key, io.BytesIO(b"x"))
    storage.copy(Area.PRIVATE, key, Area.PUBLIC, key)
    listed = s3_client.list_objects_v2(Bucket=storage.bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == [f"chorus/private/{key}", f"chorus/public/{key}"]


def test_a_prefix_must_end_in_a_slash() -> None:
    with pytest.raises(ValueError, match="prefix"):
        S3Storage(bucket="chorus", prefix="chorus", **CREDENTIALS)


def test_presigned_address_serves_the_file(s3_storage: S3Storage) -> None:
    key = new_key("public", suffix=".jpg")
    s3_storage.save(Area.PUBLIC, key, io.BytesIO(b"\xff\xd8 picture"))
    url = s3_storage.url(Area.PUBLIC, key, expires=60)
    assert url is not None
    assert "Expires=60" in url or "X-Amz-Expires=60" in url
    body, _ = fetch(url)
    assert body == b"\xff\xd8 picture"
    assert s3_storage.local_path(Area.PUBLIC, key) is None


def test_presigned_address_names_the_download(s3_storage: S3Storage) -> None:
    key = new_key("public", suffix=".pdf")
    s3_storage.save(Area.PUBLIC, key, io.BytesIO(b"%PDF"))
    url = s3_storage.url(
        Area.PUBLIC, key, filename='Zoë "poster".pdf', content_type="application/pdf"
    )
    assert url is not None
    body, headers = fetch(url)
    assert body == b"%PDF"
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"Zo_ _poster_.pdf\"; filename*=UTF-8''Zo%C3%AB%20%22poster%22.pdf"
    )


def test_a_broken_multipart_upload_is_aborted(s3_storage: S3Storage, s3_client: Any) -> None:
    with pytest.raises(BrokenUpload):
        s3_storage.save(
            Area.PRIVATE, new_key("originals"), GeneratedStream(64 * MiB, fail_after=3 * PART_SIZE)
        )
    assert s3_client.list_multipart_uploads(Bucket=s3_storage.bucket).get("Uploads", []) == []
    assert s3_client.list_objects_v2(Bucket=s3_storage.bucket)["KeyCount"] == 0


def test_transfers_are_bounded_and_connections_impatient(s3_storage: S3Storage) -> None:
    assert s3_storage.transfer.multipart_threshold == 8 * MiB
    assert s3_storage.transfer.multipart_chunksize == 8 * MiB
    config = s3_storage.client.meta.config
    assert config.connect_timeout == 3
    assert config.read_timeout == 30
    assert config.retries["total_max_attempts"] == 3  # two retries


def test_a_missing_bucket_is_unavailable_and_nothing_is_created(
    s3_endpoint: str, s3_client: Any
) -> None:
    storage = S3Storage(bucket="chorus-never-created", endpoint_url=s3_endpoint, **CREDENTIALS)
    with pytest.raises(StorageUnavailable):
        storage.check()
    with pytest.raises(StorageUnavailable):
        storage.save(Area.PRIVATE, new_key("originals"), io.BytesIO(b"x"))
    with pytest.raises(StorageUnavailable):
        storage.save(Area.PRIVATE, new_key("originals"), GeneratedStream(20 * MiB))
    buckets = [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
    assert "chorus-never-created" not in buckets


@pytest.fixture
def unreachable(closed_port: int) -> S3Storage:
    return S3Storage(bucket="chorus", endpoint_url=f"http://127.0.0.1:{closed_port}", **CREDENTIALS)


def test_an_unreachable_endpoint_fails_quickly(unreachable: S3Storage) -> None:
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as unavailable:
        unreachable.check()
    assert time.monotonic() - started < 30
    assert unavailable.value.message == (
        "File storage cannot be reached right now; nothing was saved. Please try again later."
    )


@pytest.mark.parametrize("size", [1000, 20 * MiB])
def test_saving_to_an_unreachable_endpoint_is_unavailable(
    unreachable: S3Storage, size: int
) -> None:
    with pytest.raises(StorageUnavailable):
        unreachable.save(Area.PRIVATE, new_key("originals"), GeneratedStream(size))


@pytest.mark.parametrize(
    "operation",
    [
        lambda s, k: s.open(Area.PRIVATE, k).__enter__(),
        lambda s, k: s.exists(Area.PRIVATE, k),
        lambda s, k: s.size(Area.PRIVATE, k),
        lambda s, k: s.delete(Area.PRIVATE, k),
        lambda s, k: s.copy(Area.PRIVATE, k, Area.PUBLIC, k),
    ],
    ids=["open", "exists", "size", "delete", "copy"],
)
def test_every_operation_on_an_unreachable_endpoint_is_unavailable(
    unreachable: S3Storage, operation: Callable[[S3Storage, str], object]
) -> None:
    with pytest.raises(StorageUnavailable):
        operation(unreachable, new_key("originals"))
