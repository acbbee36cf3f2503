"""Jobs on real queues (SQLite, and Redis when it runs) consumed in this process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.config import Settings
from app.jobs import queue
from tests.jobs.conftest import wait_for
from tests.jobs.tasks import doomed, flaky, lines, record

SECRET = "caption-of-a-survivor"


def test_a_queued_job_waits_for_a_consumer_and_runs_once(
    queue_settings: Settings, start_consumer: Callable[[Settings], None], tmp_path: Path
) -> None:
    record(str(tmp_path), "first")
    assert queue.huey.pending_count() == 1
    assert lines(tmp_path / "attempts") == []

    start_consumer(queue_settings)
    wait_for(lambda: (tmp_path / "public" / "first").exists(), what="the job to run")
    assert lines(tmp_path / "attempts") == ["first"]
    assert lines(tmp_path / "effects") == ["first"]


def test_a_failing_job_is_retried_until_it_succeeds(
    queue_settings: Settings,
    start_consumer: Callable[[Settings], None],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    flaky(str(tmp_path), 2, SECRET)
    start_consumer(queue_settings)
    wait_for(lambda: lines(tmp_path / "done") == ["done"], what="the third attempt")
    assert len(lines(tmp_path / "attempts")) == 3
    assert "attempt 1 failed (ConnectionError)" in caplog.text
    assert "attempt 2 failed (ConnectionError)" in caplog.text
    assert SECRET not in caplog.text


def test_a_job_that_keeps_failing_gives_up_after_its_retries(
    sqlite_settings: Settings,
    start_consumer: Callable[[Settings], None],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    doomed(str(tmp_path), SECRET)
    start_consumer(sqlite_settings)
    wait_for(lambda: "no retries left" in caplog.text, what="the last attempt")
    assert len(lines(tmp_path / "attempts")) == 3  # the first attempt and two retries
    assert queue.huey.pending_count() == 0
    assert queue.huey.scheduled_count() == 0
    assert SECRET not in caplog.text
    assert "ValueError" in caplog.text


def test_periodic_jobs_run_in_the_consumer(
    sqlite_settings: Settings, start_consumer: Callable[[Settings], None]
) -> None:
    start_consumer(sqlite_settings)  # the scheduler checks periodic jobs when it starts
    beats = sqlite_settings.instance_path / "heartbeat"
    wait_for(lambda: lines(beats) != [], what="the periodic job")


def test_immediate_mode_runs_the_job_in_the_caller(settings: Settings, tmp_path: Path) -> None:
    queue.configure(settings, immediate=True)
    record(str(tmp_path), "now")
    assert lines(tmp_path / "effects") == ["now"]


def test_immediate_mode_raises_the_jobs_error_in_the_caller(
    settings: Settings, tmp_path: Path
) -> None:
    queue.configure(settings, immediate=True)
    with pytest.raises(ValueError, match="cannot handle"):
        doomed(str(tmp_path), SECRET)
    assert len(lines(tmp_path / "attempts")) == 1
    record(str(tmp_path), "after")  # a failure does not stick to the next job
    assert lines(tmp_path / "effects") == ["after"]


def test_call_local_runs_the_job_without_a_queue(tmp_path: Path) -> None:
    queue.reset()
    record.call_local(str(tmp_path), "local")
    assert lines(tmp_path / "effects") == ["local"]
    with pytest.raises(ValueError, match="cannot handle"):
        doomed.call_local(str(tmp_path), SECRET)


def test_the_consumer_takes_over_a_queue_left_in_immediate_mode(
    settings: Settings, start_consumer: Callable[[Settings], None], tmp_path: Path
) -> None:
    queue.configure(settings, immediate=True)
    start_consumer(settings)
    assert not queue.huey.immediate
    record(str(tmp_path), "queued")
    wait_for(lambda: lines(tmp_path / "effects") == ["queued"], what="the job to run")


def test_flasks_reloader_watcher_does_not_consume(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    before = threading.active_count()
    stop = queue.start_in_process_consumer(settings, reloader=True)
    assert threading.active_count() == before
    stop()


def test_stopping_the_consumer_ends_its_threads(settings: Settings) -> None:
    stop = queue.start_in_process_consumer(settings, workers=2)
    names = {thread.name for thread in threading.enumerate()}
    assert {"chorus-jobs", "Worker-1", "Worker-2", "Scheduler"} <= names
    stop()
    stop()  # twice is harmless
    wait_for(
        lambda: (
            not {"chorus-jobs", "Worker-1", "Worker-2", "Scheduler"}
            & {thread.name for thread in threading.enumerate()}
        ),
        what="the consumer's threads to end",
    )
