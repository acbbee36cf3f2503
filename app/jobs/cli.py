"""``chorus worker`` for the distributed mode, and a ``chorus run`` that also consumes
jobs when they run in the web process (the embedded default)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import ScriptInfo, run_command, with_appcontext
from flask.helpers import get_debug_flag

from app.core.config import Settings
from app.jobs.backends import describe_storage
from app.jobs.discovery import import_job_modules
from app.jobs.queue import run_worker, start_in_process_consumer

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@click.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Jobs run at the same time (threads).",
)
@with_appcontext
def worker(workers: int) -> None:
    """Run background jobs in the foreground until Ctrl-C (finishes running jobs)
    or SIGTERM (stops at once). Start one or more beside `chorus run` when
    CHORUS_REDIS_URL is set."""
    settings: Settings = current_app.extensions["chorus.settings"]
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
    modules = import_job_modules()
    click.echo(f"chorus worker: {workers} thread(s) on {describe_storage(settings)}")
    click.echo(f"jobs from: {', '.join(modules) or 'no modules'}")
    run_worker(settings, workers=workers)


def _nothing() -> None:
    pass


@click.pass_context
def _run(ctx: click.Context, /, **options: Any) -> None:
    stop: Callable[[], None] = _nothing
    try:
        app = ctx.ensure_object(ScriptInfo).load_app()
    except Exception:  # Flask's own run command reports it below
        app = None
    if app is not None:
        settings: Settings = app.extensions["chorus.settings"]
        if settings.jobs_in_process:
            reload = options["reload"]
            import_job_modules()
            stop = start_in_process_consumer(
                settings, reloader=get_debug_flag() if reload is None else reload
            )
    try:
        ctx.invoke(run_command, **options)
    finally:
        stop()


run = click.Command(
    "run",
    callback=_run,
    params=list(run_command.params),
    help=(
        "Run a development server. Unless CHORUS_JOBS_IN_PROCESS is false (the default "
        "with CHORUS_REDIS_URL), it also runs background jobs in a thread."
    ),
    short_help="Run a development server (and the job consumer).",
)
