"""A small ISO base media (MP4, MOV, M4A) box walker: list boxes, find the ones that
carry metadata, and blank them in place in a file Chorus wrote itself.

Only container boxes are descended into; sample descriptions (``stsd``) and media data
are never parsed. Reads are bounded (headers only), so a 2 GB file costs a few seeks.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Boxes whose children are boxes. ``meta`` has a 4-byte version/flags field first in
# ISO files (but not in QuickTime's moov/meta), which ``_children_start`` handles.
CONTAINERS = frozenset(
    {b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl", b"edts", b"udta", b"meta"}
    | {b"moof", b"traf", b"mvex", b"tref", b"ilst"}
)
# Boxes that hold tags, titles, places, times or free text: none may survive.
METADATA_BOXES = frozenset(
    {b"udta", b"meta", b"ilst", b"keys", b"XMP_", b"uuid", b"\xa9xyz", b"loci", b"chpl"}
    | {b"cprt", b"titl", b"auth", b"gnre", b"dscp", b"perf", b"albm", b"yrrc", b"kywd"}
)
MAX_BOXES = 100_000
MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Box:
    """One box: its four-character type, where it starts, its total and header size."""

    kind: bytes
    offset: int
    size: int
    header: int
    path: tuple[bytes, ...]  # the types of its ancestors, outermost first

    @property
    def end(self) -> int:
        return self.offset + self.size


def _read_header(handle: BinaryIO, offset: int, limit: int) -> tuple[bytes, int, int] | None:
    handle.seek(offset)
    head = handle.read(16)
    if len(head) < 8:
        return None
    size, kind = struct.unpack_from(">I4s", head)
    header = 8
    if size == 1:
        if len(head) < 16:
            return None
        size = struct.unpack_from(">Q", head, 8)[0]
        header = 16
    elif size == 0:
        size = limit - offset
    if size < header or offset + size > limit:
        return None
    return kind, size, header


def _children_start(handle: BinaryIO, box: Box) -> int:
    """Where a container's children begin (an ISO ``meta`` has version and flags)."""
    start = box.offset + box.header
    if box.kind == b"meta":
        handle.seek(start + 4)
        if handle.read(4) in (b"hdlr", b"keys", b"ilst"):
            return start  # QuickTime-style meta: no version field
        return start + 4
    return start


def walk(handle: BinaryIO) -> Iterator[Box]:
    """Every box in the file, depth first, descending into container boxes only.

    Stops quietly at the first malformed header: callers treat what was found as
    the file's structure (the validator refuses truncated uploads beforehand).
    """
    size = handle.seek(0, 2)
    stack: list[tuple[int, int, tuple[bytes, ...]]] = [(0, size, ())]
    seen = 0
    while stack:
        offset, limit, path = stack.pop()
        children: list[Box] = []
        while offset + 8 <= limit and seen < MAX_BOXES:
            parsed = _read_header(handle, offset, limit)
            if parsed is None:
                break
            kind, box_size, header = parsed
            children.append(Box(kind, offset, box_size, header, path))
            offset += box_size
            seen += 1
        for box in reversed(children):
            if box.kind in CONTAINERS and len(path) < MAX_DEPTH:
                stack.append((_children_start(handle, box), box.end, (*path, box.kind)))
        yield from children


def boxes(path: Path) -> list[Box]:
    """All boxes of the file at ``path`` (see ``walk``)."""
    with path.open("rb") as handle:
        return list(walk(handle))


def metadata_boxes(path: Path) -> list[Box]:
    """Boxes that carry metadata (tags, places, times, XMP), outermost only."""
    found = [box for box in boxes(path) if box.kind in METADATA_BOXES]
    return [box for box in found if not set(box.path) & METADATA_BOXES]


def blank_boxes(path: Path, kinds: frozenset[bytes]) -> int:
    """Turn every outermost box of ``kinds`` into a zero-filled ``free`` box, in place.

    Sizes and offsets do not change, so sample tables stay valid. Only for files
    Chorus has just written; returns how many boxes were blanked.
    """
    targets = [box for box in boxes(path) if box.kind in kinds]
    targets = [box for box in targets if not set(box.path) & kinds]
    with path.open("r+b") as handle:
        for box in targets:
            handle.seek(box.offset + 4)
            handle.write(b"free")
            if box.header == 16:
                handle.seek(8, 1)
            remaining = box.size - box.header
            while remaining > 0:
                chunk = min(remaining, 65536)
                handle.write(bytes(chunk))
                remaining -= chunk
    return len(targets)


def creation_times(path: Path) -> list[int]:
    """The creation and modification times in every movie, track and media header
    (seconds since 1904; a clean file has only zeros)."""
    found: list[int] = []
    with path.open("rb") as handle:
        for box in walk(handle):
            if box.kind not in (b"mvhd", b"tkhd", b"mdhd"):
                continue
            handle.seek(box.offset + box.header)
            body = handle.read(20)
            if len(body) < 12:
                continue
            if body[0] == 1 and len(body) >= 20:
                found.extend(struct.unpack_from(">QQ", body, 4))
            else:
                found.extend(struct.unpack_from(">II", body, 4))
    return found
