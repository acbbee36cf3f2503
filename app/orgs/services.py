"""Organisation membership: roles and active accounts, managed by org admins."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.services import record
from app.core.actors import Actor, SystemActor
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.core.permissions import Permission, require
from app.orgs.models import Membership, Organisation, Role
from app.policies.schema import MediaPolicy


def organisation_by_slug(session: Session, slug: str) -> Organisation:
    """Raises ``NotFound``."""
    organisation = session.scalars(select(Organisation).where(Organisation.slug == slug)).first()
    if organisation is None:
        raise NotFound("There is no such organisation.")
    return organisation


def membership_in(session: Session, organisation: Organisation, user_id: int) -> Membership:
    """Raises ``NotFound`` when the user is not a member of the organisation."""
    membership = session.scalars(
        select(Membership).where(
            Membership.organisation_id == organisation.id, Membership.user_id == user_id
        )
    ).first()
    if membership is None:
        raise NotFound("That person is not a member of this organisation.")
    return membership


def members(session: Session, *, actor: Actor, organisation: Organisation) -> list[Membership]:
    """Members of an organisation by role and login name. Raises ``PermissionDenied``."""
    require(actor, Permission.MANAGE_MEMBERS, organisation.id)
    return list(
        session.scalars(
            select(Membership)
            .join(User)
            .where(Membership.organisation_id == organisation.id)
            .order_by(Membership.role, User.login_key)
        )
    )


def _admins(session: Session, organisation_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .join(User)
            .where(
                Membership.organisation_id == organisation_id,
                Membership.role == Role.ORG_ADMIN,
                User.is_active.is_(True),
            )
        )
        or 0
    )


def change_role(session: Session, *, actor: Actor, membership: Membership, role: Role) -> None:
    """Give a member another role. Creators stay creators and staff stay staff, and the
    last active org admin keeps the role. Raises ``PermissionDenied``, ``Conflict``."""
    require(actor, Permission.MANAGE_MEMBERS, membership.organisation_id)
    if membership.role == role:
        return
    if (membership.role is Role.CREATOR) != (role is Role.CREATOR):
        raise ValidationFailed(
            "Creators join by invitation and staff accounts are created by an admin; "
            "an account cannot move between the two."
        )
    if membership.role is Role.ORG_ADMIN and _admins(session, membership.organisation_id) <= 1:
        raise Conflict("An organisation needs at least one active admin.")
    previous = membership.role
    membership.role = role
    session.flush()
    record(
        session,
        actor=actor,
        action="membership.role_changed",
        subject_type="membership",
        subject_id=membership.id,
        organisation_id=membership.organisation_id,
        data={"user_id": membership.user_id, "from": previous.value, "to": role.value},
    )


def set_active(session: Session, *, actor: Actor, membership: Membership, active: bool) -> None:
    """Suspend or restore a member's account. Raises ``PermissionDenied``, ``Conflict``."""
    require(actor, Permission.MANAGE_MEMBERS, membership.organisation_id)
    user = membership.user
    if user.is_active == active:
        return
    if isinstance(actor, User) and actor.id == user.id:
        raise Conflict("You cannot suspend your own account.")
    if any(m.organisation_id != membership.organisation_id for m in user.memberships):
        raise Conflict("This account also belongs to another organisation.")
    if (
        not active
        and membership.role is Role.ORG_ADMIN
        and _admins(session, membership.organisation_id) <= 1
    ):
        raise Conflict("An organisation needs at least one active admin.")
    user.is_active = active
    session.flush()
    record(
        session,
        actor=actor,
        action="user.reactivated" if active else "user.suspended",
        subject_type="user",
        subject_id=user.id,
        organisation_id=membership.organisation_id,
    )


def create_organisation(session: Session, *, actor: Actor, policy: MediaPolicy) -> Organisation:
    """Create the organisation a media policy describes (slug, name, country). Only
    Chorus itself (the command line) does this. Raises ``PermissionDenied``, ``Conflict``."""
    slug = policy.slug
    if not isinstance(actor, SystemActor):
        raise PermissionDenied("Organisations are created from the command line.")
    if session.scalars(select(Organisation).where(Organisation.slug == slug)).first():
        raise Conflict(f"The organisation {slug!r} exists already.")
    organisation = Organisation(
        slug=slug, name=policy.organisation.name, country=policy.organisation.country
    )
    session.add(organisation)
    session.flush()
    record(
        session,
        actor=actor,
        action="organisation.created",
        subject_type="organisation",
        subject_id=organisation.id,
        organisation_id=organisation.id,
    )
    return organisation
