"""Response headers, no third-party hosts anywhere, and error pages that reveal nothing."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.core.config import PROJECT_ROOT, Settings
from tests.conftest import csrf_token
from tests.web.conftest import PAGE_TEMPLATES, ROLES, Site, crawl, fill, parse_tags

URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "poster", "data", "background"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")\s]+)", re.IGNORECASE)
ABSOLUTE = re.compile(r"https?://[^\s\"'<>)]+", re.IGNORECASE)
# An XML namespace is a name, never fetched: the SVG favicon must declare its own.
XML_NAMESPACE = re.compile(r'xmlns(?::\w+)?="http://www\.w3\.org/[^"]*"')


def _pages(
    client_as: Callable[[str], FlaskClient], site: Site, role: str
) -> dict[str, TestResponse]:
    seeds = [fill(page, site) for page in PAGE_TEMPLATES] + ["/no/such/page"]
    pages = crawl(client_as(role), seeds)
    assert len(pages) >= 5, sorted(pages)
    return pages


# --- Headers -------------------------------------------------------------------------------


def _header_problems(response: TestResponse, *, signed_in: bool) -> list[str]:
    headers = response.headers
    problems = []
    csp = headers.get("Content-Security-Policy", "")
    directives = {part.strip().split(" ")[0]: part.strip() for part in csp.split(";") if part}
    if directives.get("default-src") != "default-src 'self'":
        problems.append(f"CSP default-src: {csp!r}")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append(f"CSP allows unsafe code: {csp!r}")
    expected = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }
    if signed_in:
        expected["Cache-Control"] = "no-store"
    for name, value in expected.items():
        if headers.get(name) != value:
            problems.append(f"{name}: {headers.get(name)!r}")
    return problems


@pytest.mark.parametrize("role", ROLES)
def test_every_page_sends_the_security_headers(
    client_as: Callable[[str], FlaskClient], site: Site, role: str
) -> None:
    pages = _pages(client_as, site, role)
    problems = {
        url: found
        for url, response in pages.items()
        if (found := _header_problems(response, signed_in=role != "anonymous"))
    }
    assert not problems


def test_redirects_and_assets_send_the_headers_too(client: FlaskClient) -> None:
    for url in ("/dashboard", "/static/css/chorus.css", "/static/js/quick-exit.js"):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert not _header_problems(response, signed_in=False), url
        response.close()


def test_csp_forbids_framing_plugins_and_foreign_forms(client: FlaskClient) -> None:
    csp = client.get("/").headers["Content-Security-Policy"]
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "form-action 'self'"):
        assert directive in csp


# --- Nothing from another host ---------------------------------------------------------------


def _foreign(value: str) -> bool:
    for candidate in value.split(","):  # srcset lists several
        url = candidate.strip().split(" ")[0]
        parts = urlsplit(url)
        if parts.scheme not in ("", "data") or parts.netloc:
            return True
    return False


def _foreign_references(html: str, quick_exit_url: str) -> list[str]:
    parsed = parse_tags(html)
    found = []
    for tag, attrs, _in_body in parsed.tags:
        for name, value in attrs.items():
            if not value:
                continue
            if name in URL_ATTRIBUTES and _foreign(value):
                if (tag, name, attrs.get("id"), value) == (
                    "a",
                    "href",
                    "quick-exit",
                    quick_exit_url,
                ):
                    continue  # the one link that leaves: the quick exit's neutral site
                found.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                found += [f"<{tag} style=url({u})>" for u in CSS_URL.findall(value) if _foreign(u)]
            if tag == "meta" and name == "content" and "url=" in value.lower():
                found.append(f"<meta content={value!r}>")
    for css in parsed.styles:
        found += [f"<style> url({u})" for u in CSS_URL.findall(css) if _foreign(u)]
    return found


@pytest.mark.parametrize("role", ROLES)
def test_pages_load_nothing_from_another_host(
    client_as: Callable[[str], FlaskClient], site: Site, settings: Settings, role: str
) -> None:
    pages = _pages(client_as, site, role)
    found = {
        url: refs
        for url, response in pages.items()
        if (refs := _foreign_references(response.get_data(as_text=True), settings.quick_exit_url))
    }
    assert not found


def test_the_checker_sees_a_foreign_reference() -> None:
    html = (
        '<body><a id="quick-exit" href="https://neutral.example/">x</a>'
        '<img srcset="/a.png 1x, https://cdn.example/b.png 2x">'
        '<div style="background: url(//cdn.example/c.png)"></div>'
        "<style>body{background:url('https://cdn.example/d.png')}</style></body>"
    )
    assert len(_foreign_references(html, "https://neutral.example/")) == 3


def _shipped_files() -> list[Path]:
    roots = [PROJECT_ROOT / "app" / "templates", PROJECT_ROOT / "app" / "static"]
    return sorted(p for root in roots for p in root.rglob("*") if p.is_file())


def test_templates_and_static_files_name_no_other_host() -> None:
    files = _shipped_files()
    assert any(p.suffix == ".html" for p in files)
    assert any(p.suffix == ".js" for p in files)
    found = {}
    for path in files:
        content = XML_NAMESPACE.sub("", path.read_bytes().decode("utf-8", errors="replace"))
        if urls := ABSOLUTE.findall(content):
            found[str(path.relative_to(PROJECT_ROOT))] = urls
    assert not found


# --- Error pages ------------------------------------------------------------------------------

SECRET = "-".join(["secret", "marker", "9f2"])  # built at run time: no source line holds it
QUERY_MARKER = "query-marker-4e1"


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    def explode() -> str:
        raise RuntimeError(SECRET)

    app.add_url_rule("/test-only/explode", "test_only_explode", explode)
    return app


def test_an_unexpected_error_is_a_plain_500_with_a_reference(
    failing_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = failing_app.test_client()
    with caplog.at_level(logging.ERROR, logger="chorus"):
        response = client.get(f"/test-only/explode?who={QUERY_MARKER}")
    assert response.status_code == 500
    page = " ".join(response.get_data(as_text=True).split())
    assert "Something went wrong on our side" in page
    reference = re.search(r"Reference: ([0-9a-f]{8,})", page)
    assert reference
    assert 'id="quick-exit"' in page
    for leak in ("Traceback", 'File "/', "RuntimeError", SECRET, QUERY_MARKER):
        assert leak not in page
    assert not _header_problems(response, signed_in=False)

    assert reference.group(1) in caplog.text  # support can find the record
    assert "RuntimeError" in caplog.text
    assert SECRET not in caplog.text
    assert QUERY_MARKER not in caplog.text
    assert "who=" not in caplog.text


def test_an_oversized_post_is_a_plain_413(client: FlaskClient, settings: Settings) -> None:
    token = csrf_token(client, "/join")
    response = client.post(
        "/join", data={"csrf_token": token, "code": "x" * (settings.max_request_bytes + 1)}
    )
    assert response.status_code == 413
    page = " ".join(response.get_data(as_text=True).split())
    assert "That is too large" in page
    assert 'id="quick-exit"' in page
    assert "Traceback" not in page
    assert not _header_problems(response, signed_in=False)
