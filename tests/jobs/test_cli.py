"""The ``chorus worker`` command and the job-consuming ``chorus run``."""

from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner
from flask import Flask

from app.core.config import Settings
from app.jobs import cli


def test_worker_help(app: Flask) -> None:
    result = app.test_cli_runner().invoke(cli.worker, ["--help"])
    assert result.exit_code == 0, result.output
    assert "--workers" in result.output


def test_worker_runs_the_consumer_on_the_configured_queue(
    app: Flask, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.extensions["chorus.settings"] = on_redis = replace(
        settings, redis_url="redis://:s3cret@127.0.0.1:6379/15"
    )
    calls: list[tuple[Settings, int]] = []
    monkeypatch.setattr(cli, "run_worker", lambda s, *, workers: calls.append((s, workers)))
    result = app.test_cli_runner().invoke(cli.worker, ["--workers", "3"])
    assert result.exit_code == 0, result.output
    assert calls == [(on_redis, 3)]
    assert "3 thread(s) on Redis at redis://:***@127.0.0.1:6379/15" in result.output
    assert "jobs from:" in result.output
    assert "s3cret" not in result.output


def test_worker_refuses_a_nonsense_number_of_workers(app: Flask) -> None:
    result = app.test_cli_runner().invoke(cli.worker, ["--workers", "0"])
    assert result.exit_code == 2


def test_run_keeps_flasks_options() -> None:
    result = CliRunner().invoke(cli.run, ["--help"])
    assert result.exit_code == 0, result.output
    for option in ("--host", "--port", "--reload", "--debugger"):
        assert option in result.output
