"""Groups, campaigns and the readiness gate a creator passes before joining a group."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.services import record
from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.core.permissions import Permission, require, role_in
from app.groups.models import Campaign, CampaignStage, Group, GroupMember, Readiness
from app.orgs.models import Organisation, Role
from app.policies.schema import MediaPolicy


def group_by_id(session: Session, group_id: int) -> Group:
    """Raises ``NotFound``."""
    group = session.get(Group, group_id)
    if group is None:
        raise NotFound("There is no such group.")
    return group


def create_group(
    session: Session,
    *,
    actor: Actor,
    organisation: Organisation,
    policy: MediaPolicy,
    name: str,
    rules: str = "",
    rules_required: bool = False,
) -> Group:
    """Create a group. When the organisation's policy requires group rules, the group
    requires them too. Raises ``PermissionDenied``, ``ValidationFailed``."""
    require(actor, Permission.MANAGE_GROUPS, organisation.id)
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise ValidationFailed("A group name needs 1 to 120 characters.")
    if session.scalars(
        select(Group).where(Group.organisation_id == organisation.id, Group.name == name)
    ).first():
        raise ValidationFailed("This organisation already has a group with that name.")
    if policy.groups.rules_required:
        rules_required = True
        rules = rules.strip() or policy.groups.default_rules
    if rules_required and not rules.strip():
        raise ValidationFailed("Write the group's rules, or do not require them.")
    group = Group(
        organisation_id=organisation.id,
        name=name,
        rules=rules.strip(),
        rules_required=rules_required,
    )
    session.add(group)
    session.flush()
    record(
        session,
        actor=actor,
        action="group.created",
        subject_type="group",
        subject_id=group.id,
        organisation_id=organisation.id,
        data={"rules_required": rules_required},
    )
    return group


def create_campaign(
    session: Session,
    *,
    actor: Actor,
    group: Group,
    policy: MediaPolicy,
    title: str,
    description: str = "",
) -> Campaign:
    """Start a campaign at the first stage the policy lists. Raises ``PermissionDenied``,
    ``ValidationFailed``."""
    require(actor, Permission.MANAGE_CAMPAIGNS, group.organisation_id)
    title = title.strip()
    if not 1 <= len(title) <= 200:
        raise ValidationFailed("A campaign title needs 1 to 200 characters.")
    campaign = Campaign(
        group_id=group.id,
        title=title,
        description=description.strip(),
        stage=CampaignStage(policy.campaign.stages[0]),
    )
    session.add(campaign)
    session.flush()
    record(
        session,
        actor=actor,
        action="campaign.created",
        subject_type="campaign",
        subject_id=campaign.id,
        organisation_id=group.organisation_id,
        data={"group_id": group.id, "stage": campaign.stage.value},
    )
    return campaign


def move_campaign(
    session: Session, *, actor: Actor, campaign: Campaign, policy: MediaPolicy, stage: CampaignStage
) -> None:
    """Move a campaign to another of the stages its organisation's policy lists.
    Raises ``PermissionDenied``, ``ValidationFailed``."""
    organisation_id = campaign.group.organisation_id
    require(actor, Permission.MANAGE_CAMPAIGNS, organisation_id)
    if stage.value not in policy.campaign.stages:
        raise ValidationFailed("This organisation's campaigns do not use that stage.")
    if stage is campaign.stage:
        return
    previous = campaign.stage
    campaign.stage = stage
    session.flush()
    record(
        session,
        actor=actor,
        action="campaign.stage_changed",
        subject_type="campaign",
        subject_id=campaign.id,
        organisation_id=organisation_id,
        data={"from": previous.value, "to": stage.value},
    )


def record_readiness(
    session: Session,
    *,
    actor: Actor,
    organisation: Organisation,
    creator: User,
    informed_consent_on: date,
    crisis_period_ended_on: date,
) -> Readiness:
    """Record that a creator gave informed consent to take part and is past the
    crisis-intervention period. Raises ``PermissionDenied``, ``ValidationFailed``."""
    require(actor, Permission.RECORD_READINESS, organisation.id)
    if not isinstance(actor, User):
        raise PermissionDenied("Readiness is recorded by a facilitator, by name of account.")
    if role_in(creator, organisation.id) is not Role.CREATOR:
        raise ValidationFailed("Readiness is recorded for creators of this organisation.")
    today = utcnow().date()
    if informed_consent_on > today:
        raise ValidationFailed("The date of informed consent cannot be in the future.")
    if crisis_period_ended_on > today:
        raise ValidationFailed(
            "The crisis-intervention period has not ended yet; record readiness once it has."
        )
    readiness = session.scalars(
        select(Readiness).where(
            Readiness.user_id == creator.id, Readiness.organisation_id == organisation.id
        )
    ).first()
    if readiness is None:
        readiness = Readiness(user_id=creator.id, organisation_id=organisation.id)
        session.add(readiness)
    readiness.informed_consent_on = informed_consent_on
    readiness.crisis_period_ended_on = crisis_period_ended_on
    readiness.recorded_by_id = actor.id
    readiness.recorded_at = utcnow()
    session.flush()
    record(
        session,
        actor=actor,
        action="readiness.recorded",
        subject_type="readiness",
        subject_id=readiness.id,
        organisation_id=organisation.id,
        data={"user_id": creator.id},
    )
    return readiness


def readiness_of(session: Session, user_id: int, organisation_id: int) -> Readiness | None:
    return session.scalars(
        select(Readiness).where(
            Readiness.user_id == user_id, Readiness.organisation_id == organisation_id
        )
    ).first()


def join_group(session: Session, *, actor: Actor, group: Group, accept_rules: bool) -> GroupMember:
    """Join a group as a creator. Needs a readiness record and, where the group asks for
    it, acceptance of the group's rules. Raises ``PermissionDenied``, ``Conflict``,
    ``ValidationFailed``."""
    require(actor, Permission.JOIN_GROUPS, group.organisation_id)
    if not isinstance(actor, User):
        raise PermissionDenied("Only a creator can join a group.")
    readiness = readiness_of(session, actor.id, group.organisation_id)
    if readiness is None or readiness.crisis_period_ended_on > utcnow().date():
        raise Conflict(
            "A facilitator first needs to confirm with you that you are ready to take part. "
            "Ask your facilitator; nothing is lost in the meantime."
        )
    if session.get(GroupMember, (group.id, actor.id)) is not None:
        raise Conflict("You are already a member of this group.")
    if group.rules_required and not accept_rules:
        raise ValidationFailed("This group asks its members to accept its rules before joining.")
    now = utcnow()
    member = GroupMember(
        group_id=group.id,
        user_id=actor.id,
        joined_at=now,
        rules_accepted_at=now if group.rules_required else None,
    )
    session.add(member)
    session.flush()
    record(
        session,
        actor=actor,
        action="group.joined",
        subject_type="group",
        subject_id=group.id,
        organisation_id=group.organisation_id,
        data={"user_id": actor.id, "rules_accepted": group.rules_required},
    )
    return member


def groups_of(session: Session, user: User) -> list[Group]:
    return list(
        session.scalars(
            select(Group)
            .join(GroupMember)
            .where(GroupMember.user_id == user.id)
            .order_by(Group.name)
        )
    )
