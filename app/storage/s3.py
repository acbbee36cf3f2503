"""Storage in an S3-compatible bucket: ``<prefix>private/…`` and ``<prefix>public/…``.

Uploads stream through boto3's managed transfer (multipart above 8 MiB, in 8 MiB parts),
so memory stays bounded; a failed multipart upload is aborted, so nothing is left.
Connection problems become ``StorageUnavailable`` after a short timeout and two retries.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

import boto3
from boto3.exceptions import S3TransferFailedError, S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.storage.base import Area, Storage, StorageUnavailable, StoredObjectMissing, validate_key

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

logger = logging.getLogger(__name__)
PART_SIZE = 8 * 1024 * 1024
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
_UNAVAILABLE = (BotoCoreError, S3UploadFailedError, S3TransferFailedError)


@contextmanager
def _translate(operation: str, key: str | None = None) -> Iterator[None]:
    """Turn boto errors into Chorus errors: a missing ``key`` into
    ``StoredObjectMissing``, anything else into ``StorageUnavailable``."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if key is not None and code in _MISSING_CODES:
            raise StoredObjectMissing(key) from None
        logger.warning("S3 %s failed: %s %s", operation, type(error).__name__, code)
        raise StorageUnavailable() from error
    except _UNAVAILABLE as error:
        logger.warning("S3 %s failed: %s", operation, type(error).__name__)
        raise StorageUnavailable() from error


class _CountingReader(io.RawIOBase):
    """A non-seekable view of a stream that counts the bytes read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        view[: len(data)] = data
        self.count += len(data)
        return len(data)


class _BodyReader(io.RawIOBase):
    """A downloaded object's body as a raw stream; read failures become
    ``StorageUnavailable``."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        with _translate("read"):
            data: bytes = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


class S3Storage(Storage):
    """Objects in one bucket, under an optional prefix (``""`` or ending in ``/``)."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        client: Any = None,
    ) -> None:
        if prefix and not prefix.endswith("/"):
            raise ValueError("an S3 prefix must be empty or end in '/'")
        self.bucket = bucket
        self.prefix = prefix
        self.client = client or boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                connect_timeout=3,
                read_timeout=30,
                retries={"max_attempts": 2, "mode": "standard"},
                signature_version="s3v4",
                s3={"addressing_style": "path" if endpoint_url else "auto"},
            ),
        )
        self.transfer = TransferConfig(
            multipart_threshold=PART_SIZE,
            multipart_chunksize=PART_SIZE,
            max_concurrency=4,
            preferred_transfer_client="classic",
        )

    def _name(self, area: Area, key: str) -> str:
        return f"{self.prefix}{Area(area).value}/{validate_key(key)}"

    def save(self, area: Area, key: str, stream: BinaryIO) -> int:
        """See ``Storage.save``."""
        name = self._name(area, key)
        counter = _CountingReader(stream)
        with _translate("save"):
            self.client.upload_fileobj(
                io.BufferedReader(counter, PART_SIZE), self.bucket, name, Config=self.transfer
            )
        return counter.count

    @contextmanager
    def open(self, area: Area, key: str, *, start: int = 0) -> Iterator[BinaryIO]:
        """See ``Storage.open``: S3 sends from ``start`` itself (a ranged GET)."""
        name = self._name(area, key)
        ranged = {"Range": f"bytes={start}-"} if start else {}
        with _translate("open", key):
            response = self.client.get_object(Bucket=self.bucket, Key=name, **ranged)
        with io.BufferedReader(_BodyReader(response["Body"]), 1024 * 1024) as reader:
            yield reader

    def delete(self, area: Area, key: str) -> None:
        """See ``Storage.delete``."""
        name = self._name(area, key)
        with _translate("delete"):
            self.client.delete_object(Bucket=self.bucket, Key=name)

    def exists(self, area: Area, key: str) -> bool:
        """See ``Storage.exists``."""
        try:
            self.size(area, key)
        except StoredObjectMissing:
            return False
        return True

    def size(self, area: Area, key: str) -> int:
        """See ``Storage.size``."""
        name = self._name(area, key)
        with _translate("size", key):
            response = self.client.head_object(Bucket=self.bucket, Key=name)
        return int(response["ContentLength"])

    def copy(self, source_area: Area, source_key: str, target_area: Area, target_key: str) -> None:
        """See ``Storage.copy``: a server-side copy (multipart for large objects)."""
        source = {"Bucket": self.bucket, "Key": self._name(source_area, source_key)}
        target = self._name(target_area, target_key)
        with _translate("copy", source_key):
            self.client.copy(source, self.bucket, target, Config=self.transfer)

    def url(
        self,
        area: Area,
        key: str,
        *,
        expires: int = 300,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """A presigned GET address valid for ``expires`` seconds."""
        params = {"Bucket": self.bucket, "Key": self._name(area, key)}
        if filename is not None:
            params["ResponseContentDisposition"] = _attachment(filename)
        if content_type is not None:
            params["ResponseContentType"] = content_type
        with _translate("url"):
            url: str = self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires
            )
        return url

    def local_path(self, area: Area, key: str) -> Path | None:
        """Always ``None``: objects are not on this machine."""
        self._name(area, key)
        return None

    def check(self) -> None:
        """See ``Storage.check``: the bucket must exist and be reachable."""
        with _translate("check"):
            self.client.head_bucket(Bucket=self.bucket)


def _attachment(filename: str) -> str:
    """A Content-Disposition value (RFC 6266) naming ``filename`` safely."""
    fallback = (
        "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
        or "download"
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
