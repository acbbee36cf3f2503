"""Psychologists' reviews of a version, and the publications that follow approval."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import Base, enum_type

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.works.models import Version, Work


class ReviewDecision(enum.StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"


class Review(Base):
    """One psychologist's review of one version. Open while ``decision`` is empty; the
    database allows one open review per version, and one review per reviewer."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("version_id", "reviewer_id"),
        Index(
            "uq_reviews_one_open_per_version",
            "version_id",
            unique=True,
            sqlite_where=text("decision IS NULL"),
            postgresql_where=text("decision IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[ReviewDecision | None] = mapped_column(
        enum_type(ReviewDecision, "review_decision")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    wellbeing_check: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    version: Mapped[Version] = relationship()
    reviewer: Mapped[User] = relationship()


class Publication(Base):
    """A version shown on one channel. Live while ``withdrawn_at`` is empty; at most one
    live publication per work and channel."""

    __tablename__ = "publications"
    __table_args__ = (
        Index(
            "uq_publications_one_live_per_work_channel",
            "work_id",
            "channel",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
        # The gallery's keyset pagination walks live publications newest first.
        Index(
            "ix_publications_live_by_date",
            "channel",
            "published_at",
            "id",
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(40))
    public_prefix: Mapped[str] = mapped_column(String(200))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")

    work: Mapped[Work] = relationship()
    version: Mapped[Version] = relationship()
    consents: Mapped[list[PublicationConsent]] = relationship(back_populates="publication")
    files: Mapped[list[PublicationFile]] = relationship(
        back_populates="publication",
        order_by="(PublicationFile.position, PublicationFile.page, PublicationFile.width)",
    )


class FileRole(enum.StrEnum):
    """What a public file is: the clean file itself, or something made from it."""

    FILE = "file"  # the clean file, as reviewed
    IMAGE = "image"  # a resized rendition of a picture
    PAGE = "page"  # a PDF page rendered as a picture
    POSTER = "poster"  # a still from a video


class PublicationFile(Base):
    """One file in the public area, made at publication; deleted with the publication."""

    __tablename__ = "publication_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), index=True
    )
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    position: Mapped[int]  # the asset's place in the version (a fanzine's pages)
    page: Mapped[int] = mapped_column(default=0)  # page within a PDF
    role: Mapped[FileRole] = mapped_column(enum_type(FileRole, "file_role"))
    media_type: Mapped[str] = mapped_column(String(100))
    width: Mapped[int | None]
    height: Mapped[int | None]
    key: Mapped[str] = mapped_column(String(200), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))

    publication: Mapped[Publication] = relationship(back_populates="files")


class PublicationConsent(Base):
    """A consent record a publication depends on: withdrawing it takes the publication down."""

    __tablename__ = "publication_consents"

    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True
    )
    consent_record_id: Mapped[int] = mapped_column(
        ForeignKey("consent_records.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    publication: Mapped[Publication] = relationship(back_populates="consents")
