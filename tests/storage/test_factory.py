"""Choosing the storage backend from the settings."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest

from app.core.config import Settings
from app.storage import LocalStorage, storage_from_settings
from app.storage.base import Area, new_key
from app.storage.s3 import S3Storage


def test_local_by_default(settings: Settings) -> None:
    storage = storage_from_settings(settings)
    assert isinstance(storage, LocalStorage)
    assert storage.root == settings.local_storage_root.resolve()
    storage.check()
    key = new_key("originals")
    storage.save(Area.PRIVATE, key, io.BytesIO(b"x"))
    assert (settings.instance_path / "storage" / "private" / key).is_file()


def test_s3_when_configured(settings: Settings, s3_endpoint: str, s3_client: Any) -> None:
    s3_client.create_bucket(Bucket="chorus-configured")
    configured = dataclasses.replace(
        settings,
        storage_backend="s3",
        s3_endpoint_url=s3_endpoint,
        s3_bucket="chorus-configured",
        s3_prefix="site/",
        s3_access_key_id="test",
        s3_secret_access_key="test",
    )
    storage = storage_from_settings(configured)
    assert isinstance(storage, S3Storage)
    storage.check()
    key = new_key("originals")
    storage.save(Area.PRIVATE, key, io.BytesIO(b"x"))
    listed = s3_client.list_objects_v2(Bucket="chorus-configured")["Contents"]
    assert [o["Key"] for o in listed] == [f"site/private/{key}"]


def test_an_unknown_backend_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="backend"):
        storage_from_settings(dataclasses.replace(settings, storage_backend="ftp"))
