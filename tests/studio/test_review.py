"""Psychologists' pages over HTTP: the queue, the review page with its overlays, and
the start and decide flows with the rules the services keep."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.errors import PermissionDenied
from app.orgs.models import Role
from app.review.services import start_review
from app.works.models import Version, VersionState, WorkContributor, WorkKind
from tests.studio import media
from tests.studio.conftest import Org, post

Client = Callable[[User | None], FlaskClient]


@pytest.fixture
def version(adpare: Org, submitted: Callable[..., Version]) -> Version:
    version = submitted(adpare, WorkKind.FANZINE, (media.gps_jpeg(), "a.jpg"))
    assert version.state is VersionState.IN_REVIEW
    return version


def _text(client: FlaskClient, url: str) -> str:
    return client.get(url).get_data(as_text=True)


def test_the_queue_lists_versions_waiting_in_ones_organisation(
    adpare: Org, make_site: Callable[[str], Org], client_for: Client, version: Version
) -> None:
    page = _text(client_for(adpare.psychologist), "/review")
    assert f"/review/versions/{version.id}" in page
    assert "0 of 1 approval" in page

    elsewhere = _text(client_for(make_site("payoke").psychologist), "/review")
    assert "No works are waiting for your review." in elsewhere
    for user in (adpare.creator, adpare.facilitator, adpare.org_admin):
        assert client_for(user).get("/review").status_code == 404
    assert client_for(None).get("/review").status_code == 302


def test_only_the_organisations_psychologists_see_the_review_page(
    adpare: Org, make_site: Callable[[str], Org], client_for: Client, version: Version
) -> None:
    url = f"/review/versions/{version.id}"
    page = _text(client_for(adpare.psychologist), url)
    asset = version.assets[0]
    assert f'<img src="/assets/{asset.id}/clean"' in page
    assert "<code>exif.gps</code>" in page
    assert "Faces: most in one picture 0; valid face consents for this work: 0." in page
    assert "Drawings of hands holding a paper boat." in page  # the alt text
    assert "faces shown only with consent; otherwise masked" in page
    assert "/original" not in page
    others = [
        adpare.creator,
        adpare.other_creator,
        adpare.facilitator,
        adpare.org_admin,
        make_site("payoke").psychologist,
    ]
    for user in others:
        assert client_for(user).get(url).status_code == 404


def test_a_face_is_outlined_over_the_picture(
    adpare: Org, client_for: Client, submitted: Callable[..., Version]
) -> None:
    version = submitted(adpare, WorkKind.FANZINE, (media.face_jpeg(1), "face.jpg"))
    assert version.state is VersionState.IN_REVIEW  # masked: nobody has consented
    page = _text(client_for(adpare.psychologist), f"/review/versions/{version.id}")
    svg = re.search(r'<svg class="face-overlay" viewBox="0 0 (\d+) (\d+)"', page)
    assert svg is not None
    assert (svg.group(1), svg.group(2)) == ("640", "480")
    assert re.search(r'<rect class="face-box face-masked" x="\d+" y="\d+" width="\d+"', page)
    assert "style=" not in page  # the CSP forbids inline styles
    assert "Faces: most in one picture 1 (masked)" in page
    creator_page = _text(client_for(adpare.creator), f"/works/{version.work_id}")
    assert "Faces were masked." in creator_page


def test_a_blocked_version_tells_the_creator_why(
    make_site: Callable[[str], Org], client_for: Client, submitted: Callable[..., Version]
) -> None:
    mist = make_site("mist")  # faces need consent, or the version is blocked
    version = submitted(mist, WorkKind.FANZINE, (media.face_jpeg(1), "face.jpg"))
    assert version.state is VersionState.BLOCKED
    client = client_for(mist.creator)
    assert "Blocked: We found 1 person in one picture" in _text(client, "/studio")
    page = _text(client, f"/works/{version.work_id}")
    assert "1 face found: 1 consent needed, or choose masking." in page
    assert f"/works/{version.work_id}/consent" in page
    assert "Submit for review" in page  # again, once consent or masking is chosen


def test_start_and_approve(
    adpare: Org, client_for: Client, session: Session, version: Version
) -> None:
    client = client_for(adpare.psychologist)
    url = f"/review/versions/{version.id}"
    assert "Start reviewing" in _text(client, url)
    refused = post(client, f"{url}/decide", {"decision": "approved"})
    assert refused.status_code == 409  # not started
    assert post(client, f"{url}/start").status_code == 303
    assert "Record my decision" in _text(client, url)
    response = post(client, f"{url}/decide", {"decision": "approved", "note": ""})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/review")
    session.expire_all()
    assert version.state is VersionState.PUBLISHED  # the publication job ran at once
    assert f"/review/versions/{version.id}" not in _text(client, "/review")
    assert "Published" in _text(client_for(adpare.creator), "/studio")


def test_changes_requested_need_a_note_and_the_creator_reads_it(
    adpare: Org, client_for: Client, session: Session, version: Version
) -> None:
    client = client_for(adpare.psychologist)
    url = f"/review/versions/{version.id}"
    post(client, f"{url}/start")
    missing = post(client, f"{url}/decide", {"decision": "changes_requested", "note": " "})
    assert missing.status_code == 422
    assert "Write a note to the creators" in missing.get_data(as_text=True)
    decided = post(
        client,
        f"{url}/decide",
        {
            "decision": "changes_requested",
            "note": "Please crop the street sign in the corner.",
            "wellbeing_check": "Take your time; we can talk on Thursday.",
        },
    )
    assert decided.status_code == 303
    session.expire_all()
    assert version.state is VersionState.CHANGES_REQUESTED
    page = _text(client_for(adpare.creator), f"/works/{version.work_id}")
    assert "Changes requested" in page
    assert "Please crop the street sign in the corner." in page
    assert "Take your time; we can talk on Thursday." in page
    assert "Submit for review" in page
    assert adpare.psychologist.login_name not in page


def test_reject(adpare: Org, client_for: Client, session: Session, version: Version) -> None:
    client = client_for(adpare.psychologist)
    url = f"/review/versions/{version.id}"
    post(client, f"{url}/start")
    post(client, f"{url}/decide", {"decision": "rejected", "note": "This shows the shelter."})
    session.expire_all()
    assert version.state is VersionState.REJECTED
    page = _text(client_for(adpare.creator), f"/works/{version.work_id}")
    assert "Not accepted for publication" in page
    assert "This shows the shelter." in page


def test_one_psychologist_at_a_time(
    adpare: Org,
    client_for: Client,
    make_staff: Callable[..., User],
    version: Version,
) -> None:
    second = make_staff(adpare.organisation, Role.PSYCHOLOGIST, "adpare-second-psychologist")
    url = f"/review/versions/{version.id}"
    post(client_for(adpare.psychologist), f"{url}/start")
    client = client_for(second)
    assert "another psychologist is reviewing it" in _text(client, "/review")
    answer = post(client, f"{url}/start", follow_redirects=True).get_data(as_text=True)
    assert "Another psychologist is reviewing this version right now." in answer
    refused = post(client, f"{url}/decide", {"decision": "approved"})
    assert refused.status_code == 409


def test_payoke_needs_two_approvals(
    make_site: Callable[[str], Org],
    client_for: Client,
    session: Session,
    make_staff: Callable[..., User],
    submitted: Callable[..., Version],
) -> None:
    payoke = make_site("payoke")
    version = submitted(payoke, WorkKind.FANZINE, (media.gps_jpeg(), "a.jpg"))
    assert version.state is VersionState.IN_REVIEW
    second = make_staff(payoke.organisation, Role.PSYCHOLOGIST, "payoke-second-psychologist")
    url = f"/review/versions/{version.id}"

    first = client_for(payoke.psychologist)
    assert "0 of 2 approvals" in _text(first, "/review")
    post(first, f"{url}/start")
    post(first, f"{url}/decide", {"decision": "approved"})
    session.expire_all()
    assert version.state is VersionState.IN_REVIEW
    assert f"/review/versions/{version.id}" not in _text(first, "/review")

    other = client_for(second)
    assert "1 of 2 approvals" in _text(other, "/review")
    post(other, f"{url}/start")
    post(other, f"{url}/decide", {"decision": "approved"})
    session.expire_all()
    assert version.state is VersionState.PUBLISHED


def test_nobody_reviews_a_work_they_co_created(
    adpare: Org, client_for: Client, session: Session, version: Version
) -> None:
    session.add(WorkContributor(work_id=version.work_id, user_id=adpare.psychologist.id))
    session.commit()
    client = client_for(adpare.psychologist)
    url = f"/review/versions/{version.id}"
    assert f"/review/versions/{version.id}" not in _text(client, "/review")
    assert client.get(url).status_code == 404
    assert post(client, f"{url}/start").status_code == 404
    session.expire_all()
    with pytest.raises(PermissionDenied):
        start_review(session, actor=adpare.psychologist, version=version)
    assert version.state is VersionState.IN_REVIEW


def test_a_script_is_shown_as_text_with_personal_data_marked(
    make_site: Callable[[str], Org], client_for: Client, submitted: Callable[..., Version]
) -> None:
    payoke = make_site("payoke")
    version = submitted(payoke, WorkKind.SCRIPT, (media.markdown_script(), "s.md"))
    page = _text(client_for(payoke.psychologist), f"/review/versions/{version.id}")
    assert f'<mark class="pd" title="Looks like: email">{media.EMAIL}</mark>' in page
    assert "1 possible personal detail highlighted." in page
    assert "<h1>Our voices</h1>" not in page  # the clean HTML is shown as text
    assert "Our voices" in page
    assert "an e-mail address" in page  # what the report counted


def test_a_recording_gets_a_player(
    make_site: Callable[[str], Org], client_for: Client, submitted: Callable[..., Version]
) -> None:
    payoke = make_site("payoke")
    version = submitted(payoke, WorkKind.PODCAST, (media.noise_wav(), "p.wav"))
    assert version.state is VersionState.IN_REVIEW
    page = _text(client_for(payoke.psychologist), f"/review/versions/{version.id}")
    assert f'<audio controls preload="metadata" src="/assets/{version.assets[0].id}/clean">' in page
    assert "Speech: none heard" in page
