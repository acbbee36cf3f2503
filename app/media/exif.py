"""Which parts an EXIF block (a TIFF structure) carries: GPS, a thumbnail, a maker note.

Only the IFD tree is walked, with every offset bounds-checked and a cap on entries, so
a hostile block cannot make it loop or read outside the data. The values themselves are
never read: the report names kinds of metadata, never what they said.
"""

from __future__ import annotations

import struct

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_MAKER_NOTE = 0x927C
_THUMBNAIL_TAGS = frozenset({0x0201, 0x0111})  # JPEGInterchangeFormat, StripOffsets
_MAX_ENTRIES = 4096


def exif_kinds(tiff: bytes) -> list[str]:
    """``["exif", ...]`` plus ``exif.gps``, ``exif.thumbnail`` and ``exif.maker_note``
    for the parts present. A block that cannot be parsed still counts as ``exif``."""
    kinds = ["exif"]
    try:
        order = _byte_order(tiff)
        (ifd0,) = struct.unpack_from(order + "I", tiff, 4)
        tags, next_ifd = _read_ifd(tiff, order, ifd0)
        if _GPS_IFD in tags:
            kinds.append("exif.gps")
        if _EXIF_IFD in tags:
            exif_tags, _ = _read_ifd(tiff, order, tags[_EXIF_IFD])
            if _MAKER_NOTE in exif_tags:
                kinds.append("exif.maker_note")
        if next_ifd:
            ifd1_tags, _ = _read_ifd(tiff, order, next_ifd)
            if _THUMBNAIL_TAGS & ifd1_tags.keys():
                kinds.append("exif.thumbnail")
    except (ValueError, struct.error):
        pass
    return kinds


def _byte_order(tiff: bytes) -> str:
    if tiff[:4] == b"II*\x00":
        return "<"
    if tiff[:4] == b"MM\x00*":
        return ">"
    raise ValueError("not a TIFF header")


def _read_ifd(tiff: bytes, order: str, offset: int) -> tuple[dict[int, int], int]:
    """The IFD at ``offset``: {tag: value-or-offset field} and the next IFD's offset."""
    if offset < 8 or offset + 2 > len(tiff):
        raise ValueError("IFD offset out of range")
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    if count > _MAX_ENTRIES:
        raise ValueError("too many IFD entries")
    tags: dict[int, int] = {}
    for index in range(count):
        tag, _type, _count, value = struct.unpack_from(
            order + "HHII", tiff, offset + 2 + 12 * index
        )
        tags[tag] = value
    (next_ifd,) = struct.unpack_from(order + "I", tiff, offset + 2 + 12 * count)
    return tags, next_ifd


__all__ = ["exif_kinds"]
