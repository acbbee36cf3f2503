"""No request to a consent page produces a 500: hostile URL values, garbage bodies,
wrong methods, as each kind of visitor."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from app.accounts.models import SignInThrottle, User
from app.consent.services import IssuedConsent
from tests.conftest import csrf_token, sign_in
from tests.consent.conftest import Org

FIELDS: dict[str, Any] = {
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
    "language": "en",
    "confirm": "y",
    "code": "ABCDE-FGHJK",
}
HOSTILE_IDS = ("0", str(10**20), "-1", "abc", "%FF%00", "x" * 3000, "99999999")


def bodies(token: str) -> dict[str, dict[str, Any]]:
    with_token = {**FIELDS, "csrf_token": token}
    return {
        "no body": {},
        "no token": {"data": FIELDS},
        "token only": {"data": {"csrf_token": token}},
        "plausible": {"data": with_token},
        "long": {"data": {**{k: "x" * 10_000 for k in FIELDS}, "csrf_token": token}},
        "NUL": {"data": {**{k: f"a\x00{v}" for k, v in FIELDS.items()}, "csrf_token": token}},
        "bad choices": {
            "data": {
                **with_token,
                "modalities": "smell",
                "channels": "moon",
                "scope": "everything",
                "method": "telepathy",
                "person": str(10**20),
                "witness": "-1",
                "language": "xx",
            }
        },
        "impossible dates": {"data": {**with_token, "given_on": "2026-13-45", "expires_on": "0"}},
        "repeated": {
            "data": MultiDict([("csrf_token", token)] + [(k, v) for k, v in FIELDS.items()] * 2)
        },
        "non-UTF-8": {
            "data": b"csrf_token=" + token.encode() + b"&code=%FF%FE&new_label=%C0%AF",
            "content_type": "application/x-www-form-urlencoded",
        },
        "file": {
            "data": {"csrf_token": token, "code": (io.BytesIO(b"\x89PNG"), "x.png")},
            "content_type": "multipart/form-data",
        },
        "JSON": {"json": {"code": ["a"], "modalities": 3}, "headers": {"X-CSRFToken": token}},
    }


def urls(world: Org, record_id: int) -> list[str]:
    work, other = world.work.id, world.other_work.id
    found = [
        f"/works/{work}/consent",
        f"/works/{work}/consent/on-paper",
        f"/works/{work}/consents",
        f"/works/{other}/consents/{record_id}/withdraw",
        f"/works/{work}/consents/{record_id}/withdraw",
        f"/my/consents/{record_id}/withdraw",
        "/my/consents",
        "/withdraw",
        "/withdraw/ABCDE-FGHJK",
    ]
    for value in HOSTILE_IDS:
        found += [
            f"/works/{value}/consent",
            f"/works/{value}/consent/on-paper",
            f"/works/{value}/consents",
            f"/works/{work}/consents/{value}/withdraw",
            f"/my/consents/{value}/withdraw",
            f"/withdraw/{value}",
        ]
    return found


@pytest.mark.parametrize("who", ["anonymous", "creator", "facilitator", "psychologist"])
def test_no_request_produces_a_500(
    app: Flask,
    session: Session,
    world: Org,
    give_own: Callable[..., IssuedConsent],
    who: str,
) -> None:
    record = give_own().record
    users: dict[str, User | None] = {
        "anonymous": None,
        "creator": world.creator,
        "facilitator": world.facilitator,
        "psychologist": world.psychologist,
    }
    client: FlaskClient = app.test_client()
    user = users[who]
    if user is not None:
        sign_in(client, user.login_name)
    token = csrf_token(client, "/withdraw")
    failures = []
    for url in urls(world, record.id):
        for method in ("GET", "PUT", "DELETE"):
            response = client.open(url, method=method)
            if response.status_code >= 500:
                failures.append(f"{method} {url[:60]}: {response.status_code}")
        for kind, body in bodies(token).items():
            session.execute(delete(SignInThrottle))  # keep guessing from locking us out
            session.commit()
            response = client.post(url, **body)
            text = response.get_data(as_text=True)
            if response.status_code >= 500 or "Traceback" in text:
                failures.append(f"POST {url[:60]} [{kind}]: {response.status_code}")
    assert not failures, "\n".join(failures[:30])
    if user is not None:
        assert client.get("/my/consents").status_code == 200  # still signed in
