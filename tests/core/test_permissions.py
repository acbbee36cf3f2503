"""The one permission table, walked for every role."""

from __future__ import annotations

import pytest

from app.core.actors import PUBLIC, SYSTEM
from app.core.permissions import ROLE_PERMISSIONS, Permission, can
from app.orgs.models import Role

EXPECTED = {
    Role.CREATOR: {Permission.CREATE_WORKS, Permission.JOIN_GROUPS},
    Role.FACILITATOR: {
        Permission.INVITE_CREATORS,
        Permission.RECORD_READINESS,
        Permission.MANAGE_GROUPS,
        Permission.MANAGE_CAMPAIGNS,
        Permission.RECORD_CONSENT_FOR_OTHERS,
        Permission.CURATE_EXHIBITIONS,
    },
    Role.PSYCHOLOGIST: {Permission.REVIEW_WORKS},
    Role.ORG_ADMIN: {
        Permission.MANAGE_MEMBERS,
        Permission.CREATE_STAFF,
        Permission.MANAGE_GROUPS,
        Permission.CURATE_EXHIBITIONS,
        Permission.VIEW_AUDIT,
    },
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_role_permission_table(
    session, make_org, make_staff, make_creator, role: Role, permission: Permission
) -> None:
    organisation = make_org()
    other = make_org("payoke")
    user = make_creator(organisation) if role is Role.CREATOR else make_staff(organisation, role)
    assert can(user, permission, organisation.id) is (permission in EXPECTED[role])
    assert can(user, permission, other.id) is False
    user.is_active = False
    assert can(user, permission, organisation.id) is False


def test_table_matches_the_expectation() -> None:
    assert {role: set(perms) for role, perms in ROLE_PERMISSIONS.items()} == EXPECTED


def test_only_psychologists_review_and_nobody_else_can() -> None:
    holders = [role for role, perms in ROLE_PERMISSIONS.items() if Permission.REVIEW_WORKS in perms]
    assert holders == [Role.PSYCHOLOGIST]
    assert not can(SYSTEM, Permission.REVIEW_WORKS, 1)


@pytest.mark.parametrize("permission", list(Permission))
def test_the_public_holds_no_permission(permission: Permission) -> None:
    assert not can(PUBLIC, permission, 1)
