"""Errors of the media library."""

from __future__ import annotations


class MediaRefused(Exception):  # noqa: N818 - a refusal, not a fault
    """The input is not accepted. ``reason`` is one plain sentence for the person who
    uploaded it, naming no internal detail."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MediaFault(Exception):
    """Chorus itself failed (a missing model, a broken install): not the file's fault."""
