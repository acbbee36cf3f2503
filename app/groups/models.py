"""Groups of creators, their campaigns, and each creator's readiness to take part."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import Base, enum_type

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.orgs.models import Organisation


class CampaignStage(enum.StrEnum):
    IDEA = "idea"
    CREATIVE_WORK = "creative_work"
    TESTING = "testing"
    EDITION = "edition"
    BROADCASTING = "broadcasting"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    rules: Mapped[str] = mapped_column(Text, default="")
    rules_required: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    members: Mapped[list[GroupMember]] = relationship(back_populates="group")
    campaigns: Mapped[list[Campaign]] = relationship(back_populates="group")


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    rules_accepted_at: Mapped[datetime | None]

    group: Mapped[Group] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class Readiness(Base):
    """A facilitator's record that a creator gave informed consent to take part and is
    past the crisis-intervention period. Without it the creator joins no group."""

    __tablename__ = "readiness_records"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    informed_consent_on: Mapped[date]
    crisis_period_ended_on: Mapped[date]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[CampaignStage] = mapped_column(
        enum_type(CampaignStage, "campaign_stage"), default=CampaignStage.IDEA
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[Group] = relationship(back_populates="campaigns")
