"""Chorus: survivor-led awareness campaigns behind an anonymity-preserving review pipeline.

Importing ``app`` pulls in nothing heavy, so ``app.media`` stays usable without Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings: Any = None) -> Flask:
    """Build the Flask application (see ``app.factory.create_app``)."""
    from app.factory import create_app as _create_app

    return _create_app(settings)
