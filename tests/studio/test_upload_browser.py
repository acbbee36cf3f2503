"""The upload script in a real browser: the upload goes through XMLHttpRequest and
answers JSON, the work page follows, and an upload over the policy's limit is stopped
before it is sent (the server refuses it anyway, see ``test_studio``)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.policies.loader import PolicyRegistry
from app.policies.schema import Limits
from app.works.models import Work, WorkKind
from tests.browser.fixtures import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import TEST_PASSWORD
from tests.studio import media
from tests.studio.conftest import Org, asset_count

Script = Callable[[Any], dict[str, Any]]


def in_browser(script: Script) -> dict[str, Any]:
    """Run ``script`` on a fresh Chromium page, in a thread of its own: Playwright's
    sync API allows one instance per thread, and the browser tests may hold this one.
    Only loopback is reachable."""
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed; .ci/run installs Debian's package")
        pytest.skip("browser tests skipped: install Debian's chromium package")
    outcome: dict[str, Any] = {}

    def run() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    context = browser.new_context()
                    context.route(
                        "**/*",
                        lambda route: (
                            route.continue_()
                            if route.request.url.startswith("http://127.0.0.1:")
                            else route.abort()
                        ),
                    )
                    outcome["value"] = script(context.new_page())
                finally:
                    browser.close()
        except BaseException as error:  # noqa: BLE001 - raised again in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    if "error" in outcome:
        raise outcome["error"]
    return dict(outcome.get("value") or {})


@pytest.fixture
def work_url(live_server: str, adpare: Org, make_work: Callable[..., Work]) -> str:  # noqa: F811
    work = make_work(
        adpare.organisation, WorkKind.FANZINE, creator=adpare.creator, campaign=adpare.campaign
    )
    return f"{live_server}/works/{work.id}"


def _signed_in(tab: Any, url: str, login_name: str) -> None:
    base = url.split("/works/")[0]
    tab.goto(f"{base}/sign-in")
    tab.fill("#login_name", login_name)
    tab.fill("#password", TEST_PASSWORD)
    tab.click("main button[type=submit]")
    tab.wait_for_url(f"{base}/dashboard")
    tab.goto(url)


def test_the_upload_script_sends_and_returns_to_the_work_page(
    adpare: Org, work_url: str, session: Session
) -> None:
    def script(tab: Any) -> dict[str, Any]:
        _signed_in(tab, work_url, adpare.creator.login_name)
        tab.set_input_files(
            "#files",
            files=[{"name": "garden.jpg", "mimeType": "image/jpeg", "buffer": media.gps_jpeg()}],
        )
        with tab.expect_response(lambda r: r.url.endswith("/files")) as answer:
            tab.click("form[data-upload] button[type=submit]")
        tab.wait_for_selector("text=1 file uploaded.")
        return {
            "status": answer.value.status,
            "type": answer.value.headers["content-type"],
            "url": tab.url,
            "files": tab.locator(".files .file").count(),
        }

    seen = in_browser(script)
    assert seen == {"status": 200, "type": "application/json", "url": work_url, "files": 1}
    assert asset_count(session) == 1


def test_an_upload_over_the_limit_is_not_even_sent(
    app: Flask, adpare: Org, work_url: str, session: Session
) -> None:
    policies: PolicyRegistry = app.extensions["chorus.policies"]
    small = policies.get("adpare").model_copy(update={"limits": Limits(max_upload_mb=1)})
    app.extensions["chorus.policies"] = PolicyRegistry(
        tuple(small if p.slug == "adpare" else p for p in policies)
    )

    def script(tab: Any) -> dict[str, Any]:
        _signed_in(tab, work_url, adpare.creator.login_name)
        sent: list[str] = []
        tab.on("request", lambda r: sent.append(r.url) if r.url.endswith("/files") else None)
        tab.set_input_files(
            "#files",
            files=[{"name": "big.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * 1_200_000}],
        )
        tab.click("form[data-upload] button[type=submit]")
        status = tab.locator("[data-upload-status]")
        status.wait_for()
        return {"message": status.inner_text(), "sent": sent}

    seen = in_browser(script)
    assert "larger than your organisation accepts" in seen["message"]
    assert seen["sent"] == []
    assert asset_count(session) == 0
