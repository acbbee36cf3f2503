"""The ``chorus`` command line: staff accounts, organisations, demo content, audit."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.core.config import Settings
from app.orgs.models import Membership, Organisation, Role
from tests.conftest import sign_in

PASSWORD = "a long password 1"


def invoke(runner: FlaskCliRunner, *args: str) -> Result:
    return runner.invoke(args=list(args))


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def create_user(runner: FlaskCliRunner, name: str, role: str = "facilitator") -> Result:
    return invoke(
        runner, "users", "create", "--org", "adpare", "--role", role, name, "--password", PASSWORD
    )


# --- users create -------------------------------------------------------------------------


def test_users_create_makes_a_staff_account(
    app: Flask, runner: FlaskCliRunner, session: Session, make_org
) -> None:
    make_org("adpare")
    result = create_user(runner, "sam-facilitator")
    assert result.exit_code == 0, result.output
    assert "created user" in result.output

    user = session.scalars(select(User).where(User.login_name == "sam-facilitator")).one()
    membership = session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
    assert (membership.organisation.slug, membership.role) == ("adpare", Role.FACILITATOR)
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "user.created", AuditEvent.subject_id == user.id
        )
    ).one()
    assert event.actor_kind == "system"
    assert PASSWORD not in result.output
    sign_in(app.test_client(), "sam-facilitator", PASSWORD)


def test_users_create_refuses_a_creator(runner: FlaskCliRunner, session: Session, make_org) -> None:
    make_org("adpare")
    result = create_user(runner, "sam-creator", role="creator")
    assert result.exit_code != 0
    assert "'creator' is not one of" in result.output
    assert "facilitator" in result.output  # the message lists what is allowed
    assert count(session, User) == 0


def test_users_create_refuses_a_taken_name(
    runner: FlaskCliRunner, session: Session, make_org
) -> None:
    make_org("adpare")
    assert create_user(runner, "sam").exit_code == 0
    result = create_user(runner, "SAM", role="psychologist")
    assert result.exit_code == 1
    assert "That login name is taken" in result.output
    assert "Traceback" not in result.output
    assert count(session, User) == 1


def test_users_create_names_an_unknown_organisation(
    runner: FlaskCliRunner, session: Session
) -> None:
    result = create_user(runner, "sam")
    assert result.exit_code == 1
    assert "There is no such organisation" in result.output
    assert count(session, User) == 0


# --- orgs create --------------------------------------------------------------------------


def test_orgs_create_makes_an_organisation_from_its_policy(
    runner: FlaskCliRunner, session: Session
) -> None:
    result = invoke(runner, "orgs", "create", "payoke")
    assert result.exit_code == 0, result.output
    organisation = session.scalars(select(Organisation)).one()
    assert (organisation.slug, organisation.country) == ("payoke", "BE")

    again = invoke(runner, "orgs", "create", "payoke")
    assert again.exit_code == 1
    assert "exists already" in again.output


def test_orgs_create_refuses_a_slug_without_a_policy(
    runner: FlaskCliRunner, session: Session
) -> None:
    result = invoke(runner, "orgs", "create", "nowhere")
    assert result.exit_code == 1
    assert "there is no media policy 'nowhere'" in result.output
    assert count(session, Organisation) == 0


# --- demo --------------------------------------------------------------------------------------


@pytest.fixture
def demo(runner: FlaskCliRunner) -> Result:
    result = invoke(runner, "demo", "--accounts-only")  # tests/demo runs the works
    assert result.exit_code == 0, result.output
    return result


def credentials(output: str) -> list[tuple[str, str, str, str]]:
    """(organisation, role, login name, password) for each printed account."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["organisation", "role"])
    rows = []
    for line in lines[start + 1 :]:
        parts = line.split()
        assert len(parts) == 4, line
        rows.append((parts[0], parts[1], parts[2], parts[3]))
    return rows


def test_demo_creates_every_organisation_and_role(demo: Result, session: Session) -> None:
    assert count(session, Organisation) == 5
    assert count(session, User) == 21
    rows = credentials(demo.output)
    assert len(rows) == 21
    assert {row[0] for row in rows} == {
        "adpare",
        "equality",
        "fundacion-cruz-blanca",
        "mist",
        "payoke",
    }
    assert {(row[0], row[1]) for row in rows} == {
        (slug, role.value) for slug in {row[0] for row in rows} for role in Role
    }
    assert all(len(row[3]) >= 10 for row in rows)


def test_demo_credentials_sign_in(app: Flask, demo: Result) -> None:
    for _organisation, _role, login_name, password in credentials(demo.output):
        client = app.test_client()
        sign_in(client, login_name, password)
        assert client.get("/dashboard").status_code == 200


def test_demo_saves_the_credentials_for_the_owner_only(demo: Result, settings: Settings) -> None:
    path = Path(settings.instance_path) / "demo-credentials.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = path.read_text("utf-8").splitlines()
    assert credentials("\n".join(saved)) == credentials(demo.output)


def test_demo_if_empty_loads_nothing_the_second_time(
    runner: FlaskCliRunner, demo: Result, session: Session
) -> None:
    before = (count(session, Organisation), count(session, User), count(session, AuditEvent))
    result = invoke(runner, "demo", "--if-empty")
    assert result.exit_code == 0
    assert "nothing loaded" in result.output
    assert (
        count(session, Organisation),
        count(session, User),
        count(session, AuditEvent),
    ) == before

    refused = invoke(runner, "demo")
    assert refused.exit_code == 1
    assert "demo needs an empty one" in refused.output
    assert count(session, User) == before[1]


def test_audit_verify_after_demo(runner: FlaskCliRunner, demo: Result, session: Session) -> None:
    result = invoke(runner, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert f"audit log intact: {count(session, AuditEvent)} events" in result.output
