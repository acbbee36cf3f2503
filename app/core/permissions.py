"""The one table of who may do what, checked inside the services.

Views may call ``can`` to hide a button; they never rely on it instead of the service.
"""

from __future__ import annotations

import enum

from app.core.actors import Actor, PublicActor, SystemActor
from app.core.errors import PermissionDenied
from app.orgs.models import Role


class Permission(enum.StrEnum):
    MANAGE_MEMBERS = "manage_members"
    CREATE_STAFF = "create_staff"
    INVITE_CREATORS = "invite_creators"
    RECORD_READINESS = "record_readiness"
    MANAGE_GROUPS = "manage_groups"
    MANAGE_CAMPAIGNS = "manage_campaigns"
    RECORD_CONSENT_FOR_OTHERS = "record_consent_for_others"
    CREATE_WORKS = "create_works"
    JOIN_GROUPS = "join_groups"
    REVIEW_WORKS = "review_works"
    CURATE_EXHIBITIONS = "curate_exhibitions"
    VIEW_AUDIT = "view_audit"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CREATOR: frozenset({Permission.CREATE_WORKS, Permission.JOIN_GROUPS}),
    Role.FACILITATOR: frozenset(
        {
            Permission.INVITE_CREATORS,
            Permission.RECORD_READINESS,
            Permission.MANAGE_GROUPS,
            Permission.MANAGE_CAMPAIGNS,
            Permission.RECORD_CONSENT_FOR_OTHERS,
            Permission.CURATE_EXHIBITIONS,
        }
    ),
    Role.PSYCHOLOGIST: frozenset({Permission.REVIEW_WORKS}),
    Role.ORG_ADMIN: frozenset(
        {
            Permission.MANAGE_MEMBERS,
            Permission.CREATE_STAFF,
            Permission.MANAGE_GROUPS,
            Permission.CURATE_EXHIBITIONS,
            Permission.VIEW_AUDIT,
        }
    ),
}

# Chorus itself may set things up (demo, CLI) but never decides as a person would.
SYSTEM_PERMISSIONS: frozenset[Permission] = frozenset(Permission) - {
    Permission.REVIEW_WORKS,
    Permission.JOIN_GROUPS,
    Permission.CREATE_WORKS,
}


def role_in(actor: Actor, organisation_id: int) -> Role | None:
    """The actor's role in the organisation, or None."""
    if isinstance(actor, SystemActor | PublicActor):
        return None
    if not actor.is_active:
        return None
    for membership in actor.memberships:
        if membership.organisation_id == organisation_id:
            return membership.role
    return None


def can(actor: Actor, permission: Permission, organisation_id: int) -> bool:
    if isinstance(actor, SystemActor):
        return permission in SYSTEM_PERMISSIONS
    role = role_in(actor, organisation_id)
    return role is not None and permission in ROLE_PERMISSIONS[role]


def require(actor: Actor, permission: Permission, organisation_id: int) -> None:
    """Raise ``PermissionDenied`` unless the actor holds the permission there."""
    if not can(actor, permission, organisation_id):
        raise PermissionDenied("You do not have permission to do that.")
