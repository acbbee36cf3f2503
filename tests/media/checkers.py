"""Independent checkers for sanitized files: exiftool, ffprobe and a byte search for
planted markers in raw bytes and in every zlib/deflate stream inside the file.

Each alone misses something (exiftool does not report JPEG trailers and shows only the
last PDF revision), so tests use all three.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

MARKER_PREFIX = b"CHORUSMARK"


def marker(name: str) -> str:
    """A planted string that cannot occur by chance, e.g. ``CHORUSMARK-gps-7f3a``."""
    return f"{MARKER_PREFIX.decode()}-{name}"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{name} is not installed; .ci/run installs it")
        pytest.skip(f"{name} not installed (Debian: libimage-exiftool-perl / ffmpeg)")
    return path


def exiftool(path: Path) -> dict[str, object]:
    """Every tag exiftool can read, with groups and unknown/embedded tags."""
    exe = _tool("exiftool")
    result = subprocess.run(  # noqa: S603
        [exe, "-j", "-a", "-u", "-G1", "-ee", "-b", str(path)],
        capture_output=True,
        check=False,
    )
    data = json.loads(result.stdout.decode("utf-8", "replace") or "[{}]")
    return data[0] if data else {}


def ffprobe(path: Path) -> dict[str, object]:
    exe = _tool("ffprobe")
    result = subprocess.run(  # noqa: S603
        [
            exe,
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            "-show_chapters",
            "-show_programs",
            str(path),
        ],
        capture_output=True,
        check=True,
    )
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def _inflated_streams(data: bytes) -> list[bytes]:
    """Try to inflate a zlib or raw-deflate stream at every plausible offset."""
    found: list[bytes] = []
    for match in re.finditer(rb"\x78[\x01\x5e\x9c\xda]", data):
        try:
            decompressor = zlib.decompressobj()
            found.append(decompressor.decompress(data[match.start() :], 50_000_000))
        except zlib.error:
            continue
    return found


def markers_in(path: Path, markers: list[str] | None = None) -> list[str]:
    """Markers found in the file's raw bytes, their UTF-16 forms, or inflated streams."""
    data = path.read_bytes()
    blobs = [data, *_inflated_streams(data)]
    wanted = [m.encode() for m in markers] if markers else [MARKER_PREFIX]
    hits: list[str] = []
    for blob in blobs:
        for needle in wanted:
            for form in (
                needle,
                needle.decode().encode("utf-16-le"),
                needle.decode().encode("utf-16-be"),
            ):
                if form in blob:
                    hits.append(needle.decode())
    return sorted(set(hits))


def metadata_text(path: Path) -> str:
    """exiftool's and (for media) ffprobe's full output as one string to search."""
    text = json.dumps(exiftool(path))
    if path.suffix.lower() in {
        ".mp3",
        ".m4a",
        ".wav",
        ".flac",
        ".ogg",
        ".opus",
        ".mp4",
        ".mov",
        ".webm",
        ".mkv",
    }:
        text += json.dumps(ffprobe(path))
    return text
