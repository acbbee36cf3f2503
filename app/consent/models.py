"""People who appear in works and their consent records.

A consent record carries the fields of ISO/IEC TS 27560 (consent record information
structure) that apply here: the subject (a Person), the controller (the organisation),
purpose and modalities, scope (a work or a whole campaign), channels, when and how it
was given, who witnessed it, when it expires and when it was withdrawn. Each record has
a withdrawal code, stored only as a hash, that works without an account.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import Base, enum_type

if TYPE_CHECKING:
    from app.accounts.models import User


class Modality(enum.StrEnum):
    FACE = "face"
    VOICE = "voice"
    STORY = "story"


class ConsentMethod(enum.StrEnum):
    IN_APP = "in_app"
    PAPER = "paper"
    VERBAL_WITNESSED = "verbal_witnessed"


class Person(Base):
    """Someone who appears in a work, known by a label only; may or may not be a user."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()
    consents: Mapped[list[ConsentRecord]] = relationship(back_populates="subject")


class ConsentRecord(Base):
    __tablename__ = "consent_records"
    __table_args__ = (
        CheckConstraint(
            "(work_id IS NULL) <> (campaign_id IS NULL)", name="scope_is_work_or_campaign"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    work_id: Mapped[int | None] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(Text)
    modalities: Mapped[list[str]] = mapped_column(JSON)
    channels: Mapped[list[str]] = mapped_column(JSON)
    notice: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    method: Mapped[ConsentMethod] = mapped_column(enum_type(ConsentMethod, "consent_method"))
    given_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    witnessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawal_code_hash: Mapped[str] = mapped_column(String(64), unique=True)

    subject: Mapped[Person] = relationship(back_populates="consents")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    witnessed_by: Mapped[User | None] = relationship(foreign_keys=[witnessed_by_id])
