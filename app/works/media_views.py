"""Delivery of private files: a cleaned file to the work's creators and its
organisation's staff, an original to the person who uploaded it. Everyone else gets
404, so a file's existence is not revealed. Nothing here is cached by the browser or a
proxy, and cleaned text is sent as plain text, never rendered as HTML from Chorus.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from flask import Blueprint, current_app, send_file
from werkzeug.wrappers import Response

from app.media.types import Family, MediaType
from app.storage.base import CHUNK_SIZE, Area, Storage
from app.storage.crypto import read_original
from app.web.database import db_session
from app.web.sessions import current_actor
from app.works import queries

bp = Blueprint("media", __name__)

URL_LIFETIME = 60  # seconds a presigned address stays valid
# A file opened on its own runs nothing and loads nothing; PDF viewers refuse sandboxes.
SANDBOX = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


def _storage() -> Storage:
    storage: Storage = current_app.extensions["chorus.storage"]
    return storage


def _private(response: Response, *, sandbox: bool = True) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if sandbox:
        response.headers["Content-Security-Policy"] = SANDBOX
    return response


def delivery(media_type: MediaType) -> str:
    """The media type to send a cleaned file as. Cleaned text holds an HTML fragment:
    it goes out as plain text (werkzeug adds ``charset=utf-8`` to text types)."""
    return "text/plain" if media_type.family is Family.TEXT else media_type.value


def _chunks(storage: Storage, key: str) -> Iterator[bytes]:
    with storage.open(Area.PRIVATE, key) as stream:
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk


@bp.get("/assets/<int:asset_id>/clean")
def clean(asset_id: int) -> Response:
    asset = queries.clean_asset(db_session(), current_actor(), asset_id)
    key, media_type = asset.sanitized_key or "", MediaType(asset.sanitized_type or "")
    mimetype = delivery(media_type)
    extension = ".txt" if media_type.family is Family.TEXT else media_type.extension
    name = f"chorus-{asset.id}{extension}"
    storage = _storage()
    path = storage.local_path(Area.PRIVATE, key)
    response: Response
    if path is not None:
        response = send_file(
            path, mimetype=mimetype, download_name=name, conditional=True, etag=True, max_age=None
        )
    else:
        # Streamed through Chorus rather than redirected to the store: the page's CSP
        # allows media from Chorus only, and the browser never learns the store's host.
        response = Response(_chunks(storage, key), mimetype=mimetype)
        response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return _private(response, sandbox=media_type.family is not Family.PDF)


@bp.get("/assets/<int:asset_id>/original")
def original(asset_id: int) -> Response:
    asset = queries.original_asset(db_session(), current_actor(), asset_id)
    key = current_app.extensions["chorus.settings"].originals_key
    try:
        extension = MediaType(asset.media_type or "").extension
    except ValueError:
        extension = ""
    # Decrypted in full before a byte is sent: damage is only detected at the end. The
    # file has no name on disk and is gone once the response closes it.
    handle = tempfile.TemporaryFile(prefix="chorus-original-")  # noqa: SIM115
    try:
        read_original(_storage(), key, asset.original_key or "", handle)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    response = send_file(
        handle,
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=f"original-{asset.id}{extension}",
        conditional=False,
        etag=False,
        max_age=None,
    )
    return _private(response)
