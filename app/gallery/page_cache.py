"""A server-side cache of the public gallery pages, for visitors without an account.

Each cached page is keyed by the gallery's generation counter (``app.gallery.generation``),
which every publication, withdrawal and exhibition change raises in its own transaction.
A request reads the counter (one indexed row) and serves the page rendered under that
same value, or renders and stores it; a withdrawal therefore shows on the very next
request, on every server, with nothing to purge. Signed-in people, forms and media are
never cached. Each process keeps its own bounded copy.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, Response, g, request, session

from app.gallery.generation import current
from app.i18n import select_language
from app.web.database import db_session

CACHED_ENDPOINTS = frozenset(
    {
        "gallery.home",
        "gallery.browse",
        "gallery.work",
        "gallery.atom_feed",
        "exhibitions.show",
        "exhibitions.kiosk",
    }
)
CACHED_STATUSES = frozenset({200, 404, 410})
MAX_PAGES = 1024  # per process
MAX_BODY = 512 * 1024


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes
    status: int
    headers: tuple[tuple[str, str], ...]


class PageCache:
    """A bounded, thread-safe least-recently-used map of rendered pages."""

    def __init__(self, size: int = MAX_PAGES) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[object, ...], Page] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def put(self, key: tuple[object, ...], page: Page) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


def _key() -> tuple[object, ...] | None:
    """The cache key of this request, or None when it must not be cached."""
    if request.method != "GET" or request.endpoint not in CACHED_ENDPOINTS:
        return None
    if session.get("_user_id") is not None or request.authorization is not None:
        return None
    return (current(db_session()), request.full_path, select_language())


def init_app(app: Flask) -> None:
    cache = PageCache()
    app.extensions["chorus.page_cache"] = cache

    @app.before_request
    def _serve_cached() -> Response | None:
        key = _key()
        if key is None:
            return None
        g.page_cache_key = key
        page = cache.get(key)
        if page is None:
            return None
        g.page_cache_hit = True
        return Response(page.body, status=page.status, headers=list(page.headers))

    @app.after_request
    def _store(response: Response) -> Response:
        key = g.pop("page_cache_key", None)
        if key is None or g.pop("page_cache_hit", False):
            return response
        cacheable = (
            response.status_code in CACHED_STATUSES
            and not response.direct_passthrough
            and "Set-Cookie" not in response.headers
            and not response.is_streamed
        )
        if cacheable:
            body = response.get_data()
            if len(body) <= MAX_BODY:
                cache.put(key, Page(body, response.status_code, tuple(response.headers.items())))
        return response
