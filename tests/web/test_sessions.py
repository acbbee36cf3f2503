"""Signing out ends the session everywhere, so a copied cookie stops working."""

from __future__ import annotations

from flask import Flask

from app.orgs.models import Role
from tests.conftest import TEST_PASSWORD, csrf_token, sign_in


def _copy_cookie(app: Flask, source, name: str = "chorus_session"):  # type: ignore[no-untyped-def]
    cookie = source.get_cookie(name)
    assert cookie is not None
    assert cookie.secure
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    other = app.test_client()
    other.set_cookie(name, cookie.value, domain=cookie.domain)
    return other


def test_a_copied_cookie_dies_with_sign_out(app: Flask, client, make_org, make_staff) -> None:
    make_staff(make_org(), Role.FACILITATOR, login_name="mover")
    sign_in(client, "mover")
    stolen = _copy_cookie(app, client)
    assert stolen.get("/dashboard").status_code == 200
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/dashboard")})
    response = stolen.get("/dashboard")
    assert response.status_code == 302
    assert "/sign-in" in response.location


def test_changing_the_password_signs_out_other_devices(
    app: Flask, client, make_org, make_staff
) -> None:
    make_staff(make_org(), Role.FACILITATOR, login_name="changer")
    sign_in(client, "changer")
    other_device = _copy_cookie(app, client)
    response = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(client, "/account/password"),
            "current": TEST_PASSWORD,
            "new": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert other_device.get("/dashboard").status_code == 302
