"""File storage: a local folder or an S3-compatible bucket, chosen by configuration.

``app.storage.crypto`` encrypts originals at rest on either backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.storage.base import (
    Area,
    Storage,
    StorageUnavailable,
    StoredObjectMissing,
    new_key,
    validate_key,
)
from app.storage.local import LocalStorage

if TYPE_CHECKING:
    from app.core.config import Settings

__all__ = [
    "Area",
    "LocalStorage",
    "Storage",
    "StorageUnavailable",
    "StoredObjectMissing",
    "new_key",
    "storage_from_settings",
    "validate_key",
]


def storage_from_settings(settings: Settings) -> Storage:
    """The backend the settings name. Builds it without contacting it (see
    ``Storage.check``); raises ``ValueError`` for an unknown backend."""
    if settings.storage_backend == "local":
        return LocalStorage(settings.local_storage_root)
    if settings.storage_backend == "s3":
        from app.storage.s3 import S3Storage  # boto3 is imported only when used

        return S3Storage(
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    raise ValueError(f"unknown storage backend: {settings.storage_backend!r}")
