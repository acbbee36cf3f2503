"""Storage backends for tests: a local folder, and S3 over real HTTP on moto's server.

The S3 server runs in this process on 127.0.0.1 and a free port; every test gets a
bucket of its own.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.storage.base import Storage
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage

CREDENTIALS = {"access_key_id": "test", "secret_access_key": "test"}


@pytest.fixture
def make_s3_storage(s3_endpoint: str, s3_client: Any) -> Callable[..., S3Storage]:
    """Build an ``S3Storage`` on a fresh, empty bucket."""

    def make(prefix: str = "") -> S3Storage:
        bucket = f"chorus-test-{uuid.uuid4().hex[:16]}"
        s3_client.create_bucket(Bucket=bucket)
        return S3Storage(bucket=bucket, prefix=prefix, endpoint_url=s3_endpoint, **CREDENTIALS)

    return make


@pytest.fixture
def s3_storage(make_s3_storage: Callable[..., S3Storage]) -> S3Storage:
    return make_s3_storage()


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest) -> Storage:
    """Each backend in turn."""
    backend: Storage = request.getfixturevalue(f"{request.param}_storage")
    return backend


@pytest.fixture
def leftovers(s3_client: Any) -> Callable[[Storage], list[str]]:
    """Everything a backend holds: every file (temporary ones too) under a local root;
    every object and unfinished multipart upload in an S3 bucket."""

    def list_all(storage: Storage) -> list[str]:
        if isinstance(storage, LocalStorage):
            root = storage.root
            return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())
        assert isinstance(storage, S3Storage)
        objects = s3_client.list_objects_v2(Bucket=storage.bucket).get("Contents", [])
        uploads = s3_client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])
        return sorted([o["Key"] for o in objects] + [f"upload:{u['Key']}" for u in uploads])

    return list_all


@pytest.fixture
def closed_port() -> int:
    """A local TCP port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
