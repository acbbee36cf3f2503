"""Fixtures for the job queue: a SQLite queue in the test's instance folder, a Redis
queue under a name of its own, and in-process consumers stopped after the test.

Redis runs at ``CHORUS_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/15). When it
cannot be reached the Redis cases are skipped, except on CI (``CI=true``), where they
must run.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
import redis

from app.core.config import Settings
from app.jobs import queue

REDIS_URL_VARIABLE = "CHORUS_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def wait_for(condition: Callable[[], bool], *, what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _unconfigured_queue() -> Iterator[None]:
    yield
    queue.reset()


@pytest.fixture
def sqlite_settings(settings: Settings) -> Settings:
    """Settings whose queue is the SQLite file in the test's instance folder."""
    queue.configure(settings)
    return settings


@pytest.fixture
def redis_settings(settings: Settings) -> Iterator[Settings]:
    """Settings on the test Redis, the queue under a name of its own; its keys are
    deleted afterwards."""
    url = os.environ.get(REDIS_URL_VARIABLE, "").strip() or DEFAULT_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"Redis at {url} must be reachable on CI: {error}", pytrace=False)
        pytest.skip(f"Redis tests skipped: no Redis at {url} ({error})")
    name = f"chorus_test_{uuid.uuid4().hex}"
    on_redis = replace(settings, redis_url=url)
    queue.configure(on_redis, name=name)
    try:
        yield on_redis
    finally:
        queue.reset()
        keys = list(client.scan_iter(match=f"huey.*{name}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def queue_settings(request: pytest.FixtureRequest) -> Settings:
    """Settings on each queue backend in turn, the queue configured for them."""
    configured: Settings = request.getfixturevalue(f"{request.param}_settings")
    return configured


@pytest.fixture
def start_consumer() -> Iterator[Callable[[Settings], None]]:
    """Start an in-process consumer on some settings; it is stopped after the test."""
    stops: list[Callable[[], None]] = []

    def start(settings: Settings) -> None:
        stops.append(queue.start_in_process_consumer(settings))

    yield start
    for stop in reversed(stops):
        stop()
