"""Originals encrypted at rest: AES-256-GCM in a chunked STREAM construction.

Layout: ``b"CHOR1" || salt (16) || nonce prefix (7)``, then the plaintext in 64 KiB
segments, each sealed separately with its 16-byte tag. Every file gets its own key,
derived with HKDF-SHA256 from the originals key and the file's random salt. A segment's
nonce is ``prefix || counter (4 bytes, big-endian) || last-segment flag (1 byte)``, and
the header is authenticated with every segment, so truncation, reordering, dropped or
appended segments, bit flips and a wrong key are all detected (``OriginalCorrupt``).
Every segment but the last is full; the last may be short (empty only for an empty file).
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.errors import ChorusError
from app.storage.base import Area, Storage, new_key

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAGIC = b"CHOR1"
SALT_SIZE = 16
PREFIX_SIZE = 7
HEADER_SIZE = len(MAGIC) + SALT_SIZE + PREFIX_SIZE
SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
_INFO = b"chorus originals v1"
_MAX_SEGMENTS = 2**32


class OriginalCorrupt(ChorusError):
    """A stored original failed authentication: damaged, cut short, or wrong key."""

    def __init__(self) -> None:
        super().__init__(
            "A stored original could not be decrypted: it is damaged or incomplete, "
            "or it was stored with a different key."
        )


@dataclass(frozen=True, slots=True)
class SavedOriginal:
    """Where an original was stored, with its plaintext size and SHA-256 (hex)."""

    key: str
    size: int
    sha256: str


def _file_cipher(key: bytes, salt: bytes) -> AESGCM:
    if len(key) != 32:
        raise ValueError("the originals key must be 32 bytes")
    subkey = HKDF(algorithm=SHA256(), length=32, salt=salt, info=_INFO).derive(key)
    return AESGCM(subkey)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= _MAX_SEGMENTS:
        raise ValueError("file too large for one encrypted original")
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _read_full(stream: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes, fewer only at the end of the stream."""
    parts = []
    remaining = size
    while remaining > 0:
        data = stream.read(remaining)
        if not data:
            break
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


class _Encryptor(io.RawIOBase):
    """Ciphertext produced on demand from a plaintext stream."""

    def __init__(self, key: bytes, stream: BinaryIO) -> None:
        salt, self._prefix = os.urandom(SALT_SIZE), os.urandom(PREFIX_SIZE)
        self._cipher = _file_cipher(key, salt)
        self._header = MAGIC + salt + self._prefix
        self._stream = stream
        self._output = bytearray(self._header)
        self._next: bytes | None = None
        self._counter = 0
        self.finished = False
        self.hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def _read_segment(self) -> bytes:
        segment = _read_full(self._stream, SEGMENT_SIZE)
        self.hash.update(segment)
        self.size += len(segment)
        return segment

    def _seal_next(self) -> None:
        segment = self._read_segment() if self._next is None else self._next
        following = self._read_segment() if len(segment) == SEGMENT_SIZE else b""
        last = not following
        nonce = _nonce(self._prefix, self._counter, last)
        self._output += self._cipher.encrypt(nonce, segment, self._header)
        self._counter += 1
        self._next = following
        self.finished = last

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        while len(self._output) < len(view) and not self.finished:
            self._seal_next()
        count = min(len(view), len(self._output))
        view[:count] = self._output[:count]
        del self._output[:count]
        return count


class EncryptingReader(io.BufferedReader):
    """Reads as the encrypted form of ``stream``, for ``Storage.save``.

    ``read(n)`` returns ``n`` bytes except at the end. Once everything has been read,
    ``plaintext_size`` and ``sha256`` describe the plaintext. Raises ``ValueError`` if
    the key is not 32 bytes.
    """

    def __init__(self, key: bytes, stream: BinaryIO) -> None:
        self._encryptor = _Encryptor(key, stream)
        super().__init__(self._encryptor, SEGMENT_SIZE)

    def _finished(self) -> _Encryptor:
        if not self._encryptor.finished:
            raise RuntimeError("the stream has not been read to the end yet")
        return self._encryptor

    @property
    def plaintext_size(self) -> int:
        """The plaintext's length; raises ``RuntimeError`` before the end is read."""
        return self._finished().size

    @property
    def sha256(self) -> str:
        """The plaintext's SHA-256 in hex; raises ``RuntimeError`` before the end."""
        return self._finished().hash.hexdigest()


def decrypt_to(key: bytes, source: BinaryIO, target: BinaryIO) -> int:
    """Decrypt ``source`` into ``target`` segment by segment; return the plaintext size.

    Only authenticated segments are written, but a file cut short is detected only at
    its end, so on ``OriginalCorrupt`` the caller must discard what ``target`` holds.
    Raises ``OriginalCorrupt`` for any damage or a wrong key, ``ValueError`` for a key
    that is not 32 bytes.
    """
    header = _read_full(source, HEADER_SIZE)
    if len(header) != HEADER_SIZE or not header.startswith(MAGIC):
        raise OriginalCorrupt()
    salt, prefix = header[len(MAGIC) : -PREFIX_SIZE], header[-PREFIX_SIZE:]
    cipher = _file_cipher(key, salt)
    sealed_size = SEGMENT_SIZE + TAG_SIZE
    segment = _read_full(source, sealed_size)
    counter = written = 0
    while True:
        following = _read_full(source, sealed_size) if len(segment) == sealed_size else b""
        last = not following
        try:
            plaintext = cipher.decrypt(_nonce(prefix, counter, last), segment, header)
        except (InvalidTag, ValueError):
            raise OriginalCorrupt() from None
        if last and not plaintext and counter > 0:
            raise OriginalCorrupt()
        target.write(plaintext)
        written += len(plaintext)
        if last:
            return written
        segment, counter = following, counter + 1


def save_original(storage: Storage, key_bytes: bytes, stream: BinaryIO) -> SavedOriginal:
    """Encrypt ``stream`` into a new key under ``originals/`` in the private area.

    Returns the key with the plaintext's size and SHA-256. Raises what
    ``Storage.save`` raises (``StorageUnavailable``) and ``ValueError`` for a bad key.
    """
    key = new_key("originals")
    reader = EncryptingReader(key_bytes, stream)
    storage.save(Area.PRIVATE, key, reader)
    return SavedOriginal(key=key, size=reader.plaintext_size, sha256=reader.sha256)


def read_original(storage: Storage, key_bytes: bytes, key: str, target: BinaryIO) -> int:
    """Decrypt the original stored under ``key`` into ``target``; return its size.

    Raises ``StoredObjectMissing``, ``StorageUnavailable`` or ``OriginalCorrupt`` (see
    ``decrypt_to``: discard ``target`` then).
    """
    with storage.open(Area.PRIVATE, key) as source:
        return decrypt_to(key_bytes, source, target)
