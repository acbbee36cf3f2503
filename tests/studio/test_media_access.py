"""Who may fetch a cleaned file or an original, and how they are sent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.clock import utcnow
from app.works.models import Version, VersionState, Work, WorkKind
from tests.studio import media
from tests.studio.conftest import Org, upload

Client = Callable[[User | None], FlaskClient]


@pytest.fixture
def version(adpare: Org, submitted: Callable[..., Version]) -> Version:
    version = submitted(adpare, WorkKind.FANZINE, (media.gps_jpeg(), "a.jpg"))
    assert version.state is VersionState.IN_REVIEW
    return version


def _fetch(client: FlaskClient, url: str, **kwargs: object) -> tuple[int, dict[str, str], bytes]:
    response = client.get(url, **kwargs)  # type: ignore[arg-type]
    try:
        return response.status_code, dict(response.headers), response.get_data()
    finally:
        response.close()


def test_the_creator_gets_the_clean_file_and_the_original(
    adpare: Org, client_for: Client, version: Version
) -> None:
    asset = version.assets[0]
    client = client_for(adpare.creator)

    status, headers, body = _fetch(client, f"/assets/{asset.id}/clean")
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Disposition"].startswith("inline")
    assert "no-store" in headers["Cache-Control"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert body.startswith(b"\xff\xd8")
    assert media.MARKER.encode() not in body
    assert b"MarkerCam" not in body

    status, headers, body = _fetch(client, f"/assets/{asset.id}/original")
    assert status == 200
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"] == f"attachment; filename=original-{asset.id}.jpg"
    assert "no-store" in headers["Cache-Control"]
    assert body == media.gps_jpeg()


def test_the_clean_file_answers_range_requests(
    adpare: Org, client_for: Client, version: Version
) -> None:
    client = client_for(adpare.creator)
    status, headers, body = _fetch(
        client, f"/assets/{version.assets[0].id}/clean", headers={"Range": "bytes=0-9"}
    )
    assert status == 206
    assert len(body) == 10
    assert headers["Content-Range"].startswith("bytes 0-9/")


@pytest.mark.parametrize(
    ("who", "clean", "original"),
    [
        ("other_creator", 404, 404),
        ("psychologist", 200, 404),
        ("facilitator", 200, 404),
        ("org_admin", 200, 404),
        ("anonymous", 404, 404),
        ("other_organisation", 404, 404),
    ],
)
def test_everyone_else(
    adpare: Org,
    make_site: Callable[[str], Org],
    client_for: Client,
    version: Version,
    who: str,
    clean: int,
    original: int,
) -> None:
    users = {
        "anonymous": None,
        "other_organisation": make_site("payoke").psychologist,
    }
    user = users[who] if who in users else getattr(adpare, who)
    client = client_for(user)
    asset = version.assets[0]
    assert _fetch(client, f"/assets/{asset.id}/clean")[0] == clean
    assert _fetch(client, f"/assets/{asset.id}/original")[0] == original


def test_unknown_files_look_like_forbidden_ones(adpare: Org, client_for: Client) -> None:
    client = client_for(adpare.creator)
    assert _fetch(client, "/assets/999999/clean")[0] == 404
    assert _fetch(client, "/assets/999999/original")[0] == 404


def test_a_deleted_original_is_gone(
    adpare: Org, client_for: Client, session: Session, version: Version
) -> None:
    asset = version.assets[0]
    asset.original_deleted_at = utcnow()
    session.commit()
    assert _fetch(client_for(adpare.creator), f"/assets/{asset.id}/original")[0] == 404


def test_an_unprocessed_file_has_no_clean_copy_yet(
    adpare: Org, client_for: Client, make_work: Callable[..., Work], session: Session
) -> None:
    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    client = client_for(adpare.creator)
    upload(client, work.id, (media.gps_jpeg(), "a.jpg"))
    session.expire_all()
    asset = work.versions[0].assets[0]
    assert _fetch(client, f"/assets/{asset.id}/clean")[0] == 404
    status, _headers, body = _fetch(client, f"/assets/{asset.id}/original")
    assert status == 200
    assert body == media.gps_jpeg()


def test_a_clean_script_is_sent_as_plain_text(
    make_site: Callable[[str], Org], client_for: Client, submitted: Callable[..., Version]
) -> None:
    payoke = make_site("payoke")
    version = submitted(payoke, WorkKind.SCRIPT, (media.markdown_script(), "s.md"))
    status, headers, body = _fetch(
        client_for(payoke.psychologist), f"/assets/{version.assets[0].id}/clean"
    )
    assert status == 200
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert b"<h1>Our voices</h1>" in body
