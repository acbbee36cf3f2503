"""The plain-language report: sentences creators read about what cleaning did."""

from __future__ import annotations

from typing import Any

import pytest

from app.works.explain import duration, file_status, report_sentences, state_phrase
from app.works.models import Asset, Version, VersionState


def _asset(
    media_type: str,
    *,
    removed: dict[str, int] | None = None,
    detections: dict[str, Any] | None = None,
    **report: Any,
) -> Asset:
    return Asset(
        sanitized_type=media_type,
        report={"removed": removed or {}, **report},
        detections=detections or {},
    )


def test_a_photo_with_gps_and_camera_details() -> None:
    asset = _asset("image/jpeg", removed={"exif": 1, "exif.gps": 1, "exif.maker_note": 2})
    assert report_sentences(asset) == [
        "We removed the location (GPS) from this photo.",
        "We removed 3 hidden details about the camera.",
    ]


def test_kinds_are_grouped_and_unknown_kinds_still_said() -> None:
    asset = _asset(
        "application/pdf",
        removed={"pdf.info": 4, "pdf.attachments": 1, "pdf.something_new": 2, "pdf.text_layer": 3},
        anonymised={"pdf_flattened": True},
    )
    assert report_sentences(asset) == [
        "We removed 4 document details (such as the author or the program used).",
        "We removed an attached file.",
        "We removed 2 hidden details.",
        "We turned the pages into pictures, so no hidden text can remain.",
    ]


def test_container_tags_are_tags() -> None:
    asset = _asset("audio/wav", removed={"riff.info": 1, "riff.bext": 1, "id3v2": 1})
    assert report_sentences(asset) == [
        "We removed 3 tags (such as a title, an artist, a device or a program)."
    ]


def test_a_clean_file_says_so() -> None:
    assert report_sentences(_asset("image/png")) == [
        "We made a clean copy; we found no hidden details in this photo."
    ]


def test_faces_need_consent_or_masking() -> None:
    found = _asset("image/jpeg", detections={"faces": 2, "faces_found": 2})
    assert "2 faces found: 2 consents needed, or choose masking." in report_sentences(found)
    forbidden = report_sentences(found, faces_allowed=False)
    assert (
        "2 faces found: faces may not be shown in this organisation's works, so choose masking."
        in forbidden
    )
    masked = _asset("image/jpeg", detections={"faces": 1, "faces_found": 1, "faces_masked": True})
    assert "Faces were masked." in report_sentences(masked)
    video = _asset("video/mp4", detections={"faces": 2, "faces_found": 40})
    assert (
        "40 faces found (at most 2 in one frame): 2 consents needed, or choose masking."
        in report_sentences(video)
    )


def test_speech_and_voice_alteration() -> None:
    asset = _asset("audio/mpeg", detections={"speech_seconds": 200.4, "voice_altered": True})
    sentences = report_sentences(asset)
    assert "We heard speech for 3 min 20 s." in sentences
    assert "Your voice was altered. This makes it harder to recognise, not impossible." in sentences
    assert not any("anonymous" in s for s in sentences)


def test_personal_data_is_counted_by_kind_never_quoted() -> None:
    asset = _asset(
        "text/markdown",
        personal_data=[
            {"kind": "email", "start": 0, "end": 5},
            {"kind": "phone", "start": 9, "end": 20},
            {"kind": "email", "start": 30, "end": 40},
        ],
    )
    assert report_sentences(asset)[-1] == (
        "We found 3 things that look like personal details "
        "(2 e-mail addresses, a phone number) — check the text."
    )


def test_nothing_to_say_before_processing() -> None:
    assert report_sentences(Asset(sanitized_type=None, report=None)) == []


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.2, "less than a second"), (45, "45 s"), (200, "3 min 20 s"), (3720, "1 h 2 min")],
)
def test_duration(seconds: float, words: str) -> None:
    assert duration(seconds) == words


def test_state_phrases() -> None:
    assert state_phrase(None) == "No files yet"
    blocked = Version(state=VersionState.BLOCKED, state_reason="Faces may not be shown.")
    assert state_phrase(blocked) == "Blocked: Faces may not be shown."
    failed = Version(state=VersionState.FAILED, state_reason="We could not accept it.")
    assert state_phrase(failed) == "Failed: We could not accept it."
    assert state_phrase(Version(state=VersionState.IN_REVIEW)) == "Waiting for review"
    assert state_phrase(Version(state=VersionState.PROCESSING)) == "Being checked"
    assert state_phrase(Version(state=VersionState.CHANGES_REQUESTED)) == "Changes requested"
    assert state_phrase(Version(state=VersionState.PUBLISHED)) == "Published"
    approved = Version(state=VersionState.APPROVED)
    assert state_phrase(approved, paused=True) == "Approved, paused by you"


def test_file_status_follows_the_version() -> None:
    draft = Asset(version=Version(state=VersionState.DRAFT))
    assert file_status(draft) == "Uploaded. It will be checked when you submit the version."
    checking = Asset(version=Version(state=VersionState.PROCESSING))
    assert file_status(checking) == "Being checked."
    checked = Asset(version=Version(state=VersionState.IN_REVIEW), report={"removed": {}})
    assert file_status(checked) == "Checked."
