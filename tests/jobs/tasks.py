"""Jobs for the tests. Each leaves its effects as lines and files in the folder it is
given, so a test can see what ran, how often, and what became public."""

from __future__ import annotations

import os
import time
from pathlib import Path

from app.jobs.queue import crontab, current_settings, periodic_task, task

RELEASE_WAIT_SECONDS = 120.0


def lines(path: Path) -> list[str]:
    """The lines appended to ``path`` so far (none if it does not exist)."""
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def _publish(folder: Path, key: str) -> None:
    """Make ``key`` public once: prepared privately, then moved into place in one step.
    A second call finds it public and does nothing (the job is idempotent)."""
    public = folder / "public" / key
    if public.exists():
        return
    partial = folder / "private" / f"{key}.partial"
    partial.parent.mkdir(exist_ok=True)
    public.parent.mkdir(exist_ok=True)
    partial.write_text(f"published {key}", encoding="utf-8")
    os.replace(partial, public)
    _append(folder / "effects", key)


@task(retries=3, base_delay=0.01)
def record(folder: str, key: str) -> None:
    """Publish ``key``."""
    _append(Path(folder) / "attempts", key)
    _publish(Path(folder), key)


@task(retries=3, base_delay=0.01)
def flaky(folder: str, failures: int, secret: str) -> None:
    """Fail ``failures`` times (quoting ``secret`` in the error), then succeed."""
    attempts = Path(folder) / "attempts"
    _append(attempts, "attempt")
    if len(lines(attempts)) <= failures:
        raise ConnectionError(f"could not reach the store for {secret}")
    _append(Path(folder) / "done", "done")


@task(retries=2, base_delay=0.01)
def doomed(folder: str, secret: str) -> None:
    """Always fail, quoting ``secret`` in the error."""
    _append(Path(folder) / "attempts", "attempt")
    raise ValueError(f"cannot handle {secret}")


@task(retries=0)
def publish_when_released(folder: str, key: str) -> None:
    """Unless ``key`` is public already, start the work privately, wait until the test
    creates ``release``, then publish it."""
    base = Path(folder)
    _append(base / "started", str(os.getpid()))
    if not (base / "public" / key).exists():
        (base / "private").mkdir(exist_ok=True)
        (base / "private" / f"{key}.partial").write_text("half done", encoding="utf-8")
        _append(base / "waiting", str(os.getpid()))
        deadline = time.monotonic() + RELEASE_WAIT_SECONDS
        while not (base / "release").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the test never released this job")
            time.sleep(0.05)
        _publish(base, key)
    _append(base / "finished", str(os.getpid()))


@periodic_task(crontab())
def heartbeat() -> None:
    """Every minute (and when a consumer starts): note it in the instance folder."""
    _append(current_settings().instance_path / "heartbeat", "beat")
