"""One module per format family; importing this package registers them all."""

from __future__ import annotations

from app.media.sanitizers import audiovisual, images, pdf, text

__all__ = ["audiovisual", "images", "pdf", "text"]
