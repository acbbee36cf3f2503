"""The creators' studio over HTTP: starting works, uploading, describing, submitting,
and what the creators read about processing."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.config import Settings
from app.policies.loader import PolicyRegistry
from app.policies.schema import Limits
from app.storage.base import Area
from app.works.models import Asset, Version, VersionState, Work, WorkKind
from tests.studio import media
from tests.studio.conftest import Org, asset_count, multipart, post, stored_files, upload

Client = Callable[[User | None], FlaskClient]
KINDS = ("fanzine", "performance", "podcast", "script")


def _new_work(client: FlaskClient, org: Org, kind: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "kind": kind,
        "title": "Paper boats",
        "credit": "collective",
        "language": "en",
        "content_warnings": "trafficking, hope",
        **fields,
    }
    return post(client, f"/campaigns/{org.campaign.id}/works/new", data)


def test_studio_lists_the_campaigns_of_ones_groups(
    adpare: Org, client_for: Client, make_work: Callable[..., Work]
) -> None:
    client = client_for(adpare.creator)
    page = client.get("/studio").get_data(as_text=True)
    assert adpare.campaign.title in page
    assert f"/campaigns/{adpare.campaign.id}/works/new" in page
    assert "No works yet in this campaign." in page

    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    page = client.get("/studio").get_data(as_text=True)
    assert f"/works/{work.id}" in page
    assert "No files yet" in page

    # Another creator of the organisation does not see the work; staff have no studio.
    other = client_for(adpare.other_creator).get("/studio").get_data(as_text=True)
    assert f"/works/{work.id}" not in other
    for user in (adpare.psychologist, adpare.facilitator, adpare.org_admin):
        assert client_for(user).get("/studio").status_code == 404


def test_the_new_work_form_offers_what_the_policy_allows(adpare: Org, client_for: Client) -> None:
    page = client_for(adpare.creator).get(f"/campaigns/{adpare.campaign.id}/works/new")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    offered = {kind for kind in KINDS if f'value="{kind}"' in html}
    assert offered == {"fanzine", "performance"}
    assert 'value="trafficking, sexual violence"' in html  # the policy's default warnings
    assert 'value="pseudonym"' in html
    assert 'value="none"' not in html


@pytest.mark.parametrize(
    ("slug", "kind"),
    [
        ("adpare", "fanzine"),
        ("adpare", "performance"),
        ("payoke", "fanzine"),
        ("payoke", "podcast"),
        ("payoke", "script"),
    ],
)
def test_a_creator_starts_a_work_of_each_kind_the_policy_allows(
    make_site: Callable[[str], Org], client_for: Client, session: Session, slug: str, kind: str
) -> None:
    org = make_site(slug)
    response = _new_work(client_for(org.creator), org, kind)
    assert response.status_code == 303
    work = session.scalars(select(Work)).one()
    assert response.headers["Location"].endswith(f"/works/{work.id}")
    assert (work.kind.value, work.content_warnings) == (kind, ["trafficking", "hope"])


@pytest.mark.parametrize(("slug", "kind"), [("adpare", "podcast"), ("payoke", "performance")])
def test_a_kind_the_policy_does_not_allow_is_refused(
    make_site: Callable[[str], Org], client_for: Client, session: Session, slug: str, kind: str
) -> None:
    org = make_site(slug)
    response = _new_work(client_for(org.creator), org, kind)
    assert response.status_code == 422
    assert session.scalars(select(Work)).first() is None


def test_a_pseudonym_credit_needs_a_pseudonym(adpare: Org, client_for: Client) -> None:
    response = _new_work(client_for(adpare.creator), adpare, "fanzine", credit="pseudonym")
    assert response.status_code == 422
    assert "Please fill in the pseudonym." in response.get_data(as_text=True)


def test_campaigns_of_other_groups_are_not_found(adpare: Org, client_for: Client) -> None:
    client = client_for(adpare.other_creator)
    assert client.get(f"/campaigns/{adpare.campaign.id}/works/new").status_code == 404
    assert _new_work(client, adpare, "fanzine").status_code == 404


def test_upload_submit_and_the_plain_report(
    adpare: Org,
    client_for: Client,
    session: Session,
    settings: Settings,
    make_work: Callable[..., Work],
) -> None:
    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    client = client_for(adpare.creator)
    response = upload(client, work.id, (media.gps_jpeg(), "shelter-garden.jpg"))
    assert response.status_code == 303
    page = client.get(f"/works/{work.id}").get_data(as_text=True)
    assert "It will be checked when you submit" in page
    assert "shelter-garden" not in page

    # The original is stored encrypted: the marker is nowhere in the private area.
    files = stored_files(settings, Area.PRIVATE)
    assert len(files) == 1
    assert media.MARKER.encode() not in files[0].read_bytes()

    version = session.scalars(select(Version).where(Version.work_id == work.id)).one()
    assert post(client, f"/versions/{version.id}/submit").status_code == 303
    session.expire_all()
    assert version.state is VersionState.IN_REVIEW

    page = client.get(f"/works/{work.id}").get_data(as_text=True)
    assert "Waiting for review" in page
    assert "We removed the location (GPS) from this photo." in page
    assert "We removed a hidden detail about the camera." in page
    assert f"/assets/{version.assets[0].id}/clean" in page
    # The name the browser sent is stored nowhere, not even in the audit log.
    database = settings.database_url.removeprefix("sqlite:///")
    assert b"shelter-garden" not in Path(database).read_bytes()


def test_the_studio_shows_the_state_in_plain_words(
    adpare: Org, client_for: Client, submitted: Callable[..., Version]
) -> None:
    version = submitted(adpare, WorkKind.FANZINE, (media.gps_jpeg(), "a.jpg"))
    page = client_for(adpare.creator).get("/studio").get_data(as_text=True)
    assert version.work.title in page
    assert "Waiting for review" in page


def test_an_upload_answers_json_to_the_upload_script(
    adpare: Org, client_for: Client, make_work: Callable[..., Work]
) -> None:
    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    client = client_for(adpare.creator)
    response = upload(
        client, work.id, (media.gps_jpeg(), "a.jpg"), (media.gps_jpeg(), "b.jpg"), json=True
    )
    assert response.status_code == 200
    assert response.json == {
        "ok": True,
        "message": "2 files uploaded.",
        "redirect": f"/works/{work.id}",
    }

    empty = upload(client, work.id, (b"", ""), json=True)
    assert empty.status_code == 422
    assert (empty.json or {}).get("message") == "Choose a file to upload."


def test_an_upload_larger_than_the_app_wide_limit_but_within_the_policy_is_stored(
    adpare: Org, client_for: Client, session: Session, make_work: Callable[..., Work]
) -> None:
    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    big = media.gps_jpeg((1600, 1200))  # several times the test settings' 64 KB
    assert len(big) > 200_000
    assert upload(client_for(adpare.creator), work.id, (big, "big.jpg")).status_code == 303
    assert asset_count(session) == 1


def test_an_upload_over_the_policy_limit_is_413_and_nothing_is_stored(
    app: Flask,
    adpare: Org,
    client_for: Client,
    session: Session,
    settings: Settings,
    make_work: Callable[..., Work],
) -> None:
    policies: PolicyRegistry = app.extensions["chorus.policies"]
    small = policies.get("adpare").model_copy(update={"limits": Limits(max_upload_mb=1)})
    app.extensions["chorus.policies"] = PolicyRegistry(
        tuple(small if p.slug == "adpare" else p for p in policies)
    )
    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    client = client_for(adpare.creator)
    response = upload(client, work.id, (b"\xff" * (1024 * 1024 + 200 * 1024), "huge.jpg"))
    assert response.status_code == 413
    assert "That is too large" in response.get_data(as_text=True)
    assert asset_count(session) == 0
    assert stored_files(settings, Area.PRIVATE) == []
    assert upload(client, work.id, (b"\xff" * 2_000_000, "h.jpg"), json=True).status_code == 413


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (media.svg(), "We could not accept one of the files"),
        (media.zip_archive(), "We could not accept one of the files"),
    ],
    ids=["svg", "zip"],
)
def test_a_refused_file_fails_the_version_and_the_creator_reads_why(
    adpare: Org,
    client_for: Client,
    session: Session,
    submitted: Callable[..., Version],
    data: bytes,
    reason: str,
) -> None:
    version = submitted(adpare, WorkKind.FANZINE, (data, "photo.jpg"))
    assert version.state is VersionState.FAILED
    assert version.state_reason.startswith(reason)
    client = client_for(adpare.creator)
    assert f"Failed: {reason}" in client.get("/studio").get_data(as_text=True)
    page = client.get(f"/works/{version.work_id}").get_data(as_text=True)
    assert f"Failed: {reason}" in page
    assert "Upload files for a new version" in page


def test_a_script_with_an_email_address_is_flagged_in_plain_words(
    make_site: Callable[[str], Org], client_for: Client, submitted: Callable[..., Version]
) -> None:
    payoke = make_site("payoke")
    version = submitted(payoke, WorkKind.SCRIPT, (media.markdown_script(), "script.md"))
    assert version.state is VersionState.IN_REVIEW
    page = client_for(payoke.creator).get(f"/works/{version.work_id}").get_data(as_text=True)
    assert (
        "We found 1 thing that looks like a personal detail (an e-mail address) — check the text."
        in page
    )
    assert media.EMAIL not in page


def test_the_description_takes_a_captions_file(
    adpare: Org, client_for: Client, session: Session, make_work: Callable[..., Work]
) -> None:
    work = make_work(
        adpare.organisation, WorkKind.PERFORMANCE, creator=adpare.creator, campaign=adpare.campaign
    )
    client = client_for(adpare.creator)
    fields = {
        "title": "Dance of hands",
        "content_warnings": "trafficking",
        "alt_text": "",
        "transcript": "Two dancers.",
    }

    response = post(
        client,
        f"/works/{work.id}",
        {**fields, "captions": (media.webvtt(), "c.vtt")},
        multipart=True,
    )
    assert response.status_code == 303
    session.expire_all()
    assert work.title == "Dance of hands"
    assert work.captions.startswith("WEBVTT\n")

    too_big = b"WEBVTT\n\n" + b"x" * 600_000
    response = post(
        client,
        f"/works/{work.id}",
        {**fields, "captions": (too_big, "c.vtt")},
        multipart=True,
    )
    assert response.status_code == 422
    assert "at most 500 KB" in response.get_data(as_text=True)

    response = post(
        client,
        f"/works/{work.id}",
        {**fields, "captions": (b"\xff\xfe", "c.vtt")},
        multipart=True,
    )
    assert response.status_code == 422
    session.expire_all()
    assert work.captions.startswith("WEBVTT\n")

    response = post(client, f"/works/{work.id}", {**fields, "remove_captions": "y"})
    assert response.status_code == 303
    session.expire_all()
    assert work.captions == ""


def test_masking_choice_pause_resume_and_withdraw(
    adpare: Org, client_for: Client, session: Session, make_work: Callable[..., Work]
) -> None:
    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    client = client_for(adpare.creator)
    upload(client, work.id, (media.gps_jpeg(), "a.jpg"))
    session.expire_all()
    version = work.versions[0]
    assert (
        post(client, f"/versions/{version.id}/anonymisation", {"mask_faces": "y"}).status_code
        == 303
    )
    session.expire_all()
    assert (version.mask_faces, version.alter_voice) == (True, False)

    assert post(client, f"/works/{work.id}/pause").status_code == 303
    refused = post(client, f"/versions/{version.id}/submit", follow_redirects=True)
    assert "This work is paused; resume it first." in refused.get_data(as_text=True)
    assert post(client, f"/works/{work.id}/resume").status_code == 303

    confirm = client.get(f"/works/{work.id}/withdraw").get_data(as_text=True)
    assert "Yes, withdraw this work" in confirm
    assert post(client, f"/works/{work.id}/withdraw").status_code == 303
    session.expire_all()
    assert version.state is VersionState.WITHDRAWN


def test_remove_a_file_from_a_draft(
    adpare: Org,
    client_for: Client,
    session: Session,
    settings: Settings,
    make_work: Callable[..., Work],
) -> None:
    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    client = client_for(adpare.creator)
    upload(client, work.id, (media.gps_jpeg(), "a.jpg"))
    asset = session.scalars(select(Asset)).one()
    assert post(client_for(adpare.other_creator), f"/assets/{asset.id}/remove").status_code == 404
    assert post(client, f"/assets/{asset.id}/remove").status_code == 303
    assert asset_count(session) == 0
    assert stored_files(settings, Area.PRIVATE) == []


def test_another_creators_work_is_not_found(
    adpare: Org, client_for: Client, session: Session, make_work: Callable[..., Work]
) -> None:
    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    upload(client_for(adpare.creator), work.id, (media.gps_jpeg(), "a.jpg"))
    version = session.scalars(select(Version)).one()
    for user in (adpare.other_creator, adpare.psychologist, adpare.facilitator):
        client = client_for(user)
        assert client.get(f"/works/{work.id}").status_code == 404
        assert upload(client, work.id, (media.gps_jpeg(), "b.jpg")).status_code == 404
        assert post(client, f"/versions/{version.id}/submit").status_code == 404
        assert post(client, f"/works/{work.id}/withdraw").status_code == 404
    assert asset_count(session) == 1


def test_the_upload_and_description_routes_still_check_csrf(
    adpare: Org, client_for: Client, session: Session, make_work: Callable[..., Work]
) -> None:
    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    client = client_for(adpare.creator)
    forged = client.post(
        f"/works/{work.id}/files",
        data={"files": (io.BytesIO(media.gps_jpeg()), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert forged.status_code == 400
    assert asset_count(session) == 0
    forged = client.post(f"/works/{work.id}", data={"title": "Forged"})
    assert forged.status_code == 400
    session.expire_all()
    assert work.title != "Forged"


def test_only_the_works_creators_may_send_a_large_body(
    adpare: Org, client_for: Client, session: Session, make_work: Callable[..., Work]
) -> None:
    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    big = media.gps_jpeg((1600, 1200))  # over the application's limit, within the policy's
    for user in (adpare.other_creator, adpare.psychologist, None):
        body, content_type = multipart({"files": (big, "big.jpg")})
        response = client_for(user).post(
            f"/works/{work.id}/files", data=body, content_type=content_type
        )
        assert response.status_code == 413
    # A large body of another kind is refused even from the creator.
    client = client_for(adpare.creator)
    response = post(client, f"/works/{work.id}/files", {"name": "x" * 70_000})
    assert response.status_code == 413
    assert asset_count(session) == 0


def test_a_refused_upload_leaves_nothing_stored(
    adpare: Org,
    client_for: Client,
    session: Session,
    settings: Settings,
    make_work: Callable[..., Work],
) -> None:
    work = make_work(
        adpare.organisation, WorkKind.PERFORMANCE, creator=adpare.creator, campaign=adpare.campaign
    )
    client = client_for(adpare.creator)
    response = upload(client, work.id, (b"one", "a.mp4"), (b"two", "b.mp4"), json=True)
    assert response.status_code == 409  # a performance has one file
    assert asset_count(session) == 0
    assert stored_files(settings, Area.PRIVATE) == []
