"""End to end over HTTP: invitations, joining, readiness, groups, staff accounts and
signing in and out."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import String, Text, func, inspect, select, text, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.accounts.models import Invitation, User
from app.accounts.services import INVALID_CODE, code_hash
from app.audit.models import AuditEvent
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.errors import SignInFailed
from app.groups.models import Group, GroupMember, Readiness
from app.orgs.models import Membership, Role
from tests.conftest import TEST_PASSWORD, csrf_token, sign_in
from tests.web.conftest import Site, without_csrf

CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b")
SIGN_IN_FAILED = SignInFailed().message
NEW_PASSWORD = "a fresh long password"
TODAY = utcnow().date()


# --- Helpers ------------------------------------------------------------------------------


def post_form(client: FlaskClient, page: str, data: dict[str, Any], action: str | None = None):
    """Open the page for its CSRF token, then post the form to ``action`` (or the page)."""
    token = csrf_token(client, page)
    return client.post(action or page, data={"csrf_token": token, **data})


def flashed(client: FlaskClient, response: TestResponse) -> str:
    """The page a redirect leads to, whitespace collapsed (flash messages show there)."""
    assert response.status_code == 302, response.status_code
    return " ".join(client.get(response.headers["Location"]).get_data(as_text=True).split())


def plain(response: TestResponse) -> str:
    return " ".join(response.get_data(as_text=True).split())


def audit_actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def new_code(client: FlaskClient, slug: str = "adpare") -> str:
    response = post_form(client, f"/orgs/{slug}/invitations", {"group": ""})
    assert response.status_code == 200
    codes = set(CODE.findall(without_csrf(response.get_data(as_text=True))))
    assert len(codes) == 1, codes
    return codes.pop()


def join(app: Flask, code: str, login_name: str) -> tuple[FlaskClient, TestResponse]:
    client = app.test_client()
    response = post_form(
        client,
        "/join",
        {
            "code": code,
            "login_name": login_name,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    return client, response


def user_named(session: Session, login_name: str) -> User | None:
    session.expire_all()
    return session.scalars(select(User).where(User.login_name == login_name)).first()


# --- Invitations and joining --------------------------------------------------------------


def test_invitation_code_is_shown_once_and_never_stored(
    client_as: Callable[[str], FlaskClient], session: Session, settings: Settings
) -> None:
    facilitator = client_as("facilitator")
    response = post_form(facilitator, "/orgs/adpare/invitations", {"group": ""})
    assert response.status_code == 200
    assert "Write it down now" in plain(response)
    (code,) = set(CODE.findall(without_csrf(response.get_data(as_text=True))))
    assert "invitation.created" in audit_actions(session)
    # The next view of the page no longer has it.
    assert code not in facilitator.get("/orgs/adpare/invitations").get_data(as_text=True)

    table = inspect(session.get_bind()).get_columns("invitations")
    text_columns = [c["name"] for c in table if isinstance(c["type"], String | Text)]
    assert "code_hash" in text_columns
    rows = session.execute(text(f"SELECT {', '.join(text_columns)} FROM invitations")).all()  # noqa: S608
    assert rows
    bare = code.replace("-", "")
    for row in rows:
        for value in row:
            assert code not in str(value)
            assert bare not in str(value)
    database = Path(settings.database_url.removeprefix("sqlite:///")).read_bytes()
    assert code.encode() not in database
    assert bare.encode() not in database


def test_a_new_person_joins_with_a_code(
    app: Flask, client_as: Callable[[str], FlaskClient], session: Session, site: Site
) -> None:
    code = new_code(client_as("facilitator"))
    person, response = join(app, code, "river-7")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    dashboard = plain(person.get("/dashboard"))
    assert "Hello, river-7" in dashboard
    assert "Welcome to Chorus" in dashboard

    user = user_named(session, "river-7")
    assert user is not None
    memberships = session.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    assert [(m.organisation.slug, m.role) for m in memberships] == [("adpare", Role.CREATOR)]
    invitation = session.scalars(
        select(Invitation).where(Invitation.code_hash == code_hash(code))
    ).one()
    assert invitation.redeemed_by_id == user.id
    assert {"invitation.redeemed", "user.created"} <= set(audit_actions(session))


def test_accounts_hold_no_contact_details(session: Session) -> None:
    columns = {c["name"] for c in inspect(session.get_bind()).get_columns("users")}
    assert "login_name" in columns
    assert not {c for c in columns if re.search(r"mail|phone|real|first_name|surname", c)}


def test_a_used_code_does_not_work_again(
    app: Flask, client_as: Callable[[str], FlaskClient], session: Session
) -> None:
    code = new_code(client_as("facilitator"))
    _, first = join(app, code, "river-7")
    assert first.status_code == 302
    users = session.scalar(select(func.count()).select_from(User))

    _, second = join(app, code, "lake-8")
    assert second.status_code == 422
    assert INVALID_CODE in plain(second)
    assert user_named(session, "lake-8") is None
    assert session.scalar(select(func.count()).select_from(User)) == users


def test_an_expired_code_does_not_work(
    app: Flask, client_as: Callable[[str], FlaskClient], session: Session
) -> None:
    code = new_code(client_as("facilitator"))
    session.execute(
        update(Invitation)
        .where(Invitation.code_hash == code_hash(code))
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    session.commit()
    _, response = join(app, code, "river-7")
    assert response.status_code == 422
    assert INVALID_CODE in plain(response)
    assert user_named(session, "river-7") is None


def test_a_facilitator_revokes_a_code(
    client_as: Callable[[str], FlaskClient], session: Session
) -> None:
    facilitator = client_as("facilitator")
    code = new_code(facilitator)
    invitation = session.scalars(
        select(Invitation).where(Invitation.code_hash == code_hash(code))
    ).one()
    response = post_form(
        facilitator,
        "/orgs/adpare/invitations",
        {},
        action=f"/orgs/adpare/invitations/{invitation.id}/revoke",
    )
    assert "The invitation is revoked." in flashed(facilitator, response)
    session.refresh(invitation)
    assert invitation.revoked_at is not None
    assert "invitation.revoked" in audit_actions(session)


def test_a_revoked_code_does_not_work(
    app: Flask, client_as: Callable[[str], FlaskClient], session: Session
) -> None:
    facilitator = client_as("facilitator")
    code = new_code(facilitator)
    invitation_id = session.scalars(
        select(Invitation.id).where(Invitation.code_hash == code_hash(code))
    ).one()
    post_form(
        facilitator,
        "/orgs/adpare/invitations",
        {},
        action=f"/orgs/adpare/invitations/{invitation_id}/revoke",
    )
    _, response = join(app, code, "river-7")
    assert response.status_code == 422
    assert INVALID_CODE in plain(response)
    assert user_named(session, "river-7") is None


# --- Readiness and groups -------------------------------------------------------------------


def readiness_url(site: Site) -> str:
    return f"/orgs/{site.slug}/creators/{site.user_ids['creator']}/readiness"


def record_readiness(client: FlaskClient, url: str, consent: str, crisis_ended: str):
    return post_form(
        client,
        url,
        {"informed_consent_on": consent, "crisis_period_ended_on": crisis_ended, "confirm": "y"},
    )


def members_of(session: Session, group_id: int, site: Site | None = None) -> list[GroupMember]:
    """The group's members (but for the site's author, a member from the start)."""
    session.expire_all()
    query = select(GroupMember).where(GroupMember.group_id == group_id)
    if site is not None:
        query = query.where(GroupMember.user_id != site.user_ids["author"])
    return list(session.scalars(query))


def readiness_records(session: Session, site: Site) -> list[Readiness]:
    """Readiness recorded in the site's organisations (but for its authors, ready from
    the start)."""
    session.expire_all()
    authors = select(User.id).where(User.login_name.like("%-author"))
    return list(session.scalars(select(Readiness).where(Readiness.user_id.not_in(authors))))


def test_a_creator_cannot_join_a_group_before_readiness(
    client_as: Callable[[str], FlaskClient], session: Session, site: Site
) -> None:
    creator = client_as("creator")
    group_page = f"/groups/{site.group_id}"
    response = post_form(creator, group_page, {}, action=f"{group_page}/join")
    assert "A facilitator first needs to confirm with you that you are ready" in flashed(
        creator, response
    )
    assert members_of(session, site.group_id, site) == []


@pytest.mark.parametrize(
    ("consent", "crisis_ended", "message"),
    [
        (TODAY, TODAY + timedelta(days=1), "The crisis-intervention period has not ended yet"),
        (TODAY + timedelta(days=1), TODAY, "The date of informed consent cannot be in the future"),
    ],
)
def test_readiness_with_a_future_date_is_refused(
    client_as: Callable[[str], FlaskClient],
    session: Session,
    site: Site,
    consent: Any,
    crisis_ended: Any,
    message: str,
) -> None:
    facilitator = client_as("facilitator")
    response = record_readiness(
        facilitator, readiness_url(site), consent.isoformat(), crisis_ended.isoformat()
    )
    assert response.status_code == 422
    assert message in plain(response)
    assert readiness_records(session, site) == []


def test_an_impossible_date_is_refused_with_a_message(
    client_as: Callable[[str], FlaskClient], session: Session, site: Site
) -> None:
    response = record_readiness(
        client_as("facilitator"), readiness_url(site), "2026-13-45", TODAY.isoformat()
    )
    assert response.status_code == 422
    assert "Not a valid date value" in plain(response)
    assert readiness_records(session, site) == []


def test_readiness_is_recorded_and_then_the_creator_joins(
    client_as: Callable[[str], FlaskClient], session: Session, site: Site
) -> None:
    facilitator = client_as("facilitator")
    response = record_readiness(
        facilitator,
        readiness_url(site),
        TODAY.isoformat(),
        (TODAY - timedelta(days=20)).isoformat(),
    )
    assert "Readiness is recorded" in flashed(facilitator, response)
    (readiness,) = readiness_records(session, site)
    assert readiness.user_id == site.user_ids["creator"]
    assert readiness.recorded_by_id == site.user_ids["facilitator"]
    assert "readiness.recorded" in audit_actions(session)

    creator = client_as("creator")
    group_page = f"/groups/{site.group_id}"
    response = post_form(creator, group_page, {}, action=f"{group_page}/join")
    assert "You joined the group." in flashed(creator, response)
    assert [m.user_id for m in members_of(session, site.group_id, site)] == [
        site.user_ids["creator"]
    ]
    assert "You are a member of this group." in plain(creator.get(group_page))


def test_a_mist_group_asks_for_its_rules_first(
    app: Flask, session: Session, make_org, make_staff, make_creator
) -> None:
    mist = make_org("mist")
    make_staff(mist, Role.FACILITATOR, "mist-facilitator")
    creator_user = make_creator(mist, "mist-creator")
    facilitator, creator = app.test_client(), app.test_client()
    sign_in(facilitator, "mist-facilitator")
    sign_in(creator, "mist-creator")

    # The facilitator asks for no rules; MIST's policy requires them anyway.
    response = post_form(facilitator, "/orgs/mist/groups", {"name": "Podcast"})
    assert "The group is created." in flashed(facilitator, response)
    group = session.scalars(select(Group).where(Group.name == "Podcast")).one()
    assert group.rules_required
    assert group.rules.strip()
    response = record_readiness(
        facilitator,
        f"/orgs/mist/creators/{creator_user.id}/readiness",
        TODAY.isoformat(),
        TODAY.isoformat(),
    )
    assert response.status_code == 302

    group_page = f"/groups/{group.id}"
    page = creator.get(group_page).get_data(as_text=True)
    assert 'name="accept_rules"' in page
    assert "Group rules" in page
    refused = post_form(creator, group_page, {}, action=f"{group_page}/join")
    assert "This group asks its members to accept its rules before joining." in flashed(
        creator, refused
    )
    assert members_of(session, group.id) == []

    accepted = post_form(creator, group_page, {"accept_rules": "y"}, action=f"{group_page}/join")
    assert "You joined the group." in flashed(creator, accepted)
    (member,) = members_of(session, group.id)
    assert member.user_id == creator_user.id
    assert member.rules_accepted_at is not None


# --- Org admins: staff accounts, roles, suspension --------------------------------------------


def membership_of(session: Session, user_id: int) -> Membership:
    session.expire_all()
    return session.scalars(select(Membership).where(Membership.user_id == user_id)).one()


def test_an_admin_creates_a_staff_account(
    app: Flask, client_as: Callable[[str], FlaskClient], session: Session
) -> None:
    admin = client_as("org_admin")
    response = post_form(
        admin,
        "/orgs/adpare/staff/new",
        {
            "login_name": "new-psychologist",
            "role": "psychologist",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert "The staff account is created." in flashed(admin, response)
    user = user_named(session, "new-psychologist")
    assert user is not None
    assert membership_of(session, user.id).role is Role.PSYCHOLOGIST
    assert "user.created" in audit_actions(session)
    sign_in(app.test_client(), "new-psychologist", NEW_PASSWORD)


def test_the_staff_form_offers_no_creator_role(
    client_as: Callable[[str], FlaskClient], session: Session
) -> None:
    admin = client_as("org_admin")
    response = post_form(
        admin,
        "/orgs/adpare/staff/new",
        {
            "login_name": "sneaky-creator",
            "role": "creator",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert user_named(session, "sneaky-creator") is None


def test_an_admin_changes_a_role(
    client_as: Callable[[str], FlaskClient], session: Session, site: Site
) -> None:
    admin = client_as("org_admin")
    psychologist = site.user_ids["psychologist"]
    response = post_form(
        admin,
        "/orgs/adpare/members",
        {"role": "facilitator"},
        action=f"/orgs/adpare/members/{psychologist}/role",
    )
    assert "The role is changed." in flashed(admin, response)
    assert membership_of(session, psychologist).role is Role.FACILITATOR
    assert "membership.role_changed" in audit_actions(session)


def test_a_creator_cannot_be_made_staff(
    client_as: Callable[[str], FlaskClient], session: Session, site: Site
) -> None:
    admin = client_as("org_admin")
    creator = site.user_ids["creator"]
    response = post_form(
        admin,
        "/orgs/adpare/members",
        {"role": "org_admin"},
        action=f"/orgs/adpare/members/{creator}/role",
    )
    assert "an account cannot move between the two" in flashed(admin, response)
    assert membership_of(session, creator).role is Role.CREATOR


def test_an_admin_suspends_and_restores_an_account(
    client_as: Callable[[str], FlaskClient], session: Session, site: Site
) -> None:
    admin = client_as("org_admin")
    facilitator = client_as("facilitator")  # signed in before the suspension
    target = site.user_ids["facilitator"]

    response = post_form(
        admin, "/orgs/adpare/members", {}, action=f"/orgs/adpare/members/{target}/suspend"
    )
    assert "The account is suspended." in flashed(admin, response)
    session.expire_all()
    assert session.get(User, target).is_active is False
    assert facilitator.get("/dashboard").status_code == 302  # the open session ends too
    assert "user.suspended" in audit_actions(session)

    response = post_form(
        admin, "/orgs/adpare/members", {}, action=f"/orgs/adpare/members/{target}/restore"
    )
    assert "The account is restored." in flashed(admin, response)
    session.expire_all()
    assert session.get(User, target).is_active is True
    assert "user.reactivated" in audit_actions(session)
    client_as("facilitator")  # signs in again


def test_a_suspended_account_gets_the_generic_sign_in_message(
    client: FlaskClient, client_as: Callable[[str], FlaskClient], site: Site
) -> None:
    admin = client_as("org_admin")
    target = site.user_ids["facilitator"]
    post_form(admin, "/orgs/adpare/members", {}, action=f"/orgs/adpare/members/{target}/suspend")

    response = post_form(
        client,
        "/sign-in",
        {"login_name": site.logins["facilitator"], "password": TEST_PASSWORD},
    )
    assert response.status_code == 401
    assert SIGN_IN_FAILED in plain(response)
    assert client.get("/dashboard").status_code == 302


def test_the_last_admin_cannot_step_down_or_be_suspended(
    app: Flask,
    client_as: Callable[[str], FlaskClient],
    session: Session,
    site: Site,
    make_staff,
) -> None:
    admin = client_as("org_admin")
    me = site.user_ids["org_admin"]
    organisation = membership_of(session, me).organisation

    demote = post_form(
        admin, "/orgs/adpare/members", {"role": "facilitator"}, f"/orgs/adpare/members/{me}/role"
    )
    assert "An organisation needs at least one active admin." in flashed(admin, demote)
    suspend = post_form(admin, "/orgs/adpare/members", {}, f"/orgs/adpare/members/{me}/suspend")
    assert "You cannot suspend your own account." in flashed(admin, suspend)
    assert membership_of(session, me).role is Role.ORG_ADMIN
    assert session.get(User, me).is_active is True

    # A second admin, suspended by the first, does not count as active.
    second = make_staff(organisation, Role.ORG_ADMIN, "adpare-second-admin")
    post_form(admin, "/orgs/adpare/members", {}, f"/orgs/adpare/members/{second.id}/suspend")
    demote = post_form(
        admin, "/orgs/adpare/members", {"role": "facilitator"}, f"/orgs/adpare/members/{me}/role"
    )
    assert "An organisation needs at least one active admin." in flashed(admin, demote)
    assert membership_of(session, me).role is Role.ORG_ADMIN


# --- Signing in and out ------------------------------------------------------------------------


def attempt(client: FlaskClient, login_name: str, password: str) -> TestResponse:
    return post_form(client, "/sign-in", {"login_name": login_name, "password": password})


def anonymised(response: TestResponse, login_name: str) -> str:
    """The body without the CSRF token and without the login name echoed in the form."""
    return without_csrf(response.get_data(as_text=True)).replace(
        f'value="{login_name}"', 'value="…"'
    )


def test_wrong_password_and_unknown_account_look_the_same(client: FlaskClient, site: Site) -> None:
    known = site.logins["facilitator"]
    wrong_password = attempt(client, known, "not the password")
    unknown_account = attempt(client, "nobody-by-that-name", "not the password")
    assert wrong_password.status_code == unknown_account.status_code == 401
    assert SIGN_IN_FAILED in plain(wrong_password)
    assert anonymised(wrong_password, known) == anonymised(unknown_account, "nobody-by-that-name")


def test_an_account_locks_after_repeated_failures(
    client: FlaskClient, site: Site, settings: Settings, session: Session
) -> None:
    login_name = site.logins["facilitator"]
    for _ in range(settings.throttle_account_failures):
        assert attempt(client, login_name, "not the password").status_code == 401
    locked = attempt(client, login_name, TEST_PASSWORD)
    assert locked.status_code == 401
    assert SIGN_IN_FAILED in plain(locked)
    assert client.get("/dashboard").status_code == 302
    assert "sign_in.locked" in audit_actions(session)


def test_an_address_locks_after_failures_across_accounts(
    app: Flask, site: Site, settings: Settings
) -> None:
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for number in range(settings.throttle_address_failures):
        assert attempt(attacker, f"guess-{number}", "not the password").status_code == 401
    locked = attempt(attacker, site.logins["facilitator"], TEST_PASSWORD)
    assert locked.status_code == 401
    assert SIGN_IN_FAILED in plain(locked)
    # The account itself is not locked: from another address it signs in.
    sign_in(app.test_client(), site.logins["facilitator"])


def test_sign_in_sets_a_strict_session_cookie(client: FlaskClient, site: Site) -> None:
    response = attempt(client, site.logins["creator"], TEST_PASSWORD)
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("chorus_session=")]
    assert len(cookies) == 1
    attributes = {
        part.strip().split("=")[0].lower(): part.strip() for part in cookies[0].split(";")
    }
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"


def test_sign_out_is_a_post(
    client_as: Callable[[str], FlaskClient], app: Flask, site: Site
) -> None:
    client = client_as("creator")
    other_device = client_as("creator")
    assert client.get("/sign-out").status_code == 405
    assert client.get("/dashboard").status_code == 200  # GET signed nobody out

    response = post_form(client, "/dashboard", {}, action="/sign-out")
    assert "You are signed out." in flashed(client, response)
    assert client.get("/dashboard").status_code == 302
    assert other_device.get("/dashboard").status_code == 302  # every device
    sign_in(app.test_client(), site.logins["creator"])  # and the account still works
