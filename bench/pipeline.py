"""The review pipeline end to end, as a creator meets it: the time from the start of
an upload to the version waiting for review, and the web process's memory while it
receives a 1 GB upload.

Serves Chorus with `chorus run` (Flask's server and the embedded job consumer, as
`make run` does) on a fresh instance (SQLite, local storage, SQLite queue), uploads over
HTTP as a demo creator, submits, and polls the database until the version is in review.
Inputs: a 12 MP photo with full metadata, a 30-minute podcast MP3 and a 3-minute 1080p30
MP4 with faces (the generators of images.py and audiovisual.py). The creator has
recorded face and voice consent first (and the five other people in the photo consented
on paper), so nothing is masked or altered: the common path.

    .venv/bin/python bench/pipeline.py [--skip-large]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import audiovisual  # noqa: E402
import images  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app.accounts.models import User  # noqa: E402
from app.consent.models import ConsentMethod, Modality  # noqa: E402
from app.consent.services import (  # noqa: E402
    add_person,
    notice_text,
    record_consent_for_person,
    record_own_consent,
)
from app.core.clock import utcnow  # noqa: E402
from app.core.config import load_settings  # noqa: E402
from app.core.db import make_engine, make_session_factory  # noqa: E402
from app.groups.models import Campaign, GroupMember  # noqa: E402
from app.policies.loader import load_policies  # noqa: E402
from app.works.models import Credit, Version, VersionState, WorkKind  # noqa: E402
from app.works.services import create_work, describe_work  # noqa: E402
from tests.media.dirty_images import dirty_jpeg  # noqa: E402

CHORUS = Path(sys.executable).with_name("chorus")
ORGANISATION = "mist"  # takes photos, podcasts and videos, uploads up to 1024 MB
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CHUNK = 1024 * 1024


class Browser:
    """A creator's browser: cookies and CSRF tokens over plain HTTP to 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3600)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=headers)  # type: ignore[arg-type]
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie(header)
            self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
        text = response.read().decode("utf-8", "replace")
        connection.close()
        return response.status, text

    def token(self, path: str) -> str:
        _, page = self.request("GET", path)
        match = CSRF.search(page)
        if not match:
            raise SystemExit(f"no form on {path}")
        return match.group(1)

    def post_form(self, path: str, form_page: str, fields: dict[str, str]) -> int:
        from urllib.parse import urlencode

        body = urlencode({"csrf_token": self.token(form_page), **fields})
        status, _ = self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        return status

    def upload(self, work_id: int, path: Path, size: int | None = None) -> int:
        """POST one file as multipart/form-data, streamed from disk (or ``size`` bytes
        of generated data)."""
        token = self.token(f"/works/{work_id}")
        boundary = secrets.token_hex(16)
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f'{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        length = size if size is not None else path.stat().st_size

        def body() -> Iterator[bytes]:
            yield head
            if size is None:
                with path.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        yield chunk
            else:
                block = os.urandom(CHUNK)
                for offset in range(0, size, CHUNK):
                    yield block[: min(CHUNK, size - offset)]
            yield tail

        status, _ = self.request(
            "POST",
            f"/works/{work_id}/files",
            body(),
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(head) + length + len(tail)),
            },
        )
        return status


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-large", action="store_true", help="no 1 GB upload")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="chorus-bench-pipeline-"))
    env = {
        **os.environ,
        "CHORUS_INSTANCE_PATH": str(folder / "instance"),
        "CHORUS_SECURE_COOKIES": "false",
        "CHORUS_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    subprocess.run([CHORUS, "db", "upgrade"], check=True, env=env, capture_output=True)
    subprocess.run([CHORUS, "demo", "--accounts-only"], check=True, env=env, capture_output=True)
    credentials = (folder / "instance" / "demo-credentials.txt").read_text().splitlines()
    login, password = next(
        (line.split()[2], line.split()[3])
        for line in credentials
        if line.startswith(ORGANISATION) and " creator " in line
    )

    print("generating inputs (12 MP photo, 30-minute podcast, 3-minute 1080p video)...")
    inputs = folder / "inputs"
    inputs.mkdir()
    photo = inputs / "photo.jpg"
    photo.write_bytes(dirty_jpeg(images.photo(), quality=92))
    cases = [
        ("12 MP photo", WorkKind.FANZINE, photo),
        ("30-min podcast MP3", WorkKind.PODCAST, audiovisual.podcast(inputs, 30)),
        ("3-min 1080p30 MP4", WorkKind.PERFORMANCE, audiovisual.video(inputs, 180)),
    ]

    settings = load_settings()
    policy = load_policies(settings.policies_dir).get(ORGANISATION)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)

    def new_work(kind: WorkKind) -> int:
        with sessions() as session:
            creator = session.scalars(select(User).where(User.login_name == login)).one()
            campaign = session.scalars(
                select(Campaign)
                .join(GroupMember, GroupMember.group_id == Campaign.group_id)
                .where(GroupMember.user_id == creator.id)
            ).first()
            assert campaign is not None
            work = create_work(
                session, actor=creator, campaign=campaign, policy=policy, kind=kind,
                title=f"Bench {kind.value}", credit=Credit(policy.credit.default),
                pseudonym="Bench",
            )  # fmt: skip
            describe_work(
                session, actor=creator, work=work, title=work.title, content_warnings=[],
                alt_text="A photograph.", transcript="Words spoken.",
            )  # fmt: skip
            record_own_consent(
                session, actor=creator, work=work, policy=policy,
                modalities=[Modality.FACE, Modality.VOICE], channels=["gallery"],
                expires_at=None, notice=notice_text(policy), language="en",
            )  # fmt: skip
            # The photo shows six people: five more consented on paper.
            organisation = campaign.group.organisation
            facilitator = session.scalars(
                select(User).where(User.login_name == f"{ORGANISATION}-facilitator")
            ).one()
            for n in range(5):
                person = add_person(
                    session,
                    actor=facilitator,
                    organisation=organisation,
                    label=f"Dancer {work.id}-{n}",
                )
                record_consent_for_person(
                    session, actor=facilitator, person=person, work=work, campaign=None,
                    policy=policy, modalities=[Modality.FACE], channels=["gallery"],
                    method=ConsentMethod.PAPER, given_at=utcnow(), expires_at=None,
                    witnessed_by=None, notice=notice_text(policy), language="en",
                )  # fmt: skip
            session.commit()
            return work.id

    def state_of(work_id: int) -> tuple[VersionState, int]:
        with sessions() as session:
            version = session.scalars(
                select(Version).where(Version.work_id == work_id).order_by(Version.number.desc())
            ).first()
            assert version is not None
            return version.state, version.id

    port = free_port()
    server = subprocess.Popen(
        [CHORUS, "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        browser = Browser(port)
        token = browser.token("/sign-in")
        browser.request(
            "POST", "/sign-in",
            f"csrf_token={token}&login_name={login}&password={password}",
            {"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        if not args.skip_large:
            work_id = new_work(WorkKind.PERFORMANCE)
            before = rss_mb(server.pid)
            started = time.perf_counter()
            status = browser.upload(work_id, folder / "generated.bin", size=10**9)
            seconds = time.perf_counter() - started
            print(
                f"1 GB upload: HTTP {status} in {seconds:.1f} s; web process resident "
                f"memory {before:.0f} MB before, peak {peak_rss_mb(server.pid):.0f} MB"
            )
        print(f"\n{'input':<22} {'size':>9} {'upload':>8} {'to in review':>13}  result")
        for label, kind, path in cases:
            work_id = new_work(kind)
            started = time.perf_counter()
            status = browser.upload(work_id, path)
            uploaded = time.perf_counter() - started
            _, version_id = state_of(work_id)
            browser.post_form(f"/versions/{version_id}/submit", f"/works/{work_id}", {})
            state = VersionState.SUBMITTED
            while state in {VersionState.SUBMITTED, VersionState.PROCESSING}:
                time.sleep(0.05)
                state, _ = state_of(work_id)
            total = time.perf_counter() - started
            size = f"{path.stat().st_size / 1e6:.0f} MB"
            print(
                f"{label:<22} {size:>9} {uploaded:>7.2f}s {total:>12.2f}s  {state.value} "
                f"(upload HTTP {status})"
            )

    finally:
        server.terminate()
        server.wait(timeout=30)
        engine.dispose()
    print(f"\nload average {os.getloadavg()[0]:.2f}; work folder {folder}")


if __name__ == "__main__":
    main()
