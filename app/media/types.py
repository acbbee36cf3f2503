"""The media types Chorus accepts, identified from bytes only."""

from __future__ import annotations

import enum


class Family(enum.StrEnum):
    IMAGE = "image"
    PDF = "pdf"
    AUDIO = "audio"
    VIDEO = "video"
    TEXT = "text"


class MediaType(enum.StrEnum):
    JPEG = "image/jpeg"
    PNG = "image/png"
    WEBP = "image/webp"
    HEIC = "image/heic"
    PDF = "application/pdf"
    MP3 = "audio/mpeg"
    M4A = "audio/mp4"
    WAV = "audio/wav"
    FLAC = "audio/flac"
    OGG = "audio/ogg"
    MP4 = "video/mp4"
    MOV = "video/quicktime"
    WEBM = "video/webm"
    MARKDOWN = "text/markdown"
    TEXT = "text/plain"

    @property
    def family(self) -> Family:
        return _FAMILY[self]

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self][0]


_FAMILY = {
    MediaType.JPEG: Family.IMAGE,
    MediaType.PNG: Family.IMAGE,
    MediaType.WEBP: Family.IMAGE,
    MediaType.HEIC: Family.IMAGE,
    MediaType.PDF: Family.PDF,
    MediaType.MP3: Family.AUDIO,
    MediaType.M4A: Family.AUDIO,
    MediaType.WAV: Family.AUDIO,
    MediaType.FLAC: Family.AUDIO,
    MediaType.OGG: Family.AUDIO,
    MediaType.MP4: Family.VIDEO,
    MediaType.MOV: Family.VIDEO,
    MediaType.WEBM: Family.VIDEO,
    MediaType.MARKDOWN: Family.TEXT,
    MediaType.TEXT: Family.TEXT,
}

# File name extensions each type may carry; the first is the one Chorus writes.
_EXTENSIONS: dict[MediaType, tuple[str, ...]] = {
    MediaType.JPEG: (".jpg", ".jpeg", ".jpe", ".jfif"),
    MediaType.PNG: (".png",),
    MediaType.WEBP: (".webp",),
    MediaType.HEIC: (".heic", ".heif", ".hif"),
    MediaType.PDF: (".pdf",),
    MediaType.MP3: (".mp3",),
    MediaType.M4A: (".m4a", ".aac", ".mp4"),
    MediaType.WAV: (".wav", ".wave"),
    MediaType.FLAC: (".flac",),
    MediaType.OGG: (".ogg", ".oga", ".opus"),
    MediaType.MP4: (".mp4", ".m4v"),
    MediaType.MOV: (".mov", ".qt", ".mp4"),  # phones and editors name QuickTime files .mp4
    MediaType.WEBM: (".webm",),
    MediaType.MARKDOWN: (".md", ".markdown", ".txt"),
    MediaType.TEXT: (".txt", ".text", ".md"),
}

# The FFmpeg demuxer named for each sniffed audio/video type, so FFmpeg never guesses
# (some of its demuxers, HLS and concat, would read other files). M4A is decided per
# file: "mov" for ISO files, "aac" for raw ADTS.
DEMUXERS: dict[MediaType, str] = {
    MediaType.MP3: "mp3",
    MediaType.WAV: "wav",
    MediaType.FLAC: "flac",
    MediaType.OGG: "ogg",
    MediaType.MP4: "mov",
    MediaType.MOV: "mov",
    MediaType.WEBM: "matroska",
}


def types_for_extension(extension: str) -> frozenset[MediaType]:
    """Every accepted type a file name extension may stand for (empty if none)."""
    extension = extension.lower()
    return frozenset(t for t, exts in _EXTENSIONS.items() if extension in exts)
