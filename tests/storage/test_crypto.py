"""Originals at rest: authenticated, streamed encryption (app.storage.crypto)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

import pytest

from app.storage.base import Area, Storage, StoredObjectMissing, new_key
from app.storage.crypto import (
    HEADER_SIZE,
    SEGMENT_SIZE,
    TAG_SIZE,
    EncryptingReader,
    OriginalCorrupt,
    decrypt_to,
    read_original,
    save_original,
)
from tests.storage.streams import GeneratedStream, sha256_of_stream

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
MiB = 1024 * 1024
SEALED = SEGMENT_SIZE + TAG_SIZE


def encrypt(plaintext: bytes, key: bytes = KEY) -> bytes:
    return EncryptingReader(key, io.BytesIO(plaintext)).read()


def decrypt(ciphertext: bytes, key: bytes = KEY) -> bytes:
    target = io.BytesIO()
    written = decrypt_to(key, io.BytesIO(ciphertext), target)
    assert written == len(target.getvalue())
    return target.getvalue()


@pytest.mark.parametrize(
    "size", [0, 1, 65535, 65536, 65537, 2 * 65536, 3 * 65536 + 100, 5 * MiB + 7]
)
def test_round_trip(size: int) -> None:
    plaintext = GeneratedStream(size, seed=size).read()
    reader = EncryptingReader(KEY, io.BytesIO(plaintext))
    ciphertext = reader.read()
    segments = max(1, -(-size // SEGMENT_SIZE))
    assert len(ciphertext) == HEADER_SIZE + size + segments * TAG_SIZE
    assert reader.plaintext_size == size
    assert reader.sha256 == hashlib.sha256(plaintext).hexdigest()
    assert decrypt(ciphertext) == plaintext


def test_reading_in_odd_pieces_from_a_trickling_source() -> None:
    source = GeneratedStream(3 * SEGMENT_SIZE + 5, max_read=1000)
    reader = EncryptingReader(KEY, source)
    ciphertext = b"".join(iter(lambda: reader.read(12_345), b""))
    assert reader.sha256 == source.sha256
    plaintext = decrypt(ciphertext)
    assert hashlib.sha256(plaintext).hexdigest() == source.sha256


def test_ciphertext_hides_the_plaintext() -> None:
    marker = b"MARKER: Jane Doe, 12 Hidden Lane"
    plaintext = (marker + b" " * 100) * 5000
    ciphertext = encrypt(plaintext)
    assert marker not in ciphertext
    assert b"Jane Doe" not in ciphertext


def test_two_encryptions_of_the_same_plaintext_differ() -> None:
    first, second = encrypt(b"same words"), encrypt(b"same words")
    assert first != second
    assert first[:HEADER_SIZE] != second[:HEADER_SIZE]
    assert decrypt(first) == decrypt(second) == b"same words"


def test_size_and_hash_are_known_only_at_the_end() -> None:
    reader = EncryptingReader(KEY, io.BytesIO(b"x" * (3 * SEGMENT_SIZE)))
    reader.read(100)
    with pytest.raises(RuntimeError):
        reader.plaintext_size  # noqa: B018
    with pytest.raises(RuntimeError):
        reader.sha256  # noqa: B018


@pytest.mark.parametrize("key", [b"", bytes(16), bytes(31), bytes(33)])
def test_keys_must_be_256_bits(key: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        EncryptingReader(key, io.BytesIO(b"x"))
    with pytest.raises(ValueError, match="32 bytes"):
        decrypt_to(key, io.BytesIO(encrypt(b"x")), io.BytesIO())


PLAINTEXT = GeneratedStream(3 * SEGMENT_SIZE + 1000, seed=7).read()  # four segments


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def segment(data: bytes, index: int) -> bytes:
    start = HEADER_SIZE + index * SEALED
    return data[start : start + SEALED]


def swap(data: bytes, first: int, second: int) -> bytes:
    parts = [segment(data, i) for i in range(4)]
    parts[first], parts[second] = parts[second], parts[first]
    return data[:HEADER_SIZE] + b"".join(parts)


TAMPERINGS: dict[str, Callable[[bytes], bytes]] = {
    "magic": lambda c: flip(c, 0),
    "salt": lambda c: flip(c, 8),
    "nonce prefix": lambda c: flip(c, HEADER_SIZE - 1),
    "first segment": lambda c: flip(c, HEADER_SIZE),
    "middle segment": lambda c: flip(c, HEADER_SIZE + SEALED + 500),
    "a tag": lambda c: flip(c, HEADER_SIZE + 2 * SEALED - 1),
    "last byte": lambda c: flip(c, len(c) - 1),
    "last segment cut short": lambda c: c[:-1],
    "last segment dropped": lambda c: c[: HEADER_SIZE + 3 * SEALED],
    "last two segments dropped": lambda c: c[: HEADER_SIZE + 2 * SEALED],
    "middle segment dropped": lambda c: c[: HEADER_SIZE + SEALED] + c[HEADER_SIZE + 2 * SEALED :],
    "segments swapped": lambda c: swap(c, 1, 2),
    "last segment moved": lambda c: swap(c, 2, 3),
    "garbage appended": lambda c: c + b"\x00",
    "a segment appended": lambda c: c + segment(c, 1),
    "header only": lambda c: c[:HEADER_SIZE],
    "header cut short": lambda c: c[: HEADER_SIZE - 1],
    "nothing at all": lambda c: b"",
    "plaintext instead": lambda c: PLAINTEXT,
}


@pytest.mark.parametrize("tampering", TAMPERINGS)
def test_tampering_is_detected(tampering: str) -> None:
    ciphertext = encrypt(PLAINTEXT)
    assert decrypt(ciphertext) == PLAINTEXT
    damaged = TAMPERINGS[tampering](ciphertext)
    with pytest.raises(OriginalCorrupt) as corrupt:
        decrypt(damaged)
    assert "could not be decrypted" in corrupt.value.message


def test_a_segment_from_another_file_is_detected() -> None:
    first, second = encrypt(PLAINTEXT), encrypt(PLAINTEXT)
    spliced = first[: HEADER_SIZE + SEALED] + segment(second, 1) + first[HEADER_SIZE + 2 * SEALED :]
    with pytest.raises(OriginalCorrupt):
        decrypt(spliced)


def test_a_wrong_key_is_detected() -> None:
    with pytest.raises(OriginalCorrupt):
        decrypt(encrypt(PLAINTEXT), key=OTHER_KEY)
    with pytest.raises(OriginalCorrupt):
        decrypt(encrypt(b""), key=OTHER_KEY)


def test_originals_round_trip_through_storage(storage: Storage) -> None:
    source = GeneratedStream(50 * MiB + 11, seed=9, marker=b"PLANTED-MARKER")
    saved = save_original(storage, KEY, source)
    assert saved.key.startswith("originals/")
    assert (saved.size, saved.sha256) == (50 * MiB + 11, source.sha256)
    assert storage.size(Area.PRIVATE, saved.key) > saved.size
    with storage.open(Area.PRIVATE, saved.key) as stored:
        head = stored.read(MiB)
    assert b"PLANTED-MARKER" not in head
    assert not storage.exists(Area.PUBLIC, saved.key)

    target = io.BytesIO()
    assert read_original(storage, KEY, saved.key, target) == saved.size
    target.seek(0)
    assert sha256_of_stream(target) == (saved.size, saved.sha256)


def test_a_damaged_stored_original_is_detected(storage: Storage) -> None:
    saved = save_original(storage, KEY, io.BytesIO(PLAINTEXT))
    with storage.open(Area.PRIVATE, saved.key) as stored:
        ciphertext = stored.read()
    storage.save(Area.PRIVATE, saved.key, io.BytesIO(ciphertext[:-TAG_SIZE]))
    with pytest.raises(OriginalCorrupt):
        read_original(storage, KEY, saved.key, io.BytesIO())
    with pytest.raises(OriginalCorrupt):
        read_original(storage, OTHER_KEY, saved.key, io.BytesIO())


def test_a_missing_original(storage: Storage) -> None:
    with pytest.raises(StoredObjectMissing):
        read_original(storage, KEY, new_key("originals"), io.BytesIO())
