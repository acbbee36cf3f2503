"""Where the queue lives: SQLite in the instance folder, or Redis when configured."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from huey.storage import RedisStorage, SqliteStorage

from app.core.config import Settings


def make_storage(settings: Settings, name: str) -> Any:
    """A Huey storage for queue ``name``: Redis at ``settings.redis_url`` if set, else
    the SQLite file ``settings.queue_path``. Neither is contacted until first used."""
    if settings.redis_url:
        return RedisStorage(name, url=settings.redis_url)
    settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteStorage(name, filename=str(settings.queue_path))


def close_storage(storage: Any) -> None:
    """Release a storage's connections (SQLite connection, Redis pool)."""
    storage.close()
    pool = getattr(storage, "pool", None)
    if pool is not None:
        pool.disconnect()


def describe_storage(settings: Settings) -> str:
    """The queue's location for people to read, without any password."""
    if settings.redis_url:
        return f"Redis at {redact_url(settings.redis_url)}"
    return f"SQLite at {settings.queue_path}"


def redact_url(url: str) -> str:
    """``url`` with the password (in the authority or the query) replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        credentials, _, host = netloc.rpartition("@")
        netloc = f"{credentials.partition(':')[0]}:***@{host}"
    query = urlencode(
        [
            (key, "***" if key.lower() == "password" else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    return shown + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")
