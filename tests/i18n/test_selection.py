"""The interface language: the visitor's choice (a cookie set by the footer's switcher),
else the browser's Accept-Language, else English; pages then speak it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.i18n import COOKIE, COOKIE_MAX_AGE, LANGUAGES, local_path, select_language


def language_of(app: Flask, *, cookie: str | None = None, accept: str | None = None) -> str:
    headers = {"Accept-Language": accept} if accept is not None else {}
    if cookie is not None:
        headers["Cookie"] = f"{COOKIE}={cookie}"
    with app.test_request_context("/", headers=headers):
        return select_language()


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        (None, None, "en"),
        (None, "fr-FR,fr;q=0.9,en;q=0.5", "fr"),
        (None, "ro", "ro"),
        (None, "nl-BE", "nl"),
        (None, "en-GB,fr;q=0.5", "en"),
        (None, "de-DE,pt;q=0.8", "en"),
        (None, "de,it;q=0", "en"),  # q=0: not acceptable
        (None, "*", "en"),
        (None, "pt-BR,es-419;q=0.7,fr;q=0.3", "es"),
        ("es", "fr", "es"),  # the visitor's choice beats the browser
        ("en", "fr", "en"),
        ("xx", "it", "it"),  # a cookie naming no language is ignored
        ("fr-evil", None, "en"),
        ("", "nl", "nl"),
    ],
)
def test_the_choice_beats_the_browser_which_beats_english(
    app: Flask, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert language_of(app, cookie=cookie, accept=accept) == expected


def test_outside_a_request_the_language_is_english(app: Flask) -> None:
    with app.app_context():
        assert select_language() == "en"


def test_the_switcher_remembers_the_choice_for_a_year_and_shows_the_page_again(
    client: FlaskClient,
) -> None:
    response = client.get(f"/safety?{COOKIE}=fr")
    assert response.status_code == 303
    assert response.headers["Location"] == "/safety"
    assert response.headers["Cache-Control"] == "no-store"
    [cookie] = response.headers.getlist("Set-Cookie")
    attributes = [part.strip() for part in cookie.split(";")]
    assert attributes[0] == f"{COOKIE}=fr"
    assert f"Max-Age={COOKIE_MAX_AGE}" in attributes
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} <= set(attributes)
    page = client.get("/safety").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Rester en sécurité en utilisant Chorus" in page


def test_the_switcher_works_on_cached_gallery_pages(client: FlaskClient) -> None:
    assert client.get("/").status_code == 200
    response = client.get(f"/?{COOKIE}=it")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert '<html lang="it">' in client.get("/").get_data(as_text=True)


def test_the_switcher_drops_the_rest_of_the_query(client: FlaskClient) -> None:
    response = client.get(f"/browse?kind=podcast&{COOKIE}=nl")
    assert response.headers["Location"] == "/browse"


@pytest.mark.parametrize("code", ["xx", "", "FR", "fr-FR", "en;x"])
def test_a_language_not_offered_changes_nothing(client: FlaskClient, code: str) -> None:
    response = client.get("/safety", query_string={COOKIE: code})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert '<html lang="en">' in response.get_data(as_text=True)


def test_only_a_get_switches(client: FlaskClient) -> None:
    response = client.post(f"/sign-in?{COOKIE}=fr")
    assert response.status_code != 303
    assert COOKIE not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("path", ["//evil.example/x", "///evil.example", "//evil.example"])
def test_the_switcher_never_sends_anyone_to_another_host(client: FlaskClient, path: str) -> None:
    response = client.get("/", query_string={COOKIE: "fr"}, environ_overrides={"PATH_INFO": path})
    location = response.headers["Location"]
    assert response.status_code == 303
    assert location.startswith("/")
    assert not location.startswith("//")
    assert not urlsplit(location).netloc


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
        "/" + "a" * 3000,
    ],
)
def test_only_local_paths_are_redirect_targets(app: Flask, target: str) -> None:
    with app.test_request_context("/"):
        assert local_path(target) == "/"


@pytest.mark.parametrize("target", ["/", "/safety", "/gallery/works/3", "/browse?kind=podcast"])
def test_a_local_path_is_kept(app: Flask, target: str) -> None:
    with app.test_request_context("/"):
        assert local_path(target) == target


def test_every_page_offers_every_language_under_its_own_name(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert f'<select id="language-choice" name="{COOKIE}">' in page
    for code, name in LANGUAGES.items():
        selected = " selected" if code == "fr" else ""
        assert f'<option value="{code}" lang="{code}"{selected}>{name}</option>' in page


def test_the_switcher_does_not_write_the_page_address_into_the_page(
    client: FlaskClient,
) -> None:
    page = client.get("/withdraw/ABCD-EFGH-JKLM").get_data(as_text=True)
    footer = page[page.index('<footer class="site-footer">') :]
    assert "ABCD" not in footer


@pytest.mark.parametrize(
    ("path", "french"),
    [
        ("/", "Des campagnes de sensibilisation menées par des survivantes et survivants"),
        ("/sign-in", "<h1>Se connecter</h1>"),
        ("/join", "S’inscrire avec un code d’invitation"),
        ("/safety", "Ce que le bouton de sortie ne peut pas cacher"),
        ("/withdraw", "Retirer mon consentement"),
        ("/browse", "Parcourir la galerie"),
    ],
)
def test_pages_speak_french(client: FlaskClient, path: str, french: str) -> None:
    client.set_cookie(COOKIE, "fr")
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fr">' in page
    assert french in page
    assert "Quitter cette page" in page
    assert "Exit this page" not in page


def test_pages_stay_in_english_by_default(client: FlaskClient) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "<h1>Sign in</h1>" in page


def test_error_pages_and_messages_speak_french(client: FlaskClient) -> None:
    client.set_cookie(COOKIE, "fr")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "Page introuvable" in missing.get_data(as_text=True)
    # flask-login's "please sign in" message, on the sign-in page it sends people to
    page = client.get("/dashboard", follow_redirects=True).get_data(as_text=True)
    assert "Connectez-vous pour voir cette page, s’il vous plaît." in page


def test_pages_vary_with_the_cookie_and_the_browser_languages(client: FlaskClient) -> None:
    response = client.get("/")
    assert {"Cookie", "Accept-Language"} <= set(response.vary)
