"""Membership management by org admins."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.core.actors import PUBLIC, SYSTEM
from app.core.errors import Conflict, PermissionDenied, ValidationFailed
from app.orgs.models import Role
from app.orgs.services import change_role, create_organisation, membership_in, set_active


def test_admin_changes_staff_roles_and_it_is_audited(
    session: Session, make_org, make_staff
) -> None:
    organisation = make_org()
    admin = make_staff(organisation, Role.ORG_ADMIN)
    staff = make_staff(organisation, Role.FACILITATOR)
    membership = membership_in(session, organisation, staff.id)
    change_role(session, actor=admin, membership=membership, role=Role.PSYCHOLOGIST)
    session.commit()
    assert membership_in(session, organisation, staff.id).role is Role.PSYCHOLOGIST


def test_creators_and_staff_do_not_swap(
    session: Session, make_org, make_staff, make_creator
) -> None:
    organisation = make_org()
    admin = make_staff(organisation, Role.ORG_ADMIN)
    creator = make_creator(organisation)
    with pytest.raises(ValidationFailed):
        change_role(
            session,
            actor=admin,
            membership=membership_in(session, organisation, creator.id),
            role=Role.PSYCHOLOGIST,
        )


def test_last_admin_keeps_the_role_and_stays_active(session: Session, make_org, make_staff) -> None:
    organisation = make_org()
    admin = make_staff(organisation, Role.ORG_ADMIN)
    membership = membership_in(session, organisation, admin.id)
    with pytest.raises(Conflict, match="at least one"):
        change_role(session, actor=SYSTEM, membership=membership, role=Role.FACILITATOR)
    with pytest.raises(Conflict, match="at least one"):
        set_active(session, actor=SYSTEM, membership=membership, active=False)
    with pytest.raises(Conflict, match="your own"):
        set_active(session, actor=admin, membership=membership, active=False)


def test_only_admins_of_that_organisation_manage_members(
    session: Session, make_org, make_staff
) -> None:
    adpare, payoke = make_org("adpare"), make_org("payoke")
    outsider_admin = make_staff(payoke, Role.ORG_ADMIN)
    facilitator = make_staff(adpare, Role.FACILITATOR)
    target = make_staff(adpare, Role.PSYCHOLOGIST)
    membership = membership_in(session, adpare, target.id)
    for actor in (outsider_admin, facilitator, PUBLIC):
        with pytest.raises(PermissionDenied):
            change_role(session, actor=actor, membership=membership, role=Role.FACILITATOR)
        with pytest.raises(PermissionDenied):
            set_active(session, actor=actor, membership=membership, active=False)


def test_suspend_and_restore(session: Session, make_org, make_staff) -> None:
    organisation = make_org()
    admin = make_staff(organisation, Role.ORG_ADMIN)
    target = make_staff(organisation, Role.FACILITATOR)
    membership = membership_in(session, organisation, target.id)
    set_active(session, actor=admin, membership=membership, active=False)
    assert not target.is_active
    set_active(session, actor=admin, membership=membership, active=True)
    assert target.is_active


def test_organisations_are_created_by_the_system_only(
    session: Session, make_org, make_staff, policies
) -> None:
    admin = make_staff(make_org(), Role.ORG_ADMIN)
    with pytest.raises(PermissionDenied):
        create_organisation(session, actor=admin, policy=policies.get("mist"))
    with pytest.raises(Conflict):
        create_organisation(session, actor=SYSTEM, policy=policies.get("adpare"))
