"""What only the local backend does: files on disk, permissions, symbolic links."""

from __future__ import annotations

import io
import stat
import tracemalloc
from pathlib import Path

import pytest

from app.storage.base import Area, StorageUnavailable, StoredObjectMissing, new_key
from app.storage.crypto import save_original
from app.storage.local import LocalStorage
from tests.storage.streams import GeneratedStream

MiB = 1024 * 1024


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_layout_and_permissions(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    key = new_key("sanitized/images")
    storage.save(Area.PRIVATE, key, io.BytesIO(b"x"))
    path = tmp_path / "storage" / "private" / key
    assert path.read_bytes() == b"x"
    assert mode(path) == 0o600
    for folder in [path.parent, path.parent.parent, path.parents[2], tmp_path / "storage"]:
        assert mode(folder) == 0o700, folder
    assert storage.local_path(Area.PRIVATE, key) == path
    assert storage.url(Area.PRIVATE, key) is None


def test_copies_are_private_files_too(local_storage: LocalStorage) -> None:
    source, target = new_key("sanitized"), new_key("public", suffix=".jpg")
    local_storage.save(Area.PRIVATE, source, io.BytesIO(b"x"))
    local_storage.copy(Area.PRIVATE, source, Area.PUBLIC, target)
    path = local_storage.local_path(Area.PUBLIC, target)
    assert path is not None
    assert mode(path) == 0o600


def test_local_path_of_a_missing_file(local_storage: LocalStorage) -> None:
    with pytest.raises(StoredObjectMissing):
        local_storage.local_path(Area.PUBLIC, new_key("public"))


def test_a_linked_folder_leading_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    storage = LocalStorage(tmp_path / "storage")
    storage.check()
    (tmp_path / "storage" / "private" / "originals").symlink_to(outside)
    key = new_key("originals")
    with pytest.raises(ValueError, match="outside"):
        storage.save(Area.PRIVATE, key, io.BytesIO(b"secret"))
    (outside / key.split("/")[1]).write_bytes(b"planted")
    for operation in (storage.exists, storage.size, storage.delete, storage.local_path):
        with pytest.raises(ValueError, match="outside"):
            operation(Area.PRIVATE, key)
    with pytest.raises(ValueError, match="outside"), storage.open(Area.PRIVATE, key):
        pass
    assert [p.name for p in outside.iterdir()] == [key.split("/")[1]]


def test_a_linked_file_leading_outside_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(b"not Chorus's")
    storage = LocalStorage(tmp_path / "storage")
    key = new_key("originals")
    storage.save(Area.PRIVATE, key, io.BytesIO(b"x"))
    link = tmp_path / "storage" / "private" / key
    link.unlink()
    link.symlink_to(target)
    with pytest.raises(ValueError, match="outside"), storage.open(Area.PRIVATE, key):
        pass
    with pytest.raises(ValueError, match="outside"):
        storage.delete(Area.PRIVATE, key)
    with pytest.raises(ValueError, match="outside"):
        storage.save(Area.PRIVATE, key, io.BytesIO(b"overwrite"))
    assert target.read_bytes() == b"not Chorus's"


def test_a_linked_area_leading_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "storage").mkdir()
    (tmp_path / "storage" / "public").symlink_to(outside)
    storage = LocalStorage(tmp_path / "storage")
    with pytest.raises(ValueError, match="outside"):
        storage.save(Area.PUBLIC, new_key("public"), io.BytesIO(b"x"))
    with pytest.raises(StorageUnavailable):
        storage.check()
    assert list(outside.iterdir()) == []


def test_a_linked_root_is_resolved_once(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    storage = LocalStorage(tmp_path / "link")
    key = new_key("originals")
    storage.save(Area.PRIVATE, key, io.BytesIO(b"x"))
    assert (tmp_path / "real" / "private" / key).read_bytes() == b"x"


def test_check_creates_the_areas(tmp_path: Path) -> None:
    LocalStorage(tmp_path / "a" / "b").check()
    assert (tmp_path / "a" / "b" / "private").is_dir()
    assert (tmp_path / "a" / "b" / "public").is_dir()
    assert list((tmp_path / "a" / "b" / "private").iterdir()) == []


def test_a_root_that_is_not_a_folder_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "storage").write_bytes(b"")
    storage = LocalStorage(tmp_path / "storage")
    with pytest.raises(StorageUnavailable) as unavailable:
        storage.check()
    assert "try again later" in unavailable.value.message
    with pytest.raises(StorageUnavailable):
        storage.save(Area.PRIVATE, new_key("originals"), io.BytesIO(b"x"))


def test_memory_stays_bounded(tmp_path: Path) -> None:
    """Saving 50 MB, encrypted, never holds more than a few chunks in memory."""
    storage = LocalStorage(tmp_path / "storage")
    tracemalloc.start()
    try:
        saved = save_original(storage, bytes(32), GeneratedStream(50 * MiB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert saved.size == 50 * MiB
    assert peak < 8 * MiB
