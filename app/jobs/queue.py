"""The job queue: one Huey instance for the whole process, pointed by ``configure()``
at the queue the settings name (SQLite in the instance folder, or Redis).

Feature modules declare jobs at import time::

    from app.jobs.queue import crontab, periodic_task, task

    @task()
    def process_version(version_id: int) -> None: ...

    @periodic_task(crontab(minute="*"))
    def sweep() -> None: ...

Calling ``process_version(7)`` queues it. A job must be idempotent: Huey may run it
again after a failure, and work cut short by a dead worker is queued again by the
domain's sweeper. Logs name a job by task name, task id and attempt, never by its
arguments or its error's message.
"""

from __future__ import annotations

import datetime
import functools
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from huey import Huey, crontab
from huey.exceptions import RetryTask
from huey.storage import MemoryStorage
from werkzeug.serving import is_running_from_reloader

from app.core.config import Settings
from app.jobs.backends import close_storage, describe_storage, make_storage
from app.jobs.consumer import run_consumer, start_consumer_thread
from app.jobs.retry import RetryPolicy

__all__ = [
    "JobFailed",
    "configure",
    "crontab",
    "current_settings",
    "huey",
    "periodic_task",
    "reset",
    "run_worker",
    "start_in_process_consumer",
    "task",
]

QUEUE_NAME = "chorus"
log = logging.getLogger("chorus.jobs")
Schedule = Callable[[datetime.datetime], bool]
Decorator = Callable[[Callable[..., Any]], Any]


class JobFailed(Exception):
    """A job's last attempt failed. Its message names only the job; the log holds the
    original error's type and stack frames."""


class _ChorusHuey(Huey):  # type: ignore[misc]
    """Huey whose immediate mode hands a job's failure to the code that queued it, as
    a synchronous call would (plain Huey only logs it)."""

    def enqueue(self, task: Any) -> Any:
        if not self.immediate:
            return super().enqueue(task)
        _immediate.failure = None
        result = super().enqueue(task)
        failure, _immediate.failure = _immediate.failure, None
        if failure is not None:
            raise failure
        return result


@dataclass(slots=True)
class _State:
    settings: Settings | None = None


_state = _State()
_immediate = threading.local()

# Until configure() runs, jobs queue in memory, where nothing consumes them.
huey: Huey = _ChorusHuey(
    QUEUE_NAME, results=False, storage_class=MemoryStorage, immediate_use_memory=False
)


def configure(settings: Settings, *, immediate: bool = False, name: str = QUEUE_NAME) -> Huey:
    """Point the queue at ``settings``: Redis at ``redis_url`` when set, else the SQLite
    file ``queue_path``. With ``immediate`` jobs run at once in the code that queues
    them, from an in-memory queue (for tests): one attempt, whose error is raised
    there. ``name`` separates queues sharing one Redis database. Safe to call again;
    the previous queue's connections are closed."""
    storage = MemoryStorage(name) if immediate else make_storage(settings, name)
    previous, huey.storage = huey.storage, storage
    huey.name = name
    huey.immediate = immediate
    _state.settings = settings
    close_storage(previous)
    return huey


def reset() -> None:
    """Forget the configuration: back to the unconsumed in-memory queue (for tests)."""
    previous, huey.storage = huey.storage, MemoryStorage(QUEUE_NAME)
    huey.name = QUEUE_NAME
    huey.immediate = False
    _state.settings = None
    close_storage(previous)


def current_settings() -> Settings:
    """The settings of the last ``configure()``, for jobs to build what they need.
    Raises ``RuntimeError`` when the queue was never configured."""
    if _state.settings is None:
        raise RuntimeError(
            "the job queue is not configured: call app.jobs.queue.configure(settings) "
            "(create_app does) before running jobs"
        )
    return _state.settings


def task(*, retries: int = 5, backoff: float = 2.0, base_delay: float = 5.0) -> Decorator:
    """Declare a job. A failing attempt is retried up to ``retries`` times, the n-th
    retry (from 0) after ``base_delay * backoff ** n`` seconds, capped at 15 minutes.
    The decorated function queues the job when called; ``.call_local()`` runs it here.
    Raises ``ValueError`` for a negative count or delay, or a backoff below 1."""
    policy = RetryPolicy(retries=retries, backoff=backoff, base_delay=base_delay)

    def decorate(func: Callable[..., Any]) -> Any:
        return huey.task(retries=policy.retries, context=True)(_guarded(func, policy))

    return decorate


def periodic_task(schedule: Schedule) -> Decorator:
    """Declare a job the consumer queues whenever ``schedule(now)`` holds, checked
    once a minute (``crontab(...)`` builds one). Not retried: it runs again anyway."""

    def decorate(func: Callable[..., Any]) -> Any:
        guarded = _guarded(func, RetryPolicy(retries=0))
        return huey.periodic_task(schedule, context=True)(guarded)

    return decorate


def _guarded(func: Callable[..., Any], policy: RetryPolicy) -> Callable[..., Any]:
    @functools.wraps(func)
    def run(*args: Any, task: Any = None, **kwargs: Any) -> Any:
        if task is None:  # call_local(): a plain call
            return func(*args, **kwargs)
        attempt = policy.retries - task.retries + 1
        try:
            return func(*args, **kwargs)
        except Exception as error:
            _failed(task, policy, attempt, error)

    return run


def _failed(task: Any, policy: RetryPolicy, attempt: int, error: Exception) -> NoReturn:
    """Log a failed attempt without the error's message (it may quote the job's data),
    then have Huey retry the job after the backoff delay, or give up."""
    job = f"{type(task).__module__}.{task.name}"
    kind = type(error).__name__
    frames = "".join(traceback.format_tb(error.__traceback__))
    if huey.immediate:
        _immediate.failure = error
        task.retries = 0
        log.warning("job %s %s failed (%s) in immediate mode\n%s", job, task.id, kind, frames)
    elif task.retries > 0:
        delay = policy.delay(attempt - 1)
        log.warning(
            "job %s %s: attempt %d failed (%s), retrying in %.2f s\n%s",
            *(job, task.id, attempt, kind, delay, frames),
        )
        # Huey gives back the retry a RetryTask costs, then spends one requeueing it.
        task.retries -= 1
        raise RetryTask(delay=delay) from None
    else:
        log.error(
            "job %s %s: attempt %d failed (%s), no retries left\n%s",
            *(job, task.id, attempt, kind, frames),
        )
    raise JobFailed(f"job {job} {task.id} failed on attempt {attempt}") from None


def _configured_for(settings: Settings) -> Huey:
    if _state.settings != settings or huey.immediate:
        configure(settings)
    return huey


def start_in_process_consumer(
    settings: Settings, *, workers: int = 1, reloader: bool = False
) -> Callable[[], None]:
    """Consume the queue ``settings`` name in daemon threads of this process (periodic
    tasks included) and return a function that stops them. With ``reloader`` (Flask's
    reloader is on) only the serving child consumes, not the watching parent. Jobs
    must have been imported (``app.jobs.discovery.import_job_modules``)."""
    if reloader and not is_running_from_reloader():
        return lambda: None
    queue = _configured_for(settings)
    log.info("consuming jobs in this process: %s", describe_storage(settings))
    return start_consumer_thread(queue, workers=workers)


def run_worker(settings: Settings, *, workers: int = 1) -> None:
    """Consume the queue ``settings`` name in the foreground until SIGINT or SIGTERM."""
    run_consumer(_configured_for(settings), workers=workers)
