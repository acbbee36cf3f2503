"""The lossless JPEG segment stripper used for images inside PDFs."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from app.media.pdf_jpeg import JpegError, strip_jpeg
from tests.media.checkers import MARKER_PREFIX, marker


def _segment(code: int, payload: bytes) -> bytes:
    return bytes([0xFF, code]) + struct.pack(">H", len(payload) + 2) + payload


def _jpeg(**options: object) -> bytes:
    rng = np.random.default_rng(7)
    pixels = (rng.random((64, 80, 3)) * 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x013B] = marker("artist")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(
        buffer,
        "JPEG",
        quality=90,
        exif=exif.tobytes(),
        comment=marker("comment").encode(),
        **options,  # type: ignore[arg-type]
    )
    return buffer.getvalue()


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


OPTIONS: dict[str, dict[str, object]] = {
    "baseline": {},
    "restart-markers": {"restart_marker_blocks": 1},
    "progressive": {"progressive": True},
    "progressive-restarts": {"progressive": True, "restart_marker_rows": 1},
}


@pytest.mark.parametrize("kind", sorted(OPTIONS))
def test_metadata_goes_and_pixels_stay(kind: str) -> None:
    original = _jpeg(**OPTIONS[kind])
    dirty = original + b"appended " + marker("trailer").encode()
    stripped = strip_jpeg(dirty)
    assert MARKER_PREFIX not in stripped.data
    assert (stripped.app_segments, stripped.comments) == (2, 1)  # JFIF + EXIF, COM
    assert stripped.trailing_bytes == len(dirty) - len(original)
    assert stripped.data.endswith(b"\xff\xd9")
    assert np.array_equal(_pixels(stripped.data), _pixels(original))


def test_segments_between_progressive_scans_go() -> None:
    data = _jpeg(progressive=True)
    second_scan = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    comment = _segment(0xFE, marker("between-scans").encode())
    app = _segment(0xE5, marker("app5").encode())
    dirty = data[:second_scan] + comment + app + data[second_scan:]
    stripped = strip_jpeg(dirty)
    assert MARKER_PREFIX not in stripped.data
    assert (stripped.app_segments, stripped.comments) == (3, 2)
    assert np.array_equal(_pixels(stripped.data), _pixels(data))


def test_adobe_transform_is_reported() -> None:
    stripped = strip_jpeg(_jpeg(keep_rgb=True))
    assert stripped.adobe_transform == 0
    assert strip_jpeg(_jpeg()).adobe_transform is None


def test_stripping_is_idempotent() -> None:
    once = strip_jpeg(_jpeg())
    twice = strip_jpeg(once.data)
    assert twice.data == once.data
    assert not twice.changed


@pytest.mark.parametrize(
    "data",
    [b"", b"not a jpeg", _jpeg()[:-300], _jpeg()[:40], b"\xff\xd8\xff\xe1\xff\xff"],
    ids=["empty", "text", "no-eoi", "cut-in-header", "segment-past-end"],
)
def test_damaged_bitstreams_raise(data: bytes) -> None:
    with pytest.raises(JpegError):
        strip_jpeg(data)
