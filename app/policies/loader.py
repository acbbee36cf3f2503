"""Read media policy files and say plainly what is wrong with a bad one.

Every problem becomes a ``PolicyError`` whose message names the file, the key (a dotted
path such as ``faces.on_detection``) and the problem, one line per problem, so a person
editing the TOML file can fix it without reading pydantic's output.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from app.core.errors import PolicyError
from app.policies.schema import CUSTOM_ERROR, SECTIONS, SLUG_PATTERN, MediaPolicy

_SLUG = re.compile(SLUG_PATTERN)


@dataclass(frozen=True, slots=True)
class PolicyRegistry:
    """The loaded policies, looked up by slug and iterated in slug order."""

    policies: tuple[MediaPolicy, ...]
    _by_slug: Mapping[str, MediaPolicy] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.policies, key=lambda policy: policy.slug))
        by_slug: dict[str, MediaPolicy] = {}
        for policy in ordered:
            if policy.slug in by_slug:
                raise ValueError(f"two policies are named {policy.slug!r}")
            by_slug[policy.slug] = policy
        object.__setattr__(self, "policies", ordered)
        object.__setattr__(self, "_by_slug", MappingProxyType(by_slug))

    @property
    def slugs(self) -> tuple[str, ...]:
        """The slugs, sorted."""
        return tuple(self._by_slug)

    def get(self, slug: str) -> MediaPolicy:
        """Return the policy named ``slug``; raise ``KeyError`` if there is none."""
        try:
            return self._by_slug[slug]
        except KeyError:
            raise KeyError(f"no media policy named {slug!r}") from None

    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug

    def __iter__(self) -> Iterator[MediaPolicy]:
        return iter(self.policies)

    def __len__(self) -> int:
        return len(self.policies)


def display_path(path: Path) -> str:
    """``path`` relative to the current folder when it lies below it, else as given."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def policy_files(folder: Path) -> tuple[Path, ...]:
    """The ``*.toml`` files in ``folder``, sorted; raise ``PolicyError`` if there are none."""
    shown = display_path(folder)
    if not folder.is_dir():
        raise PolicyError(f"{shown}: not a folder, so there are no media policies to load")
    files = tuple(sorted(path for path in folder.glob("*.toml") if not path.is_dir()))
    if not files:
        raise PolicyError(f"{shown}: no media policy files (*.toml) in this folder")
    return files


def load_policy(path: Path) -> MediaPolicy:
    """Read and validate one policy file; raise ``PolicyError`` listing every problem."""
    shown = display_path(path)
    slug = path.stem
    if path.suffix != ".toml":
        raise PolicyError(f"{shown}: a media policy file name must end in '.toml'")
    if not _SLUG.fullmatch(slug):
        raise PolicyError(
            f"{shown}: file name {slug!r} is not a valid policy name: use 2 to 39 "
            "lower-case letters, digits or '-', starting with a letter or digit"
        )
    data = _read_toml(path, shown)
    problems: list[str] = []
    if "slug" in data:
        problems.append("unknown key 'slug' (a policy's name comes from its file name)")
        data = {key: value for key, value in data.items() if key != "slug"}
    try:
        policy = MediaPolicy.model_validate({**data, "slug": slug})
    except ValidationError as exc:
        problems.extend(describe_error(error) for error in exc.errors() if not _echo(error))
        raise PolicyError(_report(shown, problems)) from None
    if problems:
        raise PolicyError(_report(shown, problems))
    return policy


def load_policies(folder: Path) -> PolicyRegistry:
    """Load every policy file in ``folder``; raise one ``PolicyError`` for all bad files."""
    policies: list[MediaPolicy] = []
    failures: list[str] = []
    for path in policy_files(folder):
        try:
            policies.append(load_policy(path))
        except PolicyError as exc:
            failures.append(exc.message)
    if failures:
        raise PolicyError("\n".join(failures))
    return PolicyRegistry(tuple(policies))


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"{shown}: cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"{shown}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start}); "
            "save the file as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{shown}: not valid TOML: {exc}") from None


def _report(shown: str, problems: list[str]) -> str:
    if len(problems) == 1:
        return f"{shown}: {problems[0]}"
    lines = [f"{shown}: {len(problems)} problems"]
    lines.extend(f"  {problem}" for problem in problems)
    return "\n".join(lines)


def _echo(error: ErrorDetails) -> bool:
    """Pydantic counts only the valid items of a list against its minimum length, so a
    list whose only item is bad is also called "too short"; that second error is noise."""
    if error["type"] != "too_short":
        return False
    value = error["input"]
    minimum = (error.get("ctx") or {}).get("min_length", 0)
    return isinstance(value, list | tuple) and len(value) >= minimum


def describe_error(error: ErrorDetails) -> str:
    """One pydantic error as ``key: problem`` in plain words."""
    loc = error["loc"]
    key = _dotted(loc)
    kind = error["type"]
    value = error["input"]
    if kind == "missing":
        if len(loc) == 1 and loc[0] in SECTIONS:
            return f"missing section [{key}]"
        return f"missing key '{key}'"
    if kind == "extra_forbidden":
        if len(loc) == 1 and isinstance(value, dict):
            return f"unknown section [{key}]"
        return f"unknown key '{key}'"
    return f"{key}: {_problem(error)}"


def _problem(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    shown = _show(error["input"])
    simple = {
        "bool_type": "must be true or false",
        "int_type": "must be a whole number",
        "string_type": "must be text in quotes",
        "list_type": 'must be a list, like ["a", "b"]',
        "tuple_type": 'must be a list, like ["a", "b"]',
        "model_type": "must be a table (a [section] of keys)",
        "dict_type": "must be a table (a [section] of keys)",
    }
    if kind in simple:
        return f"{simple[kind]}, not {shown}"
    if kind in {"enum", "literal_error"}:
        return f"must be one of {_choices(str(ctx.get('expected', '')))}, not {shown}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, name = bounds[kind]
        return f"must be {words} {ctx.get(name)}, not {shown}"
    if kind in {"string_too_short", "too_short"} and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind == "string_too_short":
        return f"must be at least {ctx.get('min_length')} characters long"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} items"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind == "string_pattern_mismatch":
        return f"must match {ctx.get('pattern')}, not {shown}"
    if kind == CUSTOM_ERROR:
        return error["msg"]
    return error["msg"].splitlines()[0]


def _dotted(loc: Iterable[int | str]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else part
    return key


def _choices(expected: str) -> str:
    """Pydantic says "'a', 'b' or 'c'"; list them as "'a', 'b', 'c'"."""
    head, sep, last = expected.rpartition(" or ")
    return f"{head}, {last}" if sep else expected


def _show(value: object) -> str:
    """A value as a person would recognise it from the TOML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return repr(text)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "an empty list" if not value else "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, dt.date | dt.time):
        return "a date or time"
    return type(value).__name__
