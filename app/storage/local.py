"""Storage in a local folder: ``<root>/private`` and ``<root>/public``.

Files are written to a temporary file beside their target, synced, then renamed into
place, so a reader never sees a partial file. Files are created 0600, folders 0700, and
any key whose resolved path leaves its area (through a symbolic link, say) is refused.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from app.storage.base import (
    CHUNK_SIZE,
    Area,
    Storage,
    StorageUnavailable,
    StoredObjectMissing,
    validate_key,
)

logger = logging.getLogger(__name__)
_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


@contextmanager
def _unavailable_on_os_error(operation: str) -> Iterator[None]:
    """Turn a failure of the file system into ``StorageUnavailable``."""
    try:
        yield
    except OSError as error:
        logger.warning("local storage %s failed: %s", operation, type(error).__name__)
        raise StorageUnavailable() from error


class LocalStorage(Storage):
    """Files under one root folder on this machine."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, area: Area, key: str) -> Path:
        """The file path for ``key``; ``ValueError`` if it is invalid or leaves the area."""
        base = self.root / Area(area).value
        path = base / validate_key(key)
        if not path.resolve().is_relative_to(base):
            raise ValueError(f"storage key {key!r} resolves outside {base}")
        return path

    def _make_folders(self, folder: Path) -> None:
        """Create ``folder`` and its missing parents from the root down, each 0700."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        current = self.root
        for part in folder.relative_to(self.root).parts:
            current = current / part
            current.mkdir(mode=0o700, exist_ok=True)

    def save(self, area: Area, key: str, stream: BinaryIO) -> int:
        """See ``Storage.save``; raises ``StorageUnavailable`` if the disk fails."""
        path = self._path(area, key)
        with _unavailable_on_os_error("save"):
            self._make_folders(path.parent)
            self._path(area, key)  # a folder on the way may have turned out to be a link
            fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".partial")
        temp = Path(temp_name)
        written = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := stream.read(CHUNK_SIZE):
                    with _unavailable_on_os_error("save"):
                        handle.write(chunk)
                    written += len(chunk)
                with _unavailable_on_os_error("save"):
                    handle.flush()
                    os.fsync(handle.fileno())
            with _unavailable_on_os_error("save"):
                os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        with _unavailable_on_os_error("save"):
            _sync_folder(path.parent)
        return written

    @contextmanager
    def open(self, area: Area, key: str, *, start: int = 0) -> Iterator[BinaryIO]:
        """See ``Storage.open``."""
        path = self._path(area, key)
        try:
            handle = path.open("rb")
            handle.seek(start)
        except _MISSING:
            raise StoredObjectMissing(key) from None
        except OSError as error:
            raise StorageUnavailable() from error
        with handle:
            yield handle

    def delete(self, area: Area, key: str) -> None:
        """See ``Storage.delete``."""
        path = self._path(area, key)
        with _unavailable_on_os_error("delete"):
            path.unlink(missing_ok=True)

    def exists(self, area: Area, key: str) -> bool:
        """See ``Storage.exists``."""
        return self._path(area, key).is_file()

    def size(self, area: Area, key: str) -> int:
        """See ``Storage.size``."""
        path = self._path(area, key)
        try:
            return path.stat().st_size
        except _MISSING:
            raise StoredObjectMissing(key) from None

    def copy(self, source_area: Area, source_key: str, target_area: Area, target_key: str) -> None:
        """See ``Storage.copy``: a streamed, atomic copy."""
        self._path(target_area, target_key)
        with self.open(source_area, source_key) as source:
            self.save(target_area, target_key, source)

    def url(
        self,
        area: Area,
        key: str,
        *,
        expires: int = 300,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """Always ``None``: Chorus streams local files itself (see ``local_path``)."""
        self._path(area, key)
        return None

    def local_path(self, area: Area, key: str) -> Path | None:
        """See ``Storage.local_path``; raises ``StoredObjectMissing``."""
        path = self._path(area, key)
        if not path.is_file():
            raise StoredObjectMissing(key)
        return path

    def check(self) -> None:
        """Create the areas if needed; raise ``StorageUnavailable`` if they are not
        writable folders."""
        with _unavailable_on_os_error("check"):
            for area in Area:
                folder = self.root / area.value
                self._make_folders(folder)
                if not folder.is_dir() or folder.is_symlink():
                    raise NotADirectoryError(folder)
                probe, probe_name = tempfile.mkstemp(dir=folder, prefix=".", suffix=".probe")
                os.close(probe)
                os.unlink(probe_name)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
