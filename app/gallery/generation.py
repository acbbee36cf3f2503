"""The gallery's generation counter: raised in the transaction of every change the
public can see, read once per cached page. No Flask here."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.gallery.models import GalleryGeneration

ROW = 1


def bump(session: Session) -> None:
    """Make every cached gallery page stale once this transaction commits."""
    session.execute(
        update(GalleryGeneration)
        .where(GalleryGeneration.id == ROW)
        .values(value=GalleryGeneration.value + 1)
    )


def current(session: Session) -> int:
    """The counter's value now."""
    return session.scalar(select(GalleryGeneration.value).where(GalleryGeneration.id == ROW)) or 0
