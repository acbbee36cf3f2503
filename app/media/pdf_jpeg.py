"""Strip metadata segments from a JPEG bitstream without touching the image data.

A lossless segment filter built on ``app.media.jpeg.iter_segments``: APP0-APP15 (JFIF,
EXIF with GPS and thumbnails, ICC, XMP, Photoshop/IPTC, Adobe, ...), COM and the
reserved JPGn extension segments are dropped; the tables (DQT, DHT, DAC, DRI, DNL),
frame and scan headers and the entropy-coded data (restart markers and stuffed bytes
included) are copied byte for byte, so the decoded pixels do not change. Anything after
EOI (trailers, appended files) is dropped.

Used for the JPEG images inside PDFs (``DCTDecode`` streams), where re-encoding would
lose quality; any other caller that must keep a JPEG's pixels exactly may use it too.
It does not decode pixels, so it cannot remove what lives *in* the pixels (a
sensor-noise fingerprint, a visible face or street sign).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.media.jpeg import COM, STANDALONE, STRUCTURAL, JpegError, iter_segments

APP14 = 0xEE

__all__ = ["JpegError", "StrippedJpeg", "strip_jpeg"]


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
        """Whether anything was dropped."""
        dropped = self.app_segments + self.comments + self.other_segments
        return dropped > 0 or self.trailing_bytes > 0


def strip_jpeg(data: bytes) -> StrippedJpeg:
    """Return ``data`` without APPn, COM, JPGn or trailing segments.

    The APP14 "Adobe" segment carries the colour transform a decoder needs for YCCK
    and RGB JPEGs; its value is returned as ``adobe_transform`` so that the caller can
    say it another way (a PDF's ``/DecodeParms /ColorTransform``). Raises
    ``JpegError`` for a bitstream without SOI, with a segment running past the end, or
    without EOI.
    """
    out = bytearray()
    result = StrippedJpeg(data=b"")
    end = 0
    for segment in iter_segments(data):
        end = segment.end
        if segment.is_app:
            result.app_segments += 1
            payload = segment.payload
            if segment.marker == APP14 and payload.startswith(b"Adobe") and len(payload) >= 12:
                result.adobe_transform = payload[11]
        elif segment.marker == COM:
            result.comments += 1
        elif segment.marker in STRUCTURAL or segment.marker in STANDALONE:
            out += data[segment.offset : segment.end]
        else:
            result.other_segments += 1
    result.trailing_bytes = len(data) - end
    result.data = bytes(out)
    return result
