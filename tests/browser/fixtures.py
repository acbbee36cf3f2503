"""Browser tests: Debian's chromium driven by Playwright, against Chorus served on loopback.

No browser is ever downloaded. Without chromium the tests are skipped on a developer's
machine and fail on CI (``CI=true``), where ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed; .ci/run installs Debian's package")
        pytest.skip("browser tests skipped: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Chorus served on 127.0.0.1 by a thread; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def page(browser, settings):  # type: ignore[no-untyped-def]
    """A fresh page whose requests may reach loopback only; the neutral exit site is
    answered locally so the test never leaves the machine."""
    context = browser.new_context()
    exit_prefix = settings.quick_exit_url

    def route(route):  # type: ignore[no-untyped-def]
        url = route.request.url
        if url.startswith(exit_prefix):
            route.fulfill(status=200, content_type="text/html", body="<title>Weather</title>")
        elif url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", route)
    tab = context.new_page()
    yield tab
    context.close()
