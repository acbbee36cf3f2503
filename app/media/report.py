"""The sanitization report: what was removed, found and anonymised — never the values.

Schema ``chorus.sanitize-report`` version 1, documented in ``app/media/REPORT.md``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA = "chorus.sanitize-report"
VERSION = 1


@dataclass(frozen=True, slots=True)
class FileFacts:
    media_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Face:
    """A detected face: box in output pixel coordinates (x, y, width, height)."""

    box: tuple[int, int, int, int]
    score: float
    page: int | None = None  # PDF page or fanzine image index, from 0
    time: float | None = None  # seconds into a video
    masked: bool = False


@dataclass(frozen=True, slots=True)
class Speech:
    start: float
    end: float
    track: int = 0


@dataclass(frozen=True, slots=True)
class PersonalData:
    """A personal-data hit in text: its kind and character offsets, never the text."""

    kind: str  # email, phone, address, name
    start: int
    end: int
    field: str = "text"


@dataclass(slots=True)
class Report:
    input: FileFacts | None = None
    output: FileFacts | None = None
    removed: dict[str, int] = field(default_factory=dict)
    faces: list[Face] = field(default_factory=list)
    speech: list[Speech] = field(default_factory=list)
    personal_data: list[PersonalData] = field(default_factory=list)
    anonymised: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    frames_scanned: int = 0

    def remove(self, kind: str, count: int = 1) -> None:
        """Record that ``count`` items of a kind of metadata were dropped (e.g. "exif.gps")."""
        if count > 0:
            self.removed[kind] = self.removed.get(kind, 0) + count

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        return {"schema": SCHEMA, "version": VERSION, **body}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)
