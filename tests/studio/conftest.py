"""Fixtures for the studio, media and review pages: organisations with creators and
staff, signed-in clients, and uploads through the real routes. Jobs run at once (the
``app`` fixture makes the queue immediate), so submitting a version processes it."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, stream_encode_multipart

from app.accounts.models import User
from app.core.config import Settings
from app.groups.models import Campaign
from app.orgs.models import Organisation, Role
from app.storage.base import Area
from app.works.models import Asset, Version, Work, WorkKind
from tests.conftest import _facilitator, csrf_token, sign_in


@dataclass
class Org:
    """One organisation: a campaign with a creator, a creator of another group, and
    one person in each staff role."""

    organisation: Organisation
    campaign: Campaign
    creator: User
    other_creator: User
    psychologist: User
    facilitator: User
    org_admin: User


@pytest.fixture
def make_site(
    session: Session,
    make_org: Callable[..., Organisation],
    make_campaign: Callable[..., Campaign],
    make_member: Callable[..., User],
    make_staff: Callable[..., User],
) -> Callable[[str], Org]:
    def make(slug: str) -> Org:
        organisation = make_org(slug)
        campaign = make_campaign(organisation)
        creator = make_member(campaign, f"{slug}-maker")
        other_creator = make_member(make_campaign(organisation), f"{slug}-other-maker")
        return Org(
            organisation,
            campaign,
            creator,
            other_creator,
            make_staff(organisation, Role.PSYCHOLOGIST),
            _facilitator(session, organisation),
            make_staff(organisation, Role.ORG_ADMIN),
        )

    return make


@pytest.fixture
def adpare(make_site: Callable[[str], Org]) -> Org:
    return make_site("adpare")


@pytest.fixture
def client_for(app: Flask) -> Callable[[User | None], FlaskClient]:
    """A new test client signed in as ``user`` (anonymous for None)."""

    def make(user: User | None) -> FlaskClient:
        client = app.test_client()
        if user is not None:
            sign_in(client, user.login_name)
        return client

    return make


def multipart(body: dict[str, object]) -> tuple[bytes, str]:
    """A multipart body and its content type, encoded in memory (the test client would
    spool a large body to a temporary file it never closes). ``(bytes, name)`` tuples,
    or lists of them, are files."""
    fields: MultiDict[str, object] = MultiDict()
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                item = FileStorage(stream=io.BytesIO(item[0]), filename=item[1])
            fields.add(name, item)
    stream, _length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return stream.getvalue(), f"multipart/form-data; boundary={boundary}"


def post(
    client: FlaskClient, url: str, data: dict[str, object] | None = None, **kwargs: object
) -> TestResponse:
    """POST a form with the session's CSRF token (read from the dashboard's sign-out
    form); with ``multipart=True`` as a multipart body (see ``multipart``)."""
    body = {"csrf_token": csrf_token(client, "/dashboard"), **(data or {})}
    if kwargs.pop("multipart", False):
        encoded, kwargs["content_type"] = multipart(body)
        return client.post(url, data=encoded, **kwargs)  # type: ignore[arg-type]
    return client.post(url, data=body, **kwargs)  # type: ignore[arg-type]


def upload(
    client: FlaskClient, work_id: int, *files: tuple[bytes, str], json: bool = False
) -> TestResponse:
    """Upload files to a work's draft through the upload route."""
    headers = {"Accept": "application/json"} if json else {}
    return post(
        client,
        f"/works/{work_id}/files",
        {"files": list(files)},
        multipart=True,
        headers=headers,
    )


@pytest.fixture
def submitted(
    session: Session,
    client_for: Callable[[User | None], FlaskClient],
    make_work: Callable[..., Work],
) -> Callable[..., Version]:
    """A work of ``kind`` by ``creator`` with ``files`` uploaded and submitted over
    HTTP; processing has run by the time this returns."""

    def run(
        org: Org, kind: WorkKind, *files: tuple[bytes, str], creator: User | None = None
    ) -> Version:
        creator = creator or org.creator
        work = make_work(org.organisation, kind, creator=creator, campaign=org.campaign)
        client = client_for(creator)
        assert upload(client, work.id, *files).status_code == 303
        session.expire_all()
        version = session.scalars(select(Version).where(Version.work_id == work.id)).one()
        response = post(client, f"/versions/{version.id}/submit")
        assert response.status_code == 303, response.get_data(as_text=True)
        session.expire_all()
        return version

    return run


def stored_files(settings: Settings, area: Area) -> list[Path]:
    folder = settings.local_storage_root / area.value
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def asset_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Asset)) or 0
