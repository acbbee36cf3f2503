"""A worker killed halfway through a job: nothing public, and the job runs again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from app.core.config import PROJECT_ROOT, Settings
from app.jobs import queue
from tests.jobs.conftest import wait_for
from tests.jobs.tasks import lines, publish_when_released


def _spawn_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, CHORUS_INSTANCE_PATH=str(settings.instance_path))
    env.pop("CHORUS_REDIS_URL", None)
    with log.open("wb") as output:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.jobs.worker_process"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def test_a_job_killed_halfway_leaves_nothing_public_and_runs_again(
    sqlite_settings: Settings, start_consumer: Callable[[Settings], None], tmp_path: Path
) -> None:
    folder = tmp_path / "effects"
    folder.mkdir()
    worker_log = tmp_path / "worker.log"
    publish_when_released(str(folder), "work-7")

    worker = _spawn_worker(sqlite_settings, worker_log)
    try:
        wait_for(
            lambda: lines(folder / "started") != [] or worker.poll() is not None,
            what="the worker process to start the job",
            timeout=120,
        )
        assert worker.poll() is None, worker_log.read_text(errors="replace")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    assert lines(folder / "started") == [str(worker.pid)]
    assert not (folder / "public" / "work-7").exists()  # nothing public
    assert (folder / "private" / "work-7.partial").exists()  # the half-done part is private
    # Huey will not hand the job out again, so it is queued again (the sweeper's part),
    # and once more: a duplicate must do no harm.
    queued = queue.huey.pending() + queue.huey.scheduled()
    assert [job for job in queued if job.name == "publish_when_released"] == []
    (folder / "release").touch()
    publish_when_released(str(folder), "work-7")
    publish_when_released(str(folder), "work-7")
    start_consumer(sqlite_settings)
    wait_for(lambda: len(lines(folder / "finished")) == 2, what="both runs to finish")

    assert len(lines(folder / "started")) == 3
    assert lines(folder / "effects") == ["work-7"]  # published exactly once
    assert (folder / "public" / "work-7").read_text() == "published work-7"
    assert not (folder / "private" / "work-7.partial").exists()
