"""The interface every sanitizer implements, and the registry that finds one by the
media type sniffed from the bytes. An unknown type is refused, never passed through."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from app.media.errors import MediaRefused
from app.media.limits import DEFAULT_LIMITS, Limits
from app.media.report import Report
from app.media.types import MediaType


@dataclass(frozen=True, slots=True)
class Options:
    """What the caller (or the organisation's policy) asks for."""

    mask_faces: bool = False
    alter_voice: bool = False
    flatten_pdf: bool = False
    detect_faces: bool = True
    detect_speech: bool = True
    names: tuple[str, ...] = ()  # people known to the organisation, for text scanning
    limits: Limits = field(default_factory=lambda: DEFAULT_LIMITS)


class Sanitizer(ABC):
    """One format family. ``sanitize`` reads ``source`` (never modifying it) and writes a
    brand-new file at ``destination``; the pipeline makes that write atomic."""

    media_types: ClassVar[frozenset[MediaType]]

    def output_type(self, media_type: MediaType, options: Options) -> MediaType:
        """The type of the file ``sanitize`` writes (HEIC becomes JPEG, for example)."""
        return media_type

    @abstractmethod
    def sanitize(
        self,
        source: Path,
        destination: Path,
        media_type: MediaType,
        options: Options,
        report: Report,
    ) -> None:
        """Write the clean file. Raise ``MediaRefused`` for a bad input."""

    @abstractmethod
    def residual_metadata(self, path: Path, media_type: MediaType) -> list[str]:
        """Kinds of metadata still present in a file of this family (empty when clean).

        Used after every sanitize and again at publication, as an independent check.
        """


_REGISTRY: dict[MediaType, Sanitizer] = {}


def register(sanitizer: Sanitizer) -> Sanitizer:
    for media_type in sanitizer.media_types:
        if media_type in _REGISTRY:
            raise RuntimeError(f"two sanitizers claim {media_type}")
        _REGISTRY[media_type] = sanitizer
    return sanitizer


def sanitizer_for(media_type: MediaType) -> Sanitizer:
    """The sanitizer for a sniffed type; ``MediaRefused`` when there is none."""
    from app.media import sanitizers  # noqa: F401 - registers every family

    try:
        return _REGISTRY[media_type]
    except KeyError:
        raise MediaRefused("Chorus cannot clean this kind of file yet.") from None
