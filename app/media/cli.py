"""``chorus sanitize``: clean one file from the command line, without the web app.

It needs no database, no network and no valid ``CHORUS_*`` configuration: ``--policy``
reads one policy file straight from ``media_policies/``. Exit status 0 means OUTPUT was
written and checked clean; 2 means the input was refused (one plain sentence on stderr)
or the command was misused; 1 means Chorus itself failed. On 1 or 2 neither OUTPUT nor
REPORT is left behind, not even one from an earlier run, so a stale file is never
mistaken for this input's result.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tempfile
import traceback
from pathlib import Path
from typing import NoReturn

import click

from app.media.base import Options
from app.media.errors import MediaRefused
from app.media.limits import DEFAULT_LIMITS
from app.media.pipeline import sanitize_file
from app.media.report import Report

_FILE = click.Path(path_type=Path, dir_okay=False)
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,38}")


@click.command("sanitize")
@click.argument(
    "source", metavar="INPUT", type=click.Path(path_type=Path, exists=True, dir_okay=False)
)
@click.option("-o", "--output", required=True, type=_FILE, help="Where to write the clean file.")
@click.option("--report", "report_path", type=_FILE, help="Write the JSON report here.")
@click.option("--policy", "slug", metavar="SLUG", help="Apply media_policies/SLUG.toml.")
@click.option("--mask-faces", is_flag=True, help="Mask every detected face.")
@click.option("--alter-voice", is_flag=True, help="Alter every voice.")
@click.option("--flatten-pdf", is_flag=True, help="Rasterise every PDF page.")
@click.option("--debug", is_flag=True, help="Show a traceback on an internal error.")
def sanitize(
    source: Path,
    output: Path,
    report_path: Path | None,
    slug: str | None,
    mask_faces: bool,
    alter_voice: bool,
    flatten_pdf: bool,
    debug: bool,
) -> None:
    """Clean INPUT into OUTPUT: real type sniffed from the bytes, every piece of
    metadata removed, faces and voices anonymised when asked (or when the policy
    says so), and a report of what was removed and found."""
    _refuse_same_file(source, output, report_path)
    if not debug:  # library warnings (qpdf's) would break the one-sentence contract
        logging.getLogger().addHandler(logging.NullHandler())
    options = Options(mask_faces=mask_faces, alter_voice=alter_voice, flatten_pdf=flatten_pdf)
    if slug is not None:
        options = _with_policy(options, slug)
    try:
        report = sanitize_file(source, output, options, claimed_name=source.name)
        if report_path is not None:
            _write_atomically(report_path, report.to_json() + "\n")
    except MediaRefused as refusal:
        _fail(refusal.reason, 2, output, report_path)
    except Exception as error:  # noqa: BLE001 - any fault is reported the same way
        if debug:
            traceback.print_exc()
        _fail(f"internal error: {type(error).__name__}", 1, output, report_path)
    else:
        click.echo(summary(report, output))


def summary(report: Report, output: Path) -> str:
    """One line saying what was written and what the report holds (never any values)."""
    media_type = report.output.media_type if report.output else "?"
    parts = [f"{sum(report.removed.values())} metadata items removed"]
    if report.faces:
        parts.append(f"{len(report.faces)} faces")
    if report.speech:
        parts.append(f"{len(report.speech)} speech segments")
    if report.personal_data:
        parts.append(f"{len(report.personal_data)} personal-data hits")
    return f"clean: {output} ({media_type}; {', '.join(parts)})"


def _with_policy(options: Options, slug: str) -> Options:
    """Options as the organisation's policy requires; explicit flags only add to it."""
    from app.core.config import PROJECT_ROOT
    from app.core.errors import PolicyError
    from app.policies.loader import load_policy

    path = PROJECT_ROOT / "media_policies" / f"{slug}.toml"
    if not _SLUG.fullmatch(slug) or not path.is_file():
        raise click.BadParameter(f"no media policy named {slug!r}", param_hint="--policy")
    try:
        policy = load_policy(path)
    except PolicyError as error:
        raise click.BadParameter(error.message, param_hint="--policy") from None
    faces = not policy.faces.allowed or policy.faces.on_detection == "mask"
    max_bytes = min(DEFAULT_LIMITS.max_bytes, policy.limits.max_upload_mb * 1024**2)
    return dataclasses.replace(
        options,
        mask_faces=options.mask_faces or faces,
        alter_voice=options.alter_voice or policy.voices.must_alter,
        flatten_pdf=options.flatten_pdf or policy.pdf.rasterise,
        limits=dataclasses.replace(options.limits, max_bytes=max_bytes),
    )


def _refuse_same_file(source: Path, output: Path, report_path: Path | None) -> None:
    for target, name in ((output, "-o/--output"), (report_path, "--report")):
        if target is not None and target.exists() and target.samefile(source):
            raise click.BadParameter("must not be the INPUT file", param_hint=name)
    if report_path is not None and report_path.absolute() == output.absolute():
        raise click.BadParameter("must differ from OUTPUT", param_hint="--report")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=".partial-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _fail(message: str, status: int, *leftovers: Path | None) -> NoReturn:
    """Remove OUTPUT and REPORT (from this run or an earlier one), say why, exit."""
    for path in leftovers:
        if path is not None and (path.is_file() or path.is_symlink()):
            path.unlink(missing_ok=True)
    click.echo(message, err=True)
    click.get_current_context().exit(status)
