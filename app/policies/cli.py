"""``chorus policies …``: check and show media policy files without starting the app.

A bad policy stops the app from starting, so these commands never create it: the folder
comes from the command line or, when none is given, straight from the settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import click
from flask.cli import AppGroup

from app.core.config import load_settings
from app.core.errors import ChorusError, PolicyError
from app.policies.loader import display_path, load_policy, policy_files

policies = AppGroup("policies", help="Check and show the media policy files.")

_FOLDER = click.Path(path_type=Path, file_okay=False)


def _configured_folder() -> Path:
    return load_settings().policies_dir


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    click.get_current_context().exit(1)


@policies.command("check", with_appcontext=False)
@click.argument("folder", required=False, type=_FOLDER)
def check(folder: Path | None) -> None:
    """Validate every policy file in FOLDER.

    Without FOLDER, the configured folder (CHORUS_POLICIES_DIR) is checked. Prints one
    "ok" line per good file; problems go to stderr and the exit status is 1.
    """
    try:
        paths = policy_files(folder if folder is not None else _configured_folder())
    except ChorusError as exc:
        _fail(exc.message)
    failures = 0
    for path in paths:
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            failures += 1
            click.echo(exc.message, err=True)
        else:
            click.echo(f"ok  {policy.slug}  {policy.organisation.name}")
    if failures:
        _fail(f"{failures} of {len(paths)} policy files have problems")


@policies.command("show", with_appcontext=False)
@click.argument("slug")
@click.option("--folder", type=_FOLDER, help="Folder of policy files (default: configured).")
def show(slug: str, folder: Path | None) -> None:
    """Print the policy named SLUG, as the app reads it, in JSON."""
    try:
        folder = folder if folder is not None else _configured_folder()
        known = {path.stem: path for path in policy_files(folder)}
        if slug not in known:
            raise PolicyError(
                f"{display_path(folder)}: no policy named {slug!r} "
                f"(there are: {', '.join(sorted(known))})"
            )
        policy = load_policy(known[slug])
    except ChorusError as exc:
        _fail(exc.message)
    click.echo(json.dumps(policy.model_dump(mode="json"), indent=2, ensure_ascii=False))
