"""Image sanitizer: dirty file in, clean file out, read back by independent checkers
(exiftool, a byte search for planted markers incl. inflated streams, and the
sanitizer's own structure scan), the pixels turned, converted and masked as promised."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.media.base import Options, sanitizer_for
from app.media.errors import MediaFault, MediaRefused
from app.media.limits import Limits
from app.media.report import Report
from app.media.sanitizers.images import ANIMATED, DAMAGED, TOO_LARGE, ImageSanitizer
from app.media.types import MediaType
from tests.media import checkers
from tests.media import dirty_images as dirty

NO_FACES = Options(detect_faces=False)
SANITIZER = ImageSanitizer()
EXIF_MARKERS = [
    "exif-description",
    "exif-artist",
    "exif-usercomment",
    "exif-makernote",
    "exif-gps",
]
EXIF_KINDS = {"exif", "exif.gps", "exif.maker_note"}
# exiftool groups a clean file may show: the file itself and its image header.
ALLOWED_GROUPS = {"ExifTool", "System", "File", "JFIF", "PNG", "RIFF", "Composite"}
FORBIDDEN_WORDS = ("GPS", "Comment", "Orientation", "Artist", "Profile", "Creator", "Warning")


@dataclass(frozen=True)
class Case:
    media_type: MediaType
    build: Callable[[], bytes]
    markers: list[str]
    removed: set[str]


CASES = {
    "jpeg": Case(
        MediaType.JPEG,
        dirty.dirty_jpeg,
        [
            *EXIF_MARKERS,
            "exif-thumbnail-com",
            "xmp",
            "iptc-caption",
            "iptc-byline",
            "iptc-city",
            "icc-description",
            "icc-copyright",
            "jpeg-app15",
            "jpeg-comment",
            "jpeg-trailer",
        ],
        EXIF_KINDS
        | {"exif.thumbnail", "xmp", "iptc", "icc_profile", "jpeg.comment"}
        | {"jpeg.app_segments", "trailing_data"},
    ),
    "png": Case(
        MediaType.PNG,
        dirty.dirty_png,
        [
            *EXIF_MARKERS,
            "png-text",
            "png-ztxt",  # only inside a zlib stream: proves the inflating checker works
            "png-itxt",
            "png-itxt-compressed",
            "png-xmp",
            "png-icc-description",  # compressed in iCCP
            "png-private",
            "png-trailer",
        ],
        EXIF_KINDS
        | {"png.text", "png.time", "png.other_chunks", "xmp", "icc_profile"}
        | {"trailing_data"},
    ),
    "webp-lossy": Case(
        MediaType.WEBP,
        dirty.dirty_webp,
        [*EXIF_MARKERS, "exif-thumbnail-com", "webp-xmp", "webp-icc-description"]
        + ["webp-chunk", "webp-trailer"],
        EXIF_KINDS
        | {"exif.thumbnail", "xmp", "icc_profile", "webp.other_chunks"}
        | {"trailing_data"},
    ),
    "webp-lossless": Case(
        MediaType.WEBP,
        lambda: dirty.dirty_webp(lossless=True),
        [*EXIF_MARKERS, "webp-xmp", "webp-icc-description", "webp-chunk", "webp-trailer"],
        EXIF_KINDS
        | {"exif.thumbnail", "xmp", "icc_profile", "webp.other_chunks"}
        | {"trailing_data"},
    ),
    "heic": Case(
        MediaType.HEIC,
        dirty.dirty_heic,
        [*EXIF_MARKERS, "heic-xmp", "heic-icc-description"],
        EXIF_KINDS | {"xmp", "icc_profile"},
    ),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def sanitize(
    source: Path, media_type: MediaType, options: Options = NO_FACES
) -> tuple[Path, Report]:
    """Run the sanitizer class directly; return the output and the report."""
    output_type = SANITIZER.output_type(media_type, options)
    destination = source.with_name(f"clean-{source.stem}{output_type.extension}")
    report = Report()
    SANITIZER.sanitize(source, destination, media_type, options, report)
    return destination, report


def assert_clean(path: Path, media_type: MediaType) -> None:
    """No marker in bytes or inflated streams, nothing but file facts for exiftool, no
    residue for the sanitizer's own scan, and the file opens as the expected format."""
    assert checkers.markers_in(path) == []
    tags = checkers.exiftool(path)
    assert checkers.MARKER_PREFIX.decode() not in json.dumps(tags)
    groups = {key.split(":", 1)[0] for key in tags if ":" in key}
    assert groups <= ALLOWED_GROUPS, groups - ALLOWED_GROUPS
    assert not [key for key in tags if any(word in key for word in FORBIDDEN_WORDS)]
    assert SANITIZER.residual_metadata(path, media_type) == []
    with Image.open(path) as image:
        assert image.format == {"image/jpeg": "JPEG", "image/png": "PNG"}.get(
            media_type.value, "WEBP"
        )
        assert not image.info.get("icc_profile")
        assert not image.info.get("exif")


@pytest.mark.parametrize("name", CASES)
def test_dirty_input_carries_every_marker(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    source = write(tmp_path, f"dirty-{name}", case.build())
    markers = [checkers.marker(slot) for slot in case.markers]
    assert checkers.markers_in(source, markers) == sorted(markers)


@pytest.mark.parametrize("name", CASES)
def test_sanitizer_removes_every_slot(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    source = write(tmp_path, f"dirty-{name}", case.build())
    before = sha256(source)
    output, report = sanitize(source, case.media_type)
    output_type = SANITIZER.output_type(case.media_type, NO_FACES)
    assert_clean(output, output_type)
    assert set(report.removed) == case.removed
    assert checkers.MARKER_PREFIX.decode() not in report.to_json()
    assert sha256(source) == before


@pytest.mark.parametrize("media_type", sorted(ImageSanitizer.media_types))
def test_registered_for_every_image_type(media_type: MediaType) -> None:
    assert isinstance(sanitizer_for(media_type), ImageSanitizer)


def test_missing_face_detector_is_a_fault_not_zero_faces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "app.media.detectors.faces", None)
    source = write(tmp_path, "photo.jpg", dirty.dirty_jpeg())
    with pytest.raises(MediaFault):
        sanitize(source, MediaType.JPEG, Options(detect_faces=True))


def test_heic_becomes_jpeg() -> None:
    assert SANITIZER.output_type(MediaType.HEIC, NO_FACES) is MediaType.JPEG
    for kept in (MediaType.JPEG, MediaType.PNG, MediaType.WEBP):
        assert SANITIZER.output_type(kept, NO_FACES) is kept


@pytest.mark.parametrize("name", CASES)
def test_pipeline_removes_every_slot(tmp_path: Path, name: str) -> None:
    pytest.importorskip("app.media.sniff")
    from app.media.pipeline import sanitize_file

    case = CASES[name]
    source = write(tmp_path, f"dirty-{name}", case.build())
    before = sha256(source)
    destination = tmp_path / "out" / "clean"
    report = sanitize_file(source, destination, NO_FACES)
    output_type = SANITIZER.output_type(case.media_type, NO_FACES)
    assert_clean(destination, output_type)
    assert report.output is not None
    assert report.output.media_type == output_type.value
    assert report.input is not None
    assert report.input.sha256 == before
    assert report.output.sha256 == sha256(destination)
    assert sha256(source) == before
    assert not list((tmp_path / "out").glob(".partial-*"))


def test_orientation_6_comes_out_upright(tmp_path: Path) -> None:
    source = write(tmp_path, "turned.jpg", dirty.dirty_jpeg())  # red block stored top-left
    output, _report = sanitize(source, MediaType.JPEG)
    with Image.open(output) as image:
        assert image.size == (60, 80)  # stored 80x60, shown rotated 90 degrees clockwise
        assert "exif" not in image.info
        rgb = image.convert("RGB")
        red_seen = rgb.getpixel((image.width - 6, 5))
        grey_seen = rgb.getpixel((5, 5))
    assert red_seen == pytest.approx((230, 20, 20), abs=25)  # top-right, for a viewer
    assert grey_seen == pytest.approx((128, 128, 128), abs=20)


def test_heic_rotation_is_applied(tmp_path: Path) -> None:
    source = write(tmp_path, "turned.heic", dirty.dirty_heic(orientation=6))
    output, _report = sanitize(source, MediaType.HEIC)
    with Image.open(output) as image:
        assert image.size == (60, 80)
        red_seen = image.convert("RGB").getpixel((image.width - 6, 5))
    assert red_seen == pytest.approx((230, 20, 20), abs=25)


def test_jpeg_mpo_keeps_only_the_primary_picture(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    primary, extra = Image.new("RGB", (64, 48), (200, 0, 0)), Image.new("RGB", (64, 48), "blue")
    primary.save(buffer, "MPO", save_all=True, append_images=[extra])
    source = write(tmp_path, "two.jpg", buffer.getvalue())
    output, report = sanitize(source, MediaType.JPEG)
    assert_clean(output, MediaType.JPEG)
    assert {"jpeg.app_segments", "trailing_data"} <= set(report.removed)  # MPF, 2nd picture
    with Image.open(output) as image:
        assert getattr(image, "n_frames", 1) == 1
        assert image.convert("RGB").getpixel((5, 5)) == pytest.approx((200, 0, 0), abs=6)


def test_icc_profile_is_applied_then_dropped(tmp_path: Path) -> None:
    swapped = dirty.icc_profile("swapped", swap_red_blue=True)
    stored = Image.new("RGB", (32, 32), (200, 30, 30))
    source = write(tmp_path, "wide.png", dirty.dirty_png(stored, icc=swapped))
    output, report = sanitize(source, MediaType.PNG)
    assert_clean(output, MediaType.PNG)
    assert "icc_profile" in report.removed
    with Image.open(output) as image:
        pixel = image.convert("RGB").getpixel((16, 16))
    assert pixel == pytest.approx((30, 30, 200), abs=4)  # what the profile meant


def test_icc_profile_in_jpeg_is_applied(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    swapped = dirty.icc_profile("swapped", swap_red_blue=True)
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, "JPEG", icc_profile=swapped)
    source = write(tmp_path, "wide.jpg", buffer.getvalue())
    output, _report = sanitize(source, MediaType.JPEG)
    assert_clean(output, MediaType.JPEG)
    with Image.open(output) as image:
        assert image.convert("RGB").getpixel((16, 16)) == pytest.approx((30, 30, 200), abs=10)


def with_hole(mode: str) -> Image.Image:
    """The asymmetric picture in ``mode``, with one fully transparent pixel."""
    image = dirty.asymmetric_image().convert("RGBA")
    image.putpixel((70, 50), (0, 0, 0, 0))
    return image.convert(mode)


@pytest.mark.parametrize(
    ("image", "media_type", "expected"),
    [
        pytest.param(dirty.asymmetric_image().convert("L"), MediaType.JPEG, "RGB", id="L"),
        pytest.param(dirty.asymmetric_image().convert("CMYK"), MediaType.JPEG, "RGB", id="CMYK"),
        pytest.param(dirty.asymmetric_image().convert("P"), MediaType.PNG, "RGB", id="P"),
        pytest.param(with_hole("P"), MediaType.PNG, "RGBA", id="P-transparent"),
        pytest.param(with_hole("LA"), MediaType.PNG, "RGBA", id="LA"),
        pytest.param(dirty.asymmetric_image().convert("1"), MediaType.PNG, "RGB", id="1"),
        pytest.param(Image.new("I;16", (80, 60), 40_000), MediaType.PNG, "RGB", id="I;16"),
    ],
)
def test_modes_become_rgb_or_rgba(
    tmp_path: Path, image: Image.Image, media_type: MediaType, expected: str
) -> None:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG" if media_type is MediaType.JPEG else "PNG")
    source = write(tmp_path, f"mode{media_type.extension}", buffer.getvalue())
    output, _report = sanitize(source, media_type)
    assert_clean(output, media_type)
    with Image.open(output) as clean:
        assert clean.mode == expected
        if image.mode == "I;16":
            assert clean.getpixel((5, 5)) == (156, 156, 156)  # 40000 * 255 / 65535, not clipped
        if expected == "RGBA":
            assert clean.getpixel((70, 50)) == (0, 0, 0, 0)


def rgba_with_hidden_colour() -> Image.Image:
    """Left half fully transparent but hiding red; right half opaque blue."""
    image = Image.new("RGBA", (40, 20), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (20, 0, 40, 20))
    return image


@pytest.mark.parametrize("media_type", [MediaType.PNG, MediaType.WEBP])
def test_transparency_is_kept_and_hides_nothing(tmp_path: Path, media_type: MediaType) -> None:
    buffer = io.BytesIO()
    save = {"lossless": True, "exact": True} if media_type is MediaType.WEBP else {}
    rgba_with_hidden_colour().save(buffer, media_type.name, **save)
    source = write(tmp_path, f"alpha{media_type.extension}", buffer.getvalue())
    output, _report = sanitize(source, media_type)
    assert_clean(output, media_type)
    with Image.open(output) as image:
        assert image.mode == "RGBA"
        assert image.getpixel((5, 5)) == (0, 0, 0, 0)  # the red under alpha 0 is gone
        assert image.getpixel((30, 5)) == (0, 0, 255, 255)


def test_opaque_alpha_is_dropped(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    dirty.asymmetric_image().convert("RGBA").save(buffer, "PNG")
    source = write(tmp_path, "opaque.png", buffer.getvalue())
    output, _report = sanitize(source, MediaType.PNG)
    with Image.open(output) as image:
        assert image.mode == "RGB"


def test_heic_transparency_becomes_white_in_jpeg(tmp_path: Path) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    rgba_with_hidden_colour().resize((80, 40)).save(buffer, "HEIF", quality=95)
    source = write(tmp_path, "alpha.heic", buffer.getvalue())
    output, _report = sanitize(source, MediaType.HEIC)
    assert_clean(output, MediaType.JPEG)
    with Image.open(output) as image:
        assert image.mode == "RGB"
        assert image.getpixel((10, 20)) == pytest.approx((255, 255, 255), abs=8)


def animated(format_name: str) -> bytes:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format_name, save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    data = dirty.dirty_jpeg(dirty.asymmetric_image((400, 300)))
    return data[: len(data) // 2]


def truncated_png() -> bytes:
    buffer = io.BytesIO()
    dirty.asymmetric_image().save(buffer, "PNG")
    return buffer.getvalue()[:-20]


@pytest.mark.parametrize(
    ("data", "media_type", "options", "reason"),
    [
        pytest.param(animated("PNG"), MediaType.PNG, NO_FACES, ANIMATED, id="animated-png"),
        pytest.param(animated("WEBP"), MediaType.WEBP, NO_FACES, ANIMATED, id="animated-webp"),
        pytest.param(
            dirty.dirty_jpeg(),
            MediaType.JPEG,
            Options(detect_faces=False, limits=Limits(max_pixels=1000)),
            TOO_LARGE,
            id="bomb",
        ),
        pytest.param(
            dirty.dirty_png(),
            MediaType.PNG,
            Options(detect_faces=False, limits=Limits(max_pixels=3000)),
            TOO_LARGE,
            id="bomb-within-2x",  # Pillow only warns below twice its limit: checked anew
        ),
        pytest.param(truncated_jpeg(), MediaType.JPEG, NO_FACES, DAMAGED, id="truncated-jpeg"),
        pytest.param(truncated_png(), MediaType.PNG, NO_FACES, DAMAGED, id="truncated-png"),
        pytest.param(b"\xff\xd8\xff\xfe\x00", MediaType.JPEG, NO_FACES, DAMAGED, id="stub-jpeg"),
        pytest.param(b"RIFF\0\0\0\0WEBP", MediaType.WEBP, NO_FACES, DAMAGED, id="stub-webp"),
    ],
)
def test_refusals_are_plain_sentences(
    tmp_path: Path, data: bytes, media_type: MediaType, options: Options, reason: str
) -> None:
    source = write(tmp_path, "hostile", data)
    destination = tmp_path / "clean"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # as in production
        with pytest.raises(MediaRefused) as refused:
            SANITIZER.sanitize(source, destination, media_type, options, Report())
    assert refused.value.reason == reason
    assert not destination.exists()
    assert source.read_bytes() == data


def astronaut() -> Path:
    spec = importlib.util.find_spec("skimage")  # locates the wheel without importing it
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-image's wheel (test data) is not installed")
    path = Path(spec.submodule_search_locations[0]) / "data" / "astronaut.png"
    if not path.exists():
        pytest.skip("astronaut.png is not in this scikit-image wheel")
    return path


def test_faces_are_reported(tmp_path: Path) -> None:
    pytest.importorskip("app.media.detectors.faces")
    source = write(tmp_path, "astronaut.png", astronaut().read_bytes())
    _output, report = sanitize(source, MediaType.PNG, Options(detect_faces=True))
    assert len(report.faces) >= 1
    face = report.faces[0]
    x, y, w, h = face.box
    assert 0 <= x < x + w <= 512
    assert 0 <= y < y + h <= 512
    assert face.score > 0.2
    assert not face.masked
    assert "faces_masked" not in report.anonymised


def test_face_boxes_are_in_output_coordinates(tmp_path: Path) -> None:
    pytest.importorskip("app.media.detectors.faces")
    with Image.open(astronaut()) as image:
        upright = image.convert("RGB")
    plain, rotated = io.BytesIO(), io.BytesIO()
    upright.save(plain, "JPEG", quality=95)
    exif = b"Exif\0\0" + dirty.build_tiff([dirty.Entry(0x0112, dirty.SHORT, 6)])
    upright.transpose(Image.Transpose.ROTATE_90).save(rotated, "JPEG", quality=95, exif=exif)
    boxes = []
    for name, data in (("plain.jpg", plain), ("rotated.jpg", rotated)):
        _output, report = sanitize(
            write(tmp_path, name, data.getvalue()), MediaType.JPEG, Options()
        )
        boxes.append(np.array(report.faces[0].box, dtype=float))
    assert np.abs(boxes[0] - boxes[1]).max() < 12


def test_masked_faces_differ_heavily(tmp_path: Path) -> None:
    pytest.importorskip("app.media.detectors.faces")
    pytest.importorskip("app.media.anonymise")
    source = write(tmp_path, "astronaut.png", astronaut().read_bytes())
    output, report = sanitize(source, MediaType.PNG, Options(mask_faces=True))
    assert report.faces
    assert all(face.masked for face in report.faces)
    assert report.anonymised["faces_masked"] == len(report.faces)
    assert_clean(output, MediaType.PNG)
    x, y, w, h = report.faces[0].box
    with Image.open(source) as before, Image.open(output) as after:
        original = np.asarray(before.convert("RGB"), dtype=float)[y : y + h, x : x + w]
        masked = np.asarray(after.convert("RGB"), dtype=float)[y : y + h, x : x + w]
        outside = np.abs(
            np.asarray(before.convert("RGB"), dtype=float)[:, :40]
            - np.asarray(after.convert("RGB"), dtype=float)[:, :40]
        )
    # Pixelation flattens the face: its fine detail (local gradient) is gone...
    assert np.abs(np.diff(masked, axis=1)).mean() < 0.5 * np.abs(np.diff(original, axis=1)).mean()
    assert np.abs(original - masked).mean() > 8
    assert outside.max() == 0  # ...and PNG leaves the rest of the picture exactly as it was
