"""The public gallery under load: the home page and a work page (and, beside them, the
browse page, first and deep) served by gunicorn with 2 workers to 32 concurrent
connections (wrk), next to a bare Flask hello-world (bench/hello.py) under the same
server settings in the same run, with 1,000 and with 100,000 published works.

Each size gets a fresh instance (SQLite in a temporary folder, or a schema of its own
in the PostgreSQL database given with --database-url) with the demo organisations and
accounts (``chorus demo --accounts-only``), then published works seeded DIRECTLY with
bulk inserts: publishing 100,000 works through the real pipeline (cleaning, face scan,
review, renditions) would take days. The rows mirror what ``publish()`` leaves for a
one-picture fanzine: Work, WorkContributor, Version (published), Asset (clean JPEG),
Publication (channel gallery, dates spread over three years) and its PublicationFile
rows (the file and WebP/JPEG renditions 320/640/1024 px wide). Every publication's
public prefix is a symbolic link to one real set of files, made once with the
publishing code's own ``make_derivatives``, so every ``/media/<id>`` answers with
real bytes. Left out, because no gallery page reads them: reviews, consent records
(a fanzine without faces depends on none) and audit events.

Targets (issue 5): each page >= 0.5x the hello-world's requests per second and
p99 <= 50 ms with 1,000 works; page time (median latency under load) with 100,000
works <= 1.5x the 1,000-work figure; home page <= 100 kB without media (HTML plus the
CSS and JavaScript it references; kB = 1,000 bytes).

    .venv/bin/python bench/gallery.py [--runs 3] [--duration 15] [--works 1000 100000]
        [--quick] [--explain] [--database-url postgresql://...] [--keep]

Needs wrk (``apt-get install wrk``) and gunicorn (a dependency of Chorus).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402
from sqlalchemy import event, func, insert, make_url, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.accounts.models import User  # noqa: E402
from app.core.clock import utcnow  # noqa: E402
from app.core.config import Settings, load_settings  # noqa: E402
from app.core.db import make_engine  # noqa: E402
from app.gallery import queries  # noqa: E402
from app.groups.models import Campaign, Group  # noqa: E402
from app.media.derivatives import make_derivatives  # noqa: E402
from app.media.types import MediaType  # noqa: E402
from app.orgs.models import Organisation  # noqa: E402
from app.policies.loader import load_policies  # noqa: E402
from app.review.models import FileRole, Publication, PublicationFile  # noqa: E402
from app.storage import storage_from_settings  # noqa: E402
from app.storage.base import Area, validate_key  # noqa: E402
from app.works.models import (  # noqa: E402
    Asset,
    Credit,
    Version,
    VersionState,
    Work,
    WorkContributor,
    WorkKind,
)

BIN = Path(sys.executable).parent
CHORUS = BIN / "chorus"
GUNICORN = BIN / "gunicorn"
BATCH = 5000  # rows per executemany
ORIGINAL_SIZE = (1024, 768)  # renditions at 320, 640 and 1024 px, as publish() makes them
SPAN = timedelta(days=3 * 365)  # publication dates spread over the last three years
HOME_TARGET_BYTES = 100_000
WORDS = (
    "river", "night", "voices", "window", "salt", "bread", "hands", "road", "home", "winter",
    "letters", "garden", "morning", "thread", "silence", "doors", "harbour", "lanterns",
    "stones", "names", "kitchen", "bridge",
)  # fmt: skip
PSEUDONYMS = ("Ama", "Noor", "Lina", "Sol", "Ioana", "Mira", "Tess", "Dalia", "Rosa", "Eve")


# --- The published files, made once -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicFile:
    role: FileRole
    media_type: str
    extension: str
    width: int | None
    height: int | None
    data: bytes
    sha256: str


def public_files(folder: Path) -> list[PublicFile]:
    """A clean 1024x768 JPEG and its renditions, in the order publish() records them:
    the file, then WebP before JPEG at each width, largest first."""
    rng = random.Random(9)
    image = Image.new("RGB", ORIGINAL_SIZE, (236, 226, 210))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(ORIGINAL_SIZE[0]), rng.randrange(ORIGINAL_SIZE[1])
        r = rng.randrange(20, 160)
        colour = tuple(rng.randrange(40, 220) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)  # type: ignore[arg-type]
    source = folder / "original.jpg"
    image.save(source, format="JPEG", quality=85)
    made = [(source, MediaType.JPEG, FileRole.FILE, None, None)] + [
        (d.path, d.media_type, FileRole(d.role), d.width, d.height)
        for d in make_derivatives(source, MediaType.JPEG, folder / "renditions")
    ]
    files = []
    for path, media_type, role, width, height in made:
        data = path.read_bytes()
        files.append(
            PublicFile(
                role,
                media_type.value,
                media_type.extension,
                width,
                height,
                data,
                hashlib.sha256(data).hexdigest(),
            )  # fmt: skip
        )
    return files


# --- Seeding -------------------------------------------------------------------------


@dataclass(slots=True)
class Seeded:
    works: int
    seconds: float
    middle_work_id: int
    deep_cursor: str  # a browse cursor halfway down the list
    rows: dict[str, int] = field(default_factory=dict)


def _next_id(connection: Any, table: Any) -> int:
    return int(connection.scalar(select(func.coalesce(func.max(table.c.id), 0)))) + 1


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def seed(settings: Settings, count: int, files: list[PublicFile]) -> Seeded:
    """Insert ``count`` published one-picture fanzines, spread over the demo
    organisations, as publish() would have left them; write the public files once
    and link every publication's prefix to them."""
    started = time.perf_counter()
    rng = random.Random(count)
    policies = load_policies(settings.policies_dir)
    storage = storage_from_settings(settings)
    engine = make_engine(settings.database_url)
    tables = {
        "works": Work.__table__,
        "work_contributors": WorkContributor.__table__,
        "versions": Version.__table__,
        "assets": Asset.__table__,
        "publications": Publication.__table__,
        "publication_files": PublicationFile.__table__,
    }
    rows = dict.fromkeys(tables, 0)
    now = utcnow()
    start = now - SPAN
    step = SPAN / count
    clean = next(f for f in files if f.role is FileRole.FILE)
    prefixes: list[str] = []
    middle = count // 2
    with engine.begin() as connection:
        organisations = []
        for organisation_id, slug in connection.execute(
            select(Organisation.id, Organisation.slug).order_by(Organisation.id)
        ):
            campaign_id = connection.scalar(
                select(Campaign.id)
                .join(Group, Group.id == Campaign.group_id)
                .where(Group.organisation_id == organisation_id)
                .order_by(Campaign.id)
                .limit(1)
            )
            creator_id = connection.scalar(
                select(User.id).where(User.login_name == f"{slug}-creator")
            )
            policy = policies.get(slug)
            if campaign_id is None or creator_id is None or "fanzine" not in policy.works.kinds:
                continue
            organisations.append((policy, campaign_id, creator_id))
        if not organisations:
            raise SystemExit("no demo organisation with a campaign and a creator")
        ids = {name: _next_id(connection, t) for name, t in tables.items() if "id" in t.c}
        file_id = ids["publication_files"]
        deep = None
        for batch_start in range(0, count, BATCH):
            batch: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
            for n in range(batch_start, min(count, batch_start + BATCH)):
                policy, campaign_id, creator_id = organisations[n % len(organisations)]
                work_id, version_id = ids["works"] + n, ids["versions"] + n
                asset_id, publication_id = ids["assets"] + n, ids["publications"] + n
                published_at = start + step * n + step * rng.random() * 0.9
                created_at = published_at - timedelta(days=rng.uniform(3, 60))
                credit = Credit(rng.choice(policy.credit.modes))
                languages = policy.organisation.languages
                title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5)))
                batch["works"].append(
                    {
                        "id": work_id, "campaign_id": campaign_id, "kind": WorkKind.FANZINE,
                        "title": f"{title.capitalize()} ({n + 1})", "credit": credit,
                        "language": languages[n % len(languages)],
                        "content_warnings": list(policy.content_warnings.default),
                        "alt_text": f"A collage of {title}, drawn and cut out by hand.",
                        "transcript": "", "captions": "", "created_by_id": creator_id,
                        "created_at": created_at, "paused_at": None,
                    }
                )  # fmt: skip
                batch["work_contributors"].append(
                    {
                        "work_id": work_id, "user_id": creator_id,
                        "pseudonym": rng.choice(PSEUDONYMS) if credit is Credit.PSEUDONYM else "",
                    }
                )  # fmt: skip
                batch["versions"].append(
                    {
                        "id": version_id, "work_id": work_id, "number": 1,
                        "state": VersionState.PUBLISHED, "state_reason": "",
                        "created_by_id": creator_id, "created_at": created_at,
                        "state_changed_at": published_at, "mask_faces": False,
                        "alter_voice": False, "lease_until": None,
                    }
                )  # fmt: skip
                batch["assets"].append(
                    {
                        "id": asset_id, "version_id": version_id, "position": 0,
                        "original_key": validate_key(f"originals/{_hex(rng)}"),
                        "sanitized_key": validate_key(f"sanitized/{_hex(rng)}.jpg"),
                        "media_type": "image/jpeg", "original_size": len(clean.data) * 3,
                        "sanitized_type": "image/jpeg", "sha256": clean.sha256,
                        "size": len(clean.data), "report": None,
                        "detections": {
                            "faces": 0, "faces_found": 0, "faces_masked": False,
                            "speech_seconds": 0.0, "voice_altered": False, "personal_data": 0,
                        },
                        "original_deleted_at": None, "created_at": created_at,
                    }
                )  # fmt: skip
                prefix = f"public/{_hex(rng)}"
                prefixes.append(prefix)
                batch["publications"].append(
                    {
                        "id": publication_id, "work_id": work_id, "version_id": version_id,
                        "channel": queries.CHANNEL, "public_prefix": prefix,
                        "published_by_id": None, "published_at": published_at,
                        "withdrawn_at": None, "withdrawal_reason": "",
                    }
                )  # fmt: skip
                if n == middle:
                    deep = queries.Cursor(published_at, publication_id).encode()
                for public in files:
                    batch["publication_files"].append(
                        {
                            "id": file_id, "publication_id": publication_id,
                            "asset_id": asset_id, "position": 0, "page": 0,
                            "role": public.role, "media_type": public.media_type,
                            "width": public.width, "height": public.height,
                            "key": validate_key(
                                f"{prefix}/{public.sha256[:32]}{public.extension}"
                            ),
                            "size": len(public.data), "sha256": public.sha256,
                        }
                    )  # fmt: skip
                    file_id += 1
            for name, table in tables.items():
                connection.execute(insert(table), batch[name])
                rows[name] += len(batch[name])
        if engine.dialect.name == "postgresql":
            for name, table in tables.items():
                if "id" in table.c:
                    # Ids were given explicitly: move each sequence past them.
                    sequence = f"pg_get_serial_sequence('{name}', 'id')"
                    latest = f"(SELECT max(id) FROM {name})"  # noqa: S608 - our own tables
                    connection.execute(text(f"SELECT setval({sequence}, {latest})"))
    if engine.dialect.name == "postgresql":
        # Autovacuum would have gathered statistics on a server that grew to this size;
        # right after a bulk insert it has none, and the planner guesses badly. (SQLite
        # gets no statistics from Chorus, so none are made for it here either.)
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()

    # One real set of files under the first prefix; every other prefix links to it.
    first = prefixes[0]
    for public in files:
        key = f"{first}/{public.sha256[:32]}{public.extension}"
        storage.save(Area.PUBLIC, key, io.BytesIO(public.data))
    real = storage.local_path(Area.PUBLIC, key)
    assert real is not None
    folder = real.parent.parent
    target = real.parent.name
    for prefix in prefixes[1:]:
        os.symlink(target, folder / prefix.rpartition("/")[2])
    assert deep is not None
    return Seeded(count, time.perf_counter() - started, ids["works"] + middle, deep, rows)


# --- Query plans ------------------------------------------------------------------------


def explain(settings: Settings, seeded: Seeded) -> None:
    """Print the plan of every query the home, work and browse pages run."""
    engine = make_engine(settings.database_url)
    captured: list[tuple[str, str, Any]] = []
    label = [""]

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((label[0], statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    with Session(engine) as session:
        label[0] = "home"
        queries.current_exhibitions(session)
        queries.latest(session, limit=12)
        label[0] = "work"
        queries.work_view(session, seeded.middle_work_id)
        label[0] = "browse (deep)"
        queries.latest(session, after=queries.Cursor.decode(seeded.deep_cursor), limit=24)
        label[0] = "browse"
        queries.choices(session)
    event.remove(engine, "before_cursor_execute", capture)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        for page, statement, parameters in captured:
            print(f"\n[{page}] {' '.join(statement.split())[:300]}")
            started = time.perf_counter()
            connection.exec_driver_sql(statement, parameters).fetchall()
            took = (time.perf_counter() - started) * 1000
            for row in connection.exec_driver_sql(prefix + statement, parameters):
                print("    " + " | ".join(str(v) for v in row))
            print(f"    ({took:.1f} ms)")
    engine.dispose()


# --- Serving and measuring ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@contextmanager
def gunicorn(app: str, folder: Path, env: dict[str, str], workers: int, log: Path) -> Iterator[int]:
    """gunicorn serving ``app`` from ``folder``; yields its port once it answers."""
    port = free_port()
    with log.open("ab") as output:
        server = subprocess.Popen(
            [GUNICORN, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--chdir", str(folder),
             "--error-logfile", "-", app],
            env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn {app} stopped; see {log}")
            try:
                if get(port, "/")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn {app} did not answer; see {log}")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass(frozen=True, slots=True)
class Load:
    rps: float
    p50: float  # ms
    p99: float  # ms
    requests: int
    errors: int  # non-2xx/3xx answers and socket errors


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(port: int, path: str, *, seconds: int, connections: int, threads: int) -> Load:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "--latency", f"http://127.0.0.1:{port}{path}"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    latency = {
        int(m[1]): float(m[2]) * _UNITS[m[3]]
        for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    }
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rps is None or total is None or set(latency) != {50, 99}:
        raise SystemExit(f"could not read wrk's output:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(bad[1]) if bad else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return Load(float(rps[1]), latency[50], latency[99], int(total[1]), errors)


def alone_ms(port: int, path: str, count: int) -> float:
    """The median time of one request with nothing else running (a new connection
    each, as wrk makes against gunicorn's sync workers)."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        status, _ = get(port, path)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
    return statistics.median(times)


def page_weight(port: int) -> tuple[int, int, int]:
    """Bytes of the home page's HTML, and of the stylesheets and scripts it references
    (images, the favicon included, are media and left out)."""
    status, html = get(port, "/")
    if status != 200:
        raise SystemExit(f"/ answered {status}")
    page = html.decode()
    css = re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', page)
    js = re.findall(r'<script[^>]*src="([^"]+)"', page)
    sizes = []
    for urls in (css, js):
        total = 0
        for url in urls:
            status, body = get(port, url)
            if status != 200:
                raise SystemExit(f"{url} answered {status}")
            total += len(body)
        sizes.append(total)
    return len(html), sizes[0], sizes[1]


@dataclass(slots=True)
class Row:
    page: str
    works: int | None
    loads: list[Load] = field(default_factory=list)
    alone: float = float("nan")

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(load, attribute) for load in self.loads)


# --- The instance ------------------------------------------------------------------------


def instance_env(folder: Path, database_url: str | None, count: int) -> dict[str, str]:
    """CHORUS_* settings for a fresh instance (none inherited from this shell)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    env.update(
        CHORUS_INSTANCE_PATH=str(folder / f"instance-{count}"),
        CHORUS_SECURE_COOKIES="false",
        CHORUS_LOG_LEVEL="WARNING",
        CHORUS_JOBS_IN_PROCESS="false",
        CHORUS_STORAGE="local",
    )
    if database_url:
        schema = f"chorus_bench_{count}"
        url = make_url(database_url).set(drivername="postgresql+psycopg")
        engine = make_engine(url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
        env["CHORUS_DATABASE_URL"] = url.render_as_string(hide_password=False)
    return env


def drop_schema(database_url: str, count: int) -> None:
    url = make_url(database_url).set(drivername="postgresql+psycopg")
    engine = make_engine(url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS chorus_bench_{count} CASCADE"))
    engine.dispose()


def prepare(env: dict[str, str]) -> Settings:
    for command in ([CHORUS, "db", "upgrade"], [CHORUS, "demo", "--accounts-only"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{' '.join(map(str, command))} failed:\n{done.stderr}")
    return load_settings(env)


def database_kind(engine_url: str) -> str:
    return "PostgreSQL" if engine_url.startswith("postgresql") else "SQLite"


# --- Main ------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def measure(
    args: argparse.Namespace, folder: Path, files: list[PublicFile]
) -> tuple[list[Row], dict[int, Row], dict[int, tuple[int, int, int]], str]:
    """Build, seed and serve each size; measure its pages beside the hello-world."""
    warm = 1 if args.quick else 3
    alone_count = 30 if args.quick else 100
    load = {"seconds": args.duration, "connections": args.connections, "threads": args.threads}
    rows: list[Row] = []
    hello: dict[int, Row] = {}
    weights: dict[int, tuple[int, int, int]] = {}
    database = "SQLite"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    log = folder / "gunicorn.log"
    with gunicorn("hello:app", ROOT / "bench", base_env, args.workers, log) as hello_port:
        for count in sorted(args.works):
            env = instance_env(folder, args.database_url, count)
            settings = prepare(env)
            database = database_kind(settings.database_url)
            seeded = seed(settings, count, files)
            print(
                f"{count:,} works seeded in {seeded.seconds:.1f} s ({database}, bulk inserts "
                f"bypassing the pipeline: "
                + ", ".join(f"{n:,} {name}" for name, n in seeded.rows.items())
                + ")"
            )
            if args.explain:
                explain(settings, seeded)
            pages = {
                "home /": "/",
                "work (middle)": f"/gallery/works/{seeded.middle_work_id}",
                "browse": "/browse",
                "browse, deep page": f"/browse?after={seeded.deep_cursor}",
            }
            with gunicorn("wsgi:app", ROOT, env, args.workers, log) as port:
                for path in pages.values():
                    status, _ = get(port, path)
                    if status != 200:
                        raise SystemExit(f"{path} answered {status}; see {log}")
                    wrk(port, path, **{**load, "seconds": warm})
                wrk(hello_port, "/", **{**load, "seconds": warm})
                weights[count] = page_weight(port)
                block = [Row(page, count) for page in pages]
                hello[count] = Row("hello-world", None)
                hello[count].alone = alone_ms(hello_port, "/", alone_count)
                for row, path in zip(block, pages.values(), strict=True):
                    row.alone = alone_ms(port, path, alone_count)
                for _ in range(args.runs):  # interleaved, so noise falls on all alike
                    hello[count].loads.append(wrk(hello_port, "/", **load))
                    for row, path in zip(block, pages.values(), strict=True):
                        row.loads.append(wrk(port, path, **load))
                rows += block
    return rows, hello, weights, database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--runs", type=int, default=3, help="measurements per page (median)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--quick", action="store_true", help="1 run of 5 s: a smoke test")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--database-url", help="PostgreSQL (a schema per size, dropped after)")
    parser.add_argument("--keep", action="store_true", help="keep the instances and schemas")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.duration = 1, 5
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    if args.database_url and not args.database_url.startswith("postgresql"):
        raise SystemExit("--database-url must be a postgresql:// URL (SQLite is the default)")
    sizes = sorted(args.works)

    folder = Path(tempfile.mkdtemp(prefix="chorus-bench-gallery-"))
    before = os.getloadavg()
    print(
        f"load average before: {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}; "
        f"{os.cpu_count()} CPUs shared by wrk and the servers; "
        f"gunicorn -w {args.workers} (sync); wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s, {args.runs} run(s) per page, medians"
    )
    files = public_files(Path(tempfile.mkdtemp(dir=folder)))
    print(f"public files of each work: {len(files)} ({sum(len(f.data) for f in files)} bytes)")

    try:
        rows, hello, weights, database = measure(args, folder, files)
    except BaseException:
        print(f"\nstopped; work folder kept for inspection: {folder}", file=sys.stderr)
        raise
    finally:
        if args.database_url and not args.keep:
            for count in sizes:
                drop_schema(args.database_url, count)
    after = os.getloadavg()

    print(
        f"\n{'page':<20} {'works':>8} {'req/s':>8} {'x hello':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'alone ms':>9} {'errors':>7}"
    )
    for count in sizes:
        h = hello[count]
        print(
            f"{'hello-world':<20} {'':>8} {h.median('rps'):>8.0f} {'':>8} "
            f"{h.median('p50'):>8.1f} {h.median('p99'):>8.1f} {h.alone:>9.1f} "
            f"{sum(x.errors for x in h.loads):>7}"
        )
        for row in (r for r in rows if r.works == count):
            print(
                f"{row.page:<20} {count:>8,} {row.median('rps'):>8.0f} "
                f"{row.median('rps') / h.median('rps'):>7.2f}x {row.median('p50'):>8.1f} "
                f"{row.median('p99'):>8.1f} {row.alone:>9.1f} "
                f"{sum(x.errors for x in row.loads):>7}"
            )

    print("\ntargets")
    small, large = sizes[0], sizes[-1]
    for name in ("home /", "work (middle)", "browse", "browse, deep page"):
        extra = "" if name in ("home /", "work (middle)") else " (not a target of the issue)"
        row = next(r for r in rows if r.page == name and r.works == small)
        ratio = row.median("rps") / hello[small].median("rps")
        print(
            f"  {name}, {small:,} works: {ratio:.2f}x hello-world (>= 0.5x) "
            f"{verdict(ratio >= 0.5)}; p99 {row.median('p99'):.1f} ms (<= 50 ms) "
            f"{verdict(row.median('p99') <= 50)}{extra}"
        )
        if large != small:
            big = next(r for r in rows if r.page == name and r.works == large)
            time_ratio = big.median("p50") / row.median("p50")
            print(
                f"  {name}, page time {large:,}/{small:,} works: {time_ratio:.2f}x "
                f"(median latency under load; <= 1.5x) {verdict(time_ratio <= 1.5)}; "
                f"alone {big.alone / row.alone:.2f}x, p99 "
                f"{big.median('p99') / row.median('p99'):.2f}x{extra}"
            )
    for count, (html, css, js) in weights.items():
        total = html + css + js
        print(
            f"  home page weight, {count:,} works: {total / 1000:.1f} kB = HTML {html:,} "
            f"+ CSS {css:,} + JS {js:,} bytes, no media (<= 100 kB) "
            f"{verdict(total <= HOME_TARGET_BYTES)}"
        )
    print(
        f"\nload average before {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}, "
        f"after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f} (1, 5, 15 min); {database}"
    )
    if args.keep:
        print(f"instances kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
