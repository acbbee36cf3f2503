"""Sanitize one file: sniff its real type, clean it into a new file atomically, check
the result, and report. The input is never modified; on any failure no output is left."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from app.media.base import Options, sanitizer_for
from app.media.errors import MediaFault, MediaRefused
from app.media.report import FileFacts, Report
from app.media.sniff import sniff
from app.media.types import MediaType

CHUNK = 1024 * 1024


def file_facts(path: Path, media_type: MediaType) -> FileFacts:
    """Size and sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileFacts(media_type=media_type.value, size=size, sha256=digest.hexdigest())


def sanitize_file(
    source: Path,
    destination: Path,
    options: Options | None = None,
    *,
    claimed_name: str | None = None,
) -> Report:
    """Clean ``source`` into ``destination`` and return the report.

    Raises ``MediaRefused`` (with a plain reason) for a file Chorus does not accept,
    and ``MediaFault`` when Chorus itself fails. Either way ``destination`` is not
    created.
    """
    options = options or Options()
    media_type = sniff(source, options.limits, claimed_name=claimed_name)
    sanitizer = sanitizer_for(media_type)
    report = Report(input=file_facts(source, media_type))
    output_type = sanitizer.output_type(media_type, options)

    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(
        prefix=".partial-", suffix=output_type.extension, dir=destination.parent
    )
    os.close(fd)
    partial = Path(partial_name)
    try:
        sanitizer.sanitize(source, partial, media_type, options, report)
        residue = sanitizer.residual_metadata(partial, output_type)
        if residue:
            raise MediaFault(
                "the cleaned file still carries metadata: " + ", ".join(sorted(set(residue)))
            )
        report.output = file_facts(partial, output_type)
        os.replace(partial, destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return report


def residual_metadata(path: Path, media_type: MediaType | None = None) -> list[str]:
    """A fresh scan of a sanitized file, e.g. at publication: the kinds of metadata
    found (empty when clean). Raises ``MediaRefused`` if the file is not acceptable."""
    media_type = media_type or sniff(path, Options().limits)
    return sanitizer_for(media_type).residual_metadata(path, media_type)


__all__ = ["MediaFault", "MediaRefused", "file_facts", "residual_metadata", "sanitize_file"]
