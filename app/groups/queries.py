"""Read-only queries for group, readiness and invitation pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Invitation, User

if TYPE_CHECKING:
    from app.works.models import Work
from app.groups.models import Campaign, Group, GroupMember, Readiness
from app.orgs.models import Membership, Organisation, Role


@dataclass(frozen=True, slots=True)
class CreatorStatus:
    user: User
    readiness: Readiness | None
    groups: list[Group]


def organisation_groups(session: Session, organisation: Organisation) -> list[Group]:
    return list(
        session.scalars(
            select(Group).where(Group.organisation_id == organisation.id).order_by(Group.name)
        )
    )


def group_campaigns(session: Session, group: Group) -> list[Campaign]:
    return list(
        session.scalars(
            select(Campaign).where(Campaign.group_id == group.id).order_by(Campaign.created_at)
        )
    )


def is_member(session: Session, group: Group, user: User) -> bool:
    return session.get(GroupMember, (group.id, user.id)) is not None


def creators(session: Session, organisation: Organisation) -> list[CreatorStatus]:
    users = session.scalars(
        select(User)
        .join(Membership)
        .where(Membership.organisation_id == organisation.id, Membership.role == Role.CREATOR)
        .order_by(User.login_key)
    ).all()
    readiness = {
        r.user_id: r
        for r in session.scalars(
            select(Readiness).where(Readiness.organisation_id == organisation.id)
        )
    }
    memberships: dict[int, list[Group]] = {}
    for member, group in session.execute(
        select(GroupMember, Group)
        .join(Group)
        .where(Group.organisation_id == organisation.id)
        .order_by(Group.name)
    ):
        memberships.setdefault(member.user_id, []).append(group)
    return [CreatorStatus(u, readiness.get(u.id), memberships.get(u.id, [])) for u in users]


def invitations(session: Session, organisation: Organisation, limit: int = 50) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.organisation_id == organisation.id)
            .order_by(Invitation.created_at.desc())
            .limit(limit)
        )
    )


def invited_group_ids(session: Session, user: User) -> set[int]:
    return {
        group_id
        for group_id in session.scalars(
            select(Invitation.group_id).where(
                Invitation.redeemed_by_id == user.id, Invitation.group_id.is_not(None)
            )
        )
        if group_id is not None
    }


def campaign_works(session: Session, campaigns: list[Campaign]) -> dict[int, list[Work]]:
    """The works of each campaign, by title, for staff pages."""
    from app.works.models import Work

    works: dict[int, list[Work]] = {c.id: [] for c in campaigns}
    for work in session.scalars(
        select(Work).where(Work.campaign_id.in_(works)).order_by(Work.title, Work.id)
    ):
        works[work.campaign_id].append(work)
    return works
