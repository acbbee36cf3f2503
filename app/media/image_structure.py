"""What metadata an image file carries, read from its structure (never decoded).

One inventory per container: JPEG segments, PNG chunks, WebP RIFF chunks, and the
metadata pillow-heif lists for HEIC. Each returns a ``Counter`` of metadata kinds (the
names the sanitization report uses, such as ``exif.gps`` or ``png.text``), counting
everything that is not on a small allow-list of what a decoder needs. The same
inventory serves twice: on the upload, to tell the creator what was removed, and on
the cleaned file, where anything it finds is a residue and the file is not used.

The inventories only describe; cleaning never depends on them.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.media.exif import exif_kinds
from app.media.jpeg import (
    APP0,
    COM,
    EOI,
    STANDALONE,
    STRUCTURAL,
    ByteSource,
    JpegError,
    Segment,
    iter_segments,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TRAILING = "trailing_data"
# Kinds an inventory lists that are image data rather than metadata: the sanitizer
# converts them (into an alpha channel) instead of reporting them as removed.
NOT_METADATA = frozenset({"png.transparency"})

_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
_ICC = b"ICC_PROFILE\x00"
_PHOTOSHOP = b"Photoshop 3.0\x00"
_IPTC_RESOURCE = 0x0404
_PNG_IMAGE_DATA = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
_PNG_KINDS = {
    b"tEXt": "png.text",
    b"zTXt": "png.text",
    b"iTXt": "png.text",
    b"tIME": "png.time",
    b"iCCP": "icc_profile",
    b"tRNS": "png.transparency",
}
_WEBP_IMAGE_DATA = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH"})
_WEBP_KINDS = {
    b"ICCP": "icc_profile",
    b"XMP ": "xmp",
    b"ANIM": "webp.animation",
    b"ANMF": "webp.animation",
}


class MalformedImage(ValueError):
    """The container structure is broken or truncated."""


@dataclass(slots=True)
class WebpLayout:
    """A WebP file's metadata kinds and how its pixels are coded."""

    kinds: Counter[str] = field(default_factory=Counter)
    lossless: bool = False


def jpeg_inventory(data: ByteSource) -> Counter[str]:
    """Metadata kinds in a JPEG: every APPn except a bare JFIF header, COM, extension
    segments, and bytes after EOI. Raises ``MalformedImage`` for a broken bitstream."""
    kinds: Counter[str] = Counter()
    try:
        for segment in iter_segments(data):
            kinds.update(_jpeg_segment_kinds(segment))
            if segment.marker == EOI and segment.end < len(data):
                kinds[TRAILING] += 1
    except JpegError as error:
        raise MalformedImage(str(error)) from None
    return kinds


def _jpeg_segment_kinds(segment: Segment) -> list[str]:
    marker, payload = segment.marker, segment.payload
    if marker in STANDALONE or marker in STRUCTURAL:
        return []
    if marker == COM:
        return ["jpeg.comment"]
    if not segment.is_app:
        return ["jpeg.other_segments"]  # reserved JPGn extensions
    if marker == APP0 and _is_bare_jfif(payload):
        return []
    if payload.startswith(b"Exif\x00"):
        return exif_kinds(payload[6:])
    if payload.startswith(_XMP):
        return ["xmp"]
    if payload.startswith(_XMP_EXTENSION):
        # Extended XMP is split into segments (GUID, full length, offset); count the
        # one at offset 0 only.
        offset_at = len(_XMP_EXTENSION) + 36
        return ["xmp"] if payload[offset_at : offset_at + 4] == b"\0\0\0\0" else []
    if payload.startswith(_ICC):
        return ["icc_profile"] if payload[len(_ICC) : len(_ICC) + 1] == b"\x01" else []
    if payload.startswith(_PHOTOSHOP):
        return ["iptc"] if _has_iptc(payload[len(_PHOTOSHOP) :]) else ["jpeg.app_segments"]
    return ["jpeg.app_segments"]


def _is_bare_jfif(payload: bytes) -> bool:
    """A JFIF APP0 of exactly 14 payload bytes: version, density, and no thumbnail."""
    return len(payload) == 14 and payload.startswith(b"JFIF\x00") and payload[12:14] == b"\0\0"


def _has_iptc(resources: bytes) -> bool:
    """Whether Photoshop image resource blocks include IPTC-NAA (ID 0x0404)."""
    pos = 0
    while pos + 12 <= len(resources) and resources[pos : pos + 4] == b"8BIM":
        resource_id = int.from_bytes(resources[pos + 4 : pos + 6], "big")
        name_length = resources[pos + 6]
        pos += 6 + ((name_length + 2) & ~1)  # Pascal string, padded to even length
        if pos + 4 > len(resources):
            break
        size = int.from_bytes(resources[pos : pos + 4], "big")
        if resource_id == _IPTC_RESOURCE:
            return True
        pos += 4 + size + (size & 1)
    return False


def png_inventory(data: ByteSource) -> Counter[str]:
    """Metadata kinds in a PNG: every chunk but IHDR, PLTE, IDAT and IEND, and bytes
    after IEND. Raises ``MalformedImage`` for a broken or truncated chunk stream."""
    kinds: Counter[str] = Counter()
    for chunk_type, start, end in _png_chunks(data):
        if chunk_type == b"IEND":
            if end < len(data):
                kinds[TRAILING] += 1
            break
        if chunk_type in _PNG_IMAGE_DATA:
            continue
        if chunk_type == b"eXIf":
            kinds.update(exif_kinds(bytes(data[start:end])))
        elif chunk_type == b"iTXt" and data[start : start + 18] == b"XML:com.adobe.xmp\x00":
            kinds["xmp"] += 1
        else:
            kinds[_PNG_KINDS.get(chunk_type, "png.other_chunks")] += 1
    return kinds


def _png_chunks(data: ByteSource) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, offset after the CRC) for each chunk up to IEND."""
    if data[: len(PNG_SIGNATURE)] != PNG_SIGNATURE:
        raise MalformedImage("not a PNG file")
    pos, size = len(PNG_SIGNATURE), len(data)
    while pos + 12 <= size:
        length, chunk_type = struct.unpack(">I4s", data[pos : pos + 8])
        start, end = pos + 8, pos + 12 + length
        if end > size:
            break
        yield chunk_type, start, end
        if chunk_type == b"IEND":
            return
        pos = end
    raise MalformedImage("PNG chunk stream is truncated")


def webp_inventory(data: ByteSource) -> WebpLayout:
    """Metadata kinds in a WebP (every RIFF chunk but VP8, VP8L, VP8X and ALPH, and
    bytes after the RIFF size) and whether it is lossless. Raises ``MalformedImage``."""
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise MalformedImage("not a WebP file")
    riff_end = 8 + int.from_bytes(data[4:8], "little")
    if riff_end > len(data) or riff_end < 12:
        raise MalformedImage("WebP file is truncated")
    layout = WebpLayout()
    pos = 12
    while pos < riff_end:
        if pos + 8 > riff_end:
            raise MalformedImage("WebP chunk header is truncated")
        fourcc = bytes(data[pos : pos + 4])
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        start, end = pos + 8, pos + 8 + length
        if end > riff_end:
            raise MalformedImage("WebP chunk runs past the end of the file")
        if fourcc == b"VP8L":
            layout.lossless = True
        if fourcc == b"EXIF":
            layout.kinds.update(exif_kinds(bytes(data[start:end])))
        elif fourcc not in _WEBP_IMAGE_DATA:
            layout.kinds[_WEBP_KINDS.get(fourcc, "webp.other_chunks")] += 1
        pos = end + (length & 1)
    if riff_end < len(data):
        layout.kinds[TRAILING] += 1
    return layout


def heic_inventory(info: Mapping[Any, object]) -> Counter[str]:
    """Metadata kinds pillow-heif found in a HEIC file's primary image (``Image.info``):
    EXIF, XMP, an ICC profile, and other metadata items, thumbnails and auxiliary
    (depth, matte) images, counted as ``heic.metadata``."""
    kinds: Counter[str] = Counter()
    exif = info.get("exif")
    if isinstance(exif, bytes | bytearray) and exif:
        payload = bytes(exif)
        kinds.update(exif_kinds(payload[6:] if payload.startswith(b"Exif\x00") else payload))
    if info.get("xmp"):
        kinds["xmp"] += 1
    if info.get("icc_profile"):
        kinds["icc_profile"] += 1
    for key in ("metadata", "thumbnails", "depth_images"):
        items = info.get(key)
        if isinstance(items, list | tuple) and items:
            kinds["heic.metadata"] += len(items)
    aux = info.get("aux")
    if isinstance(aux, Mapping) and aux:
        kinds["heic.metadata"] += len(aux)
    return kinds


__all__ = [
    "NOT_METADATA",
    "PNG_SIGNATURE",
    "TRAILING",
    "MalformedImage",
    "WebpLayout",
    "heic_inventory",
    "jpeg_inventory",
    "png_inventory",
    "webp_inventory",
]
