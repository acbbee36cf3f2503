"""Published files and captions: served only while live, with strong ETags, byte
ranges, revalidating cache headers and the right types; streamed through Chorus from
S3 with the same answers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.orgs.models import Organisation
from app.review.models import Publication, PublicationFile
from app.storage.base import Area, Storage
from app.storage.s3 import S3Storage
from app.works.models import WorkKind
from tests.gallery import media
from tests.gallery.conftest import CAPTIONS, original

Publish = Callable[..., Publication]
Orgs = Callable[[str], Organisation]


def get(client: FlaskClient, url: str, **headers: str) -> TestResponse:
    """The whole response, read and closed (a file response holds the file open)."""
    response = client.get(url, headers=headers)
    response.get_data()
    response.close()
    return response


def stored(storage: Storage, public: PublicationFile) -> bytes:
    with storage.open(Area.PUBLIC, public.key) as stream:
        return stream.read()


@pytest.fixture
def video(organisation: Orgs, publish: Publish) -> PublicationFile:
    publication = publish(organisation("mist"), WorkKind.PERFORMANCE, [media.mp4(frames=24)])
    public = original(publication)
    return public


def check_full_answer(client: FlaskClient, storage: Storage, public: PublicationFile) -> None:
    response = get(client, f"/media/{public.id}")
    assert response.status_code == 200
    assert response.mimetype == "video/mp4"
    assert response.get_data() == stored(storage, public)
    assert response.headers["Cache-Control"] == "public, no-cache"
    assert response.headers["ETag"] == f'"{public.sha256}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert int(response.headers["Content-Length"]) == public.size


def check_ranges(client: FlaskClient, storage: Storage, public: PublicationFile) -> None:
    whole = stored(storage, public)
    response = get(client, f"/media/{public.id}", Range="bytes=100-299")
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 100-299/{len(whole)}"
    assert response.get_data() == whole[100:300]
    response = get(client, f"/media/{public.id}", Range="bytes=-50")
    assert response.status_code == 206
    assert response.get_data() == whole[-50:]
    response = get(client, f"/media/{public.id}", Range=f"bytes={len(whole) + 10}-")
    assert response.status_code == 416


def check_revalidation(client: FlaskClient, public: PublicationFile) -> None:
    response = get(client, f"/media/{public.id}", **{"If-None-Match": f'"{public.sha256}"'})
    assert response.status_code == 304
    assert response.get_data() == b""
    assert response.headers["ETag"] == f'"{public.sha256}"'
    response = get(client, f"/media/{public.id}", **{"If-None-Match": '"something-else"'})
    assert response.status_code == 200


def test_a_local_file_answers_in_full_in_ranges_and_revalidates(
    client: FlaskClient, storage: Storage, video: PublicationFile
) -> None:
    check_full_answer(client, storage, video)
    check_ranges(client, storage, video)
    check_revalidation(client, video)


@pytest.fixture
def s3_app(app: Flask, storage: Storage, s3_bucket: dict[str, Any]) -> Iterator[S3Storage]:
    """The app serving from an S3 bucket holding copies of the public files."""
    remote = S3Storage(
        bucket=s3_bucket["bucket"],
        endpoint_url=s3_bucket["endpoint"],
        access_key_id="test",
        secret_access_key="test",
    )
    local = app.extensions["chorus.storage"]
    app.extensions["chorus.storage"] = remote
    yield remote
    app.extensions["chorus.storage"] = local


def test_a_file_on_s3_is_streamed_through_chorus_with_the_same_answers(
    client: FlaskClient, storage: Storage, video: PublicationFile, s3_app: S3Storage
) -> None:
    with storage.open(Area.PUBLIC, video.key) as stream:
        s3_app.save(Area.PUBLIC, video.key, stream)
    check_full_answer(client, s3_app, video)
    check_ranges(client, s3_app, video)
    check_revalidation(client, video)
    head = client.head(f"/media/{video.id}")
    head.close()  # the object opened for it is closed with the response
    assert (head.status_code, head.content_length) == (200, video.size)
    s3_app.delete(Area.PUBLIC, video.key)
    assert get(client, f"/media/{video.id}").status_code == 404


def test_a_scripts_file_is_never_served_as_html(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(organisation("mist"), WorkKind.SCRIPT, [media.script()])
    public = original(publication)
    response = get(client, f"/media/{public.id}")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_a_picture_is_served_as_what_it_is(
    client: FlaskClient, storage: Storage, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(organisation("mist"), WorkKind.FANZINE, [media.jpeg()])
    public = original(publication)
    response = get(client, f"/media/{public.id}")
    assert response.mimetype == "image/jpeg"
    assert response.get_data() == stored(storage, public)
    assert (
        "Content-Disposition" not in response.headers
        or "attachment" not in (response.headers["Content-Disposition"])
    )


def test_captions_are_webvtt_while_live(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(
        organisation("mist"), WorkKind.PERFORMANCE, [media.mp4()], captions=CAPTIONS
    )
    url = f"/gallery/works/{publication.work_id}/captions.vtt"
    response = get(client, url)
    assert response.status_code == 200
    assert response.mimetype == "text/vtt"
    assert response.get_data(as_text=True) == CAPTIONS.strip()
    assert response.headers["Cache-Control"] == "public, no-cache"
    etag = hashlib.sha256(CAPTIONS.strip().encode()).hexdigest()
    assert response.headers["ETag"] == f'"{etag}"'
    assert get(client, url, **{"If-None-Match": f'"{etag}"'}).status_code == 304


def test_gallery_pages_are_revalidated_too(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(organisation("mist"), WorkKind.SCRIPT, [media.script()])
    for url in ("/", "/browse", f"/gallery/works/{publication.work_id}", "/feed.atom"):
        assert get(client, url).headers["Cache-Control"] == "no-cache", url
