"""The whole path for each partner organisation, through the web layer only: a creator
starts and describes a work, gives consent, uploads a photo with a face and planted
metadata, and submits; psychologists review; the work is published through the one
door, and withdrawing the consent (with the receipt's code, signed out) or the work
takes it down again."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.config import Settings
from app.orgs.models import Role
from app.policies.loader import PolicyRegistry
from app.review.models import Publication
from app.storage.base import Area
from app.works.models import Version, VersionState, Work
from tests.conftest import csrf_token
from tests.media.checkers import markers_in
from tests.review.conftest import photo
from tests.studio.conftest import Org, post, stored_files, upload

CODE = re.compile(r"\b[0-9A-Z]{5}-[0-9A-Z]{5}\b")


@pytest.mark.parametrize("slug", ["adpare", "equality", "fundacion-cruz-blanca", "mist", "payoke"])
def test_from_upload_to_gallery_and_back(
    slug: str,
    session: Session,
    settings: Settings,
    policies: PolicyRegistry,
    make_site: Callable[[str], Org],
    make_staff: Callable[..., User],
    client_for: Callable[[User | None], FlaskClient],
) -> None:
    org = make_site(slug)
    policy = policies.get(slug)
    creator = client_for(org.creator)

    response = post(
        creator,
        f"/campaigns/{org.campaign.id}/works/new",
        {
            "kind": "fanzine",
            "title": "Paper boats",
            "credit": policy.credit.default.value,
            "pseudonym": "Sparrow",
            "language": policy.organisation.languages[0],
            "content_warnings": ", ".join(policy.content_warnings.default),
        },
    )
    assert response.status_code in {302, 303}, response.get_data(as_text=True)
    work = session.scalars(select(Work).where(Work.title == "Paper boats")).one()
    response = post(
        creator,
        f"/works/{work.id}",
        {
            "title": "Paper boats",
            "content_warnings": "",
            "alt_text": "A face beside folded paper boats.",
            "transcript": "",
        },
        multipart=True,
    )
    assert response.status_code in {302, 303}, response.get_data(as_text=True)

    code = None
    if policy.faces.allowed:
        receipt = post(
            creator,
            f"/works/{work.id}/consent",
            {"modalities": ["face"], "channels": ["gallery"], "agree": "y"},
        )
        assert receipt.status_code == 200, receipt.get_data(as_text=True)
        match = CODE.search(receipt.get_data(as_text=True))
        assert match, "the receipt shows no withdrawal code"
        code = match.group(0)

    assert upload(creator, work.id, (photo(faces=1), "boats.jpg")).status_code == 303
    version = session.scalars(select(Version).where(Version.work_id == work.id)).one()
    assert post(creator, f"/versions/{version.id}/submit").status_code == 303
    session.expire_all()
    assert version.state is VersionState.IN_REVIEW, version.state_reason
    detections = version.assets[0].detections or {}
    assert detections["faces_masked"] is (not policy.faces.allowed)
    page = creator.get(f"/works/{work.id}").get_data(as_text=True)
    assert "Waiting for review" in page or "waiting for review" in page.lower()

    reviewers = [org.psychologist] + [
        make_staff(org.organisation, Role.PSYCHOLOGIST, f"{slug}-psy-{n}")
        for n in range(1, policy.review.approvals_required)
    ]
    for reviewer in reviewers:
        client = client_for(reviewer)
        assert client.get("/review").status_code == 200
        assert post(client, f"/review/versions/{version.id}/start").status_code in {302, 303}
        response = post(
            client, f"/review/versions/{version.id}/decide", {"decision": "approved", "note": ""}
        )
        assert response.status_code in {302, 303}, response.get_data(as_text=True)
    session.expire_all()
    assert version.state is VersionState.PUBLISHED, version.state_reason
    public = stored_files(settings, Area.PUBLIC)
    assert public  # the clean photo and its renditions
    for path in public:
        assert markers_in(path) == []

    if code is not None:
        visitor = client_for(None)
        token = csrf_token(visitor, "/withdraw")
        response = visitor.post("/withdraw", data={"csrf_token": token, "code": code})
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert post(creator, f"/works/{work.id}/withdraw").status_code in {302, 303}
    session.expire_all()
    assert version.state is VersionState.WITHDRAWN
    publication = session.scalars(select(Publication)).one()
    assert publication.withdrawn_at is not None
    assert stored_files(settings, Area.PUBLIC) == []
