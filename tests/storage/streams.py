"""Plaintext sources for storage tests: generated, never held whole in memory."""

from __future__ import annotations

import hashlib
import random
from typing import BinaryIO


class GeneratedStream:
    """``size`` reproducible pseudo-random bytes, read like an upload.

    ``max_read`` caps what one ``read`` returns, as a network stream would; ``fail_after``
    makes the stream raise ``BrokenUpload`` once that many bytes have been handed out.
    """

    def __init__(
        self,
        size: int,
        *,
        seed: int = 0,
        max_read: int | None = None,
        fail_after: int | None = None,
        marker: bytes = b"",
    ) -> None:
        self.size = size
        self.position = 0
        self._random = random.Random(seed)
        self._max_read = max_read
        self._fail_after = fail_after
        self._marker = marker
        self._hash = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        if self._fail_after is not None and self.position >= self._fail_after:
            raise BrokenUpload("the upload broke off")
        n = self.size - self.position if n < 0 else min(n, self.size - self.position)
        if self._max_read is not None:
            n = min(n, self._max_read)
        data = self._random.randbytes(n)
        if self._marker and self.position == 0:
            data = (self._marker + data)[:n]
        self.position += len(data)
        self._hash.update(data)
        return data

    def readable(self) -> bool:
        return True

    @property
    def sha256(self) -> str:
        """The SHA-256 of everything read so far."""
        return self._hash.hexdigest()


class BrokenUpload(Exception):
    """Raised by a ``GeneratedStream`` that was told to fail."""


def sha256_of_stream(stream: BinaryIO, chunk: int = 1024 * 1024) -> tuple[int, str]:
    """Size and SHA-256 of what ``stream`` yields, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    while data := stream.read(chunk):
        digest.update(data)
        size += len(data)
    return size, digest.hexdigest()
