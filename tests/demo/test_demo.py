"""``chorus demo`` on an empty database: demo works of every kind go through the real
pipeline and end published, blocked for consent, or in review; nothing planted in
their files reaches the public area, and the originals are kept encrypted.

The demo runs once for the whole module (it takes a while): the tests only read.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.services import verify
from app.core.config import Settings
from app.core.db import make_engine, make_session_factory
from app.demo import media
from app.media.types import MediaType
from app.orgs.models import Organisation
from app.review.models import Publication, PublicationConsent
from app.review.publishing import public_key
from app.storage.crypto import MAGIC
from app.works.models import Asset, Version, VersionState, Work, WorkKind
from tests.conftest import make_settings
from tests.media.checkers import exiftool, markers_in, metadata_text

P, B, R, C = (
    VersionState.PUBLISHED,
    VersionState.BLOCKED,
    VersionState.IN_REVIEW,
    VersionState.CHANGES_REQUESTED,
)
# What the demo is built to show (app.demo.works.SCENARIOS), version by version.
EXPECTED = {
    "adpare": {P: 2, R: 1},
    "equality": {B: 1, P: 1, R: 1},
    "fundacion-cruz-blanca": {B: 1, P: 1, R: 1},
    "mist": {B: 1, P: 3, C: 1},
    "payoke": {P: 2, R: 1},
}


@dataclass(frozen=True)
class Demo:
    app: Flask
    settings: Settings
    result: Result
    session: Session

    @property
    def storage_root(self) -> Path:
        return self.settings.local_storage_root


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, template_database: Path) -> Iterator[Demo]:
    from app.factory import create_app
    from app.jobs import queue

    settings = make_settings(tmp_path_factory.mktemp("demo") / "instance", template_database)
    app = create_app(settings)
    app.config.update(TESTING=True)
    queue.configure(settings, immediate=True)
    result = app.test_cli_runner().invoke(args=["demo"])
    engine = make_engine(settings.database_url)
    session = make_session_factory(engine)()
    try:
        yield Demo(app, settings, result, session)
    finally:
        session.close()
        engine.dispose()
        app.extensions["chorus.db"].engine.dispose()


def versions(demo: Demo) -> list[Version]:
    return list(demo.session.scalars(select(Version).order_by(Version.id)))


def slug_of(version: Version) -> str:
    return version.work.campaign.group.organisation.slug


def files_in(root: Path, area: str) -> list[Path]:
    return sorted(p for p in (root / area).rglob("*") if p.is_file())


def test_the_command_succeeds_and_prints_counts_only(demo: Demo) -> None:
    assert demo.result.exit_code == 0, demo.result.output
    output = demo.result.output
    assert "Demo versions by state" in output
    assert "payoke" in output
    assert "published 2" in output
    for title in ("Paper boats", "Workshop portrait", "Moving together", "The crossing"):
        assert title not in output
    assert media.MARKER not in output


def test_credentials_are_saved_for_the_owner_only(demo: Demo) -> None:
    path = demo.settings.instance_path / "demo-credentials.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    # Payoke needs two approvals, so it has two psychologists.
    for login in ("payoke-psychologist ", "payoke-psychologist-2 ", "mist-creator "):
        assert login in text
        assert login in demo.result.output


def test_versions_end_as_the_demo_intends(demo: Demo) -> None:
    measured: dict[str, dict[VersionState, int]] = {}
    for version in versions(demo):
        counts = measured.setdefault(slug_of(version), {})
        counts[version.state] = counts.get(version.state, 0) + 1
    assert measured == EXPECTED


def test_every_organisation_has_a_work_of_each_kind_it_allows(demo: Demo) -> None:
    policies = demo.app.extensions["chorus.policies"]
    for organisation in demo.session.scalars(select(Organisation)):
        kinds = {
            work.kind.value
            for work in demo.session.scalars(select(Work))
            if work.campaign.group.organisation_id == organisation.id
        }
        assert kinds == set(policies.get(organisation.slug).works.kinds)


def test_every_kind_went_through_processing(demo: Demo) -> None:
    processed: set[WorkKind] = set()
    for version in versions(demo):
        for asset in version.assets:
            if asset.sanitized_key and asset.report and asset.detections is not None:
                processed.add(version.work.kind)
    assert processed == set(WorkKind)


def test_blocked_versions_say_which_consent_is_missing(demo: Demo) -> None:
    blocked = [v for v in versions(demo) if v.state is VersionState.BLOCKED]
    assert {slug_of(v) for v in blocked} == {"equality", "fundacion-cruz-blanca", "mist"}
    for version in blocked:
        assert "consent" in version.state_reason
    reasons = {slug_of(v): v.state_reason for v in blocked}
    assert "speaking" in reasons["equality"]  # a voice, where voices need consent
    assert "face" in reasons["fundacion-cruz-blanca"]


def test_faces_and_voices_are_published_only_with_consent_or_anonymised(demo: Demo) -> None:
    published = [v for v in versions(demo) if v.state is VersionState.PUBLISHED]
    assert published
    consented = masked = altered = 0
    for version in published:
        publication = demo.session.scalars(
            select(Publication).where(Publication.version_id == version.id)
        ).one()
        consents = demo.session.scalars(
            select(PublicationConsent).where(PublicationConsent.publication_id == publication.id)
        ).all()
        for asset in version.assets:
            found = asset.detections or {}
            if found.get("faces") and not found.get("faces_masked"):
                assert consents, f"version {version.id} shows a face without consent"
                consented += 1
            if found.get("speech_seconds") and not found.get("voice_altered"):
                assert consents, f"version {version.id} plays a voice without consent"
            masked += bool(found.get("faces_masked"))
            altered += bool(found.get("voice_altered"))
    assert consented
    assert masked
    assert altered


def test_payoke_never_shows_a_face_nor_an_unaltered_voice(demo: Demo) -> None:
    payoke = [v for v in versions(demo) if slug_of(v) == "payoke"]
    photos = [a for v in payoke for a in v.assets if a.media_type == "image/jpeg"]
    assert photos
    for asset in photos:
        assert asset.version.state is VersionState.PUBLISHED
        assert asset.detections
        assert asset.detections["faces_found"] >= 1
        assert asset.detections["faces_masked"] is True
        assert asset.report
        assert asset.report["anonymised"]["faces_masked"] >= 1
    podcasts = [a for v in payoke for a in v.assets if a.version.work.kind is WorkKind.PODCAST]
    assert podcasts
    for asset in podcasts:
        assert asset.detections
        assert asset.detections["voice_altered"] is True
        assert asset.version.state is VersionState.IN_REVIEW  # one approval of the two


def test_the_script_with_personal_data_was_sent_back_and_revised(demo: Demo) -> None:
    mist_scripts = [
        v for v in versions(demo) if slug_of(v) == "mist" and v.work.kind is WorkKind.SCRIPT
    ]
    assert [(v.number, v.state) for v in mist_scripts] == [
        (1, VersionState.CHANGES_REQUESTED),
        (2, VersionState.PUBLISHED),
    ]
    first, second = (v.assets[0].detections or {} for v in mist_scripts)
    assert first["personal_data"] == 2
    assert second["personal_data"] == 0


def test_public_files_are_the_published_files_and_carry_nothing_planted(demo: Demo) -> None:
    publications = demo.session.scalars(select(Publication)).all()
    expected = sorted(
        demo.storage_root / "public" / file.key
        for publication in publications
        for file in publication.files
    )
    clean_copies = {
        demo.storage_root
        / "public"
        / public_key(
            publication.public_prefix, asset.sha256 or "", MediaType(asset.sanitized_type or "")
        )
        for publication in publications
        for asset in publication.version.assets
    }
    public = files_in(demo.storage_root, "public")
    assert public == expected
    assert clean_copies <= set(public)
    for path in public:
        data = path.read_bytes()
        assert markers_in(path, [media.MARKER]) == [], path.name
        assert media.EMAIL.encode() not in data
        assert media.PHONE.encode() not in data


def test_metadata_tools_find_nothing_in_public_files(demo: Demo) -> None:
    public = files_in(demo.storage_root, "public")
    assert public
    for path in public:
        assert media.MARKER not in metadata_text(path), path.name
        tags = exiftool(path)
        assert not [key for key in tags if key.startswith(("GPS:", "XMP", "IPTC", "IFD"))]


def test_originals_are_kept_encrypted(demo: Demo) -> None:
    originals = demo.session.scalars(select(Asset.original_key)).all()
    assert originals
    for key in originals:
        assert key
        path = demo.storage_root / "private" / key
        assert path.read_bytes().startswith(MAGIC)
        assert markers_in(path, [media.MARKER]) == []
    for path in files_in(demo.storage_root, "private"):
        assert markers_in(path, [media.MARKER]) == [], path.name


def test_the_audit_log_is_intact(demo: Demo) -> None:
    verification = verify(demo.session)
    assert verification.intact, verification.problems
    assert verification.events > 100


def test_running_it_again_changes_nothing(demo: Demo) -> None:
    runner = demo.app.test_cli_runner()
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0
    assert "nothing loaded" in again.output
    refused = runner.invoke(args=["demo"])
    assert refused.exit_code != 0
    assert "empty" in refused.output
