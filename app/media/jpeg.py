"""Walk the segments of a JPEG bitstream (ITU T.81, JFIF, EXIF) without decoding it.

``iter_segments`` yields every marker from SOI to EOI in order, with its offset and
payload; the entropy-coded data after each SOS is skipped (it belongs to the SOS
segment's ``end``). Callers decide what a segment means: the image sanitizer lists the
metadata an upload carried and checks that a cleaned file carries none; a lossless
stripper (such as the one for JPEGs inside PDFs) could copy the segments it keeps.

The walker reads, never writes, and works on ``bytes`` or an ``mmap`` of a file, so a
large upload is not copied into memory: only each segment's payload is sliced out.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass

ByteSource = bytes | mmap.mmap

SOI = 0xD8
EOI = 0xD9
SOS = 0xDA
COM = 0xFE
APP0 = 0xE0
APP15 = 0xEF
# Markers that stand alone, without a length field: TEM, RST0-RST7, SOI, EOI.
STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), SOI, EOI})
# The segments a decoder needs: SOF0-SOF15 (C4 is DHT, C8 is reserved, CC is DAC),
# SOS, DQT, DNL, DRI, DHP, EXP. Everything else (APPn, COM, JPGn) is optional.
STRUCTURAL = frozenset({*range(0xC0, 0xD0), SOS, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF}) - {0xC8}
# In entropy-coded data, 0xFF is followed by 0x00 (stuffing), RSTn or a fill 0xFF; any
# other byte after 0xFF starts the next marker.
_NEXT_MARKER = re.compile(rb"\xff(?![\x00\xd0-\xd7\xff])", re.DOTALL)


class JpegError(ValueError):
    """The bytes are not a whole JPEG bitstream this walker can follow."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One marker and its payload (the bytes after the 2-byte length field).

    ``offset`` is where the marker's 0xFF byte sits; ``end`` is the offset of the byte
    after the segment (for SOS, after its entropy-coded data).
    """

    marker: int
    offset: int
    end: int
    payload: bytes = b""

    @property
    def is_app(self) -> bool:
        """APP0-APP15: application data (JFIF, EXIF, XMP, ICC, IPTC, ...)."""
        return APP0 <= self.marker <= APP15

    @property
    def name(self) -> str:
        """A readable marker name, such as ``APP1``, ``COM`` or ``FFC0``."""
        if self.is_app:
            return f"APP{self.marker - APP0}"
        return _NAMES.get(self.marker, f"FF{self.marker:02X}")


_NAMES = {SOI: "SOI", EOI: "EOI", SOS: "SOS", COM: "COM", 0xDB: "DQT", 0xC4: "DHT"}


def iter_segments(data: ByteSource) -> Iterator[Segment]:
    """Yield the segments of ``data`` from SOI to EOI (both included).

    Bytes after EOI are not looked at: the caller compares the EOI segment's ``end``
    with ``len(data)`` to find a trailer. Raises ``JpegError`` when ``data`` does not
    start with SOI, a segment runs past the end, or the data ends before EOI.
    """
    end = len(data)
    if end < 2 or data[0] != 0xFF or data[1] != SOI:
        raise JpegError("not a JPEG bitstream")
    yield Segment(SOI, 0, 2)
    pos = 2
    while True:
        while pos + 1 < end and data[pos] == 0xFF and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes before a marker
        if pos + 2 > end or data[pos] != 0xFF:
            raise JpegError("JPEG bitstream is truncated or malformed")
        marker = data[pos + 1]
        if marker in STANDALONE:
            yield Segment(marker, pos, pos + 2)
            if marker == EOI:
                return
            if marker == SOI:
                raise JpegError("JPEG bitstream starts twice")
            pos += 2
            continue
        if pos + 4 > end:
            raise JpegError("JPEG bitstream is truncated")
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment_end = pos + 2 + length
        if length < 2 or segment_end > end:
            raise JpegError("JPEG segment runs past the end of the data")
        payload = data[pos + 4 : segment_end]
        if marker == SOS:
            segment_end = _scan_end(data, segment_end)
        yield Segment(marker, pos, segment_end, bytes(payload))
        pos = segment_end


def _scan_end(data: ByteSource, start: int) -> int:
    """Where the entropy-coded data that begins at ``start`` ends (the next marker).

    Kept apart so that no match object (which holds the buffer) outlives the search:
    an ``mmap`` cannot be closed while one exists.
    """
    found = _NEXT_MARKER.search(data, start)
    if found is None:
        raise JpegError("JPEG scan has no end")
    return found.start()


__all__ = [
    "APP0",
    "APP15",
    "COM",
    "EOI",
    "SOI",
    "SOS",
    "STANDALONE",
    "STRUCTURAL",
    "ByteSource",
    "JpegError",
    "Segment",
    "iter_segments",
]
