"""Gallery renditions: real sanitized files go in (images with metadata planted in
every slot, a Pillow-made PDF, videos made with PyAV and FFmpeg), and every rendition
is read back: its type sniffed from the bytes, its structure scanned for metadata, its
bytes searched for planted markers, its size and pixels checked."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from app.media import derivatives
from app.media.base import Options
from app.media.derivatives import WIDTHS, Derivative, make_derivatives, target_widths
from app.media.errors import MediaFault, MediaRefused
from app.media.limits import Limits
from app.media.pipeline import residual_metadata, sanitize_file
from app.media.sniff import sniff
from app.media.types import Family, MediaType
from tests.media import checkers
from tests.media import dirty_images as dirty
from tests.media.checkers import marker
from tests.media.dirty_av import BUILDERS

QUIET = Options(detect_faces=False, detect_speech=False)
PAGE_COLOURS = [(200, 40, 40), (40, 160, 60), (40, 60, 200)]
PAGE_SIZES = [(600, 800), (800, 600), (300, 420)]  # points: portrait, landscape, small
VIDEO_SIZE = (800, 600)
VIDEO_RATE = 10
VIDEO_FRAMES = 30  # 3 s: the poster is at 10 % of that, frame 3


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def clean(folder: Path, data: bytes, name: str) -> Path:
    """The upload ``data`` as the sanitizer writes it (what publication works on)."""
    upload = folder / f"upload-{name}"
    upload.write_bytes(data)
    out = folder / f"clean-{name}"
    sanitize_file(upload, out, QUIET)
    return out


def make(
    source: Path, media_type: MediaType, out_dir: Path, widths: tuple[int, ...] = WIDTHS
) -> list[Derivative]:
    """Make the renditions, checking that the source is left as it was."""
    before = sha256(source)
    made = make_derivatives(source, media_type, out_dir, widths=widths)
    assert sha256(source) == before, "the source was modified"
    return made


def check(
    made: list[Derivative], out_dir: Path, size: tuple[int, int], *, role: str, page: int = 0
) -> dict[int, dict[MediaType, Derivative]]:
    """Every rendition of one picture ``size`` (width, height) is sound; returns them
    by width and format."""
    by_width: dict[int, dict[MediaType, Derivative]] = {}
    for item in made:
        assert (item.role, item.page) == (role, page)
        assert item.path.parent == out_dir
        assert item.path.name == f"{role}-{page}-{item.width}{item.media_type.extension}"
        assert sniff(item.path, Limits()) is item.media_type
        assert residual_metadata(item.path, item.media_type) == []
        assert residual_metadata(item.path) == []
        assert checkers.markers_in(item.path) == []
        with Image.open(item.path) as image:
            assert image.size == (item.width, item.height)
            assert "exif" not in image.info
            assert "icc_profile" not in image.info
            assert "xmp" not in image.info
            assert "comment" not in image.info
            if item.media_type is MediaType.JPEG:
                assert image.mode == "RGB"
                assert image.info.get("progressive") == 1
        assert item.width <= size[0]
        assert abs(item.height - item.width * size[1] / size[0]) <= 1
        by_width.setdefault(item.width, {})[item.media_type] = item
    assert sorted(by_width) == target_widths(size[0], WIDTHS)
    for formats in by_width.values():
        assert set(formats) == {MediaType.WEBP, MediaType.JPEG}
    return by_width


def no_partials(out_dir: Path) -> None:
    assert not [p for p in out_dir.iterdir() if p.name.startswith(".partial-")]


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float64)


def detailed(size: tuple[int, int]) -> Image.Image:
    """A picture with detail (gradients, a red block top-left) to survive the resizes."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], -1)
    image = Image.fromarray(rgb.astype(np.uint8), "RGB")
    image.paste((230, 20, 20), (0, 0, width // 4, height // 3))
    return image


# --- which widths ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("own", "expected"),
    [
        (4000, [320, 640, 1024, 1600]),
        (1600, [320, 640, 1024, 1600]),
        (1500, [320, 640, 1024, 1500]),
        (500, [320, 500]),
        (320, [320]),
        (200, [200]),
        (1, [1]),
    ],
)
def test_target_widths_never_upscale(own: int, expected: list[int]) -> None:
    assert target_widths(own, WIDTHS) == expected


@pytest.mark.parametrize("widths", [(), (0, 320), (-5,)])
def test_unusable_widths_are_a_programming_error(widths: tuple[int, ...], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="widths"):
        make_derivatives(tmp_path / "x.jpg", MediaType.JPEG, tmp_path / "out", widths=widths)


# --- images ----------------------------------------------------------------------------


def test_jpeg_with_every_kind_of_metadata(tmp_path: Path) -> None:
    """A dirty 2000x1500 JPEG with Orientation 6 is cleaned upright (1500x2000): its
    renditions stop at its own width and carry nothing of the upload."""
    source = clean(tmp_path, dirty.dirty_jpeg(detailed((2000, 1500))), "photo.jpg")
    out_dir = tmp_path / "out"
    made = make(source, MediaType.JPEG, out_dir)
    by_width = check(made, out_dir, (1500, 2000), role="image")
    assert sorted(by_width) == [320, 640, 1024, 1500]
    assert len(made) == 8
    assert sorted(out_dir.iterdir()) == sorted(item.path for item in made)
    # Upright as the cleaned file: the red block moved to the top-right corner.
    for item in by_width[640].values():
        picture = pixels(item.path)
        top_right = picture[: 640 // 4, -640 // 4 :].mean(axis=(0, 1))
        assert top_right[0] > 180
        assert top_right[1] < 80


def test_large_jpeg_is_decoded_at_reduced_scale(tmp_path: Path) -> None:
    """4000 px wide: decoded at half size, still giving the full 1600 px rendition with
    the picture's colours in place."""
    source = tmp_path / "big.jpg"
    detailed((4000, 3000)).save(source, quality=90)
    out_dir = tmp_path / "out"
    by_width = check(make(source, MediaType.JPEG, out_dir), out_dir, (4000, 3000), role="image")
    assert sorted(by_width) == list(WIDTHS)
    large = pixels(by_width[1600][MediaType.JPEG].path)
    reference = np.asarray(detailed((4000, 3000)).resize((1600, 1200)), dtype=np.float64)
    assert np.abs(large - reference).mean() < 4


def test_png_with_alpha(tmp_path: Path) -> None:
    """Transparency stays in the WebP and is white in the JPEG."""
    rgba = Image.new("RGBA", (500, 300), (30, 90, 200, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 250, 300))  # left half fully transparent
    source = clean(tmp_path, dirty.dirty_png(rgba), "alpha.png")
    out_dir = tmp_path / "out"
    by_width = check(make(source, MediaType.PNG, out_dir), out_dir, (500, 300), role="image")
    assert sorted(by_width) == [320, 500]
    for width, formats in by_width.items():
        with Image.open(formats[MediaType.WEBP].path) as webp:
            assert webp.mode == "RGBA"
            alpha = np.asarray(webp.getchannel("A"))
            assert alpha[:, : width // 4].max() == 0
            assert alpha[:, -width // 4 :].min() == 255
        jpeg = pixels(formats[MediaType.JPEG].path)
        assert jpeg[:, : width // 4].min() > 245
        assert np.abs(jpeg[:, -width // 4 :].mean(axis=(0, 1)) - (30, 90, 200)).max() < 6


def test_small_webp_gives_one_width(tmp_path: Path) -> None:
    source = clean(tmp_path, dirty.dirty_webp(detailed((200, 150))), "small.webp")
    out_dir = tmp_path / "out"
    made = make(source, MediaType.WEBP, out_dir)
    assert sorted(check(made, out_dir, (200, 150), role="image")) == [200]
    assert len(made) == 2


def test_widths_can_be_chosen(tmp_path: Path) -> None:
    source = tmp_path / "plain.png"
    detailed((250, 100)).save(source)
    out_dir = tmp_path / "out"
    made = make(source, MediaType.PNG, out_dir, widths=(400, 100, 200, 100))
    assert sorted({item.width for item in made}) == [100, 200, 250]
    assert {(item.width, item.height) for item in made} == {(100, 40), (200, 80), (250, 100)}


# --- PDF pages -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three pages (portrait, landscape, small) of three colours, made with Pillow and
    carrying title and author markers, then sanitized."""
    folder = tmp_path_factory.mktemp("pdf")
    pages = [
        Image.new("RGB", size, colour)
        for size, colour in zip(PAGE_SIZES, PAGE_COLOURS, strict=True)
    ]
    for image in pages:
        image.paste((255, 255, 255), (0, 0, image.width // 5, image.height // 5))
    upload = folder / "zine.pdf"
    pages[0].save(
        upload,
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=72.0,
        title=marker("pdf-title"),
        author=marker("pdf-author"),
    )
    assert checkers.markers_in(upload)
    out = folder / "clean.pdf"
    sanitize_file(upload, out, QUIET)
    return out


def test_pdf_pages(clean_pdf: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    made = make(clean_pdf, MediaType.PDF, out_dir)
    assert sorted({item.page for item in made}) == [0, 1, 2]
    for index, (size, colour) in enumerate(zip(PAGE_SIZES, PAGE_COLOURS, strict=True)):
        page = [item for item in made if item.page == index]
        rendered = (1600, round(1600 * size[1] / size[0]))  # each page is ~1600 px wide
        by_width = check(page, out_dir, rendered, role="page", page=index)
        assert sorted(by_width) == list(WIDTHS)
        for item in by_width[640].values():
            picture = pixels(item.path)
            height = picture.shape[0]
            body = picture[height // 2 :, 640 // 2 :].mean(axis=(0, 1))
            assert np.abs(body - colour).max() < 8, f"page {index} is not in its place"
    no_partials(out_dir)


def test_pdf_pages_are_capped(
    clean_pdf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(derivatives, "MAX_PAGES", 2)
    made = make(clean_pdf, MediaType.PDF, tmp_path / "out", widths=(320,))
    assert sorted((item.page, item.media_type) for item in made) == [
        (0, MediaType.JPEG),
        (0, MediaType.WEBP),
        (1, MediaType.JPEG),
        (1, MediaType.WEBP),
    ]


# --- video posters ---------------------------------------------------------------------


def frame_level(index: int) -> int:
    """The grey level of the right half of frame ``index``: which frame a poster is."""
    return 30 + 6 * index


def video_frames() -> list[np.ndarray]:
    width, height = VIDEO_SIZE
    y, x = np.mgrid[0:height, 0 : width // 2]
    left = np.stack([x * 255 // (width // 2), y * 255 // height, np.full_like(x, 128)], -1)
    frames = []
    for index in range(VIDEO_FRAMES):
        right = np.full((height, width // 2, 3), frame_level(index))
        frames.append(np.concatenate([left, right], axis=1).astype(np.uint8))
    return frames


@pytest.fixture(scope="module")
def clean_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seconds of H.264 made with PyAV (800x600, 10 fps), then sanitized."""
    folder = tmp_path_factory.mktemp("video")
    upload = folder / "upload.mp4"
    with av.open(str(upload), "w") as container:
        stream = container.add_stream("libx264", rate=VIDEO_RATE)
        stream.width, stream.height, stream.pix_fmt = *VIDEO_SIZE, "yuv420p"
        stream.codec_context.options = {"crf": "12", "preset": "ultrafast"}
        for rgb in video_frames():
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    out = folder / "clean.mp4"
    sanitize_file(upload, out, QUIET)
    return out


def test_video_poster(clean_video: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    made = make(clean_video, MediaType.MP4, out_dir)
    by_width = check(made, out_dir, VIDEO_SIZE, role="poster")
    assert sorted(by_width) == [320, 640, 800]
    for item in by_width[800].values():
        picture = pixels(item.path)
        assert picture.std() > 20, "the poster is a blank picture"
        right = picture[:, 800 // 2 + 8 :].mean()
        assert abs(right - frame_level(3)) < 3, "the poster is not the frame at 0.3 s"


def test_poster_of_a_one_frame_video(tmp_path: Path) -> None:
    source = tmp_path / "still.mp4"
    with av.open(str(source), "w") as container:
        stream = container.add_stream("libx264", rate=VIDEO_RATE)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        rgb = np.asarray(detailed((320, 240)))
        container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    made = make(source, MediaType.MP4, tmp_path / "out")
    check(made, tmp_path / "out", (320, 240), role="poster")
    assert pixels(made[0].path)[:40, :40].mean(axis=(0, 1))[0] > 180


@pytest.fixture
def needs_ffmpeg() -> None:
    """The test builds its input with the ffmpeg command: skipped where it is missing,
    failed on CI, which installs it."""
    if shutil.which("ffmpeg") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("ffmpeg is not installed; .ci/run installs it")
        pytest.skip("ffmpeg not installed (Debian package ffmpeg)")


@pytest.mark.usefixtures("needs_ffmpeg")
@pytest.mark.parametrize("kind", ["mp4", "mov", "webm"])
def test_poster_of_dirty_videos(kind: str, tmp_path: Path) -> None:
    """FFmpeg's dirty videos (tags, SEI, chapters, subtitles, XMP: all with markers)."""
    build, mime = BUILDERS[kind]
    media_type = MediaType(mime)
    source = tmp_path / f"clean{media_type.extension}"
    sanitize_file(build(tmp_path), source, QUIET)
    out_dir = tmp_path / "out"
    made = make(source, media_type, out_dir)
    check(made, out_dir, (320, 240), role="poster")
    assert pixels(made[0].path).std() > 20


@pytest.mark.usefixtures("needs_ffmpeg")
def test_poster_is_turned_upright(clean_video: Path, tmp_path: Path) -> None:
    """A video flagged to be shown turned a quarter (as phones do) keeps the flag
    through sanitizing; its poster is turned as players (here FFmpeg) show it."""
    from tests.media.dirty_av import ffmpeg

    flagged = tmp_path / "flagged.mp4"
    ffmpeg("-i", clean_video, "-c", "copy", "-metadata:s:v:0", "rotate=90", flagged)
    source = tmp_path / "clean.mp4"
    sanitize_file(flagged, source, QUIET)
    with av.open(str(source)) as container:
        assert next(container.decode(video=0)).rotation != 0
    reference = tmp_path / "reference.png"
    ffmpeg("-i", source, "-frames:v", "1", reference)  # FFmpeg turns it as players do
    out_dir = tmp_path / "out"
    made = make(source, MediaType.MP4, out_dir)
    by_width = check(made, out_dir, (600, 800), role="poster")
    poster = pixels(by_width[600][MediaType.JPEG].path)
    with Image.open(reference) as image:
        assert image.size == (600, 800)
        expected = np.asarray(image.convert("RGB"), dtype=np.float64)
    # One half is the same gradient in every frame: it must match FFmpeg's picture. The
    # other, flat grey, is brighter in the poster (frame 3, not frame 0).
    halves = [slice(0, 400), slice(400, 800)]
    flat = min(halves, key=lambda rows: float(expected[rows].std()))
    still = halves[1 - halves.index(flat)]
    assert np.abs(poster[still] - expected[still]).mean() < 3
    assert np.abs(poster[still] - expected[::-1, ::-1][still]).mean() > 30  # turned the other way
    assert poster[flat].mean() - expected[flat].mean() == pytest.approx(
        frame_level(3) - frame_level(0), abs=3
    )


# --- nothing to render, and refusals ---------------------------------------------------


@pytest.mark.parametrize(
    "media_type", [t for t in MediaType if t.family in (Family.AUDIO, Family.TEXT)]
)
def test_audio_and_text_have_no_renditions(media_type: MediaType, tmp_path: Path) -> None:
    source = tmp_path / "file"
    source.write_bytes(b"anything")
    assert make_derivatives(source, media_type, tmp_path / "out") == []
    assert not (tmp_path / "out").exists()


def test_heic_never_reaches_publication(tmp_path: Path) -> None:
    source = tmp_path / "photo.heic"
    source.write_bytes(dirty.dirty_heic())
    with pytest.raises(MediaFault):
        make_derivatives(source, MediaType.HEIC, tmp_path / "out")


def _truncated_jpeg() -> bytes:
    data = dirty.dirty_jpeg(detailed((400, 300)))
    return data[: len(data) // 2]


CORRUPT: list[tuple[str, Callable[[], bytes], MediaType]] = [
    ("jpeg-junk", lambda: b"\xff\xd8\xff\xe0" + bytes(300), MediaType.JPEG),
    ("jpeg-truncated", _truncated_jpeg, MediaType.JPEG),
    ("png-junk", lambda: b"\x89PNG\r\n\x1a\n" + bytes(300), MediaType.PNG),
    ("webp-junk", lambda: b"RIFF\x20\x01\x00\x00WEBPVP8 " + bytes(300), MediaType.WEBP),
    ("pdf-junk", lambda: b"%PDF-1.7\n" + bytes(300), MediaType.PDF),
    ("mp4-junk", lambda: b"\x00\x00\x00\x18ftypisom" + bytes(500), MediaType.MP4),
    ("webm-junk", lambda: b"\x1a\x45\xdf\xa3" + bytes(300), MediaType.WEBM),
    ("wrong-type", lambda: b"%PDF-1.7\n" + bytes(300), MediaType.JPEG),
]


@pytest.mark.parametrize(
    ("build", "media_type"), [c[1:] for c in CORRUPT], ids=[c[0] for c in CORRUPT]
)
def test_corrupt_input_is_refused(
    build: Callable[[], bytes], media_type: MediaType, tmp_path: Path
) -> None:
    source = tmp_path / "corrupt"
    source.write_bytes(build())
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(MediaRefused) as caught:
        make(source, media_type, out_dir)
    assert caught.value.reason.endswith(".")
    assert list(out_dir.iterdir()) == []


def test_a_rendition_with_metadata_is_a_fault_and_nothing_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each rendition is checked before it is kept; a failure removes the whole set."""
    calls: list[Path] = []

    def residue(path: Path, media_type: MediaType | None = None) -> list[str]:
        calls.append(path)
        return ["exif"] if len(calls) == 3 else []

    monkeypatch.setattr(derivatives, "residual_metadata", residue)
    source = tmp_path / "plain.png"
    detailed((700, 500)).save(source)
    out_dir = tmp_path / "out"
    with pytest.raises(MediaFault, match="exif"):
        make(source, MediaType.PNG, out_dir)
    assert len(calls) == 3
    assert list(out_dir.iterdir()) == []


def test_an_unexpected_error_is_a_fault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    source = tmp_path / "plain.png"
    detailed((300, 200)).save(source)
    monkeypatch.setattr(Image.Image, "save", broken)
    out_dir = tmp_path / "out"
    with pytest.raises(MediaFault):
        make(source, MediaType.PNG, out_dir)
    no_partials(out_dir)
    assert list(out_dir.iterdir()) == []
