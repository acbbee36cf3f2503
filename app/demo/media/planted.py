"""What the demo files carry that must never be published, and where the raw material is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MARKER = "DEMO-SECRET-SHELTER"
HERE = Path(__file__).resolve().parent
FACE = HERE / "face.jpg"  # 256 x 256, one face about 108 px tall
SPEECH = HERE / "speech.ogg"  # about 9 s of espeak-ng speech, mono Opus
# A point in the Black Sea, far from any house, planted as "where it was recorded".
LATITUDE = (44, 30, 0)  # degrees, minutes, seconds north
LONGITUDE = (30, 15, 0)  # east
ISO6709 = "+44.5000+030.2500/"
TAKEN_AT = "2025:11:14 18:42:07"  # EXIF date format
EMAIL = "amina.demo@example.org"
PHONE = "+33 1 99 00 12 34"  # in the range ARCEP keeps for fiction


def marker(slot: str) -> str:
    """The planted string for one metadata slot, e.g. ``DEMO-SECRET-SHELTER-exif-gps``."""
    return f"{MARKER}-{slot}"


@dataclass(frozen=True, slots=True)
class DemoFile:
    """A built file: the name a phone or an editor would give it, and its bytes."""

    name: str
    data: bytes


# What speech.ogg says (the podcast's transcript; the video has its first four seconds).
SPEECH_TEXT = (
    "We made this together, as a group. Every voice here matters. Today we share what "
    "we have learned, so that others know they are not alone."
)
VIDEO_CAPTIONS = """WEBVTT

00:00:00.000 --> 00:00:02.200
We made this together, as a group.

00:00:02.400 --> 00:00:04.000
Every voice here matters.
"""
