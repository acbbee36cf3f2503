"""Published files and captions, served by Chorus itself while their publication is
live: 404 for what never existed, 410 Gone from the moment it is withdrawn.

Caching: every answer says ``Cache-Control: public, no-cache`` with a strong ETag (the
file's SHA-256). ``public`` lets the browser and any proxy keep a copy, ``no-cache``
makes them ask Chorus before every use; an unchanged file costs a 304 and no bytes, and
a withdrawn one gets 410 on the very next request. A ``max-age`` would let copies of a
withdrawn work go on being shown from caches Chorus cannot reach.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from typing import BinaryIO

from flask import Blueprint, current_app, request, send_file
from werkzeug.datastructures import ContentRange
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wrappers import Response

from app.gallery import queries
from app.review.models import PublicationFile
from app.storage.base import CHUNK_SIZE, Area, Storage
from app.web.database import db_session

bp = Blueprint("media", __name__)

CACHE_CONTROL = "public, no-cache"
# A file opened on its own runs nothing and loads nothing; PDF viewers refuse sandboxes.
SANDBOX = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


def _storage() -> Storage:
    storage: Storage = current_app.extensions["chorus.storage"]
    return storage


def _public(response: Response, file_type: str) -> Response:
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    if file_type != "application/pdf":
        response.headers["Content-Security-Policy"] = SANDBOX
    return response


@bp.get("/media/<int:file_id>")
def file(file_id: int) -> Response:
    public = queries.public_file(db_session(), file_id)
    # A script's file is HTML: it is shown inside its work page, never rendered from
    # here. Sent as a plain-text attachment, it can only be saved.
    text = public.media_type.startswith("text/")
    mimetype = "text/plain" if text else public.media_type
    storage = _storage()
    path = storage.local_path(Area.PUBLIC, public.key)
    response: Response
    if path is not None:
        response = send_file(
            path,
            mimetype=mimetype,
            as_attachment=text,
            download_name=f"script-{public.id}.txt" if text else None,
            conditional=True,
            etag=public.sha256,
            max_age=None,
        )
    else:
        response = _streamed(storage, public, mimetype)
        if text:
            response.headers["Content-Disposition"] = (
                f'attachment; filename="script-{public.id}.txt"'
            )
    return _public(response, public.media_type)


def _streamed(storage: Storage, public: PublicationFile, mimetype: str) -> Response:
    """The file streamed through Chorus from a remote store (the page's CSP allows
    media from Chorus only, and a visitor's address must reach no other host), with
    the same ETag and byte-range answers ``send_file`` gives for a local file."""
    headers = {"ETag": f'"{public.sha256}"', "Accept-Ranges": "bytes"}
    if request.if_none_match.contains_weak(public.sha256):
        return Response(status=304, headers=headers)
    size = public.size
    start, stop = 0, size
    # A range holds only if the copy it completes is this one (If-Range names our
    # ETag, or is absent; a date cannot be checked: there is no Last-Modified here).
    if_range = request.if_range
    unchanged = if_range.etag == public.sha256 or (if_range.etag is None and not if_range.date)
    wanted = request.range if unchanged else None
    if wanted is not None:
        found = wanted.range_for_length(size)
        if found is None:
            raise RequestedRangeNotSatisfiable(length=size)
        start, stop = found
    # Opened before the answer starts, so a missing file is a 404, not a cut-off body;
    # closed with the response, whether or not the body was read (HEAD, a hang-up).
    opened = ExitStack()
    stream = opened.enter_context(storage.open(Area.PUBLIC, public.key, start=start))
    response = Response(
        _read(stream, stop - start),
        status=206 if wanted is not None else 200,
        mimetype=mimetype,
        headers=headers,
    )
    response.call_on_close(opened.close)
    response.content_length = stop - start
    if wanted is not None:
        response.content_range = ContentRange("bytes", start, stop, size)
    return response


def _read(stream: BinaryIO, length: int) -> Iterator[bytes]:
    """The next ``length`` bytes of a stream, in chunks."""
    while length > 0 and (chunk := stream.read(min(CHUNK_SIZE, length))):
        length -= len(chunk)
        yield chunk


@bp.get("/gallery/works/<int:work_id>/captions.vtt")
def captions(work_id: int) -> Response:
    text = queries.live_captions(db_session(), work_id)
    response = Response(text, mimetype="text/vtt")
    response.set_etag(hashlib.sha256(text.encode()).hexdigest())
    response.make_conditional(request)
    return _public(response, "text/vtt")
