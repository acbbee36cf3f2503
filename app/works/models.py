"""Works, their numbered versions and the files (assets) of each version."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import Base, enum_type

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.groups.models import Campaign


class WorkKind(enum.StrEnum):
    FANZINE = "fanzine"
    PERFORMANCE = "performance"
    PODCAST = "podcast"
    SCRIPT = "script"


class Credit(enum.StrEnum):
    COLLECTIVE = "collective"
    PSEUDONYM = "pseudonym"
    NONE = "none"


class VersionState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PROCESSING = "processing"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    BLOCKED = "blocked"
    FAILED = "failed"
    REJECTED = "rejected"


class Work(Base):
    __tablename__ = "works"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[WorkKind] = mapped_column(enum_type(WorkKind, "work_kind"))
    title: Mapped[str] = mapped_column(String(200))
    credit: Mapped[Credit] = mapped_column(enum_type(Credit, "credit"))
    language: Mapped[str] = mapped_column(String(8), default="en")
    content_warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    alt_text: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[str] = mapped_column(Text, default="")
    captions: Mapped[str] = mapped_column(Text, default="", server_default="")  # WebVTT
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paused_at: Mapped[datetime | None]

    campaign: Mapped[Campaign] = relationship()
    created_by: Mapped[User] = relationship()
    contributors: Mapped[list[WorkContributor]] = relationship(back_populates="work")
    versions: Mapped[list[Version]] = relationship(back_populates="work", order_by="Version.number")


class WorkContributor(Base):
    """A user who co-created a work; they may never review it."""

    __tablename__ = "work_contributors"

    work_id: Mapped[int] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    pseudonym: Mapped[str] = mapped_column(String(80), default="")

    work: Mapped[Work] = relationship(back_populates="contributors")
    user: Mapped[User] = relationship()


class Version(Base):
    """One submission of a work. Review and publication are bound to a version."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("work_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    number: Mapped[int]
    state: Mapped[VersionState] = mapped_column(
        enum_type(VersionState, "version_state"), default=VersionState.DRAFT, index=True
    )
    state_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The creators' choice to mask every face / alter every voice in this version.
    mask_faces: Mapped[bool] = mapped_column(default=False, server_default=false())
    alter_voice: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A processing job holds the version until then; past it, the sweeper runs it again.
    lease_until: Mapped[datetime | None]

    work: Mapped[Work] = relationship(back_populates="versions")
    created_by: Mapped[User] = relationship()
    assets: Mapped[list[Asset]] = relationship(back_populates="version", order_by="Asset.position")


class Asset(Base):
    """One file of a version: the encrypted original in quarantine and its sanitized copy."""

    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    original_key: Mapped[str | None] = mapped_column(String(200))
    sanitized_key: Mapped[str | None] = mapped_column(String(200))
    media_type: Mapped[str | None] = mapped_column(String(100))  # sniffed from the original
    original_size: Mapped[int | None] = mapped_column(BigInteger)
    sanitized_type: Mapped[str | None] = mapped_column(String(100))
    sha256: Mapped[str | None] = mapped_column(String(64))  # of the sanitized file
    size: Mapped[int | None] = mapped_column(BigInteger)  # of the sanitized file
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    detections: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    original_deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    version: Mapped[Version] = relationship(back_populates="assets")
