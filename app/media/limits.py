"""Limits that keep hostile files (bombs) from exhausting the machine."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Configurable ceilings; the defaults suit a survivor group's real uploads."""

    max_bytes: int = 4 * 1024**3  # a long 1080p performance video
    max_pixels: int = 100_000_000  # 100 MP: above any phone camera
    max_pages: int = 200
    max_duration_seconds: float = 4 * 3600.0
    max_video_pixels: int = 3840 * 2160  # per frame: 4K
    max_text_bytes: int = 2 * 1024**2
    max_pdf_objects: int = 200_000
    max_decompressed_ratio: int = 1000  # decompressed bytes per stored byte in a stream


DEFAULT_LIMITS = Limits()
