"""Running Huey's consumer: in the foreground (``chorus worker``) or in a daemon thread
of another process (``chorus run`` on the embedded queue)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from huey.consumer import Consumer, ConsumerStopped

log = logging.getLogger("chorus.jobs")

# Idle polling of a non-blocking storage (SQLite) backs off from 0.1 s to this.
MAX_POLL_SECONDS = 2.0
# How long stopping waits for running jobs before leaving them to die with the process.
SHUTDOWN_SECONDS = 10.0


def _options(workers: int) -> dict[str, Any]:
    return {
        "workers": workers,
        "worker_type": "thread",
        "periodic": True,
        "initial_delay": 0.1,
        "backoff": 1.15,
        "max_delay": MAX_POLL_SECONDS,
        "check_worker_health": True,
        "shutdown_timeout": SHUTDOWN_SECONDS,
    }


class EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A consumer that leaves signals to its host process: Huey's own installs
    handlers in ``start()``, which only the main thread may do and which would take
    Ctrl-C away from the web server."""

    def _set_signal_handlers(self) -> None:
        pass


def run_consumer(huey: Any, *, workers: int = 1) -> None:
    """Consume ``huey``'s queue in the foreground until SIGINT (finish running jobs)
    or SIGTERM (stop now). Periodic tasks are scheduled too."""
    Consumer(huey, **_options(workers)).run()


def start_consumer_thread(huey: Any, *, workers: int = 1) -> Callable[[], None]:
    """Consume ``huey``'s queue in daemon threads of this process, periodic tasks
    included; return a function that stops them (waiting briefly for running jobs).

    A job cut short when the process exits is not run again by Huey; the domain's
    sweeper queues such work again."""
    consumer = EmbeddedConsumer(huey, **_options(workers))
    consumer.start()

    def supervise() -> None:
        # What Consumer.run does after start(), minus signals: restart dead workers.
        health_checked = time.monotonic()
        while True:
            try:
                health_checked = consumer.loop(health_checked)
            except ConsumerStopped:
                return

    supervisor = threading.Thread(target=supervise, name="chorus-jobs", daemon=True)
    supervisor.start()
    stopped = threading.Event()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        consumer.stop(graceful=True)
        supervisor.join(SHUTDOWN_SECONDS)
        log.info("in-process job consumer stopped")

    return stop
