"""Accounts: signing in, invitations for creators, staff accounts.

Every function takes the acting party explicitly and flushes; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import passwords, throttle
from app.accounts.models import Invitation, ThrottleScope, User
from app.audit.services import record
from app.core.actors import PUBLIC, Actor
from app.core.clock import utcnow
from app.core.errors import SignInFailed, ValidationFailed
from app.core.permissions import Permission, require
from app.groups.models import Group
from app.orgs.models import Membership, Organisation, Role

# Crockford's base32 without look-alikes: a code is read aloud or copied from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 12
STAFF_ROLES = frozenset({Role.FACILITATOR, Role.PSYCHOLOGIST, Role.ORG_ADMIN})
INVALID_CODE = "That invitation code does not work. It may have expired or been used already."


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def find_user(session: Session, login_name: str) -> User | None:
    key = passwords.normalise_login(login_name)
    return session.scalars(select(User).where(User.login_key == key)).first()


def _new_user(session: Session, login_name: str, password: str) -> User:
    name = passwords.check_login_name(login_name)
    passwords.check_password(password, login_name=name)
    if find_user(session, name) is not None:
        raise ValidationFailed("That login name is taken. Please choose another.")
    user = User(
        login_name=name,
        login_key=passwords.normalise_login(name),
        password_hash=passwords.hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(
    session: Session,
    *,
    login_name: str,
    password: str,
    address: str,
    rules: throttle.ThrottleRules,
) -> User:
    """Return the user whose credentials these are, or raise ``SignInFailed``.

    The answer is the same whether the account exists, the password is wrong or the
    account or address is locked. Failures are flushed before raising so the caller
    can commit them.
    """
    now = utcnow()
    account_key = passwords.normalise_login(login_name)[:80]
    locked = throttle.is_locked(
        session, rules, ThrottleScope.ACCOUNT, account_key, now
    ) or throttle.is_locked(session, rules, ThrottleScope.ADDRESS, address, now)
    user = find_user(session, login_name) if account_key else None
    valid = passwords.verify_password(user.password_hash if user else None, password)
    if locked or not valid or user is None or not user.is_active:
        for scope, key in ((ThrottleScope.ACCOUNT, account_key), (ThrottleScope.ADDRESS, address)):
            if throttle.register_failure(session, rules, scope, key, now) and user is not None:
                record(
                    session,
                    actor=PUBLIC,
                    action="sign_in.locked",
                    subject_type="user",
                    subject_id=user.id,
                    data={"scope": scope.value},
                )
        raise SignInFailed()
    throttle.clear(session, rules, ThrottleScope.ACCOUNT, account_key)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    session.flush()
    return user


def end_sessions(session: Session, *, actor: User) -> None:
    """Sign the actor out on every device: cookies issued before now stop working."""
    actor.session_version += 1
    session.flush()


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    invitation: Invitation
    code: str  # shown once to the facilitator, never stored


def create_invitation(
    session: Session,
    *,
    actor: Actor,
    organisation: Organisation,
    group: Group | None = None,
    valid_for: timedelta = timedelta(days=7),
) -> IssuedInvitation:
    """Issue a single-use invitation code for a creator. Raises ``PermissionDenied``."""
    require(actor, Permission.INVITE_CREATORS, organisation.id)
    if group is not None and group.organisation_id != organisation.id:
        raise ValidationFailed("That group belongs to another organisation.")
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = utcnow()
    invitation = Invitation(
        organisation_id=organisation.id,
        group_id=group.id if group else None,
        code_hash=code_hash(raw),
        created_by_id=_user_id(actor),
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(invitation)
    session.flush()
    record(
        session,
        actor=actor,
        action="invitation.created",
        subject_type="invitation",
        subject_id=invitation.id,
        organisation_id=organisation.id,
        data={"group_id": invitation.group_id},
    )
    return IssuedInvitation(invitation=invitation, code=format_code(raw))


def revoke_invitation(session: Session, *, actor: Actor, invitation: Invitation) -> None:
    """Make an unused invitation unusable. Raises ``PermissionDenied``, ``ValidationFailed``."""
    require(actor, Permission.INVITE_CREATORS, invitation.organisation_id)
    if invitation.redeemed_at is not None or invitation.revoked_at is not None:
        raise ValidationFailed("That invitation has already been used or revoked.")
    invitation.revoked_at = utcnow()
    session.flush()
    record(
        session,
        actor=actor,
        action="invitation.revoked",
        subject_type="invitation",
        subject_id=invitation.id,
        organisation_id=invitation.organisation_id,
    )


def redeem_invitation(
    session: Session,
    *,
    code: str,
    login_name: str,
    password: str,
    address: str,
    rules: throttle.ThrottleRules,
) -> User:
    """Create a creator account from an invitation code. Wrong codes count against the
    address like failed sign-ins (flushed before raising). Raises ``ValidationFailed``."""
    now = utcnow()
    if throttle.is_locked(session, rules, ThrottleScope.ADDRESS, address, now):
        raise ValidationFailed(INVALID_CODE)
    invitation = session.scalars(
        select(Invitation).where(Invitation.code_hash == code_hash(code)).with_for_update()
    ).first()
    if (
        invitation is None
        or invitation.redeemed_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= now
    ):
        throttle.register_failure(session, rules, ThrottleScope.ADDRESS, address, now)
        raise ValidationFailed(INVALID_CODE)
    user = _new_user(session, login_name, password)
    session.add(
        Membership(user_id=user.id, organisation_id=invitation.organisation_id, role=Role.CREATOR)
    )
    invitation.redeemed_at = now
    invitation.redeemed_by_id = user.id
    session.flush()
    for action, subject_type, subject_id in (
        ("invitation.redeemed", "invitation", invitation.id),
        ("user.created", "user", user.id),
    ):
        record(
            session,
            actor=PUBLIC,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            organisation_id=invitation.organisation_id,
            data={"role": Role.CREATOR.value},
        )
    session.refresh(user, ["memberships"])
    return user


def create_staff_account(
    session: Session,
    *,
    actor: Actor,
    organisation: Organisation,
    login_name: str,
    password: str,
    role: Role,
) -> User:
    """Create a staff account with one role. Raises ``PermissionDenied``, ``ValidationFailed``."""
    require(actor, Permission.CREATE_STAFF, organisation.id)
    if role not in STAFF_ROLES:
        raise ValidationFailed("Creators join with an invitation code, not a staff account.")
    user = _new_user(session, login_name, password)
    session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=role))
    session.flush()
    record(
        session,
        actor=actor,
        action="user.created",
        subject_type="user",
        subject_id=user.id,
        organisation_id=organisation.id,
        data={"role": role.value},
    )
    session.refresh(user, ["memberships"])
    return user


def change_password(session: Session, *, actor: User, current: str, new: str) -> None:
    """Change the actor's own password. Raises ``ValidationFailed``."""
    if not passwords.verify_password(actor.password_hash, current):
        raise ValidationFailed("Your current password is not correct.")
    passwords.check_password(new, login_name=actor.login_name)
    actor.password_hash = passwords.hash_password(new)
    actor.session_version += 1  # other devices are signed out
    session.flush()
    record(
        session,
        actor=actor,
        action="user.password_changed",
        subject_type="user",
        subject_id=actor.id,
    )


def _user_id(actor: Actor) -> int | None:
    return actor.id if isinstance(actor, User) else None
