"""PDF pages as pixels: the flatten mode, and face detection on pages.

Flattening renders every page with PDFium into fresh RGB pixels and builds a new PDF
of one JPEG per page, so nothing but what a reader sees survives: no text layer (white
or invisible text, text under an image), no fonts, no hidden layers, no vector objects
hiding behind others. Annotations and form fields are not drawn; they are not part of
the published page.

Face boxes go into the report in PDF points (1/72 inch) from the top-left corner of the
page as displayed, whatever the resolution the page was rendered at.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from numpy.typing import NDArray
from pikepdf import Array, Dictionary, Name
from PIL import Image

from app.media.errors import MediaFault, MediaRefused
from app.media.pdf_jpeg import strip_jpeg
from app.media.report import Face, Report

FLATTEN_DPI = 150
SCAN_DPI = 100
JPEG_QUALITY = 85
MAX_RENDER_PIXELS = 40_000_000  # a page larger than this at FLATTEN_DPI is rendered coarser
DAMAGED = "This PDF is damaged or incomplete; please export it again and upload the new copy."
NOT_MASKED = (
    "Faces were found on PDF pages but not masked: masking needs the pages flattened into images."
)

Pixels = NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """One page as RGB pixels (height x width x 3) and its displayed size in points."""

    index: int
    pixels: Pixels
    width: float
    height: float

    @property
    def scale(self) -> float:
        """Pixels per point."""
        return float(self.pixels.shape[1]) / self.width


def render_pages(
    source: Path, dpi: int, *, only_with_images: bool = False, expected: int | None = None
) -> Iterator[RenderedPage]:
    """Render each page (rotation and crop box applied, annotations not drawn).

    Raises ``MediaRefused`` when PDFium cannot read the file or a page, a page has no
    area, or PDFium counts other than ``expected`` pages (a damaged page tree).
    """
    try:
        document = pdfium.PdfDocument(source)
    except pdfium.PdfiumError:
        raise MediaRefused(DAMAGED) from None
    try:
        if expected is not None and len(document) != expected:
            raise MediaRefused(DAMAGED)
        for index in range(len(document)):
            try:
                page = document[index]
            except pdfium.PdfiumError:
                raise MediaRefused(DAMAGED) from None
            try:
                if only_with_images and not _has_images(page):
                    continue
                yield _render(page, index, dpi)
            finally:
                page.close()
    finally:
        document.close()


def _has_images(page: pdfium.PdfPage) -> bool:
    images = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])
    return next(iter(images), None) is not None


def _render(page: pdfium.PdfPage, index: int, dpi: int) -> RenderedPage:
    width, height = page.get_size()
    if not (width > 0 and height > 0 and math.isfinite(width * height)):
        raise MediaRefused(DAMAGED)
    scale = min(dpi / 72, math.sqrt(MAX_RENDER_PIXELS / (width * height)))
    try:
        bitmap = page.render(
            scale=scale, may_draw_forms=False, draw_annots=False, rev_byteorder=True
        )
    except pdfium.PdfiumError:
        raise MediaRefused(DAMAGED) from None
    try:
        pixels = np.array(bitmap.to_numpy()[:, :, :3], dtype=np.uint8)
    finally:
        bitmap.close()
    return RenderedPage(index=index, pixels=pixels, width=width, height=height)


def flatten(
    source: Path, pages: int, report: Report, *, detect_faces: bool, mask_faces: bool
) -> pikepdf.Pdf:
    """A new PDF of one JPEG per page of ``source`` (``pages`` of them).

    Faces are detected on every page when either flag is set, and masked when
    ``mask_faces`` is. The caller saves and closes the returned document. Raises
    ``MediaRefused`` for a file PDFium cannot read and ``MediaFault`` when the face
    detector is unavailable.
    """
    detect = _face_detector() if detect_faces or mask_faces else None
    if mask_faces:
        report.anonymised["faces_masked"] = 0
    out = pikepdf.new()
    try:
        for page in render_pages(source, FLATTEN_DPI, expected=pages):
            pixels = page.pixels
            if detect is not None:
                pixels = _faces_on_page(page, detect, mask_faces, report)
            _add_image_page(out, page, _encode_jpeg(pixels))
    except BaseException:
        out.close()
        raise
    report.anonymised["pdf_flattened"] = True
    report.remove("pdf.text_layer", len(out.pages))
    return out


def report_faces(source: Path, report: Report) -> None:
    """Detect faces on the pages that show images and report them, changing nothing.

    Pages drawn without any image (text, vector drawings) are not scanned. Raises
    ``MediaFault`` when the face detector is unavailable.
    """
    detect = _face_detector()
    found = 0
    for page in render_pages(source, SCAN_DPI, only_with_images=True):
        for box in detect(page.pixels):
            report.faces.append(_face(page, box, masked=False))
            found += 1
    if found:
        report.note(NOT_MASKED)


def _faces_on_page(
    page: RenderedPage, detect: Callable[..., Any], mask: bool, report: Report
) -> Pixels:
    """Report the faces on a rendered page; return its pixels, masked if asked."""
    boxes = detect(page.pixels)
    report.faces.extend(_face(page, box, masked=mask) for box in boxes)
    if not boxes or not mask:
        return page.pixels
    from app.media.anonymise import mask_regions
    from app.media.detectors.faces import masking_boxes

    report.anonymised["faces_masked"] += len(boxes)
    height, width = page.pixels.shape[:2]
    grown = masking_boxes(boxes, width, height)  # enlarged to cover hair and ears
    masked: Pixels = mask_regions(page.pixels, grown, method="pixelate")
    return masked


def _face(page: RenderedPage, box: Any, *, masked: bool) -> Face:
    def points(value: float) -> int:
        return round(value / page.scale)

    return Face(
        box=(points(box.x), points(box.y), points(box.w), points(box.h)),
        score=round(float(box.score), 4),
        page=page.index,
        masked=masked,
    )


def _face_detector() -> Callable[..., Any]:
    try:
        from app.media.detectors.faces import detect_faces
    except ImportError as error:
        raise MediaFault("the face detector is not available") from error
    return detect_faces


def _encode_jpeg(pixels: Pixels) -> bytes:
    """Baseline JPEG from bare pixels: no EXIF, ICC, comment or JFIF segment."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(
        buffer, format="JPEG", quality=JPEG_QUALITY, exif=b"", icc_profile=None
    )
    return strip_jpeg(buffer.getvalue()).data


def _add_image_page(out: pikepdf.Pdf, page: RenderedPage, jpeg: bytes) -> None:
    height, width = page.pixels.shape[:2]
    image = out.make_stream(
        jpeg,
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=width,
        Height=height,
        ColorSpace=Name.DeviceRGB,
        BitsPerComponent=8,
        Filter=Name.DCTDecode,
    )
    draw = f"q {page.width:.4f} 0 0 {page.height:.4f} 0 0 cm /Im0 Do Q".encode()
    new_page = Dictionary(
        Type=Name.Page,
        MediaBox=Array([0, 0, round(page.width, 4), round(page.height, 4)]),
        Resources=Dictionary(XObject=Dictionary(Im0=image)),
        Contents=out.make_stream(draw),
    )
    out.pages.append(pikepdf.Page(out.make_indirect(new_page)))
