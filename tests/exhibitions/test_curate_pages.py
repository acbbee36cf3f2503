"""The curators' pages over HTTP: who reaches them, and each form doing its one thing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.gallery.models import Exhibition, ExhibitionItem
from app.gallery.services import ExhibitionState, state_of
from app.orgs.models import Organisation, Role
from app.review.models import Publication
from tests.conftest import csrf_token, sign_in

Orgs = Callable[[str], Organisation]
Staff = Callable[[Organisation, Role], User]
Publish = Callable[..., Publication]
BASE = "/orgs/adpare/exhibitions"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.FACILITATOR, 200),
        (Role.ORG_ADMIN, 200),
        (Role.PSYCHOLOGIST, 404),
        (Role.CREATOR, 404),
    ],
)
def test_only_curators_reach_the_pages(
    client: FlaskClient,
    organisation: Orgs,
    staff: Staff,
    make_creator: Callable[..., User],
    publish: Publish,
    exhibit: Callable[..., Exhibition],
    role: Role,
    status: int,
) -> None:
    adpare = organisation("adpare")
    exhibition = exhibit(adpare, [publish(adpare).work], opened=False)
    user = make_creator(adpare) if role is Role.CREATOR else staff(adpare, role)
    sign_in(client, user.login_name)
    for url in (BASE, f"{BASE}/new", f"{BASE}/{exhibition.id}"):
        assert client.get(url).status_code == status, url
    token = csrf_token(client, "/account/password")
    response = client.post(f"{BASE}/{exhibition.id}/open", data={"csrf_token": token})
    assert response.status_code == (302 if status == 200 else 404)


def test_strangers_are_sent_away(
    client: FlaskClient,
    organisation: Orgs,
    staff: Staff,
    publish: Publish,
    exhibit: Callable[..., Exhibition],
) -> None:
    adpare, mist = organisation("adpare"), organisation("mist")
    exhibition = exhibit(adpare, [publish(adpare).work], opened=False)
    theirs = exhibit(mist, [publish(mist).work], opened=False)
    response = client.get(BASE)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")

    sign_in(client, staff(mist, Role.FACILITATOR).login_name)
    assert client.get(BASE).status_code == 404
    assert client.get(f"{BASE}/{exhibition.id}").status_code == 404
    # Their own exhibition, under another organisation's address: not found either.
    assert client.get(f"{BASE}/{theirs.id}").status_code == 404
    assert client.get(f"/orgs/mist/exhibitions/{theirs.id}").status_code == 200


def _post(client: FlaskClient, url: str, **data: object) -> str:
    token = csrf_token(client, "/account/password")
    response = client.post(url, data={"csrf_token": token, **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def _order(session: Session, exhibition_id: int) -> list[int]:
    session.expire_all()
    return list(
        session.scalars(
            select(ExhibitionItem.work_id)
            .where(ExhibitionItem.exhibition_id == exhibition_id)
            .order_by(ExhibitionItem.position)
        )
    )


def test_a_curator_builds_orders_opens_and_closes_an_exhibition(
    client: FlaskClient,
    session: Session,
    organisation: Orgs,
    staff: Staff,
    publish: Publish,
    take_down: Callable[[Publication], None],
) -> None:
    adpare, mist = organisation("adpare"), organisation("mist")
    a, b, c = (publish(adpare, title=f"Work {t}") for t in "ABC")
    gone = publish(adpare, title="Work gone")
    take_down(gone)
    theirs = publish(mist, title="Their work")
    sign_in(client, staff(adpare, Role.FACILITATOR).login_name)

    token = csrf_token(client, f"{BASE}/new")
    refused = client.post(f"{BASE}/new", data={"csrf_token": token, "title": ""})
    assert refused.status_code == 422
    assert "Give the exhibition a title." in refused.get_data(as_text=True)
    taken = client.post(
        f"{BASE}/new", data={"csrf_token": token, "title": "X", "slug": "Not a slug"}
    )
    assert taken.status_code == 422
    location = _post(
        client, f"{BASE}/new", title="Spring voices", introduction="Hello.\n\nWelcome."
    )
    exhibition = session.scalars(select(Exhibition)).one()
    assert location == f"{BASE}/{exhibition.id}"
    assert exhibition.slug == "spring-voices"
    edit = f"{BASE}/{exhibition.id}"

    page = client.get(edit).get_data(as_text=True)
    for live in (a, b, c):
        assert f'<option value="{live.work_id}">' in page
    for absent in (gone, theirs):
        assert f'<option value="{absent.work_id}">' not in page
    assert "/exhibitions/spring-voices/kiosk" in page

    for publication in (a, b, c):
        _post(client, f"{edit}/works", work_id=publication.work_id)
    _post(client, f"{edit}/works", work_id=theirs.work_id)  # refused, with a message
    assert "Only works of this organisation" in client.get(edit).get_data(as_text=True)
    assert _order(session, exhibition.id) == [a.work_id, b.work_id, c.work_id]

    _post(client, f"{edit}/works/{c.work_id}/move", direction="up")
    assert _order(session, exhibition.id) == [a.work_id, c.work_id, b.work_id]
    _post(client, f"{edit}/works/{b.work_id}/move", position="1")
    assert _order(session, exhibition.id) == [b.work_id, a.work_id, c.work_id]
    _post(client, f"{edit}/works/{b.work_id}/move", direction="up")  # already first
    assert "already first" in client.get(edit).get_data(as_text=True)
    _post(client, f"{edit}/works/{b.work_id}/move", direction="sideways")
    assert _order(session, exhibition.id) == [b.work_id, a.work_id, c.work_id]
    _post(client, f"{edit}/works/{a.work_id}/remove")
    assert _order(session, exhibition.id) == [b.work_id, c.work_id]

    assert client.get("/exhibitions/spring-voices").status_code == 200  # a curator's preview
    _post(client, f"{edit}/open")
    session.refresh(exhibition)
    assert state_of(exhibition) is ExhibitionState.OPEN
    _post(client, f"{edit}/close")
    session.refresh(exhibition)
    assert state_of(exhibition) is ExhibitionState.CLOSED

    _post(client, edit, title="Spring voices, again", introduction="New words.")
    session.refresh(exhibition)
    assert (exhibition.title, exhibition.introduction, exhibition.slug) == (
        "Spring voices, again",
        "New words.",
        "spring-voices",
    )
    take_down(c)
    page = client.get(edit).get_data(as_text=True)
    assert "No longer in the gallery: not shown to the public" in page
    listing = client.get(BASE).get_data(as_text=True)
    assert "Spring voices, again" in listing
    assert ">Closed<" in listing
