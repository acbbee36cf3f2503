"""Consent pages over HTTP: who sees what, the receipt, and withdrawing without an account."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.consent.models import ConsentMethod, ConsentRecord, Person
from app.consent.receipts import code_hash
from app.consent.services import IssuedConsent
from app.core.clock import utcnow
from tests.conftest import csrf_token, sign_in
from tests.consent.conftest import Org
from tests.web.conftest import parse_tags

CODE = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}\b")
WITHDRAWN = "Your consent has been withdrawn. Anything that depended on it has been taken down."
TODAY = utcnow().date()


@pytest.fixture
def client_of(app: Flask) -> Callable[[User | None], FlaskClient]:
    def make(user: User | None) -> FlaskClient:
        client = app.test_client()
        if user is not None:
            sign_in(client, user.login_name)
        return client

    return make


def post_form(client: FlaskClient, page: str, data: dict[str, Any], action: str | None = None):
    token = csrf_token(client, page)
    return client.post(action or page, data={"csrf_token": token, **data})


def text(response: TestResponse) -> str:
    return " ".join(response.get_data(as_text=True).split())


def records(session: Session) -> list[ConsentRecord]:
    session.expire_all()
    return list(session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))


def assert_no_inline_code(html: str) -> None:
    """The CSP forbids inline scripts and styles: none on the page."""
    for tag, attrs, _ in parse_tags(html).tags:
        assert tag != "style"
        assert "style" not in attrs, tag
        assert not any(name.startswith("on") for name in attrs), tag
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/")


def status(client: FlaskClient, url: str) -> int | str:
    response = client.get(url)
    if response.status_code == 302:
        return "sign-in" if "/sign-in" in response.headers["Location"] else "302"
    return response.status_code


# --- Who may open which page -----------------------------------------------------------


def test_pages_for_the_right_people(
    world: Org, other: Org, client_of: Callable[[User | None], FlaskClient]
) -> None:
    work = world.work.id
    pages = {
        f"/works/{work}/consent": {
            "creator": 200,
            "groupmate": 200,
            "outsider": 403,
            "facilitator": 403,
            "psychologist": 403,
            "admin": 403,
            "other": 404,
            "anonymous": "sign-in",
        },
        f"/works/{work}/consent/on-paper": {
            "creator": 403,
            "groupmate": 403,
            "outsider": 403,
            "facilitator": 200,
            "psychologist": 403,
            "admin": 403,
            "other": 404,
            "anonymous": "sign-in",
        },
        f"/works/{work}/consents": {
            "creator": 200,
            "groupmate": 403,
            "outsider": 403,
            "facilitator": 200,
            "psychologist": 200,
            "admin": 200,
            "other": 404,
            "anonymous": "sign-in",
        },
        "/my/consents": dict.fromkeys(
            ("creator", "groupmate", "outsider", "facilitator", "psychologist", "admin", "other"),
            200,
        )
        | {"anonymous": "sign-in"},
        "/withdraw": dict.fromkeys(
            (
                "creator",
                "groupmate",
                "outsider",
                "facilitator",
                "psychologist",
                "admin",
                "other",
                "anonymous",
            ),
            200,
        ),
    }
    people: dict[str, User | None] = {
        "creator": world.creator,
        "groupmate": world.groupmate,
        "outsider": world.outsider,
        "facilitator": world.facilitator,
        "psychologist": world.psychologist,
        "admin": world.admin,
        "other": other.facilitator,
        "anonymous": None,
    }
    clients = {name: client_of(user) for name, user in people.items()}
    for url, expected in pages.items():
        got = {name: status(clients[name], url) for name in expected}
        assert got == expected, url
    for url in ("/works/99999999/consent", "/works/99999999/consents"):
        assert status(clients["facilitator"], url) == 404


# --- A creator gives consent -------------------------------------------------------------


def test_creator_gives_consent_and_gets_a_receipt(
    session: Session, world: Org, client_of: Callable[[User | None], FlaskClient]
) -> None:
    client = client_of(world.creator)
    page = client.get(f"/works/{world.work.id}/consent")
    assert "You can withdraw your consent at any time" in text(page)
    # One box is enough: the boxes are not each marked required.
    assert 'name="modalities" required' not in page.get_data(as_text=True)
    assert_no_inline_code(page.get_data(as_text=True))
    response = post_form(
        client,
        f"/works/{world.work.id}/consent",
        {
            "modalities": ["face", "story"],
            "channels": ["gallery", "print"],
            "expires_on": (TODAY + timedelta(days=30)).isoformat(),
            "agree": "y",
        },
    )
    assert response.status_code == 200, text(response)
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert_no_inline_code(html)
    [code] = set(CODE.findall(html))
    assert f"https://localhost/withdraw/{code}" in html  # shown, and in the QR code
    assert f'href="/withdraw/{code}"' in html  # a link to this site only
    assert '<svg role="img"' in html
    assert 'class="qr-code"' in html
    body = text(response)
    assert "My face may be seen; My story may be told" in body
    assert "Gallery, Print" in body
    assert "Our fanzine" in body
    assert f"until the end of {(TODAY + timedelta(days=30)).isoformat()} (UTC)" in body

    [record] = records(session)
    assert record.withdrawal_code_hash == code_hash(code.replace("-", ""))
    assert record.method is ConsentMethod.IN_APP
    assert record.modalities == ["face", "story"]
    assert record.expires_at is not None
    assert record.expires_at.date() == TODAY + timedelta(days=31)
    assert "withdraw your consent at any time" in record.notice


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channels": ["gallery"], "agree": "y"}, "Choose at least one: face, voice or story."),
        ({"modalities": ["face"], "agree": "y"}, "Choose at least one place"),
        ({"modalities": ["face"], "channels": ["gallery"]}, "Tick the box"),
        (
            {"modalities": ["face"], "channels": ["kiosk"], "agree": "y"},
            "Choose among the options shown",
        ),
        (
            {
                "modalities": ["face"],
                "channels": ["gallery"],
                "agree": "y",
                "expires_on": "2001-01-01",
            },
            "must be in the future",
        ),
    ],
)
def test_give_consent_form_errors(
    session: Session,
    world: Org,
    client_of: Callable[[User | None], FlaskClient],
    data: dict[str, Any],
    message: str,
) -> None:
    client = client_of(world.creator)
    response = post_form(client, f"/works/{world.work.id}/consent", data)
    assert response.status_code == 422
    assert message in text(response)
    assert records(session) == []


def test_payoke_offers_no_face_consent(
    other: Org, client_of: Callable[[User | None], FlaskClient]
) -> None:
    body = text(client_of(other.creator).get(f"/works/{other.work.id}/consent"))
    assert "My voice may be heard" in body
    assert "My face may be seen" not in body
    assert "never shows faces" in body


def test_every_post_needs_a_csrf_token(
    world: Org,
    give_own: Callable[..., IssuedConsent],
    client_of: Callable[[User | None], FlaskClient],
) -> None:
    record = give_own().record
    creator, facilitator = client_of(world.creator), client_of(world.facilitator)
    creator.get("/my/consents")
    facilitator.get("/my/consents")
    for client, url in (
        (creator, f"/works/{world.work.id}/consent"),
        (creator, f"/my/consents/{record.id}/withdraw"),
        (facilitator, f"/works/{world.work.id}/consent/on-paper"),
        (facilitator, f"/works/{world.work.id}/consents/{record.id}/withdraw"),
        (client_of(None), "/withdraw"),
    ):
        response = client.post(url, data={"modalities": "face", "code": "AAAAA-AAAAA"})
        assert response.status_code == 400, url
    assert record.withdrawn_at is None


# --- My consents ----------------------------------------------------------------------------


def test_my_consents_lists_and_withdraws(
    session: Session,
    world: Org,
    give_own: Callable[..., IssuedConsent],
    client_of: Callable[[User | None], FlaskClient],
) -> None:
    record = give_own().record
    give_own(actor=world.groupmate)
    client = client_of(world.creator)
    page = client.get("/my/consents")
    body = text(page)
    assert "Valid" in body
    assert "The work “Our fanzine”" in body
    assert body.count("Withdraw this consent") == 1
    response = post_form(client, "/my/consents", {}, f"/my/consents/{record.id}/withdraw")
    assert response.status_code == 302
    after = text(client.get(response.headers["Location"]))
    assert WITHDRAWN in after
    assert "Withdrawn" in after
    assert "Withdraw this consent" not in after
    assert [r.withdrawn_at is not None for r in records(session)] == [True, False]


def test_nobody_withdraws_someone_elses_consent_from_my_consents(
    session: Session,
    world: Org,
    give_own: Callable[..., IssuedConsent],
    client_of: Callable[[User | None], FlaskClient],
) -> None:
    record = give_own().record
    for user in (world.groupmate, world.facilitator):
        client = client_of(user)
        response = post_form(client, "/my/consents", {}, f"/my/consents/{record.id}/withdraw")
        assert response.status_code == 404
    assert records(session)[0].withdrawn_at is None


# --- A facilitator records consent on paper ----------------------------------------------


def paper_data(**changes: Any) -> dict[str, Any]:
    return {
        "person": "",
        "new_label": "Dancer in the red scarf",
        "scope": "work",
        "modalities": ["face", "voice"],
        "channels": ["gallery", "stage"],
        "method": "paper",
        "witness": "",
        "given_on": (TODAY - timedelta(days=3)).isoformat(),
        "expires_on": "",
        "language": "ro",
        "confirm": "y",
        **changes,
    }


def test_facilitator_records_paper_consent_for_a_new_person(
    session: Session, world: Org, client_of: Callable[[User | None], FlaskClient]
) -> None:
    client = client_of(world.facilitator)
    url = f"/works/{world.work.id}/consent/on-paper"
    response = post_form(client, url, paper_data())
    assert response.status_code == 200, text(response)
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    [code] = set(CODE.findall(html))
    assert 'class="qr-code"' in html
    assert "Their face may be seen; Their voice may be heard" in text(response)
    assert "Dancer in the red scarf" not in html  # the receipt names nobody
    [record] = records(session)
    assert record.subject.label == "Dancer in the red scarf"
    assert record.method is ConsentMethod.PAPER
    assert record.language == "ro"
    assert record.given_at.date() == TODAY - timedelta(days=3)
    assert record.withdrawal_code_hash == code_hash(code.replace("-", ""))

    # The same person again, chosen from the list, for the whole campaign, out loud.
    response = post_form(
        client,
        url,
        paper_data(
            person=str(record.subject_id),
            new_label="",
            scope="campaign",
            method="verbal_witnessed",
            witness=str(world.psychologist.id),
            given_on=TODAY.isoformat(),
            expires_on=(TODAY + timedelta(days=365)).isoformat(),
        ),
    )
    assert response.status_code == 200, text(response)
    assert "every work of the campaign “Speaking up”" in text(response)
    second = records(session)[1]
    assert second.subject_id == record.subject_id
    assert second.campaign_id == world.campaign.id
    assert second.work_id is None
    assert second.witnessed_by_id == world.psychologist.id
    assert second.given_at <= utcnow()


@pytest.mark.parametrize(
    ("changes", "message", "status_code"),
    [
        ({"method": "verbal_witnessed"}, "needs a witness", 422),
        ({"new_label": ""}, "Choose someone from the list, or add someone new", 422),
        ({"given_on": (TODAY + timedelta(days=2)).isoformat()}, "cannot be in the future", 422),
        ({"expires_on": (TODAY - timedelta(days=5)).isoformat()}, "must come after", 422),
        ({"method": "in_app"}, "Not a valid choice", 422),
        ({"witness": "99999999999999999999"}, "Not a valid choice", 422),
        ({"person": "99999999999999999999"}, "Not a valid choice", 422),
        ({"channels": ["kiosk"]}, "Choose among the options shown", 422),
        ({"given_on": "2026-13-45"}, "Not a valid date value", 422),
    ],
)
def test_paper_consent_refusals_keep_nothing(
    session: Session,
    world: Org,
    client_of: Callable[[User | None], FlaskClient],
    changes: dict[str, Any],
    message: str,
    status_code: int,
) -> None:
    client = client_of(world.facilitator)
    response = post_form(client, f"/works/{world.work.id}/consent/on-paper", paper_data(**changes))
    assert response.status_code == status_code
    assert message in text(response)
    assert records(session) == []
    assert session.scalars(select(Person)).all() == []  # the new person went too


def test_work_consents_page_and_withdrawal_on_someones_behalf(
    session: Session,
    world: Org,
    give_own: Callable[..., IssuedConsent],
    client_of: Callable[[User | None], FlaskClient],
) -> None:
    record = give_own().record
    expired = give_own(expires_at=utcnow() + timedelta(seconds=1)).record
    session.execute(
        ConsentRecord.__table__.update()
        .where(ConsentRecord.id == expired.id)
        .values(expires_at=utcnow() - timedelta(days=1))
    )
    session.commit()
    url = f"/works/{world.work.id}/consents"
    psychologist = text(client_of(world.psychologist).get(url))
    assert "Valid" in psychologist
    assert "Expired" in psychologist
    assert "Withdraw on their behalf" not in psychologist
    assert f"Creator #{world.creator.id}" in psychologist

    client = client_of(world.facilitator)
    body = text(client.get(url))
    assert body.count("Withdraw on their behalf") == 1
    response = post_form(client, url, {}, f"/works/{world.work.id}/consents/{record.id}/withdraw")
    assert response.status_code == 302
    assert "The consent is withdrawn" in text(client.get(response.headers["Location"]))
    assert records(session)[0].withdrawn_at is not None
    # A record that does not belong to this work is not found here.
    other = give_own(actor=world.outsider, work=world.other_work).record
    response = post_form(client, url, {}, f"/works/{world.work.id}/consents/{other.id}/withdraw")
    assert response.status_code == 404


# --- Anyone with a code ---------------------------------------------------------------------


def test_withdraw_with_a_code_without_an_account(
    session: Session,
    world: Org,
    give_own: Callable[..., IssuedConsent],
    client_of: Callable[[User | None], FlaskClient],
) -> None:
    issued = give_own()
    client = client_of(None)
    link = client.get(f"/withdraw/{issued.code}")
    assert link.status_code == 200
    assert link.headers["Cache-Control"] == "no-store"
    assert f'value="{issued.code}"' in link.get_data(as_text=True)
    assert records(session)[0].withdrawn_at is None  # never on GET

    typed = issued.code.lower().replace("-", " ")
    response = post_form(client, "/withdraw", {"code": typed})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = text(response)
    assert WITHDRAWN in body
    for secret in ("Our fanzine", "Speaking up", "Gallery", "face", "Creator #", "until"):
        assert secret not in body
    assert records(session)[0].withdrawn_at is not None
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "consent.withdrawn")
    ).one()
    assert event.actor_kind == "public"
    # Again: the same answer, nothing new.
    assert WITHDRAWN in text(post_form(client, "/withdraw", {"code": issued.code}))


def test_withdraw_link_prefills_only_a_code(client: FlaskClient) -> None:
    html = client.get("/withdraw/abcde fghjk").get_data(as_text=True)
    assert 'value="ABCDE-FGHJK"' in html
    html = client.get("/withdraw/" + "<script>" + "x" * 100).get_data(as_text=True)
    assert "<script>x" not in html
    assert "xxxx" not in html


def test_unknown_codes_are_refused_and_throttled(
    world: Org,
    give_own: Callable[..., IssuedConsent],
    client_of: Callable[[User | None], FlaskClient],
    session: Session,
) -> None:
    issued = give_own()
    client = client_of(None)
    token = csrf_token(client, "/withdraw")
    for attempt in range(20):  # the test settings' address limit
        response = client.post(
            "/withdraw", data={"csrf_token": token, "code": f"ZZZZZ-ZZZ{attempt:02d}"}
        )
        assert response.status_code == 422
        assert "not recognised" in text(response)
    response = client.post("/withdraw", data={"csrf_token": token, "code": issued.code})
    assert response.status_code == 429
    assert "wait 15 minutes" in text(response)
    assert records(session)[0].withdrawn_at is None
    # Signing in from the same address still works: a separate count.
    sign_in(client_of(None), world.creator.login_name)


@pytest.mark.parametrize(
    "body",
    [
        {"code": "x" * 5000},
        {"code": "a\x00b"},
        {"code": ""},
        {"code": ["AAAAA-AAAAA", "BBBBB-BBBBB"]},
    ],
)
def test_withdraw_form_takes_garbage_calmly(client: FlaskClient, body: dict[str, Any]) -> None:
    token = csrf_token(client, "/withdraw")
    response = client.post("/withdraw", data={"csrf_token": token, **body})
    assert response.status_code == 422
