"""The storage contract, run against every backend (local folder, S3 over HTTP)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from app.storage.base import Area, Storage, StoredObjectMissing, new_key
from tests.storage.streams import BrokenUpload, GeneratedStream, sha256_of_stream

MiB = 1024 * 1024
Leftovers = Callable[[Storage], list[str]]


def read_back(storage: Storage, area: Area, key: str) -> bytes:
    with storage.open(area, key) as handle:
        return handle.read()


def test_round_trip(storage: Storage) -> None:
    key = new_key("sanitized")
    assert storage.save(Area.PRIVATE, key, io.BytesIO(b"a survivor's words")) == 18
    assert read_back(storage, Area.PRIVATE, key) == b"a survivor's words"
    assert storage.exists(Area.PRIVATE, key)
    assert storage.size(Area.PRIVATE, key) == 18


def test_reading_from_an_offset(storage: Storage) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    key = new_key("public")
    storage.save(Area.PUBLIC, key, io.BytesIO(data))
    for start in (0, 1, 4095, 700_000, len(data) - 1):
        with storage.open(Area.PUBLIC, key, start=start) as stream:
            assert stream.read(5000) == data[start : start + 5000]


def test_empty_file_round_trips(storage: Storage) -> None:
    key = new_key("sanitized")
    assert storage.save(Area.PRIVATE, key, io.BytesIO(b"")) == 0
    assert storage.size(Area.PRIVATE, key) == 0
    assert read_back(storage, Area.PRIVATE, key) == b""


def test_large_stream_round_trips_byte_exactly(storage: Storage) -> None:
    source = GeneratedStream(50 * MiB + 3, seed=1)
    key = new_key("originals")
    assert storage.save(Area.PRIVATE, key, source) == 50 * MiB + 3
    assert storage.size(Area.PRIVATE, key) == 50 * MiB + 3
    with storage.open(Area.PRIVATE, key) as handle:
        assert sha256_of_stream(handle) == (50 * MiB + 3, source.sha256)


def test_short_reads_from_the_source_are_fine(storage: Storage) -> None:
    """A network upload hands out a little at a time; the object is still whole."""
    source = GeneratedStream(10 * MiB, seed=2, max_read=50_000)
    key = new_key("originals")
    assert storage.save(Area.PRIVATE, key, source) == 10 * MiB
    with storage.open(Area.PRIVATE, key) as handle:
        assert sha256_of_stream(handle) == (10 * MiB, source.sha256)


def test_reading_in_small_pieces(storage: Storage) -> None:
    key = new_key("sanitized")
    storage.save(Area.PRIVATE, key, io.BytesIO(bytes(range(256)) * 10))
    with storage.open(Area.PRIVATE, key) as handle:
        pieces = iter(lambda: handle.read(7), b"")
        assert b"".join(pieces) == bytes(range(256)) * 10


def test_save_replaces_an_existing_object(storage: Storage) -> None:
    key = new_key("sanitized")
    storage.save(Area.PRIVATE, key, io.BytesIO(b"first version, longer"))
    storage.save(Area.PRIVATE, key, io.BytesIO(b"second"))
    assert read_back(storage, Area.PRIVATE, key) == b"second"


@pytest.mark.parametrize("fail_after", [100_000, 3 * MiB, 20 * MiB])
def test_a_broken_upload_leaves_nothing(
    storage: Storage, leftovers: Leftovers, fail_after: int
) -> None:
    source = GeneratedStream(40 * MiB, fail_after=fail_after)
    with pytest.raises(BrokenUpload):
        storage.save(Area.PRIVATE, new_key("originals"), source)
    assert leftovers(storage) == []


def test_a_broken_upload_keeps_the_older_object(storage: Storage, leftovers: Leftovers) -> None:
    key = new_key("originals")
    storage.save(Area.PRIVATE, key, io.BytesIO(b"kept"))
    before = leftovers(storage)
    with pytest.raises(BrokenUpload):
        storage.save(Area.PRIVATE, key, GeneratedStream(20 * MiB, fail_after=10 * MiB))
    assert read_back(storage, Area.PRIVATE, key) == b"kept"
    assert leftovers(storage) == before


def test_areas_are_separate(storage: Storage) -> None:
    key = new_key("sanitized")
    storage.save(Area.PRIVATE, key, io.BytesIO(b"private"))
    assert not storage.exists(Area.PUBLIC, key)
    with pytest.raises(StoredObjectMissing):
        read_back(storage, Area.PUBLIC, key)


def test_missing_objects(storage: Storage) -> None:
    key = new_key("sanitized")
    assert not storage.exists(Area.PRIVATE, key)
    with pytest.raises(StoredObjectMissing) as missing:
        storage.size(Area.PRIVATE, key)
    assert missing.value.key == key
    with pytest.raises(StoredObjectMissing):
        read_back(storage, Area.PRIVATE, key)
    with pytest.raises(StoredObjectMissing):
        storage.copy(Area.PRIVATE, key, Area.PUBLIC, new_key("public"))


def test_delete_is_idempotent(storage: Storage, leftovers: Leftovers) -> None:
    key = new_key("sanitized")
    storage.delete(Area.PRIVATE, key)
    storage.save(Area.PRIVATE, key, io.BytesIO(b"gone soon"))
    storage.delete(Area.PRIVATE, key)
    storage.delete(Area.PRIVATE, key)
    assert not storage.exists(Area.PRIVATE, key)
    assert leftovers(storage) == []


def test_copy_from_private_to_public(storage: Storage) -> None:
    source, target = new_key("sanitized"), new_key("public", suffix=".jpg")
    storage.save(Area.PRIVATE, source, GeneratedStream(9 * MiB + 1, seed=3))
    storage.copy(Area.PRIVATE, source, Area.PUBLIC, target)
    with storage.open(Area.PUBLIC, target) as copied, storage.open(Area.PRIVATE, source) as kept:
        assert sha256_of_stream(copied) == sha256_of_stream(kept)
    assert not storage.exists(Area.PRIVATE, target)
    assert not storage.exists(Area.PUBLIC, source)


def test_check_passes_on_a_working_backend(storage: Storage) -> None:
    storage.check()


def test_a_file_is_served_either_by_address_or_by_path(storage: Storage) -> None:
    key = new_key("public", suffix=".png")
    storage.save(Area.PUBLIC, key, io.BytesIO(b"picture"))
    address, path = storage.url(Area.PUBLIC, key), storage.local_path(Area.PUBLIC, key)
    assert (address is None) != (path is None)


HEX = "0123456789abcdef" * 2
HOSTILE_KEYS = [
    "",
    HEX,
    "../" + HEX,
    f"originals/../../{HEX}",
    f"originals/../{HEX}",
    f"/originals/{HEX}",
    f"originals\\{HEX}",
    f"originals/{HEX}\x00",
    f"originals/{HEX}\n",
    f"Originals/{HEX}",
    f"originals//{HEX}",
    f"originals/{HEX}/",
    f"originals/{HEX[:31]}",
    f"originals/{HEX}0",
    f"originals/{HEX.upper()}",
    f"originals/{HEX}.",
    f"originals/{HEX}.jpeg2k",
    f"originals/{HEX}.JPG",
    f"originals/{HEX}.tar.gz",
    f"originals/ {HEX}",
    f"originals/./{HEX}",
    f"~/{HEX}",
    f"originals/{HEX}%2e%2e",
    "originals/" + "a" * 300 + f"/{HEX}",
]
OPERATIONS: dict[str, Callable[[Storage, str], Any]] = {
    "save": lambda s, k: s.save(Area.PRIVATE, k, io.BytesIO(b"x")),
    "open": lambda s, k: s.open(Area.PRIVATE, k).__enter__(),
    "delete": lambda s, k: s.delete(Area.PRIVATE, k),
    "exists": lambda s, k: s.exists(Area.PRIVATE, k),
    "size": lambda s, k: s.size(Area.PRIVATE, k),
    "copy from": lambda s, k: s.copy(Area.PRIVATE, k, Area.PUBLIC, new_key("public")),
    "copy to": lambda s, k: s.copy(Area.PRIVATE, new_key("originals"), Area.PUBLIC, k),
    "url": lambda s, k: s.url(Area.PRIVATE, k),
    "local_path": lambda s, k: s.local_path(Area.PRIVATE, k),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_hostile_keys_are_refused(storage: Storage, leftovers: Leftovers, operation: str) -> None:
    for key in HOSTILE_KEYS:
        with pytest.raises(ValueError, match="storage key"):
            OPERATIONS[operation](storage, key)
    assert leftovers(storage) == []


def test_an_unknown_area_is_refused(storage: Storage) -> None:
    with pytest.raises(ValueError, match="Area"):
        storage.save("secret", new_key("originals"), io.BytesIO(b"x"))
