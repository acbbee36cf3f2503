"""The public pages: the home page, each kind of work page, content warnings, credits,
languages, and 404 for what never was in the gallery against 410 for what left it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.consent.models import ConsentRecord, Modality
from app.consent.services import withdraw_consent
from app.core.clock import utcnow
from app.core.config import Settings
from app.gallery.models import Exhibition
from app.orgs.models import Organisation
from app.review.models import FileRole, Publication, PublicationFile
from app.storage.base import Area, Storage
from app.works.models import Credit, Work, WorkKind
from app.works.services import withdraw
from tests.gallery import media
from tests.gallery.conftest import ALT_TEXT, CAPTIONS, TRANSCRIPT, original, renditions
from tests.review.conftest import photo
from tests.web.conftest import parse_tags

Publish = Callable[..., Publication]
Orgs = Callable[[str], Organisation]


def main(html: str) -> str:
    """The page's own content, without the header and footer every page shares."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def tags(html: str, name: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs, _ in parse_tags(html).tags if tag == name]


def page(client: FlaskClient, work_id: int) -> str:
    response = client.get(f"/gallery/works/{work_id}")
    assert response.status_code == 200
    return main(response.get_data(as_text=True))


# --- Home ------------------------------------------------------------------------------


def test_home_lists_live_works_and_not_withdrawn_ones(
    client: FlaskClient, session: Session, organisation: Orgs, publish: Publish
) -> None:
    adpare = organisation("adpare")
    kept = publish(adpare, WorkKind.FANZINE, [media.jpeg()], title="Boats that stay")
    gone = publish(adpare, WorkKind.FANZINE, [media.jpeg(seed=2)], title="Boats that left")
    assert "Boats that left" in client.get("/").get_data(as_text=True)

    withdraw(session, actor=gone.work.created_by, work=gone.work)
    session.commit()

    home = main(client.get("/").get_data(as_text=True))
    assert "Boats that stay" in home
    assert f'href="/gallery/works/{kept.work_id}"' in home
    assert "Boats that left" not in home
    assert f"/gallery/works/{gone.work_id}" not in home


def test_home_card_shows_picture_kind_organisation_and_credit(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    mist = organisation("mist")
    publish(mist, WorkKind.FANZINE, [media.jpeg()], credit=Credit.PSEUDONYM, pseudonym="Wren")
    publish(mist, WorkKind.PODCAST, [media.noise_wav()], title="Night radio")
    home = main(client.get("/").get_data(as_text=True))
    [card_picture] = tags(home, "img")
    [webp] = tags(home, "source")
    assert webp["type"] == "image/webp"
    assert re.fullmatch(r"/media/\d+ 320w", webp["srcset"] or "")
    assert re.fullmatch(r"/media/\d+", card_picture["src"] or "")
    assert re.fullmatch(r"/media/\d+ 320w", card_picture["srcset"] or "")
    assert card_picture["sizes"]
    assert (card_picture["width"], card_picture["height"]) == ("320", "240")
    assert card_picture["loading"] == "lazy"
    assert card_picture["alt"] == ""  # the title beside it names the link
    for text in ("Fanzine", "Podcast", "MIST"):
        assert text in home
    assert "By Wren" in home
    assert 'class="work-card-placeholder kind-podcast"' in home  # no picture: the kind


def test_home_lists_exhibitions_open_now(client: FlaskClient, session: Session) -> None:
    now = utcnow()
    day = timedelta(days=1)
    session.add_all(
        [
            Exhibition(slug="open-now", title="Voices now", opened_at=now - day),
            Exhibition(
                slug="closing", title="Last week", opened_at=now - 9 * day, closed_at=now + day
            ),
            Exhibition(slug="later", title="Not yet", opened_at=now + day),
            Exhibition(slug="over", title="All done", opened_at=now - 9 * day, closed_at=now - day),
            Exhibition(slug="draft", title="Unplanned"),
        ]
    )
    session.commit()
    home = main(client.get("/").get_data(as_text=True))
    assert '<a href="/exhibitions/open-now">Voices now</a>' in home
    assert '<a href="/exhibitions/closing">Last week</a>' in home
    for hidden in ("Not yet", "All done", "Unplanned"):
        assert hidden not in home


# --- Work pages, one kind at a time ---------------------------------------------------------


def test_fanzine_pages_in_order_with_every_size_alt_text_and_viewer(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(
        organisation("mist"),
        WorkKind.FANZINE,
        [media.jpeg(700, 500, seed=1), media.jpeg(seed=2), media.jpeg(seed=3)],
        language="fr",
    )
    html = page(client, publication.work_id)
    position = {f"/media/{f.id}": f.position for f in publication.files}
    images, sources = tags(html, "img"), tags(html, "source")
    assert [position[i["src"] or ""] for i in images] == [0, 1, 2]
    assert [i["alt"] for i in images] == ["Page 1 of 3", "Page 2 of 3", "Page 3 of 3"]
    assert all(i["aria-describedby"] == "work-description" for i in images)
    assert f'<p id="work-description">{ALT_TEXT}</p>' in html
    assert [i.get("loading") for i in images] == [None, "lazy", "lazy"]
    assert [s["type"] for s in sources] == ["image/webp"] * 3
    first = {
        f"/media/{f.id}": f for f in renditions(publication, FileRole.IMAGE) if f.position == 0
    }
    jpeg = [u.split() for u in (images[0]["srcset"] or "").split(", ")]
    webp = [u.split() for u in (sources[0]["srcset"] or "").split(", ")]
    assert [w for _, w in jpeg] == [w for _, w in webp] == ["320w", "640w", "700w"]
    assert {first[u].media_type for u, _ in jpeg} == {"image/jpeg"}
    assert {first[u].media_type for u, _ in webp} == {"image/webp"}
    assert (images[0]["width"], images[0]["height"]) == ("700", "500")
    assert "data-viewer" in html
    assert '<div class="work-content work-fanzine" lang="fr">' in html
    assert '<h1 lang="fr">Paper boats</h1>' in html
    [script] = tags(html, "script")
    assert script["src"] == "/static/js/viewer.js"
    assert "defer" in script


def test_without_renditions_the_image_file_itself_is_shown(
    client: FlaskClient, session: Session, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(organisation("mist"), WorkKind.FANZINE, [media.jpeg()])
    session.execute(
        delete(PublicationFile).where(
            PublicationFile.publication_id == publication.id,
            PublicationFile.role != FileRole.FILE,
        )
    )
    session.commit()
    html = page(client, publication.work_id)
    [image] = tags(html, "img")
    assert image["src"] == f"/media/{original(publication).id}"
    assert "srcset" not in image
    assert tags(html, "source") == []
    home = main(client.get("/").get_data(as_text=True))
    assert tags(home, "img")[0]["src"] == image["src"]


def test_one_page_fanzine_uses_the_alt_text_itself(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(organisation("mist"), WorkKind.FANZINE, [media.jpeg()])
    [image] = tags(page(client, publication.work_id), "img")
    assert image["alt"] == ALT_TEXT


def test_pdf_fanzine_shows_its_pages_as_pictures(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(organisation("adpare"), WorkKind.FANZINE, [media.pdf()])
    pages = {f"/media/{f.id}": f.page for f in renditions(publication, FileRole.PAGE)}
    html = page(client, publication.work_id)
    assert [pages[i["src"] or ""] for i in tags(html, "img")] == [0, 1]
    assert "application/pdf" not in html


def test_pdf_fanzine_without_page_pictures_links_the_pdf(
    client: FlaskClient, session: Session, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(organisation("adpare"), WorkKind.FANZINE, [media.pdf()])
    pdf = original(publication)
    session.execute(delete(PublicationFile).where(PublicationFile.role == FileRole.PAGE))
    session.commit()
    html = page(client, publication.work_id)
    assert tags(html, "img") == []
    assert f'<a href="/media/{pdf.id}" type="application/pdf">' in html
    assert ALT_TEXT in html
    with client.get(f"/media/{pdf.id}") as response:
        assert response.mimetype == "application/pdf"


def test_performance_video_with_captions_and_description(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(
        organisation("mist"), WorkKind.PERFORMANCE, [media.mp4()], captions=CAPTIONS, language="fr"
    )
    video_file = original(publication)
    poster = {f"/media/{f.id}": f for f in renditions(publication, FileRole.POSTER)}
    html = page(client, publication.work_id)
    [video] = tags(html, "video")
    assert "controls" in video
    assert video["preload"] == "metadata"
    assert poster[video["poster"] or ""].media_type == "image/jpeg"
    assert (video["width"], video["height"]) == ("96", "64")
    [source] = tags(html, "source")
    assert source == {"src": f"/media/{video_file.id}", "type": "video/mp4"}
    [track] = tags(html, "track")
    assert track["kind"] == "captions"
    assert track["src"] == f"/gallery/works/{publication.work_id}/captions.vtt"
    assert track["srclang"] == "fr"
    assert "default" in track
    assert html.index("</video>") < html.index(TRANSCRIPT)
    assert "Text description" in html


def test_performance_without_captions_has_no_track(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(organisation("mist"), WorkKind.PERFORMANCE, [media.mp4()])
    html = page(client, publication.work_id)
    assert tags(html, "track") == []
    assert client.get(f"/gallery/works/{publication.work_id}/captions.vtt").status_code == 404


def test_podcast_audio_with_transcript_beside_it(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(organisation("mist"), WorkKind.PODCAST, [media.noise_wav()])
    audio_file = original(publication)
    html = page(client, publication.work_id)
    [audio] = tags(html, "audio")
    assert "controls" in audio
    assert audio["preload"] == "metadata"
    assert tags(html, "source") == [{"src": f"/media/{audio_file.id}", "type": "audio/wav"}]
    transcript = re.search(
        r'<section class="transcript" aria-labelledby="transcript-heading">\s*'
        r'<h2 id="transcript-heading" lang="en">Transcript</h2>\s*'
        r'<div class="transcript-text">([^<]*)</div>',
        html,
    )
    assert transcript
    assert transcript.group(1) == TRANSCRIPT


def test_script_is_shown_as_sanitized_html(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(organisation("mist"), WorkKind.SCRIPT, [media.script("The crossing")])
    html = page(client, publication.work_id)
    content = html.split('<div class="script-work">', 1)[1]
    assert content.startswith("<h1>The crossing</h1>")
    assert "<em>A short scene for two voices.</em>" in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert tags(html, "script") == []


# --- Content warnings, credits, languages --------------------------------------------------


def test_content_warnings_come_first_and_the_work_waits_in_details(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(
        organisation("mist"),
        WorkKind.PODCAST,
        [media.noise_wav()],
        warnings=["violence", "exploitation"],
    )
    html = page(client, publication.work_id)
    warnings = html.index('<section class="content-warnings"')
    details = html.index('<details class="reveal">')
    summary = html.index("<summary>Show the work</summary>")
    audio = html.index("<audio")
    assert warnings < details < summary < audio < html.index("</details>")
    assert "<li>violence</li>" in html[warnings:details]
    assert "<li>exploitation</li>" in html[warnings:details]
    [details_tag] = tags(html, "details")
    assert "open" not in details_tag


def test_without_warnings_the_work_is_shown_at_once(
    client: FlaskClient, organisation: Orgs, publish: Publish
) -> None:
    publication = publish(organisation("mist"), WorkKind.PODCAST, [media.noise_wav()])
    html = page(client, publication.work_id)
    assert "<details" not in html
    assert "content-warnings" not in html
    assert "<audio" in html


@pytest.mark.parametrize(
    ("slug", "credit", "expected"),
    [
        ("adpare", Credit.COLLECTIVE, "Made together by a group at ADPARE"),
        ("mist", Credit.PSEUDONYM, "By Sparrow"),
        ("equality", Credit.NONE, None),
    ],
)
def test_credit_follows_the_works_credit_mode(
    client: FlaskClient,
    organisation: Orgs,
    publish: Publish,
    slug: str,
    credit: Credit,
    expected: str | None,
) -> None:
    publication = publish(organisation(slug), WorkKind.FANZINE, [media.jpeg()], credit=credit)
    group_name = publication.work.campaign.group.name
    for html in (page(client, publication.work_id), main(client.get("/").get_data(as_text=True))):
        credits = re.findall(r'<p class="work(?:-card)?-credit">([^<]*)</p>', html)
        assert credits == ([expected] if expected else [])
        assert group_name not in html  # a group's name is internal
        assert "Sparrow" not in html or credit is Credit.PSEUDONYM


def test_work_page_facts(client: FlaskClient, organisation: Orgs, publish: Publish) -> None:
    publication = publish(organisation("mist"), WorkKind.SCRIPT, [media.script()], language="fr")
    html = page(client, publication.work_id)
    published = publication.published_at.date().isoformat()
    assert "<dd>MIST</dd>" in html
    assert f"<dd>{publication.work.campaign.title}</dd>" in html
    assert "<dd>Français</dd>" in html
    assert f'<time datetime="{published}">' in html
    assert '<div class="work-content work-script" lang="fr">' in html


# --- Not found, and gone ----------------------------------------------------------------------


def test_a_work_never_in_the_gallery_is_404(
    client: FlaskClient,
    organisation: Orgs,
    make_work: Callable[..., Work],
) -> None:
    draft = make_work(organisation("mist"), WorkKind.SCRIPT)
    assert client.get(f"/gallery/works/{draft.id}").status_code == 404
    assert client.get("/gallery/works/987654").status_code == 404
    assert client.get("/media/987654").status_code == 404
    assert client.get("/gallery/works/987654/captions.vtt").status_code == 404


def test_a_withdrawn_work_is_gone_at_once_and_names_nothing(
    client: FlaskClient,
    session: Session,
    settings: Settings,
    organisation: Orgs,
    publish: Publish,
) -> None:
    publication = publish(
        organisation("mist"),
        WorkKind.PERFORMANCE,
        [media.mp4()],
        title="Dance of the harbour",
        captions=CAPTIONS,
    )
    work_id, video = publication.work_id, original(publication)
    assert client.get(f"/gallery/works/{work_id}").status_code == 200

    withdraw(session, actor=publication.work.created_by, work=publication.work)
    session.commit()

    response = client.get(f"/gallery/works/{work_id}")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "withdrawn" in html
    for detail in ("Dance of the harbour", "MIST", "Sparrow", TRANSCRIPT, "/media/"):
        assert detail not in html
    assert client.get(f"/media/{video.id}").status_code == 410
    assert client.get(f"/gallery/works/{work_id}/captions.vtt").status_code == 410
    assert not (settings.local_storage_root / Area.PUBLIC.value / video.key).exists()


def test_withdrawing_consent_takes_the_work_down(
    client: FlaskClient,
    session: Session,
    storage: Storage,
    organisation: Orgs,
    publish: Publish,
) -> None:
    publication = publish(
        organisation("adpare"), WorkKind.FANZINE, [photo(faces=1)], consent=[Modality.FACE]
    )
    picture = original(publication)
    with client.get(f"/media/{picture.id}") as response:
        assert response.status_code == 200
    record = session.scalars(select(ConsentRecord)).one()

    withdraw_consent(session, actor=publication.work.created_by, record=record)
    session.commit()

    assert client.get(f"/gallery/works/{publication.work_id}").status_code == 410
    assert client.get(f"/media/{picture.id}").status_code == 410
    assert not storage.exists(Area.PUBLIC, picture.key)
    assert f"/gallery/works/{publication.work_id}" not in client.get("/").get_data(as_text=True)
