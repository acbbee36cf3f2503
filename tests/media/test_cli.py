"""``chorus sanitize``: exit 0/2/1, nothing left behind on refusal, no app needed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.media import cli as media_cli
from app.media.base import Options
from app.media.errors import MediaFault

CHORUS = Path(sys.executable).with_name("chorus")
# Only PATH and a database URL that would stop the web app from starting.
BROKEN_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CHORUS_DATABASE_URL": "mysql://x"}
SCRIPT = "# Our story\n\nCall +40 721 234 567. <script>alert(1)</script>\n"


def chorus(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [str(CHORUS), "sanitize", *map(str, args)],
        capture_output=True,
        text=True,
        env=BROKEN_ENV,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_clean_file_exits_0_with_output_and_report(tmp_path: Path) -> None:
    source = tmp_path / "script.md"
    source.write_text(SCRIPT, encoding="utf-8")
    output, report_path = tmp_path / "out" / "script.html", tmp_path / "report.json"
    result = chorus(source, "-o", output, "--report", report_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("clean: ")
    assert result.stdout.count("\n") == 1
    assert "+40" not in result.stdout
    assert "<script" not in output.read_text(encoding="utf-8")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["schema"] == "chorus.sanitize-report"
    assert report["version"] == 1
    assert report["input"]["sha256"] == sha256(source)
    assert report["output"]["sha256"] == sha256(output)
    assert report["input"]["size"] == source.stat().st_size
    assert [hit["kind"] for hit in report["personal_data"]] == ["phone"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "report.json", "script.md"]
    assert [p.name for p in output.parent.iterdir()] == ["script.html"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("logo.svg", b"<svg><script>alert(1)</script></svg>", "SVG images are not accepted"),
        ("notes.zip", b"PK\x05\x06" + b"\x00" * 18, "archives"),
        ("empty.txt", b"", "This file is empty."),
        ("photo.jpg", b"%PDF-1.7\n%%EOF\n", "name says .jpg"),
    ],
)
def test_refused_file_exits_2_and_leaves_nothing(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    output, report_path = tmp_path / "out.html", tmp_path / "report.json"
    output.write_text("stale output of an earlier run")
    report_path.write_text("{}")
    result = chorus(source, "-o", output, "--report", report_path, cwd=tmp_path)
    assert result.returncode == 2
    assert reason in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.strip().endswith(".")
    assert "Traceback" not in result.stderr
    assert str(tmp_path) not in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert source.read_bytes() == content


def test_internal_error_exits_1_without_traceback(tmp_path: Path) -> None:
    source = tmp_path / "script.md"
    source.write_text(SCRIPT, encoding="utf-8")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    result = chorus(source, "-o", blocker / "out.html", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("internal error: ")
    assert "Traceback" not in result.stderr


def test_fault_is_reported_by_type_and_traceback_only_with_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise MediaFault("the model file is missing")

    monkeypatch.setattr(media_cli, "sanitize_file", broken)
    source = tmp_path / "in.txt"
    source.write_text("hello")
    output = tmp_path / "out.html"
    output.write_text("stale")
    runner = CliRunner()
    result = runner.invoke(media_cli.sanitize, [str(source), "-o", str(output)])
    assert result.exit_code == 1
    assert result.stderr == "internal error: MediaFault\n"
    assert not output.exists()
    debug = runner.invoke(media_cli.sanitize, [str(source), "-o", str(output), "--debug"])
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr
    assert "the model file is missing" in debug.stderr


NOISY = """
import logging
from app.media import cli

def noisy(*args, **kwargs):
    logging.getLogger("pikepdf._core").warning("object 12 0 is damaged")
    raise cli.MediaRefused("This PDF is damaged.")

cli.sanitize_file = noisy
cli.sanitize(["in.pdf", "-o", "out.pdf", *EXTRA])
"""


@pytest.mark.parametrize(("extra", "expected"), [([], ""), (["--debug"], "object 12 0")])
def test_library_warnings_stay_off_stderr_unless_debugging(
    tmp_path: Path, extra: list[str], expected: str
) -> None:
    (tmp_path / "in.pdf").write_bytes(b"%PDF-1.7")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"EXTRA = {extra!r}\n{NOISY}"],
        capture_output=True,
        text=True,
        env={**BROKEN_ENV, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.endswith("This PDF is damaged.\n")
    assert expected in result.stderr
    if not expected:
        assert result.stderr == "This PDF is damaged.\n"


def test_output_must_not_overwrite_input(tmp_path: Path) -> None:
    source = tmp_path / "script.md"
    source.write_text(SCRIPT, encoding="utf-8")
    result = CliRunner().invoke(media_cli.sanitize, [str(source), "-o", str(source)])
    assert result.exit_code == 2
    assert source.read_text(encoding="utf-8") == SCRIPT


def test_policy_sets_the_options(tmp_path: Path) -> None:
    payoke = media_cli._with_policy(Options(), "payoke")
    assert (payoke.mask_faces, payoke.alter_voice, payoke.flatten_pdf) == (True, True, True)
    assert payoke.limits.max_bytes == 200 * 1024**2
    flags = Options(mask_faces=True, alter_voice=True, flatten_pdf=True)
    for slug in ("adpare", "equality", "mist", "fundacion-cruz-blanca"):
        assert media_cli._with_policy(flags, slug).mask_faces  # flags only add


def test_policy_option_end_to_end(tmp_path: Path) -> None:
    source = tmp_path / "script.md"
    source.write_text(SCRIPT, encoding="utf-8")
    result = chorus(source, "-o", tmp_path / "o.html", "--policy", "payoke", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("slug", ["no-such-org", "../app/core/config", "PAYOKE"])
def test_unknown_policy_is_a_usage_error(tmp_path: Path, slug: str) -> None:
    source = tmp_path / "script.md"
    source.write_text(SCRIPT, encoding="utf-8")
    result = chorus(source, "-o", tmp_path / "o.html", "--policy", slug, cwd=tmp_path)
    assert result.returncode == 2
    assert "no media policy named" in result.stderr
    assert not (tmp_path / "o.html").exists()


def test_help_works_without_the_app(tmp_path: Path) -> None:
    result = chorus("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "INPUT" in result.stdout


def test_media_library_imports_neither_flask_nor_sqlalchemy() -> None:
    code = (
        "import sys, app.media.cli, app.media.pipeline, app.media.sanitizers.text\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'sqlalchemy'}))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=BROKEN_ENV,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    assert result.stdout.strip() == "[]"
