"""Strip metadata segments from a JPEG bitstream without touching the image data.

A lossless segment filter: APP0-APP15 (JFIF, EXIF with GPS and thumbnails, ICC, XMP,
Photoshop/IPTC, Adobe, ...), COM and the reserved JPGn extension segments are dropped;
the tables (DQT, DHT, DAC, DRI, DNL), frame and scan headers and the entropy-coded data
are copied byte for byte, so the decoded pixels do not change. Anything after EOI
(trailers, appended files) is dropped.

Used for the JPEG images inside PDFs (``DCTDecode`` streams), where re-encoding would
lose quality; an image sanitizer may reuse it the same way. It does not decode pixels,
so it cannot remove what lives *in* the pixels (a sensor-noise fingerprint, a visible
face or street sign).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SOI = b"\xff\xd8"
_EOI = 0xD9
_SOS = 0xDA
_APP14 = 0xEE
_COM = 0xFE
# Markers that stand alone, without a length field: TEM, RST0-RST7, SOI, EOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), 0xD8, _EOI})
# Kept: SOF0-SOF15 (incl. DHT C4, DAC CC; C8 is reserved), DNL, DQT, DRI, DHP, EXP.
_KEPT = frozenset({*range(0xC0, 0xD0), 0xDB, 0xDC, 0xDD, 0xDE, 0xDF}) - {0xC8}
# In entropy-coded data, 0xFF is followed by 0x00 (stuffing), RSTn or fill 0xFF; any
# other byte after 0xFF is the next marker.
_NEXT_MARKER = re.compile(rb"\xff(?![\x00\xd0-\xd7\xff])", re.DOTALL)


class JpegError(ValueError):
    """The bytes are not a JPEG bitstream this walker can follow."""


@dataclass(slots=True)
class StrippedJpeg:
    """The cleaned bitstream and what was taken out of it (counts, never contents)."""

    data: bytes
    app_segments: int = 0
    comments: int = 0
    other_segments: int = 0  # reserved JPGn extensions and unknown markers
    trailing_bytes: int = 0  # after EOI
    adobe_transform: int | None = None  # APP14 colour transform (0, 1 or 2), if present

    @property
    def changed(self) -> bool:
        return bool(self.app_segments or self.comments or self.other_segments) or bool(
            self.trailing_bytes
        )


def strip_jpeg(data: bytes) -> StrippedJpeg:
    """Return ``data`` without APPn, COM, JPGn or trailing segments.

    The APP14 "Adobe" segment carries the colour transform a decoder needs for YCCK
    and RGB JPEGs; its value is returned as ``adobe_transform`` so that the caller can
    say it another way (a PDF's ``/DecodeParms /ColorTransform``). Raises
    ``JpegError`` for a bitstream without SOI, with a segment running past the end, or
    without EOI.
    """
    if not data.startswith(SOI):
        raise JpegError("not a JPEG bitstream")
    out = bytearray(SOI)
    result = StrippedJpeg(data=b"")
    pos, end = 2, len(data)
    while True:
        while pos < end and data[pos] == 0xFF and pos + 1 < end and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes before a marker
        if pos + 2 > end or data[pos] != 0xFF:
            raise JpegError("JPEG bitstream is truncated or malformed")
        code = data[pos + 1]
        if code == _EOI:
            out += data[pos : pos + 2]
            result.trailing_bytes = end - (pos + 2)
            break
        if code in _STANDALONE:
            out += data[pos : pos + 2]
            pos += 2
            continue
        if pos + 4 > end:
            raise JpegError("JPEG bitstream is truncated")
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment_end = pos + 2 + length
        if length < 2 or segment_end > end:
            raise JpegError("JPEG segment runs past the end of the data")
        if 0xE0 <= code <= 0xEF:
            result.app_segments += 1
            if code == _APP14 and data[pos + 4 : pos + 9] == b"Adobe" and length >= 14:
                result.adobe_transform = data[pos + 15]
        elif code == _COM:
            result.comments += 1
        elif code == _SOS:
            match = _NEXT_MARKER.search(data, segment_end)
            if match is None:
                raise JpegError("JPEG scan has no end")
            out += data[pos : match.start()]
            pos = match.start()
            continue
        elif code in _KEPT:
            out += data[pos:segment_end]
        else:
            result.other_segments += 1
        pos = segment_end
    result.data = bytes(out)
    return result


def has_metadata_segments(data: bytes) -> tuple[bool, bool]:
    """Whether a JPEG bitstream carries (APPn segments, COM segments).

    A read-only check for scanners; raises ``JpegError`` like ``strip_jpeg``.
    """
    stripped = strip_jpeg(data)
    return (
        stripped.app_segments > 0 or stripped.other_segments > 0 or stripped.trailing_bytes > 0,
        stripped.comments > 0,
    )
