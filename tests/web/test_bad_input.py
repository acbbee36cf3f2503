"""No request produces a 500.

Every route (but ``static``) gets plausible and hostile URL values, every method, and
bodies without a CSRF token, with a valid token but garbage fields, as JSON and larger
than the configured limit — as an anonymous visitor and as a person in each role.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from app.accounts.models import SignInThrottle
from app.accounts.throttle import throttle_rules
from app.core.db import make_engine, make_session_factory
from app.factory import create_app
from app.policies.loader import load_policies
from tests.conftest import TEST_PASSWORD, csrf_token, make_settings, sign_in
from tests.web.conftest import ROLES, Site, build_site, picture

MAX_BYTES = 64 * 1024  # make_settings' max_request_bytes
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
URL_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

# Every field name any form uses; extra fields are ignored by the others.
PLAUSIBLE: dict[str, str] = {
    "login_name": "new-person-1",
    "password": "a long password 1",
    "confirm": "a long password 1",
    "current": "not the current password",
    "new": "another long password",
    "code": "ABCD-EFGH-JKMN",
    "role": "psychologist",
    "group": "",
    "name": "A new group",
    "rules": "Be kind.",
    "rules_required": "y",
    "title": "A new campaign",
    "description": "About it.",
    "stage": "testing",
    "accept_rules": "y",
    "informed_consent_on": "2020-01-01",
    "crisis_period_ended_on": "2020-01-01",
    "kind": "fanzine",
    "credit": "collective",
    "pseudonym": "Sparrow",
    "language": "en",
    "content_warnings": "loss, fear",
    "alt_text": "Paper boats.",
    "transcript": "We fold paper boats.",
    "remove_captions": "y",
    "mask_faces": "y",
    "alter_voice": "y",
    "decision": "approved",
    "note": "Thank you.",
    "wellbeing_check": "How are you?",
    "modalities": "face",
    "channels": "gallery",
    "expires_on": "2099-01-01",
    "agree": "y",
    "person": "",
    "new_label": "Someone new",
    "scope": "work",
    "method": "paper",
    "witness": "",
    "given_on": "2020-01-01",
    "introduction": "Works about paper.\n\nAnd about water.",
    "slug": "spring-voices",
    "work_id": "2",  # the published work of build_site
    "direction": "up",
    "position": "1",
}
DATE_FIELDS = ("informed_consent_on", "crisis_period_ended_on", "expires_on", "given_on")
RAW = "raw:"  # a URL value sent exactly as written, already percent-encoded
SELECT_FIELDS = {
    "role": "god",
    "stage": "nope",
    "group": "99999999",
    "kind": "sculpture",
    "credit": "real-name",
    "language": "xx",
    "decision": "publish-everything",
    "person": "99999999",
    "scope": "everything",
    "method": "telepathy",
    "witness": "99999999",
    "modalities": "fingerprints",
    "channels": "billboard",
    "work_id": "99999999",
    "direction": "sideways",
}


# --- One application per role, built once for the module -----------------------------


@dataclass
class Env:
    app: Flask
    site: Site
    role: str

    def client(self) -> tuple[FlaskClient, str]:
        """A fresh client signed in as the role, and a CSRF token of its session.

        Earlier garbage sign-ins may have locked the test address, so the throttle
        table is emptied first.
        """
        with self.app.app_context():
            database = self.app.extensions["chorus.db"]
            with database.session_factory() as session:
                session.execute(delete(SignInThrottle))
                session.commit()
        client = self.app.test_client()
        if self.role != "anonymous":
            sign_in(client, self.site.logins[self.role])
        return client, csrf_token(client, "/join")


@pytest.fixture(scope="module")
def envs(
    tmp_path_factory: pytest.TempPathFactory, template_database: Path
) -> Iterator[Callable[[str], Env]]:
    built: dict[str, Env] = {}

    def get(role: str) -> Env:
        if role not in built:
            instance = tmp_path_factory.mktemp(f"bad-input-{role}") / "instance"
            settings = make_settings(instance, template_database)
            engine = make_engine(settings.database_url)
            with make_session_factory(engine)() as session:
                site = build_site(
                    session,
                    load_policies(settings.policies_dir),
                    throttle_rules(settings),
                    settings,
                )
            engine.dispose()
            app = create_app(settings)
            app.config.update(TESTING=True, PREFERRED_URL_SCHEME="https")
            built[role] = Env(app, site, role)
        return built[role]

    yield get
    for env in built.values():
        env.app.extensions["chorus.db"].engine.dispose()


# --- What to send ----------------------------------------------------------------------


# Where an endpoint is better exercised with another of the site's things than the
# default for its URL variable: (endpoint, variable) -> Site attribute.
SPECIFIC = {
    ("gallery.work", "work_id"): "published_work_id",
    ("gallery.media.captions", "work_id"): "published_work_id",
    ("studio.upload", "work_id"): "draft_work_id",
    ("studio.anonymisation", "version_id"): "draft_version_id",
    ("studio.submit", "version_id"): "draft_version_id",
    ("studio.remove_file", "asset_id"): "draft_asset_id",
    ("exhibitions.show", "slug"): "exhibition_slug",
    ("exhibitions.kiosk", "slug"): "exhibition_slug",
    # The work in the exhibition, so that moving and removing it really happen.
    ("curate.move", "work_id"): "published_work_id",
    ("curate.remove", "work_id"): "published_work_id",
}


def _existing(name: str, site: Site, endpoint: str = "") -> str:
    if (endpoint, name) in SPECIFIC:
        return str(getattr(site, SPECIFIC[endpoint, name]))
    return {
        "slug": site.slug,
        "user_id": str(site.user_ids["creator"]),
        "group_id": str(site.group_id),
        "campaign_id": str(site.campaign_id),
        "invitation_id": str(site.invitation_id),
        "action": "suspend",
        "work_id": str(site.work_id),
        "version_id": str(site.version_id),
        "asset_id": str(site.asset_id),
        "record_id": str(site.record_id),
        "code": site.code,
        "file_id": str(site.public_file_id),
        "exhibition_id": str(site.exhibition_id),
    }[name]


def _hostile(name: str, site: Site) -> list[str]:
    values = [
        "0",
        str(10**20),
        "../etc/passwd",
        "ñandú-組織-🙂",
        RAW + "%FF%FE%00%C0%AF",  # not UTF-8, with a NUL byte
        "x" * 5000,
        "99999999",
        "no-such-org",
    ]
    if name == "slug":
        values.append(site.other_slug)  # an organisation the person does not belong to
    if name == "group_id":
        values.append(str(site.other_group_id))
    if name == "campaign_id":
        values.append(str(site.other_campaign_id))
    if name == "invitation_id":
        values.append(str(site.other_invitation_id))
    if name == "user_id":
        values += [str(site.other_creator_id), str(site.user_ids["org_admin"])]
    if name == "action":
        values.append("delete")
    # The other organisation's things, and this one's at another stage.
    if name == "work_id":
        values += [str(site.other_work_id), str(site.published_work_id), str(site.work_id)]
    if name == "version_id":
        values += [str(site.other_version_id), str(site.published_version_id)]
    if name == "asset_id":
        values += [str(site.other_asset_id), str(site.published_asset_id)]
    if name == "exhibition_id":
        values.append("-1")
    if name == "record_id":
        values.append(str(site.other_record_id))
    if name == "code":
        values += [site.other_code, site.code.lower(), site.code.replace("-", ""), "-", "0" * 40]
    return values


def _encoded(value: str) -> str:
    return value.removeprefix(RAW) if value.startswith(RAW) else quote(value, safe="/.-_")


def _url(rule: Rule, values: dict[str, str]) -> str:
    return URL_VARIABLE.sub(lambda m: _encoded(values[m.group(1)]), rule.rule)


def urls_for(rule: Rule, site: Site) -> tuple[str, list[str]]:
    """The rule's URL with existing values, and variants with one hostile value each."""
    base = {name: _existing(name, site, rule.endpoint) for name in rule.arguments}
    variants = []
    for name in sorted(rule.arguments):
        for value in _hostile(name, site):
            variants.append(_url(rule, {**base, name: value}))
    return _url(rule, base), variants


Body = Callable[[str], dict[str, Any]]


def _fields(**changes: Any) -> dict[str, Any]:
    return {**PLAUSIBLE, **changes}


BODIES: dict[str, Body] = {
    "no body": lambda token: {},
    "no csrf token": lambda token: {"data": _fields()},
    "csrf token only": lambda token: {"data": {"csrf_token": token}},
    "plausible": lambda token: {"data": _fields(csrf_token=token)},
    "10,000 characters": lambda token: {
        "data": {**{name: "x" * 10_000 for name in PLAUSIBLE}, "csrf_token": token}
    },
    "NUL bytes": lambda token: {
        "data": {
            **{name: f"a\x00{value}\x00" for name, value in PLAUSIBLE.items()},
            "csrf_token": token,
        }
    },
    "impossible dates": lambda token: {
        "data": _fields(csrf_token=token, **dict.fromkeys(DATE_FIELDS, "2026-13-45"))
    },
    "non-UTF-8": lambda token: {
        "data": b"csrf_token="
        + token.encode()
        + b"&"
        + b"&".join(name.encode() + b"=\xff\xfe\xc3\x28%FF%C0%AF" for name in PLAUSIBLE),
        "content_type": "application/x-www-form-urlencoded",
    },
    "repeated fields": lambda token: {
        "data": MultiDict(
            [("csrf_token", token)]
            + [(name, value) for name, value in PLAUSIBLE.items()]
            + [(name, value + "-again") for name, value in PLAUSIBLE.items()]
        )
    },
    "select value not in choices": lambda token: {
        "data": _fields(csrf_token=token, **SELECT_FIELDS)
    },
    "file in a text field": lambda token: {
        "data": {
            "csrf_token": token,
            **{name: (io.BytesIO(b"\x89PNG\r\n\x1a\n"), "x.png") for name in PLAUSIBLE},
        },
        "content_type": "multipart/form-data",
    },
    "files": lambda token: {
        "data": {
            **_fields(csrf_token=token),
            "files": [(io.BytesIO(picture()), "a.jpg"), (io.BytesIO(b"%PDF-1.4 x"), "b.pdf")],
            "captions": (io.BytesIO(b"WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n"), "c.vtt"),
        },
        "content_type": "multipart/form-data",
    },
    "files that are not what they say": lambda token: {
        "data": {
            **_fields(csrf_token=token),
            "files": (io.BytesIO(b"\xff\xfe\x00 not a picture"), "a.jpg"),
            "captions": (io.BytesIO(b"\xff\xfe\x00 not captions"), "c.vtt"),
        },
        "content_type": "multipart/form-data",
    },
    "JSON without token": lambda token: {"json": PLAUSIBLE},
    "JSON of wrong types": lambda token: {
        "json": {
            "login_name": 12,
            "password": ["a", "b"],
            "confirm": {"x": 1},
            "code": None,
            "role": 3.5,
            "stage": True,
            "informed_consent_on": 20260101,
        },
        "headers": {"X-CSRFToken": token},
    },
    "JSON list": lambda token: {"json": [1, 2, 3], "headers": {"X-CSRFToken": token}},
    "JSON string": lambda token: {"json": "login_name", "headers": {"X-CSRFToken": token}},
    "malformed JSON": lambda token: {
        "data": b'{"login_name": ',
        "content_type": "application/json",
        "headers": {"X-CSRFToken": token},
    },
}
QUICK_BODIES = ("no body", "plausible")
OVERSIZED = "oversized"


def _oversized(token: str) -> dict[str, Any]:
    return {"data": {"csrf_token": token, "name": "x" * (MAX_BYTES + 1)}}


def problems_of(response: TestResponse) -> list[str]:
    text = response.get_data().decode("utf-8", errors="replace")  # files are bytes
    found = []
    if response.status_code >= 500:
        found.append(f"status {response.status_code}")
    if "Traceback" in text or 'File "/' in text:
        found.append("a traceback in the body")
    return found


class _Incidents(logging.Handler):
    """Keeps the first line of each "unhandled ..." record, to say what went wrong."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage().splitlines()[0])


def sweep(env: Env, endpoint: str, client: FlaskClient, token: str) -> list[str]:
    """Send everything at one endpoint; return one line per bad response."""
    rules = list(env.app.url_map.iter_rules())
    rule = next(r for r in rules if r.endpoint == endpoint)
    # Methods another endpoint on the same path answers are that endpoint's business.
    elsewhere = {m for r in rules if r.rule == rule.rule and r is not rule for m in r.methods or ()}
    base, variants = urls_for(rule, env.site)
    failures: list[str] = []
    incidents = _Incidents()

    def send(method: str, url: str, kind: str, kwargs: dict[str, Any]) -> TestResponse:
        incidents.lines.clear()
        response = client.open(url, method=method, **kwargs)
        try:
            found = problems_of(response)
        finally:
            response.close()  # a file sent from disk holds it open until closed
        for problem in found:
            cause = f" ({incidents.lines[-1]})" if incidents.lines else ""
            failures.append(f"{method} {url[:70]} [{kind}]: {problem}{cause}")
        return response

    logger = logging.getLogger("chorus.web")
    logger.addHandler(incidents)
    try:
        _send_everything(rule, elsewhere, base, variants, token, send, failures)
    finally:
        logger.removeHandler(incidents)
    return failures


def _send_everything(
    rule: Rule,
    elsewhere: set[str],
    base: str,
    variants: list[str],
    token: str,
    send: Callable[[str, str, str, dict[str, Any]], TestResponse],
    failures: list[str],
) -> None:
    allowed = set(rule.methods or ())
    for method in METHODS:
        if method in elsewhere:
            continue
        if method not in allowed:
            for url in [base, *variants]:
                send(method, url, "no body", {})
            send(method, base, "plausible", BODIES["plausible"](token))
            continue
        for url in variants:
            for kind in QUICK_BODIES:
                send(method, url, kind, BODIES[kind](token))
        for kind, body in BODIES.items():
            send(method, base, kind, body(token))
        if method != "GET":
            response = send(method, base, OVERSIZED, _oversized(token))
            if response.status_code != 413:
                failures.append(f"{method} {base} [{OVERSIZED}]: {response.status_code}, not 413")


# --- The sweep: every endpoint, as everyone -------------------------------------------

ENDPOINTS = (
    "gallery.home",
    "gallery.browse",
    "gallery.work",
    "gallery.media.file",
    "gallery.media.captions",
    "gallery.atom_feed",
    "gallery.safety",
    "accounts.sign_in",
    "accounts.sign_in_post",
    "accounts.join",
    "accounts.join_post",
    "accounts.password",
    "accounts.password_post",
    "dashboard.index",
    "invitations.index",
    "invitations.create",
    "invitations.revoke",
    "readiness.creators",
    "readiness.readiness",
    "readiness.readiness_post",
    "groups.index",
    "groups.create",
    "groups.show",
    "groups.add_campaign",
    "groups.stage",
    "groups.join",
    "orgs.index",
    "orgs.role",
    "orgs.active",
    "orgs.new_staff",
    "orgs.new_staff_post",
    "studio.index",
    "studio.new",
    "studio.create",
    "studio.show",
    "studio.describe",
    "studio.upload",
    "studio.anonymisation",
    "studio.submit",
    "studio.pause",
    "studio.resume",
    "studio.confirm_withdraw",
    "media.clean",
    "media.original",
    "consent.give",
    "consent.give_post",
    "consent.mine",
    "consent.on_paper",
    "consent.on_paper_post",
    "consent.work_consents",
    "consent.withdraw_form",
    "consent.withdraw_link",
    "consent.withdraw_post",
    "review.queue",
    "review.show",
    "review.start",
    "review.decide",
    "exhibitions.show",
    "exhibitions.kiosk",
    "curate.index",
    "curate.new",
    "curate.create",
    "curate.edit",
    "curate.update",
    "curate.add",
    "curate.move",
    # Closed, then opened again; the work is taken out last (an empty exhibition
    # cannot be opened).
    "curate.close",
    "curate.open_",
    "curate.remove",
    # Then what takes things away: a file, consents, a whole work.
    "studio.remove_file",
    "consent.withdraw_mine",
    "consent.withdraw_for_work",
    "studio.withdraw",
    # Last, because it signs the person out.
    "accounts.sign_out",
)

SIGNED_IN = frozenset(ROLES) - {"anonymous"}


def _cases() -> list[Any]:
    cases = []
    for role in ROLES:
        for endpoint in ENDPOINTS:
            cases.append(pytest.param(role, endpoint, id=f"{role}-{endpoint}"))
    return cases


def test_every_endpoint_is_covered(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    assert endpoints == set(ENDPOINTS)


@pytest.mark.parametrize(("role", "endpoint"), _cases())
def test_no_request_produces_a_500(envs: Callable[[str], Env], role: str, endpoint: str) -> None:
    env = envs(role)
    client, token = env.client()
    failures = sweep(env, endpoint, client, token)
    assert not failures, f"{len(failures)} bad responses:\n" + "\n".join(failures[:25])
    if role != "anonymous" and endpoint != "accounts.sign_out":
        # The whole sweep ran as this person: nothing in it signed them out.
        assert client.get("/dashboard").status_code == 200


# --- Plain error pages ----------------------------------------------------------------


def _plain_page(response: TestResponse) -> str:
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert 'File "/' not in text
    assert 'id="quick-exit"' in text
    assert response.mimetype == "text/html"
    return text


def test_unknown_route_is_a_plain_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    text = _plain_page(response)
    assert "Page not found" in text
    assert "Error 404" in text


def test_wrong_method_is_a_plain_405(client: FlaskClient) -> None:
    response = client.put("/sign-in")
    assert response.status_code == 405
    text = _plain_page(response)
    assert "This page cannot be used that way" in text


def test_sign_in_without_csrf_token_is_a_plain_400(client: FlaskClient, site: Site) -> None:
    client.get("/sign-in")  # a session exists, but the form's token is missing
    response = client.post(
        "/sign-in", data={"login_name": site.logins["facilitator"], "password": TEST_PASSWORD}
    )
    assert response.status_code == 400
    text = _plain_page(response)
    assert "This form has expired or was sent from somewhere else" in text
    assert "csrf" not in text.lower().replace('name="csrf_token"', "")
    assert client.get("/dashboard").status_code == 302  # not signed in


def test_oversized_sign_in_is_a_plain_413(client: FlaskClient) -> None:
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in",
        data={"csrf_token": token, "login_name": "x" * (MAX_BYTES + 1), "password": "x"},
    )
    assert response.status_code == 413
    assert "That is too large" in _plain_page(response)


# --- One focused test per bug the sweep finds -----------------------------------------

HUGE = 10**20


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        pytest.param("creator", "GET", "/groups/{huge}"),
        pytest.param("creator", "POST", "/groups/{huge}/join"),
        pytest.param("facilitator", "POST", "/groups/{huge}/campaigns"),
        pytest.param("facilitator", "POST", "/campaigns/{huge}/stage"),
        pytest.param("facilitator", "POST", "/orgs/adpare/invitations/{huge}/revoke"),
        pytest.param("facilitator", "GET", "/orgs/adpare/creators/{huge}/readiness"),
        pytest.param("org_admin", "POST", "/orgs/adpare/members/{huge}/role"),
        pytest.param("org_admin", "POST", "/orgs/adpare/members/{huge}/suspend"),
        pytest.param("author", "GET", "/works/{huge}"),
        pytest.param("author", "GET", "/campaigns/{huge}/works/new"),
        pytest.param("author", "POST", "/versions/{huge}/submit"),
        pytest.param("author", "POST", "/assets/{huge}/remove"),
        pytest.param("author", "GET", "/assets/{huge}/original"),
        pytest.param("author", "POST", "/my/consents/{huge}/withdraw"),
        pytest.param("facilitator", "GET", "/assets/{huge}/clean"),
        pytest.param("facilitator", "GET", "/works/{huge}/consent/on-paper"),
        pytest.param("psychologist", "GET", "/review/versions/{huge}"),
        pytest.param("psychologist", "POST", "/review/versions/{huge}/start"),
        pytest.param("anonymous", "GET", "/gallery/works/{huge}"),
        pytest.param("anonymous", "GET", "/media/{huge}"),
    ],
)
def test_an_id_too_large_for_the_database_is_404(
    client_as: Callable[[str], FlaskClient], role: str, method: str, path: str
) -> None:
    client = client_as(role)
    token = csrf_token(client, "/join")
    data = {"csrf_token": token, "title": "T", "stage": "edition", "role": "psychologist"}
    response = client.open(
        path.format(huge=HUGE), method=method, data=data if method == "POST" else None
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("role", "path", "field"),
    [
        ("anonymous", "/sign-in", "login_name"),
        ("anonymous", "/join", "code"),
        ("creator", "/account/password", "new"),
        ("facilitator", "/orgs/adpare/groups", "name"),
        ("facilitator", "/orgs/adpare/creators/{creator}/readiness", "informed_consent_on"),
        ("org_admin", "/orgs/adpare/staff/new", "login_name"),
        ("author", "/campaigns/{campaign}/works/new", "title"),
        ("author", "/works/{work}", "title"),
        ("author", "/works/{work}/consent", "modalities"),
        ("facilitator", "/works/{work}/consent/on-paper", "new_label"),
        ("psychologist", "/review/versions/{version}/decide", "note"),
        ("anonymous", "/withdraw", "code"),
    ],
)
def test_a_file_sent_for_a_text_field_is_refused(
    client_as: Callable[[str], FlaskClient], site: Site, role: str, path: str, field: str
) -> None:
    client = client_as(role)
    token = csrf_token(client, "/join")
    data: dict[str, Any] = {**PLAUSIBLE, "csrf_token": token}
    data[field] = (io.BytesIO(b"\x89PNG\r\n\x1a\n"), "x.png")
    response = client.post(
        path.format(
            creator=site.user_ids["creator"],
            campaign=site.campaign_id,
            work=site.work_id,
            version=site.version_id,
        ),
        data=data,
        content_type="multipart/form-data",
    )
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param([1, 2, 3], id="list"),
        pytest.param("login_name", id="string"),
        pytest.param({"login_name": 12, "password": ["a", "b"]}, id="wrong-types"),
    ],
)
def test_a_json_body_is_refused(client: FlaskClient, payload: object) -> None:
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in", json=payload, headers={"X-CSRFToken": token})
    assert 400 <= response.status_code < 500


def test_deprecated_select_choices_do_not_break_the_staff_form(
    client_as: Callable[[str], FlaskClient],
) -> None:
    response = client_as("org_admin").get("/orgs/adpare/staff/new")
    assert response.status_code == 200
