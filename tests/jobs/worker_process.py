"""A job consumer in a process of its own, run as ``chorus worker`` runs it, on the
settings from the environment (CHORUS_INSTANCE_PATH names the queue's folder).

    python -m tests.jobs.worker_process
"""

from __future__ import annotations

import logging

import tests.jobs.tasks  # noqa: F401 - registers the test jobs
from app.core.config import load_settings
from app.jobs.queue import run_worker


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    run_worker(load_settings())


if __name__ == "__main__":
    main()
