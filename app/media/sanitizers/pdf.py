"""PDF: an allow-list rewrite into a new document, or every page flattened to pixels.

Normal mode (``pdf_rewrite``) keeps the pages' drawing and nothing else, and strips the
metadata segments of embedded JPEGs without re-encoding them. The page content itself
survives as drawn: text in white, text under an image or clipped off the page, and
vector shapes stay in the file although no reader sees them. Flatten mode
(``options.flatten_pdf``, and always when faces must be masked) renders each page to
fresh pixels, which only keeps what is visible; it is the safe default for publication.

Refused: encrypted files, files pikepdf cannot read or had to reconstruct, and files
beyond the page and object limits. Faces are reported page by page in normal mode (on
pages that show an image; boxes in points from the page's top-left corner) and masked
in flatten mode when asked.

Removal kinds written (``report.removed``; counts, never values): ``pdf.info``,
``pdf.xmp``, ``pdf.names``, ``pdf.attachments`` (name tree, ``/AF``, portfolios),
``pdf.javascript``, ``pdf.open_action``, ``pdf.actions`` (``/AA``), ``pdf.forms``,
``pdf.annotations``, ``pdf.outlines``, ``pdf.structure`` (tagged-PDF tree),
``pdf.hidden_layers``, ``pdf.marked_content`` (``/ActualText``, ``/Alt`` and layer
membership in content streams), ``pdf.private_data`` (``/PieceInfo``, ``/OPI`` and
keys outside the allow-lists), ``pdf.dates``, ``pdf.thumbnails``, ``pdf.links``,
``pdf.threads``, ``pdf.web_capture``, ``pdf.signatures``, ``pdf.page_labels``,
``pdf.language``, ``pdf.icc_profiles``, ``pdf.postscript``, ``pdf.other``,
``pdf.history`` (incremental updates), ``pdf.jpeg_app_segments``,
``pdf.jpeg_comments``, ``pdf.jpeg_other_segments``, ``pdf.jpeg_trailers``, and in
flatten mode ``pdf.text_layer`` (pages whose text and vectors became pixels) with
``anonymised["pdf_flattened"]`` and, when masking, ``anonymised["faces_masked"]``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, String

from app.media.base import Options, Sanitizer, register
from app.media.errors import MediaRefused
from app.media.limits import Limits
from app.media.pdf_raster import flatten, report_faces
from app.media.pdf_rewrite import rewrite
from app.media.pdf_scan import revisions, scan
from app.media.report import Report
from app.media.types import MediaType

DAMAGED = "This PDF is damaged or incomplete; please export it again and upload the new copy."
LOCKED = "This PDF is locked or encrypted; please upload a copy without a password."
EMPTY = "This PDF has no pages."
TOO_COMPLEX = "This PDF is too complex for Chorus to clean safely."
# qpdf's words when it rebuilt a damaged cross-reference table by scanning the file.
RECONSTRUCTED = ("reconstruct cross-reference table", ": file is damaged")


class PdfSanitizer(Sanitizer):
    """PDF fanzines: allow-list rewrite, or pages rasterised (see the module docstring)."""

    media_types = frozenset({MediaType.PDF})

    def sanitize(
        self,
        source: Path,
        destination: Path,
        media_type: MediaType,
        options: Options,
        report: Report,
    ) -> None:
        """Write the cleaned PDF to ``destination``.

        Raises ``MediaRefused`` for an encrypted, damaged or oversized PDF, and
        ``MediaFault`` when faces must be detected and the detector is unavailable.
        """
        flattening = options.flatten_pdf or options.mask_faces
        with open_checked(source, options.limits) as src:
            report.remove("pdf.history", _updates(source, src))
            try:
                if flattening:
                    for kind in set(scan(source)) - {"pdf.history"}:  # counted above
                        report.remove(kind)
                    flat = flatten(
                        source,
                        len(src.pages),
                        report,
                        detect_faces=options.detect_faces,
                        mask_faces=options.mask_faces,
                    )
                    with flat:
                        save(flat, destination, "1.4")
                    return
                # Copied streams are read from ``src`` while saving: it must stay open.
                with rewrite(src, report, options.limits) as clean:
                    save(clean, destination, src.pdf_version)
            except (pikepdf.PdfError, pikepdf.ForeignObjectError):
                raise MediaRefused(DAMAGED) from None
        if options.detect_faces:
            report_faces(source, report)

    def residual_metadata(self, path: Path, media_type: MediaType) -> list[str]:
        """Kinds of metadata or hidden parts left in the PDF (empty when clean).

        Raises ``MediaRefused`` for a file that cannot be opened.
        """
        try:
            return scan(path)
        except pikepdf.PasswordError:
            raise MediaRefused(LOCKED) from None
        except (pikepdf.PdfError, ValueError, RuntimeError):
            raise MediaRefused(DAMAGED) from None


def open_checked(source: Path, limits: Limits) -> pikepdf.Pdf:
    """Open ``source`` read-only, refusing what must not be cleaned.

    Returns an open ``pikepdf.Pdf`` (use it as a context manager). Raises
    ``MediaRefused`` for an encrypted, unreadable or reconstructed file, one without
    pages, or one beyond ``limits.max_pages`` or ``limits.max_pdf_objects``.
    """
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError:
        raise MediaRefused(LOCKED) from None
    except (pikepdf.PdfError, ValueError, RuntimeError, OSError):
        raise MediaRefused(DAMAGED) from None
    try:
        _check(pdf, limits)
    except BaseException:
        pdf.close()
        raise
    return pdf


def _check(pdf: pikepdf.Pdf, limits: Limits) -> None:
    if pdf.is_encrypted:
        raise MediaRefused(LOCKED)
    if not isinstance(pdf.trailer.get("/Root"), Dictionary):
        raise MediaRefused(DAMAGED)
    if any(word in warning.lower() for warning in pdf.get_warnings() for word in RECONSTRUCTED):
        raise MediaRefused(DAMAGED)
    declared = pdf.trailer.get("/Size")
    if not isinstance(declared, int) or declared > limits.max_pdf_objects:
        raise MediaRefused(TOO_COMPLEX)
    try:
        pages = len(pdf.pages)
    except (pikepdf.PdfError, RuntimeError):
        raise MediaRefused(DAMAGED) from None
    if pages == 0:
        raise MediaRefused(EMPTY)
    if pages > limits.max_pages:
        raise MediaRefused(
            f"This PDF has more pages than Chorus accepts (the limit is {limits.max_pages})."
        )


def _updates(source: Path, pdf: pikepdf.Pdf) -> int:
    """How many incremental updates were appended to the file (each keeps history)."""
    return max(0, revisions(source) - 1 - int(pdf.is_linearized))


def save(pdf: pikepdf.Pdf, destination: Path, min_version: str) -> None:
    """Write ``pdf`` in full (one revision), with object streams and a random ``/ID``.

    pikepdf adds no XMP unless asked (``open_metadata`` is never called) and, with
    ``fix_metadata_version`` off, touches none. qpdf keeps the first ``/ID`` element set
    here and derives the second from the time of writing; neither depends on the input.
    """
    pdf.trailer.ID = Array([String(os.urandom(16)), String(os.urandom(16))])
    with destination.open("wb") as handle:
        pdf.save(
            handle,
            min_version=min_version,
            fix_metadata_version=False,
            preserve_pdfa=False,
            linearize=False,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            compress_streams=True,
            deterministic_id=False,
            static_id=False,
        )


register(PdfSanitizer())
