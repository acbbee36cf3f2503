"""Settings: read once from CHORUS_* variables and the instance folder, validated."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from app.core.config import PROJECT_ROOT, load_settings
from app.core.errors import ConfigError, PolicyError


def test_secret_key_is_generated_once_privately_and_reused(tmp_path: Path) -> None:
    first = load_settings({}, instance_path=tmp_path)
    key_file = tmp_path / "secret_key"
    assert len(first.secret_key) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings({}, instance_path=tmp_path).secret_key == first.secret_key
    other = load_settings({}, instance_path=tmp_path / "elsewhere")
    assert other.secret_key != first.secret_key


def test_configured_secret_key_wins_and_writes_nothing(tmp_path: Path) -> None:
    settings = load_settings({"CHORUS_SECRET_KEY": "s" * 40}, instance_path=tmp_path)
    assert settings.secret_key == "s" * 40
    assert not (tmp_path / "secret_key").exists()


def test_defaults_are_the_embedded_ones(tmp_path: Path) -> None:
    settings = load_settings({}, instance_path=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'chorus.sqlite3'}"
    assert settings.secure_cookies is True
    assert settings.policies_dir == (PROJECT_ROOT / "media_policies").resolve()
    with pytest.raises(FrozenInstanceError):
        settings.secure_cookies = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CHORUS_SECRET_KEY", "short", "at least 32"),
        ("CHORUS_SECURE_COOKIES", "maybe", "true or false"),
        ("CHORUS_MAX_REQUEST_BYTES", "lots", "whole number"),
        ("CHORUS_MAX_REQUEST_BYTES", "0", "at least 1"),
        ("CHORUS_DATABASE_URL", "mysql://x", "sqlite:// or postgresql://"),
        ("CHORUS_QUICK_EXIT_URL", "http://example.org", "https://"),
        ("CHORUS_LOG_LEVEL", "LOUD", "DEBUG, INFO"),
        ("CHORUS_POLICIES_DIR", "/nonexistent/policies", "is not a folder"),
    ],
)
def test_bad_settings_name_the_variable(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load_settings({variable: value}, instance_path=tmp_path)
    assert variable in error.value.message


def test_postgresql_urls_use_psycopg(tmp_path: Path) -> None:
    settings = load_settings(
        {"CHORUS_DATABASE_URL": "postgresql://postgres@127.0.0.1/chorus"}, instance_path=tmp_path
    )
    assert settings.database_url.startswith("postgresql+psycopg://")


def test_no_other_module_reads_the_environment() -> None:
    pattern = re.compile(r"os\.environ|os\.getenv|getenv\(")
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "app").rglob("*.py")
        if path.name != "config.py" and pattern.search(path.read_text(encoding="utf-8"))
    ]
    offenders += [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "migrations").rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _bad_policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "media_policies", folder)
    path = folder / "payoke.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('on_detection = "mask"', 'on_detection = "hide"'),
        encoding="utf-8",
    )
    return folder


def test_a_bad_policy_stops_start_up(settings, tmp_path: Path) -> None:
    from dataclasses import replace

    from app.factory import create_app

    with pytest.raises(PolicyError, match=r"payoke\.toml: faces\.on_detection: .*'hide'"):
        create_app(replace(settings, policies_dir=_bad_policies(tmp_path)))


def test_the_command_line_refuses_to_start_with_a_bad_policy(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "CHORUS_INSTANCE_PATH": str(tmp_path / "instance"),
        "CHORUS_POLICIES_DIR": str(_bad_policies(tmp_path)),
    }
    chorus = Path(sys.executable).with_name("chorus")
    result = subprocess.run(  # noqa: S603 - our own console script
        [str(chorus), "db", "current"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "payoke.toml" in result.stderr
    assert "faces.on_detection" in result.stderr
    assert "Traceback" not in result.stderr
    check = subprocess.run(  # noqa: S603
        [str(chorus), "policies", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert check.returncode == 1
    assert "faces.on_detection" in check.stderr
