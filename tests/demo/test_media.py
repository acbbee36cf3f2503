"""The demo's files really are dirty: each carries the planted markers in its
metadata before cleaning (so the demo exercises the sanitizers), the detectors find
the face and the speech in them, and cleaning leaves no marker behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from app.demo import media
from app.demo.media.planted import FACE, SPEECH
from app.media.base import Options
from app.media.pipeline import sanitize_file
from app.media.report import Report
from tests.media.checkers import exiftool, markers_in, metadata_text

BUILDERS: dict[str, Callable[[], media.DemoFile]] = {
    "photo": media.photo,
    "fanzine_pdf": media.fanzine_pdf,
    "podcast": media.podcast,
    "video": media.video,
}
# Slots each file must carry a marker in (a subset: the byte search finds them all).
PLANTED = {
    "photo": [
        "exif-description", "exif-artist", "exif-model", "exif-gps", "exif-usercomment",
        "xmp-creator", "xmp-city", "iptc-byline", "photo-comment", "photo-thumbnail-comment",
        "photo-trailer",
    ],
    "fanzine_pdf": [
        "pdf-info-title", "pdf-info-author", "pdf-xmp-creator", "pdf-attachment",
        "pdf-annotation", "pdf-jpeg-comment", "pdf-jpeg-trailer",
    ],
    "podcast": ["id3-title", "id3-artist", "id3-comment", "cover-title", "cover-art-comment"],
    "video": ["mp4-title", "mp4-comment", "video-handler", "audio-handler", "h264-sei"],
}  # fmt: skip
# Reported by exiftool or ffprobe, so an independent tool sees the metadata too.
VISIBLE = {
    "photo": ["exif-artist", "xmp-creator", "iptc-caption", "photo-comment"],
    "fanzine_pdf": ["pdf-info-author", "pdf-xmp-description"],
    "podcast": ["id3-title", "cover-title"],
    "video": ["mp4-title", "video-handler"],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("demo-media")
    paths = {}
    for name, build in {**BUILDERS, "script": media.script}.items():
        demo_file = build()
        paths[name] = folder / demo_file.name
        paths[name].write_bytes(demo_file.data)
    return paths


@pytest.fixture(scope="module")
def cleaned(built: dict[str, Path]) -> dict[str, tuple[Path, Report]]:
    results = {}
    for name, path in built.items():
        out = path.with_name(f"clean-{path.name}")
        results[name] = (out, sanitize_file(path, out, Options()))
    return results


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_every_slot_carries_its_marker(built: dict[str, Path], name: str) -> None:
    wanted = [media.marker(slot) for slot in PLANTED[name]]
    assert markers_in(built[name], wanted) == sorted(wanted)


@pytest.mark.parametrize("name", sorted(VISIBLE))
def test_metadata_tools_see_the_planted_metadata(built: dict[str, Path], name: str) -> None:
    text = metadata_text(built[name])
    for slot in VISIBLE[name]:
        assert media.marker(slot) in text


def test_the_photo_says_where_it_was_taken(built: dict[str, Path]) -> None:
    tags = exiftool(built["photo"])
    assert "GPS:GPSLatitude" in tags
    assert "GPS:GPSLongitude" in tags
    assert "IFD1:ThumbnailImage" in tags


def test_the_script_carries_an_email_address_and_a_phone_number() -> None:
    text = media.script().data.decode()
    assert media.EMAIL in text
    assert media.PHONE in text
    plain = media.script(personal_data=False).data.decode()
    assert media.EMAIL not in plain
    assert media.PHONE not in plain


@pytest.mark.parametrize("name", ["photo", "video"])
def test_the_face_is_found(cleaned: dict[str, tuple[Path, Report]], name: str) -> None:
    report = cleaned[name][1]
    assert report.faces
    assert all(face.score > 0.5 for face in report.faces)
    if name == "video":  # the face is there from start to end
        times = [face.time or 0.0 for face in report.faces]
        assert min(times) < 0.5
        assert max(times) > 3.0


def test_the_drawn_fanzine_has_no_face(cleaned: dict[str, tuple[Path, Report]]) -> None:
    assert cleaned["fanzine_pdf"][1].faces == []


@pytest.mark.parametrize("name", ["podcast", "video"])
def test_the_speech_is_found(cleaned: dict[str, tuple[Path, Report]], name: str) -> None:
    speech = sum(part.end - part.start for part in cleaned[name][1].speech)
    assert speech > 3.0


def test_the_personal_data_in_the_script_is_flagged(
    cleaned: dict[str, tuple[Path, Report]],
) -> None:
    kinds = sorted(hit.kind for hit in cleaned["script"][1].personal_data)
    assert kinds == ["email", "phone"]


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_cleaning_leaves_no_marker(cleaned: dict[str, tuple[Path, Report]], name: str) -> None:
    path, report = cleaned[name]
    assert report.removed
    assert markers_in(path, [media.MARKER]) == []
    assert media.MARKER not in metadata_text(path)


def test_the_vendored_files_are_small_and_carry_no_metadata() -> None:
    assert FACE.stat().st_size < 30_000
    assert SPEECH.stat().st_size < 60_000
    with Image.open(FACE) as face:
        assert face.size == (256, 256)
        assert not face.getexif()
        assert set(face.info) <= {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}
    assert (FACE.parent / "README.md").is_file()
