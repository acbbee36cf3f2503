"""Accounts: invitations, redemption, staff accounts, sign-in throttling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.accounts import passwords
from app.accounts.models import Invitation, SignInThrottle, User
from app.accounts.services import (
    authenticate,
    code_hash,
    create_invitation,
    create_staff_account,
    redeem_invitation,
    revoke_invitation,
)
from app.accounts.throttle import ThrottleRules
from app.audit.models import AuditEvent
from app.core.actors import PUBLIC, SYSTEM
from app.core.errors import PermissionDenied, SignInFailed, ValidationFailed
from app.orgs.models import Organisation, Role
from tests.conftest import TEST_PASSWORD

ADDRESS = "198.51.100.7"


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_users_table_has_no_place_for_email_or_real_name(session: Session) -> None:
    columns = {c["name"] for c in inspect(session.get_bind()).get_columns("users")}
    assert not columns & {"email", "e_mail", "real_name", "first_name", "last_name", "phone"}


def test_password_hash_is_argon2id_and_verifies(session: Session, make_org, make_staff) -> None:
    user = make_staff(make_org(), Role.FACILITATOR)
    assert user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in user.password_hash
    assert passwords.verify_password(user.password_hash, TEST_PASSWORD)
    assert not passwords.verify_password(user.password_hash, TEST_PASSWORD + "x")


def test_invitation_code_is_stored_only_as_a_hash(session: Session, make_org, make_staff) -> None:
    organisation = make_org()
    facilitator = make_staff(organisation, Role.FACILITATOR)
    issued = create_invitation(session, actor=facilitator, organisation=organisation)
    session.commit()
    row = session.get(Invitation, issued.invitation.id)
    assert row is not None
    assert row.code_hash == code_hash(issued.code)
    stored = " ".join(str(getattr(row, c.key)) for c in inspect(Invitation).columns)
    assert issued.code not in stored
    assert issued.code.replace("-", "") not in stored
    assert row.expires_at - row.created_at == timedelta(days=7)


@pytest.mark.parametrize("role", [Role.CREATOR, Role.PSYCHOLOGIST, Role.ORG_ADMIN])
def test_only_facilitators_invite(
    session: Session, make_org, make_staff, make_creator, role
) -> None:
    organisation = make_org()
    actor = make_creator(organisation) if role is Role.CREATOR else make_staff(organisation, role)
    with pytest.raises(PermissionDenied):
        create_invitation(session, actor=actor, organisation=organisation)


def test_facilitator_cannot_invite_into_another_organisation(
    session: Session, make_org, make_staff
) -> None:
    adpare, payoke = make_org("adpare"), make_org("payoke")
    facilitator = make_staff(adpare, Role.FACILITATOR)
    with pytest.raises(PermissionDenied):
        create_invitation(session, actor=facilitator, organisation=payoke)


def _issue(session: Session, organisation: Organisation, facilitator: User) -> str:
    issued = create_invitation(session, actor=facilitator, organisation=organisation)
    session.commit()
    return issued.code


def test_redeem_creates_a_pseudonymous_creator_once(
    session: Session, make_org, make_staff, rules: ThrottleRules
) -> None:
    organisation = make_org()
    code = _issue(session, organisation, make_staff(organisation, Role.FACILITATOR))
    user = redeem_invitation(
        session,
        code=code.lower(),
        login_name="Moonlight",
        password=TEST_PASSWORD,
        address=ADDRESS,
        rules=rules,
    )
    session.commit()
    assert [(m.organisation_id, m.role) for m in user.memberships] == [
        (organisation.id, Role.CREATOR)
    ]
    assert user.login_key == "moonlight"
    assert {"invitation.redeemed", "user.created"} <= set(actions(session))
    with pytest.raises(ValidationFailed, match="expired or been used"):
        redeem_invitation(
            session,
            code=code,
            login_name="another",
            password=TEST_PASSWORD,
            address=ADDRESS,
            rules=rules,
        )
    session.rollback()
    assert session.scalar(select(User).where(User.login_key == "another")) is None


@pytest.mark.parametrize("problem", ["expired", "revoked", "unknown"])
def test_unusable_invitations_are_refused(
    session: Session, make_org, make_staff, rules: ThrottleRules, problem: str
) -> None:
    organisation = make_org()
    facilitator = make_staff(organisation, Role.FACILITATOR)
    issued = create_invitation(session, actor=facilitator, organisation=organisation)
    code = issued.code
    if problem == "expired":
        issued.invitation.expires_at = issued.invitation.created_at - timedelta(seconds=1)
    elif problem == "revoked":
        revoke_invitation(session, actor=facilitator, invitation=issued.invitation)
    else:
        code = "AAAA-BBBB-CCCC"
    session.commit()
    users_before = len(session.scalars(select(User)).all())
    with pytest.raises(ValidationFailed, match="does not work"):
        redeem_invitation(
            session,
            code=code,
            login_name="newcomer",
            password=TEST_PASSWORD,
            address=ADDRESS,
            rules=rules,
        )
    assert len(session.scalars(select(User)).all()) == users_before


def test_wrong_codes_lock_the_address(
    session: Session, make_org, make_staff, rules: ThrottleRules
) -> None:
    organisation = make_org()
    good = _issue(session, organisation, make_staff(organisation, Role.FACILITATOR))
    for _ in range(rules.address_failures):
        with pytest.raises(ValidationFailed):
            redeem_invitation(
                session,
                code="ZZZZ-ZZZZ-ZZZZ",
                login_name="guess",
                password=TEST_PASSWORD,
                address=ADDRESS,
                rules=rules,
            )
        session.commit()
    with pytest.raises(ValidationFailed):
        redeem_invitation(
            session,
            code=good,
            login_name="guess",
            password=TEST_PASSWORD,
            address=ADDRESS,
            rules=rules,
        )


@pytest.mark.parametrize(
    ("login_name", "password", "message"),
    [
        ("ab", TEST_PASSWORD, "3 to 40"),
        ("has space", TEST_PASSWORD, "3 to 40"),
        ("someone", "short", "at least 10"),
        ("someone", "x" * 129, "at most 128"),
        ("SomeoneLong", "someonelong", "same as the login name"),
    ],
)
def test_account_rules_are_explained(
    session: Session, make_org, login_name: str, password: str, message: str
) -> None:
    organisation = make_org()
    with pytest.raises(ValidationFailed, match=message):
        create_staff_account(
            session,
            actor=SYSTEM,
            organisation=organisation,
            login_name=login_name,
            password=password,
            role=Role.FACILITATOR,
        )


def test_login_names_are_unique_regardless_of_case(session: Session, make_org, make_staff) -> None:
    organisation = make_org()
    make_staff(organisation, Role.FACILITATOR, login_name="River")
    with pytest.raises(ValidationFailed, match="taken"):
        create_staff_account(
            session,
            actor=SYSTEM,
            organisation=organisation,
            login_name="rIVER",
            password=TEST_PASSWORD,
            role=Role.PSYCHOLOGIST,
        )


def test_staff_accounts_by_org_admin_only_and_never_creators(
    session: Session, make_org, make_staff
) -> None:
    organisation = make_org()
    admin = make_staff(organisation, Role.ORG_ADMIN)
    facilitator = make_staff(organisation, Role.FACILITATOR)
    with pytest.raises(PermissionDenied):
        create_staff_account(
            session,
            actor=facilitator,
            organisation=organisation,
            login_name="newstaff",
            password=TEST_PASSWORD,
            role=Role.PSYCHOLOGIST,
        )
    with pytest.raises(ValidationFailed, match="invitation"):
        create_staff_account(
            session,
            actor=admin,
            organisation=organisation,
            login_name="newstaff",
            password=TEST_PASSWORD,
            role=Role.CREATOR,
        )
    with pytest.raises(PermissionDenied):
        create_staff_account(
            session,
            actor=PUBLIC,
            organisation=organisation,
            login_name="newstaff",
            password=TEST_PASSWORD,
            role=Role.PSYCHOLOGIST,
        )
    user = create_staff_account(
        session,
        actor=admin,
        organisation=organisation,
        login_name="newstaff",
        password=TEST_PASSWORD,
        role=Role.PSYCHOLOGIST,
    )
    assert user.memberships[0].role is Role.PSYCHOLOGIST


def _sign_in(session: Session, rules: ThrottleRules, name: str, password: str, address=ADDRESS):
    try:
        return authenticate(
            session, login_name=name, password=password, address=address, rules=rules
        )
    finally:
        session.commit()


def test_sign_in_fails_the_same_way_for_unknown_and_wrong(
    session: Session, make_org, make_staff, rules: ThrottleRules
) -> None:
    make_staff(make_org(), Role.FACILITATOR, login_name="known")
    with pytest.raises(SignInFailed) as unknown:
        _sign_in(session, rules, "nobody-here", TEST_PASSWORD)
    with pytest.raises(SignInFailed) as wrong:
        _sign_in(session, rules, "known", "not the password")
    assert unknown.value.message == wrong.value.message
    assert _sign_in(session, rules, "KNOWN", TEST_PASSWORD).login_name == "known"


def test_account_locks_after_repeated_failures_then_unlocks(
    session: Session, make_org, make_staff, rules: ThrottleRules
) -> None:
    make_staff(make_org(), Role.FACILITATOR, login_name="target")
    for i in range(rules.account_failures):
        with pytest.raises(SignInFailed):
            _sign_in(session, rules, "target", "wrong", address=f"203.0.113.{i}")
    with pytest.raises(SignInFailed):
        _sign_in(session, rules, "target", TEST_PASSWORD, address="203.0.113.99")
    assert "sign_in.locked" in actions(session)
    for row in session.scalars(select(SignInThrottle)):
        if row.locked_until is not None:
            row.locked_until = row.locked_until - rules.lock - timedelta(seconds=1)
    session.commit()
    assert _sign_in(session, rules, "target", TEST_PASSWORD, address="203.0.113.99")


def test_unknown_accounts_lock_exactly_like_real_ones(
    session: Session, rules: ThrottleRules, make_org
) -> None:
    make_org()
    for i in range(rules.account_failures):
        with pytest.raises(SignInFailed):
            _sign_in(session, rules, "ghost", "wrong", address=f"203.0.113.{i}")
    locked = [r for r in session.scalars(select(SignInThrottle)) if r.locked_until]
    assert len(locked) == 1
    assert "ghost" not in locked[0].key_hash


def test_address_locks_across_accounts(
    session: Session, make_org, make_staff, rules: ThrottleRules
) -> None:
    make_staff(make_org(), Role.FACILITATOR, login_name="victim")
    for i in range(rules.address_failures):
        with pytest.raises(SignInFailed):
            _sign_in(session, rules, f"spray{i}", "wrong")
    with pytest.raises(SignInFailed):
        _sign_in(session, rules, "victim", TEST_PASSWORD)
    assert _sign_in(session, rules, "victim", TEST_PASSWORD, address="192.0.2.200")


def test_throttle_stores_no_login_names_or_addresses(
    session: Session, rules: ThrottleRules, make_org
) -> None:
    make_org()
    with pytest.raises(SignInFailed):
        _sign_in(session, rules, "wanderer", "wrong")
    for row in session.scalars(select(SignInThrottle)):
        assert "wanderer" not in row.key_hash
        assert ADDRESS not in row.key_hash


def test_suspended_accounts_cannot_sign_in(
    session: Session, make_org, make_staff, rules: ThrottleRules
) -> None:
    user = make_staff(make_org(), Role.FACILITATOR, login_name="paused")
    user.is_active = False
    session.commit()
    with pytest.raises(SignInFailed):
        _sign_in(session, rules, "paused", TEST_PASSWORD)


def test_redeem_and_sign_in_use_the_callers_actor_kind(
    session: Session, make_org, make_creator: Callable[..., User]
) -> None:
    make_creator(make_org())
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.created")).all()
    assert any(e.actor_kind == "public" and e.actor_id is None for e in events)
