"""The structure scans behind the image report and the residue check: the JPEG segment
walker, the EXIF part finder, and the PNG/WebP/JPEG inventories. A residue check that
finds nothing because it looks at nothing would pass every clean-output test, so each
slot is planted into a clean file here and must be found."""

from __future__ import annotations

import io
import itertools
import struct
from pathlib import Path

import pytest
from PIL import Image

from app.media.exif import exif_kinds
from app.media.image_structure import (
    MalformedImage,
    jpeg_inventory,
    png_inventory,
    webp_inventory,
)
from app.media.jpeg import EOI, SOI, SOS, JpegError, iter_segments
from app.media.sanitizers.images import ImageSanitizer
from app.media.types import MediaType
from tests.media import dirty_images as dirty


def encoded(format_name: str, mode: str = "RGB", **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (24, 16), (10, 120, 200)).save(buffer, format_name, **options)
    return buffer.getvalue()


def after_first_segment(data: bytes, segment: bytes) -> bytes:
    """``segment`` inserted after the JPEG's first segment (APP0 JFIF)."""
    end = 4 + struct.unpack_from(">H", data, 4)[0]
    return data[:end] + segment + data[end:]


def after_ihdr(data: bytes, chunk: bytes) -> bytes:
    return data[:33] + chunk + data[33:]


def test_walker_yields_soi_to_eoi_with_scan_data() -> None:
    data = encoded("JPEG", quality=80, progressive=True, restart_marker_blocks=1)
    segments = list(iter_segments(data))
    assert segments[0].marker == SOI
    assert segments[-1].marker == EOI
    assert segments[-1].end == len(data)
    scans = [segment for segment in segments if segment.marker == SOS]
    assert len(scans) > 1  # progressive: several scans, each skipped to its end
    assert all(later.offset == earlier.end for earlier, later in itertools.pairwise(segments))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x89PNG", id="not-jpeg"),
        pytest.param(encoded("JPEG")[:-2], id="no-eoi"),
        pytest.param(encoded("JPEG")[:30], id="cut-in-a-segment"),
        pytest.param(b"\xff\xd8\xff\xe1\x00\x01", id="bad-length"),
        pytest.param(b"\xff\xd8\xff\xd8", id="second-soi"),
    ],
)
def test_walker_refuses_broken_bitstreams(data: bytes) -> None:
    with pytest.raises(JpegError):
        list(iter_segments(data))


def test_exif_parts_are_named() -> None:
    assert exif_kinds(dirty.dirty_exif()) == [
        "exif",
        "exif.gps",
        "exif.maker_note",
        "exif.thumbnail",
    ]
    assert exif_kinds(dirty.build_tiff([dirty.Entry(0x010F, dirty.ASCII, b"x\0")])) == ["exif"]
    assert exif_kinds(b"garbage") == ["exif"]
    assert exif_kinds(b"MM\x00*\xff\xff\xff\xff") == ["exif"]  # IFD offset out of range


CLEAN_JPEG = encoded("JPEG")


@pytest.mark.parametrize(
    ("data", "kinds"),
    [
        pytest.param(CLEAN_JPEG, [], id="clean"),
        pytest.param(
            after_first_segment(CLEAN_JPEG, dirty.jpeg_segment(0xFE, b"hi")),
            ["jpeg.comment"],
            id="com",
        ),
        pytest.param(
            after_first_segment(CLEAN_JPEG, dirty.jpeg_segment(0xE1, b"Exif\0\0MM\0*")),
            ["exif"],
            id="exif",
        ),
        pytest.param(
            after_first_segment(
                CLEAN_JPEG, dirty.jpeg_segment(0xE0, b"JFXX\0\x10" + b"\xff\xd8\xff\xd9")
            ),
            ["jpeg.app_segments"],
            id="jfxx-thumbnail",
        ),
        pytest.param(
            CLEAN_JPEG[:2]
            + dirty.jpeg_segment(0xE0, b"JFIF\0\1\1\0\0\1\0\1\1\1" + b"\0" * 3)
            + CLEAN_JPEG[20:],
            ["jpeg.app_segments"],
            id="jfif-with-thumbnail",
        ),
        pytest.param(
            after_first_segment(
                CLEAN_JPEG,
                dirty.jpeg_segment(0xE2, b"ICC_PROFILE\0\1\2" + b"a" * 10)
                + dirty.jpeg_segment(0xE2, b"ICC_PROFILE\0\2\2" + b"b" * 10),
            ),
            ["icc_profile"],  # one profile in two segments
            id="icc",
        ),
        pytest.param(
            after_first_segment(CLEAN_JPEG, dirty.jpeg_segment(0xF1, b"JPG1")),
            ["jpeg.other_segments"],
            id="jpgn",
        ),
        pytest.param(CLEAN_JPEG + b"\0", ["trailing_data"], id="trailer"),
    ],
)
def test_jpeg_inventory_finds_each_slot(data: bytes, kinds: list[str]) -> None:
    assert sorted(jpeg_inventory(data)) == kinds


CLEAN_PNG = encoded("PNG")


@pytest.mark.parametrize(
    ("data", "kinds"),
    [
        pytest.param(CLEAN_PNG, [], id="clean"),
        pytest.param(
            after_ihdr(CLEAN_PNG, dirty.png_chunk(b"tEXt", b"a\0b")), ["png.text"], id="text"
        ),
        pytest.param(
            after_ihdr(CLEAN_PNG, dirty.png_chunk(b"sRGB", b"\0")), ["png.other_chunks"], id="srgb"
        ),
        pytest.param(
            after_ihdr(CLEAN_PNG, dirty.png_chunk(b"pHYs", b"\0" * 9)),
            ["png.other_chunks"],
            id="phys",
        ),
        pytest.param(
            after_ihdr(CLEAN_PNG, dirty.png_chunk(b"tIME", b"\0" * 7)), ["png.time"], id="time"
        ),
        pytest.param(CLEAN_PNG + b"x", ["trailing_data"], id="trailer"),
    ],
)
def test_png_inventory_finds_each_slot(data: bytes, kinds: list[str]) -> None:
    assert sorted(png_inventory(data)) == kinds


def test_png_inventory_refuses_a_cut_file() -> None:
    with pytest.raises(MalformedImage):
        png_inventory(CLEAN_PNG[:-12])


def test_webp_inventory_finds_each_slot() -> None:
    assert sorted(webp_inventory(encoded("WEBP")).kinds) == []
    assert webp_inventory(encoded("WEBP", lossless=True)).lossless
    assert not webp_inventory(encoded("WEBP", quality=80)).lossless
    marked = encoded("WEBP", exif=b"MM\0*\0\0\0\x08\0\0\0\0\0\0", xmp=b"<x/>")
    assert sorted(webp_inventory(marked).kinds) == ["exif", "xmp"]
    assert sorted(webp_inventory(encoded("WEBP") + b"tail").kinds) == ["trailing_data"]
    with pytest.raises(MalformedImage):
        webp_inventory(encoded("WEBP")[:-4])


@pytest.mark.parametrize(
    ("media_type", "data"),
    [
        (MediaType.JPEG, after_first_segment(CLEAN_JPEG, dirty.jpeg_segment(0xFE, b"hi"))),
        (MediaType.PNG, after_ihdr(CLEAN_PNG, dirty.png_chunk(b"iTXt", b"k\0\0\0\0\0v"))),
        (MediaType.WEBP, encoded("WEBP", icc_profile=dirty.icc_profile())),
    ],
)
def test_residual_metadata_reports_what_is_left(
    tmp_path: Path, media_type: MediaType, data: bytes
) -> None:
    path = tmp_path / f"left{media_type.extension}"
    path.write_bytes(data)
    assert ImageSanitizer().residual_metadata(path, media_type) != []
