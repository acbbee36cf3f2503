"""Exhibitions: curated, ordered sets of published works."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import Base


class Exhibition(Base):
    __tablename__ = "exhibitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    introduction: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[ExhibitionItem]] = relationship(
        back_populates="exhibition", order_by="ExhibitionItem.position"
    )


class ExhibitionItem(Base):
    __tablename__ = "exhibition_items"
    __table_args__ = (UniqueConstraint("exhibition_id", "position"),)

    exhibition_id: Mapped[int] = mapped_column(
        ForeignKey("exhibitions.id", ondelete="CASCADE"), primary_key=True
    )
    work_id: Mapped[int] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int]

    exhibition: Mapped[Exhibition] = relationship(back_populates="items")


class GalleryGeneration(Base):
    """One counter, raised by every change the public can see (publication, withdrawal,
    exhibitions, a published work's texts). Cached gallery pages are keyed by it, so a
    change makes every cached page stale at once, on every server."""

    __tablename__ = "gallery_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
