"""Database backends for tests: a SQLite file, and a throw-away PostgreSQL database.

PostgreSQL runs when ``CHORUS_TEST_POSTGRES_URL`` names a server (any database on it,
usually ``postgres``, used only to create and drop the test database). Without it the
PostgreSQL cases are skipped, except on CI (``CI=true``), where they must run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url, pool, text
from sqlalchemy.exc import OperationalError

# The browser fixtures (Debian's chromium through Playwright) serve every test package;
# one session-wide browser, however many packages use it.
pytest_plugins = ["tests.browser.fixtures"]

POSTGRES_URL_VARIABLE = "CHORUS_TEST_POSTGRES_URL"
SKIP_REASON = f"PostgreSQL tests skipped: set {POSTGRES_URL_VARIABLE}"


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _server_url() -> URL:
    """The maintenance URL from the environment; skip, or fail on CI, if there is none."""
    raw = os.environ.get(POSTGRES_URL_VARIABLE, "").strip()
    if not raw:
        if _on_ci():
            pytest.fail(f"{POSTGRES_URL_VARIABLE} must be set on CI (CI=true)", pytrace=False)
        pytest.skip(SKIP_REASON)
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def _admin(server: URL, statement: str) -> None:
    engine = create_engine(server, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A freshly created, uniquely named PostgreSQL database, dropped afterwards."""
    server = _server_url()
    name = f"chorus_test_{uuid.uuid4().hex[:16]}"
    try:
        _admin(server, f'CREATE DATABASE "{name}"')
    except OperationalError as error:
        # Asked for PostgreSQL explicitly (or on CI): an unreachable server is a failure.
        pytest.fail(
            f"cannot create a test database on {server.render_as_string()}: {error}",
            pytrace=False,
        )
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    """A SQLite database file in the test's temporary folder (created on first use)."""
    return f"sqlite:///{tmp_path / 'chorus.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each backend in turn: its SQLAlchemy URL."""
    fixture = {"sqlite": "sqlite_database_url", "postgresql": "postgres_database_url"}
    url: str = request.getfixturevalue(fixture[request.param])
    return url


# --- The application, its database and data factories --------------------------------

import re  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import date  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.accounts import passwords  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.accounts.services import create_invitation, create_staff_account, redeem_invitation  # noqa: E402
from app.accounts.throttle import ThrottleRules  # noqa: E402
from app.core import migrate  # noqa: E402
from app.core.actors import SYSTEM  # noqa: E402
from app.core.config import PROJECT_ROOT, Settings  # noqa: E402
from app.core.db import make_engine, make_session_factory  # noqa: E402
from app.groups.models import Campaign  # noqa: E402
from app.groups.services import (  # noqa: E402
    create_campaign,
    create_group,
    join_group,
    record_readiness,
)
from app.orgs.models import Membership, Organisation, Role  # noqa: E402
from app.orgs.services import create_organisation  # noqa: E402
from app.policies.loader import PolicyRegistry, load_policies  # noqa: E402
from app.policies.schema import MediaPolicy  # noqa: E402
from app.works.models import Credit, Work, WorkKind  # noqa: E402

TEST_PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> None:
    """Argon2id at its smallest cost: the same code path, in milliseconds."""
    passwords.configure(memory_kib=8, time_cost=1)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "chorus.sqlite3"
    migrate.upgrade(f"sqlite:///{path}", PROJECT_ROOT / "migrations")
    return path


@pytest.fixture
def settings(tmp_path: Path, template_database: Path) -> Settings:
    return make_settings(tmp_path / "instance", template_database)


def make_settings(instance: Path, template_database: Path) -> Settings:
    """Settings for an instance folder holding a fresh copy of the migrated database."""
    instance.mkdir()
    shutil.copy(template_database, instance / "chorus.sqlite3")
    return Settings(
        instance_path=instance,
        secret_key="test-" + "k" * 40,
        database_url=f"sqlite:///{instance / 'chorus.sqlite3'}",
        policies_dir=PROJECT_ROOT / "media_policies",
        migrations_dir=PROJECT_ROOT / "migrations",
        secure_cookies=True,
        max_request_bytes=64 * 1024,
        quick_exit_url="https://www.bbc.co.uk/weather",
        password_memory_kib=8,
        password_time_cost=1,
        invitation_days=7,
        throttle_account_failures=5,
        throttle_address_failures=20,
        throttle_window_seconds=900,
        throttle_lock_seconds=900,
        log_level="INFO",
        originals_key=bytes(range(32)),
    )


@pytest.fixture
def policies() -> PolicyRegistry:
    return load_policies(PROJECT_ROOT / "media_policies")


@pytest.fixture
def rules(settings: Settings) -> ThrottleRules:
    from app.accounts.throttle import throttle_rules

    return throttle_rules(settings)


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    """A session on the test's own migrated SQLite database, without Flask."""
    engine = make_engine(settings.database_url)
    db = make_session_factory(engine)()
    try:
        yield db
    finally:
        db.close()
        engine.dispose()


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    from app.factory import create_app
    from app.jobs import queue
    from app.review.jobs import close_contexts

    application = create_app(settings)
    application.config.update(TESTING=True, PREFERRED_URL_SCHEME="https")
    # Jobs run in the request that queues them, once it commits.
    queue.configure(settings, immediate=True)
    yield application
    close_contexts()
    application.extensions["chorus.db"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def app_settings(settings: Settings) -> Callable[..., Settings]:
    """Settings with some fields changed: ``app_settings(max_request_bytes=10)``."""
    return lambda **changes: replace(settings, **changes)


# --- Data factories: callables that build what a test needs --------------------------


@pytest.fixture
def make_org(session: Session, policies: PolicyRegistry) -> Callable[..., Organisation]:
    def make(slug: str = "adpare") -> Organisation:
        policy = policies.get(slug)
        organisation = create_organisation(session, actor=SYSTEM, policy=policy)
        session.commit()
        return organisation

    return make


@pytest.fixture
def make_staff(session: Session) -> Callable[..., User]:
    def make(organisation: Organisation, role: Role, login_name: str | None = None) -> User:
        user = create_staff_account(
            session,
            actor=SYSTEM,
            organisation=organisation,
            login_name=login_name or f"{organisation.slug}-{role.value}",
            password=TEST_PASSWORD,
            role=role,
        )
        session.commit()
        return user

    return make


@pytest.fixture
def make_creator(
    session: Session, make_staff: Callable[..., User], rules: ThrottleRules
) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(organisation: Organisation, login_name: str | None = None) -> User:
        facilitator = _facilitator(session, organisation) or make_staff(
            organisation, Role.FACILITATOR
        )
        issued = create_invitation(session, actor=facilitator, organisation=organisation)
        user = redeem_invitation(
            session,
            code=issued.code,
            login_name=login_name or f"{organisation.slug}-creator-{next(counter)}",
            password=TEST_PASSWORD,
            address="192.0.2.1",
            rules=rules,
        )
        session.commit()
        return user

    return make


@pytest.fixture
def make_campaign(
    session: Session, make_staff: Callable[..., User], policies: PolicyRegistry
) -> Callable[..., Campaign]:
    """A group with one campaign in an organisation (made by its facilitator)."""
    counter = iter(range(1, 10_000))

    def make(organisation: Organisation) -> Campaign:
        facilitator = _facilitator(session, organisation) or make_staff(
            organisation, Role.FACILITATOR
        )
        policy = policies.get(organisation.slug)
        group = create_group(
            session,
            actor=facilitator,
            organisation=organisation,
            policy=policy,
            name=f"Group {next(counter)}",
        )
        campaign = create_campaign(
            session, actor=facilitator, group=group, policy=policy, title="Campaign"
        )
        session.commit()
        return campaign

    return make


@pytest.fixture
def make_member(
    session: Session, make_creator: Callable[..., User], make_staff: Callable[..., User]
) -> Callable[..., User]:
    """A creator made ready by a facilitator and joined to the campaign's group."""

    def make(campaign: Campaign, login_name: str | None = None) -> User:
        group = campaign.group
        organisation = group.organisation
        creator = make_creator(organisation, login_name)
        facilitator = _facilitator(session, organisation)
        record_readiness(
            session,
            actor=facilitator,
            organisation=organisation,
            creator=creator,
            informed_consent_on=date(2026, 1, 5),
            crisis_period_ended_on=date(2026, 1, 5),
        )
        join_group(session, actor=creator, group=group, accept_rules=True)
        session.commit()
        return creator

    return make


@pytest.fixture
def make_work(
    session: Session,
    policies: PolicyRegistry,
    make_campaign: Callable[..., Campaign],
    make_member: Callable[..., User],
) -> Callable[..., Work]:
    """A work (by a new member creator unless ``creator`` is given) with its public
    texts filled in, so only files stand between it and submission."""

    def make(
        organisation: Organisation,
        kind: WorkKind | None = None,
        *,
        creator: User | None = None,
        campaign: Campaign | None = None,
    ) -> Work:
        from app.works.services import create_work, describe_work

        policy = policies.get(organisation.slug)
        campaign = campaign or make_campaign(organisation)
        creator = creator or make_member(campaign)
        kind = kind or WorkKind(policy.works.kinds[0])
        work = create_work(
            session,
            actor=creator,
            campaign=campaign,
            policy=policy,
            kind=kind,
            title=f"A {kind.value}",
            credit=Credit(policy.credit.default),
            pseudonym="Sparrow",
        )
        describe_work(
            session,
            actor=creator,
            work=work,
            title=work.title,
            content_warnings=work.content_warnings,
            alt_text="Drawings of hands holding a paper boat.",
            transcript="We speak about leaving and arriving.",
        )
        session.commit()
        return work

    return make


def _facilitator(session: Session, organisation: Organisation) -> User | None:
    return session.scalars(
        select(User)
        .join(User.memberships)
        .where(
            Membership.organisation_id == organisation.id,
            Membership.role == Role.FACILITATOR,
        )
    ).first()


@pytest.fixture
def policy_of(policies: PolicyRegistry) -> Callable[[Organisation], MediaPolicy]:
    return lambda organisation: policies.get(organisation.slug)


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token from the form on the page at ``url``."""
    response = client.get(url)
    match = CSRF_FIELD.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {response.status_code})"
    return match.group(1)


def sign_in(client: FlaskClient, login_name: str, password: str = TEST_PASSWORD) -> None:
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "login_name": login_name, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


# --- S3 over HTTP and Redis, for the distributed mode ---------------------------------

REDIS_URL_VARIABLE = "CHORUS_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The address of an S3 server (moto) on loopback, for the whole test session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_client(s3_endpoint: str) -> Any:
    """A plain boto3 client on the test server, to look behind Chorus's back."""
    import boto3

    return boto3.session.Session().client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def s3_bucket(s3_endpoint: str, s3_client: Any) -> dict[str, Any]:
    """A fresh, empty bucket: its name, the endpoint and a client."""
    bucket = f"chorus-test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=bucket)
    return {"bucket": bucket, "endpoint": s3_endpoint, "client": s3_client}


@pytest.fixture
def redis_queue_url() -> str:
    """The test Redis (``CHORUS_TEST_REDIS_URL``, default database 15): skipped when it
    cannot be reached, except on CI, where it must be."""
    import redis

    url = os.environ.get(REDIS_URL_VARIABLE, "").strip() or DEFAULT_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        if _on_ci():
            pytest.fail(f"Redis at {url} must be reachable on CI: {error}", pytrace=False)
        pytest.skip(f"Redis tests skipped: no Redis at {url} ({error})")
    finally:
        client.close()
    return url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly which parts of the suite did not run for want of a service or tool."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line(f"NOTE: {count} skipped: {reason}", yellow=True)
