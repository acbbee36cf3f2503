"""Choosing and describing the queue's storage."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from app.core.config import Settings
from app.jobs import queue
from app.jobs.backends import describe_storage, redact_url


def test_the_default_queue_is_the_sqlite_file_in_the_instance_folder(settings: Settings) -> None:
    huey = queue.configure(settings)
    assert huey is queue.huey
    assert isinstance(huey.storage, SqliteStorage)
    assert huey.storage.filename == str(settings.queue_path)
    assert not huey.immediate
    assert describe_storage(settings) == f"SQLite at {settings.queue_path}"


def test_a_redis_url_puts_the_queue_on_redis(settings: Settings) -> None:
    on_redis = replace(settings, redis_url="redis://127.0.0.1:6379/15")
    queue.configure(on_redis)  # builds the client without connecting
    assert isinstance(queue.huey.storage, RedisStorage)
    assert queue.current_settings() is on_redis


def test_immediate_mode_keeps_the_queue_in_memory(settings: Settings) -> None:
    queue.configure(settings, immediate=True)
    assert queue.huey.immediate
    assert isinstance(queue.huey.storage, MemoryStorage)


def test_configuring_again_moves_the_queue(settings: Settings, tmp_path: Path) -> None:
    queue.configure(settings)
    other = replace(settings, instance_path=tmp_path / "other")
    queue.configure(other)
    assert queue.huey.storage.filename == str(other.queue_path)
    assert queue.current_settings() is other


def test_current_settings_needs_a_configured_queue() -> None:
    queue.reset()
    with pytest.raises(RuntimeError, match="not configured"):
        queue.current_settings()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:s3cret@cache:6379/2", "redis://:***@cache:6379/2"),
        ("rediss://chorus:s3cret@cache.example:6380/0", "rediss://chorus:***@cache.example:6380/0"),
        ("unix:///run/redis.sock?db=1&password=s3cret", "unix:///run/redis.sock?db=1&password=***"),
    ],
)
def test_redis_passwords_are_never_shown(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "s3cret" not in shown
