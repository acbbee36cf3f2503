"""The one place Chorus reads its configuration.

Settings come from ``CHORUS_*`` environment variables and the instance folder, are
validated once at start-up and are frozen afterwards. No other module reads
``os.environ``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_QUICK_EXIT_URL = "https://www.bbc.co.uk/weather"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated, immutable configuration of one Chorus process."""

    instance_path: Path
    secret_key: str
    database_url: str
    policies_dir: Path
    migrations_dir: Path
    secure_cookies: bool
    max_request_bytes: int
    quick_exit_url: str
    password_memory_kib: int
    password_time_cost: int
    invitation_days: int
    throttle_account_failures: int
    throttle_address_failures: int
    throttle_window_seconds: int
    throttle_lock_seconds: int
    log_level: str
    # Storage: a local folder (default) or an S3-compatible store; private and public
    # areas are separate prefixes of one root.
    storage_backend: str = "local"
    storage_path: Path | None = None  # local backend root; default <instance>/storage
    s3_endpoint_url: str | None = None
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    # 32-byte key for originals at rest (AES-256-GCM, streamed in chunks).
    originals_key: bytes = b""
    # Background jobs: Huey on SQLite in the instance folder, or on Redis when set.
    redis_url: str | None = None
    jobs_in_process: bool = True  # `chorus run` also runs a job consumer thread

    @property
    def local_storage_root(self) -> Path:
        """The local storage backend's root folder."""
        return self.storage_path or self.instance_path / "storage"

    @property
    def queue_path(self) -> Path:
        """The embedded job queue's SQLite file."""
        return self.instance_path / "queue.sqlite3"


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _secret_key(env: Mapping[str, str], instance_path: Path) -> str:
    """Return the configured key, or one generated once into the instance folder."""
    configured = env.get("CHORUS_SECRET_KEY", "")
    if configured:
        if len(configured) < 32:
            raise ConfigError("CHORUS_SECRET_KEY must be at least 32 characters long")
        return configured
    key_file = instance_path / "secret_key"
    if key_file.exists():
        key = key_file.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise ConfigError(f"{key_file} holds a key shorter than 32 characters")
        return key
    key = secrets.token_hex(32)
    partial = key_file.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    os.replace(partial, key_file)
    return key


def _originals_key(env: Mapping[str, str], instance_path: Path) -> bytes:
    """The configured originals key (64 hex digits), or one generated once into the
    instance folder (mode 0600). Losing it makes every stored original unreadable."""
    configured = env.get("CHORUS_ORIGINALS_KEY", "").strip()
    source = "CHORUS_ORIGINALS_KEY"
    if not configured:
        key_file = instance_path / "originals_key"
        source = str(key_file)
        if not key_file.exists():
            partial = key_file.with_suffix(".partial")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            os.replace(partial, key_file)
        configured = key_file.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(configured)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(f"{source} must hold 64 hexadecimal digits (a 256-bit key)")
    return key


def _storage(env: Mapping[str, str], instance: Path) -> dict[str, object]:
    backend = (env.get("CHORUS_STORAGE") or "local").strip().lower()
    if backend not in {"local", "s3"}:
        raise ConfigError(f"CHORUS_STORAGE must be local or s3, not {backend!r}")
    bucket = env.get("CHORUS_S3_BUCKET", "").strip()
    if backend == "s3" and not bucket:
        raise ConfigError("CHORUS_S3_BUCKET must be set when CHORUS_STORAGE is s3")
    endpoint = env.get("CHORUS_S3_ENDPOINT_URL", "").strip() or None
    if endpoint is not None and not endpoint.startswith(("https://", "http://")):
        raise ConfigError("CHORUS_S3_ENDPOINT_URL must be an http:// or https:// address")
    prefix = env.get("CHORUS_S3_PREFIX", "").strip().strip("/")
    return {
        "storage_backend": backend,
        "storage_path": Path(env.get("CHORUS_STORAGE_PATH") or instance / "storage").resolve(),
        "s3_endpoint_url": endpoint,
        "s3_bucket": bucket,
        "s3_prefix": f"{prefix}/" if prefix else "",
        "s3_region": env.get("CHORUS_S3_REGION", "").strip() or "us-east-1",
        "s3_access_key_id": env.get("CHORUS_S3_ACCESS_KEY_ID") or None,
        "s3_secret_access_key": env.get("CHORUS_S3_SECRET_ACCESS_KEY") or None,
    }


def load_settings(
    env: Mapping[str, str] | None = None, *, instance_path: Path | None = None
) -> Settings:
    """Read and validate the settings; raise ``ConfigError`` naming the bad variable."""
    env = os.environ if env is None else env
    instance = Path(env.get("CHORUS_INSTANCE_PATH") or instance_path or PROJECT_ROOT / "instance")
    instance = instance.resolve()
    instance.mkdir(parents=True, exist_ok=True)

    database_url = env.get("CHORUS_DATABASE_URL") or f"sqlite:///{instance / 'chorus.sqlite3'}"
    if not database_url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
        raise ConfigError("CHORUS_DATABASE_URL must be an sqlite:// or postgresql:// URL")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    policies_dir = Path(env.get("CHORUS_POLICIES_DIR") or PROJECT_ROOT / "media_policies")
    if not policies_dir.is_dir():
        raise ConfigError(f"CHORUS_POLICIES_DIR: {policies_dir} is not a folder")

    quick_exit_url = env.get("CHORUS_QUICK_EXIT_URL") or DEFAULT_QUICK_EXIT_URL
    if not quick_exit_url.startswith("https://"):
        raise ConfigError("CHORUS_QUICK_EXIT_URL must be an https:// address")

    log_level = (env.get("CHORUS_LOG_LEVEL") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("CHORUS_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")

    redis_url = env.get("CHORUS_REDIS_URL", "").strip() or None
    if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("CHORUS_REDIS_URL must be a redis:// or rediss:// URL")

    return Settings(
        instance_path=instance,
        secret_key=_secret_key(env, instance),
        database_url=database_url,
        policies_dir=policies_dir.resolve(),
        migrations_dir=PROJECT_ROOT / "migrations",
        secure_cookies=_flag(env, "CHORUS_SECURE_COOKIES", True),
        max_request_bytes=_int(env, "CHORUS_MAX_REQUEST_BYTES", 1024 * 1024),
        quick_exit_url=quick_exit_url,
        password_memory_kib=_int(env, "CHORUS_PASSWORD_MEMORY_KIB", 65536, minimum=8),
        password_time_cost=_int(env, "CHORUS_PASSWORD_TIME_COST", 3),
        invitation_days=_int(env, "CHORUS_INVITATION_DAYS", 7),
        throttle_account_failures=_int(env, "CHORUS_THROTTLE_ACCOUNT_FAILURES", 5),
        throttle_address_failures=_int(env, "CHORUS_THROTTLE_ADDRESS_FAILURES", 20),
        throttle_window_seconds=_int(env, "CHORUS_THROTTLE_WINDOW_SECONDS", 900),
        throttle_lock_seconds=_int(env, "CHORUS_THROTTLE_LOCK_SECONDS", 900),
        log_level=log_level,
        originals_key=_originals_key(env, instance),
        redis_url=redis_url,
        jobs_in_process=_flag(env, "CHORUS_JOBS_IN_PROCESS", redis_url is None),
        **_storage(env, instance),  # type: ignore[arg-type]
    )
