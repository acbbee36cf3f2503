"""Plain words: what state a version is in and what cleaning did to each file (for
creators), what a removed kind or the policy means (for reviewers). Built from
``Asset.report`` and ``Asset.detections``, which hold kinds, counts and positions only,
never a removed value (see ``app/media/REPORT.md``). No Flask here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.media.types import Family, MediaType
from app.policies.schema import FaceAction, MediaPolicy, VoiceAction
from app.works.models import Asset, Version, VersionState


@dataclass(frozen=True, slots=True)
class Phrase:
    """A kind of removed detail, said for one item and for ``{n}`` items."""

    one: str
    many: str

    def say(self, count: int) -> str:
        return self.one if count == 1 else self.many.format(n=count)


LOCATION = frozenset({"exif.gps", "location"})
CAMERA = Phrase("a hidden detail about the camera", "{n} hidden details about the camera")
PREVIEW = Phrase("a hidden preview picture", "{n} hidden preview pictures")
AUTHORING = Phrase(
    "hidden editing and author details (XMP or IPTC)",
    "{n} blocks of hidden editing and author details (XMP or IPTC)",
)
COLOUR = Phrase("a colour profile", "{n} colour profiles")
NOTES = Phrase("a hidden text note", "{n} hidden text notes")
DATES = Phrase("a hidden date", "{n} hidden dates")
TRAILING = Phrase(
    "hidden data after the end of the file", "{n} pieces of hidden data after the end of the file"
)
TAGS = Phrase(
    "a tag (such as a title, an artist, a device or a program)",
    "{n} tags (such as a title, an artist, a device or a program)",
)
ENCODER = Phrase("a hidden note left by the recording program", "{n} hidden notes left by programs")
DOCUMENT = Phrase(
    "document details (such as the author or the program used)",
    "{n} document details (such as the author or the program used)",
)
ATTACHMENTS = Phrase("an attached file", "{n} attached files")
SCRIPTS = Phrase("a script or automatic action", "{n} scripts or automatic actions")
FORMS = Phrase("a form", "{n} forms")
COMMENTS = Phrase("a comment or note", "{n} comments or notes")
HISTORY = Phrase("an earlier version of the document", "{n} earlier versions of the document")
LINKS = Phrase("a link", "{n} links")
INVISIBLE = Phrase("an invisible character", "{n} invisible characters")
IMAGES = Phrase("an image (we kept its description)", "{n} images (we kept their descriptions)")
STREAMS = Phrase("an extra track (such as subtitles or data)", "{n} extra tracks")
COVER = Phrase("a cover picture", "{n} cover pictures")
CHAPTERS = Phrase("chapter markers", "{n} sets of chapter markers")
OTHER = Phrase("a hidden detail", "{n} hidden details")

PHRASES: dict[str, Phrase] = {
    "exif": CAMERA,
    "exif.maker_note": CAMERA,
    "exif.thumbnail": PREVIEW,
    "pdf.thumbnails": PREVIEW,
    "xmp": AUTHORING,
    "iptc": AUTHORING,
    "pdf.xmp": AUTHORING,
    "icc_profile": COLOUR,
    "pdf.icc_profiles": COLOUR,
    "jpeg.comment": NOTES,
    "png.text": NOTES,
    "pdf.jpeg_comments": NOTES,
    "png.time": DATES,
    "pdf.dates": DATES,
    "mp4.creation_time": DATES,
    "trailing_data": TRAILING,
    "audio.trailing_data": TRAILING,
    "pdf.jpeg_trailers": TRAILING,
    "container.metadata": TAGS,
    "stream.metadata": TAGS,
    "id3v2": TAGS,
    "id3v1": TAGS,
    "apev2": TAGS,
    "lyrics3": TAGS,
    "vorbis_comment": TAGS,
    "heic.metadata": TAGS,
    "h264.sei": ENCODER,
    "hevc.sei": ENCODER,
    "av1.metadata": ENCODER,
    "aac.filler": ENCODER,
    "pdf.info": DOCUMENT,
    "pdf.private_data": DOCUMENT,
    "pdf.attachments": ATTACHMENTS,
    "pdf.javascript": SCRIPTS,
    "pdf.open_action": SCRIPTS,
    "pdf.actions": SCRIPTS,
    "pdf.forms": FORMS,
    "pdf.annotations": COMMENTS,
    "pdf.history": HISTORY,
    "pdf.links": LINKS,
    "text.byte_order_mark": INVISIBLE,
    "text.invisible_characters": INVISIBLE,
    "text.control_characters": INVISIBLE,
    "markdown.images": IMAGES,
    "data_streams": STREAMS,
    "subtitle_streams": STREAMS,
    "video_streams": COVER,
    "cover_art": COVER,
    "chapters": CHAPTERS,
}
# Families of kinds named by their container: every one of them is a tag of some sort.
_TAG_PREFIXES = ("riff.", "flac.", "mp4.")
# Kinds that say how a PDF was flattened rather than what hidden detail it carried.
_NOT_SAID = frozenset({"pdf.text_layer"})

NOUNS: dict[Family, str] = {
    Family.IMAGE: "photo",
    Family.PDF: "document",
    Family.AUDIO: "recording",
    Family.VIDEO: "video",
    Family.TEXT: "text",
}

PERSONAL_DATA: dict[str, Phrase] = {
    "email": Phrase("an e-mail address", "{n} e-mail addresses"),
    "phone": Phrase("a phone number", "{n} phone numbers"),
    "address": Phrase("a street address", "{n} street addresses"),
    "name": Phrase("a name", "{n} names"),
}

_STATES: dict[VersionState, str] = {
    VersionState.DRAFT: "Draft: not sent yet",
    VersionState.SUBMITTED: "Being checked",
    VersionState.PROCESSING: "Being checked",
    VersionState.IN_REVIEW: "Waiting for review",
    VersionState.CHANGES_REQUESTED: "Changes requested",
    VersionState.APPROVED: "Approved: being published",
    VersionState.PUBLISHED: "Published",
    VersionState.WITHDRAWN: "Withdrawn",
    VersionState.BLOCKED: "Blocked",
    VersionState.FAILED: "Failed",
    VersionState.REJECTED: "Not accepted for publication",
}
_WITH_REASON = frozenset({VersionState.BLOCKED, VersionState.FAILED})


def state_phrase(version: Version | None, *, paused: bool = False) -> str:
    """A version's state in plain words, with the reason when it is blocked or failed
    (the reason is written for creators by the pipeline)."""
    if version is None:
        return "No files yet"
    text = _STATES[version.state]
    if version.state in _WITH_REASON and version.state_reason:
        text = f"{text}: {version.state_reason}"
    if version.state is VersionState.APPROVED and paused:
        text = "Approved, paused by you"
    return text


def duration(seconds: float) -> str:
    """``200`` -> ``"3 min 20 s"``; under a second -> ``"less than a second"``."""
    whole = round(seconds)
    if whole < 1:
        return "less than a second"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes:
        parts.append(f"{minutes} min")
    if secs and not hours:
        parts.append(f"{secs} s")
    return " ".join(parts)


def family_of(asset: Asset) -> Family | None:
    """The sniffed family of the file (None before processing)."""
    media_type = asset.sanitized_type or asset.media_type
    try:
        return MediaType(media_type).family if media_type else None
    except ValueError:
        return None


def _phrase(kind: str) -> Phrase:
    return PHRASES.get(kind) or (TAGS if kind.startswith(_TAG_PREFIXES) else OTHER)


def removed_in_words(kind: str) -> str:
    """One removed kind in plain words, shown to reviewers beside its name."""
    if kind in LOCATION:
        return "location (GPS)"
    return _phrase(kind).many.format(n="").strip()


def policy_in_words(policy: MediaPolicy) -> tuple[str, str]:
    """What the organisation's policy does with faces, and with voices."""
    if policy.faces.allowed:
        faces = "shown only with consent; otherwise " + (
            "masked" if policy.faces.on_detection is FaceAction.MASK else "the version is blocked"
        )
    else:
        faces = "never shown: " + (
            "always masked" if policy.faces.on_detection is FaceAction.MASK else "blocked"
        )
    action = "altered" if policy.voices.on_detection is VoiceAction.ALTER else "blocked"
    if policy.voices.must_alter:
        voices = "always altered (harder to recognise, not anonymous)"
    elif policy.voices.allowed:
        voices = f"heard only with consent; otherwise {action}"
    else:
        voices = f"never heard: {action}"
    return faces, voices


def removed_items(removed: Mapping[str, int]) -> list[tuple[Phrase, int]]:
    """The removed kinds grouped into plain phrases with their summed counts, in the
    order of the table above (unknown kinds last, as "hidden details"). Locations are
    left out: ``report_sentences`` says them on their own."""
    counts: Counter[Phrase] = Counter()
    for kind, count in removed.items():
        if kind not in LOCATION and kind not in _NOT_SAID:
            counts[_phrase(kind)] += int(count)
    order = list(dict.fromkeys([*PHRASES.values(), TAGS, OTHER]))
    return sorted(counts.items(), key=lambda item: order.index(item[0]))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _faces(detections: Mapping[str, Any], family: Family | None, faces_allowed: bool) -> str:
    most, found = int(detections.get("faces", 0)), int(detections.get("faces_found", 0))
    if detections.get("faces_masked"):
        return "Faces were masked."
    where = (
        f"{_plural(found, 'face')} found (at most {most} in one frame)"
        if family is Family.VIDEO
        else f"{_plural(found, 'face')} found"
    )
    if not faces_allowed:
        return f"{where}: faces may not be shown in this organisation's works, so choose masking."
    return f"{where}: {_plural(most, 'consent')} needed, or choose masking."


def _personal_data(report: Mapping[str, Any]) -> str:
    kinds = Counter(str(hit.get("kind", "")) for hit in report.get("personal_data", []))
    total = sum(kinds.values())
    listed = ", ".join(
        PERSONAL_DATA.get(kind, Phrase("a personal detail", "{n} personal details")).say(count)
        for kind, count in sorted(kinds.items())
    )
    things = (
        "thing that looks like a personal detail"
        if total == 1
        else ("things that look like personal details")
    )
    return f"We found {total} {things} ({listed}) — check the text."


def report_sentences(asset: Asset, *, faces_allowed: bool = True) -> list[str]:
    """What cleaning did to one file, in sentences for its creators. Empty before the
    file has been processed."""
    report, detections = asset.report, asset.detections or {}
    if not report:
        return []
    family = family_of(asset)
    noun = NOUNS.get(family, "file") if family else "file"
    removed: Mapping[str, int] = report.get("removed") or {}
    sentences = []
    if LOCATION & removed.keys():
        sentences.append(f"We removed the location (GPS) from this {noun}.")
    sentences += [f"We removed {phrase.say(count)}." for phrase, count in removed_items(removed)]
    if not sentences:
        sentences.append(f"We made a clean copy; we found no hidden details in this {noun}.")
    if (report.get("anonymised") or {}).get("pdf_flattened"):
        sentences.append("We turned the pages into pictures, so no hidden text can remain.")
    if detections.get("faces_found") or detections.get("faces"):
        sentences.append(_faces(detections, family, faces_allowed))
    speech = float(detections.get("speech_seconds", 0) or 0)
    if speech > 0:
        sentences.append(f"We heard speech for {duration(speech)}.")
        if detections.get("voice_altered"):
            sentences.append(
                "Your voice was altered. This makes it harder to recognise, not impossible."
            )
    if report.get("personal_data"):
        sentences.append(_personal_data(report))
    return sentences


def file_status(asset: Asset) -> str:
    """Where one file is in processing, in plain words."""
    state = asset.version.state
    if state in (VersionState.SUBMITTED, VersionState.PROCESSING):
        return "Being checked."
    if asset.report:
        return "Checked."
    if state is VersionState.DRAFT:
        return "Uploaded. It will be checked when you submit the version."
    if state is VersionState.FAILED:
        return "Not checked: see the message about this version."
    return "Not checked."
