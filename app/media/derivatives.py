"""Renditions for the public gallery, made at publication from a sanitized file.

Pictures become a set of widths (``WIDTHS``, never upscaled) as WebP with a JPEG
fallback; PDF pages are rendered with PDFium and given the same widths; a video gets
one poster frame, decoded with PyAV, in the same widths. Audio and text give nothing.

Every rendition is built from bare pixels (``Image.frombytes``: no ``info`` of the
source can follow) and saved with explicit options only, then checked with the
sanitizers' own ``residual_metadata`` before it is moved into place. Pixels are sRGB
and carry no ICC profile (browsers assume sRGB). The source is only read.

Costs, on a 12 MP photo (2 cores): 0.5 s landscape (4000 px wide, so decoded at half
size by ``Image.draft``), 0.9 s portrait (3000 px wide: decoded whole). Half of it is
WebP encoding: ``method=4`` adds about 0.15-0.25 s over ``method=2`` for files 4-5 %
smaller, worth it for files served many times. The largest width is resized from the
full picture and the smaller ones from it. Progressive JPEG costs little at these
sizes (unlike at 12 MP, see ``sanitizers.images``). A PDF page (A4) takes about 0.7 s.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pypdfium2 as pdfium
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from app.media.av_remux import NOTHING_TO_KEEP, check_limits, damaged, is_picture, open_input
from app.media.errors import MediaFault, MediaRefused
from app.media.image_pixels import settle_alpha, to_srgb
from app.media.limits import DEFAULT_LIMITS
from app.media.pdf_raster import DAMAGED as PDF_DAMAGED
from app.media.pipeline import residual_metadata
from app.media.sanitizers.images import DAMAGED as IMAGE_DAMAGED
from app.media.sanitizers.images import TOO_LARGE
from app.media.types import Family, MediaType

WIDTHS: tuple[int, ...] = (320, 640, 1024, 1600)
MAX_PAGES = 60  # pages of a PDF given renditions; later pages get none
MAX_PAGE_PIXELS = 16_000_000  # a page larger than this at ~1600 px wide is rendered narrower
POSTER_SECONDS = 1.0
POSTER_FRACTION = 0.1  # of the duration, when that is sooner than POSTER_SECONDS
MAX_POSTER_PACKETS = 2000  # read no further looking for the poster frame
WEBP_QUALITY = 80
WEBP_METHOD = 4
JPEG_QUALITY = 82

_PIL_FORMAT = {MediaType.JPEG: "JPEG", MediaType.PNG: "PNG", MediaType.WEBP: "WEBP"}
# What Pillow raises for a file it cannot decode.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)
# Clockwise degrees to turn a picture upright -> the Pillow transposition doing it.
_TURNS = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True, slots=True)
class Derivative:
    """One rendition written by ``make_derivatives``."""

    path: Path  # the file written, inside out_dir
    media_type: MediaType  # MediaType.WEBP or MediaType.JPEG
    role: str  # "image" (a picture's rendition), "page" (a PDF page), "poster" (a video still)
    width: int
    height: int
    page: int = 0  # PDF page index, 0 otherwise


@dataclass(frozen=True, slots=True)
class _Picture:
    """Decoded pixels and the size they stand for (larger than ``image`` when a JPEG
    was decoded at reduced scale; ``box`` is then the region of ``image`` to use)."""

    image: Image.Image
    width: int
    height: int
    box: tuple[float, float, float, float] | None = None


def make_derivatives(
    source: Path, media_type: MediaType, out_dir: Path, *, widths: tuple[int, ...] = WIDTHS
) -> list[Derivative]:
    """Write the gallery renditions of the sanitized file ``source`` into ``out_dir``.

    Each rendition exists as WebP and as JPEG, at every width in ``widths`` below the
    picture's own, and at its own width when that is below the largest (never
    upscaled; at least one width). Files are named ``{role}-{page}-{width}.{ext}``.
    Returns them page by page, largest first, WebP before JPEG (empty for audio and
    text). Raises ``MediaRefused`` when ``source``
    cannot be read, ``MediaFault`` for any other failure; on failure no file of this
    call is left in ``out_dir``. ``ValueError`` for unusable ``widths``.
    """
    if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
        raise ValueError(f"widths must be positive integers, not {widths!r}")
    family = media_type.family
    if family in (Family.AUDIO, Family.TEXT):
        return []
    if media_type is MediaType.HEIC:
        raise MediaFault("HEIC is never published: sanitizing turns it into JPEG")
    written: list[Derivative] = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if family is Family.IMAGE:
            picture = _open_picture(source, media_type, max(widths))
            _render(picture, "image", 0, widths, out_dir, written)
        elif family is Family.PDF:
            _render_pdf(source, widths, out_dir, written)
        else:
            _render(_poster(source, media_type), "poster", 0, widths, out_dir, written)
    except BaseException as error:
        for derivative in written:
            derivative.path.unlink(missing_ok=True)
        if isinstance(error, MediaRefused | MediaFault) or not isinstance(error, Exception):
            raise
        raise MediaFault(f"renditions failed: {type(error).__name__}") from error
    return written


def target_widths(own: int, widths: tuple[int, ...]) -> list[int]:
    """The widths to render a picture ``own`` pixels wide at, smallest first."""
    return sorted({w for w in widths if w < own} | {min(own, max(widths))})


# --- rendering and writing -------------------------------------------------------------


def _render(
    picture: _Picture,
    role: str,
    page: int,
    widths: tuple[int, ...],
    out_dir: Path,
    written: list[Derivative],
) -> None:
    """Write both formats of ``picture`` at each of its target widths, largest first:
    the largest is resized from the full picture, the others from it (the costly step
    on a 12 MP picture is the first, so it is done once)."""
    base, box = settle_alpha(picture.image, keep_alpha=True), picture.box  # WebP keeps alpha
    for index, width in enumerate(sorted(target_widths(picture.width, widths), reverse=True)):
        height = max(1, round(width * picture.height / picture.width))
        resized = _resize(base, (width, height), box)
        if index == 0:
            base, box = resized, None
        flat = settle_alpha(resized, keep_alpha=False)  # JPEG: transparency over white
        written.append(_write(resized, MediaType.WEBP, role, page, out_dir))
        written.append(_write(flat, MediaType.JPEG, role, page, out_dir))


def _resize(
    image: Image.Image, size: tuple[int, int], box: tuple[float, float, float, float] | None
) -> Image.Image:
    """``image`` (or its ``box``) at ``size``, as a bare image carrying no ``info``."""
    if image.size != size or box is not None:
        image = image.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _write(
    image: Image.Image, media_type: MediaType, role: str, page: int, out_dir: Path
) -> Derivative:
    """Encode ``image`` next to its final name, check it, and move it into place."""
    final = out_dir / f"{role}-{page}-{image.width}{media_type.extension}"
    fd, partial_name = tempfile.mkstemp(
        prefix=".partial-", suffix=media_type.extension, dir=out_dir
    )
    os.close(fd)
    partial = Path(partial_name)
    try:
        if media_type is MediaType.WEBP:
            image.save(partial, format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
        else:
            image.save(
                partial,
                format="JPEG",
                quality=JPEG_QUALITY,
                subsampling="4:2:0",
                optimize=True,
                progressive=True,
            )
        residue = residual_metadata(partial, media_type)
        if residue:
            raise MediaFault("a rendition carries metadata: " + ", ".join(sorted(set(residue))))
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Derivative(final, media_type, role, image.width, image.height, page)


# --- pictures --------------------------------------------------------------------------


def _open_picture(source: Path, media_type: MediaType, largest: int) -> _Picture:
    """The image's pixels in sRGB (RGB or RGBA). A JPEG far larger than ``largest`` is
    decoded at 1/2, 1/4 or 1/8 scale, still at least ``largest`` wide."""
    limit = DEFAULT_LIMITS.max_pixels
    previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, limit
    try:
        image = Image.open(source, formats=[_PIL_FORMAT[media_type]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRefused(TOO_LARGE) from None
    except _DECODE_ERRORS:
        raise MediaRefused(IMAGE_DAMAGED) from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise MediaRefused(IMAGE_DAMAGED)
        if width * height > limit:
            raise MediaRefused(TOO_LARGE)
        box = None
        if media_type is MediaType.JPEG and width > largest:
            wanted = (largest, max(1, math.ceil(largest * height / width)))
            drafted = image.draft(None, wanted)
            if drafted is not None and image.size != (width, height):
                box = drafted[1]
        try:
            image.load()
            srgb, _notes = to_srgb(image, image.info.get("icc_profile"))
        except _DECODE_ERRORS:
            raise MediaRefused(IMAGE_DAMAGED) from None
        if srgb is image:
            srgb = image.copy()  # independent of the file, closed on leaving this block
    return _Picture(srgb, width, height, box)


# --- PDF pages -------------------------------------------------------------------------


def _render_pdf(
    source: Path, widths: tuple[int, ...], out_dir: Path, written: list[Derivative]
) -> None:
    """Render the first ``MAX_PAGES`` pages about ``max(widths)`` pixels wide, as
    ``pdf_raster`` does (annotations and form fields not drawn), and write them."""
    try:
        document = pdfium.PdfDocument(source)
    except pdfium.PdfiumError:
        raise MediaRefused(PDF_DAMAGED) from None
    try:
        for index in range(min(len(document), MAX_PAGES)):
            try:
                page = document[index]
            except pdfium.PdfiumError:
                raise MediaRefused(PDF_DAMAGED) from None
            try:
                picture = _render_page(page, max(widths))
            finally:
                page.close()
            _render(picture, "page", index, widths, out_dir, written)
    finally:
        document.close()


def _render_page(page: pdfium.PdfPage, width: int) -> _Picture:
    points_wide, points_high = page.get_size()
    area = points_wide * points_high
    if not (points_wide > 0 and points_high > 0 and math.isfinite(area)):
        raise MediaRefused(PDF_DAMAGED)
    scale = min(width / points_wide, math.sqrt(MAX_PAGE_PIXELS / area))
    try:
        bitmap = page.render(
            scale=scale, may_draw_forms=False, draw_annots=False, rev_byteorder=True
        )
    except pdfium.PdfiumError:
        raise MediaRefused(PDF_DAMAGED) from None
    try:
        pixels = np.ascontiguousarray(bitmap.to_numpy()[:, :, :3], dtype=np.uint8)
    finally:
        bitmap.close()
    image = Image.fromarray(pixels, "RGB")
    return _Picture(image, image.width, image.height)


# --- video posters ---------------------------------------------------------------------


def _poster(source: Path, media_type: MediaType) -> _Picture:
    """The poster frame, upright and at its display aspect ratio."""
    with open_input(source, media_type) as container:
        streams = [s for s in container.streams.video if is_picture(s)]
        if not streams:
            raise MediaRefused(NOTHING_TO_KEEP)
        stream = streams[0]
        check_limits(container, [stream], DEFAULT_LIMITS)
        frame = _poster_frame(container, stream, _poster_time(container, stream))
        if frame is None:
            raise MediaRefused(damaged(media_type))
        image = Image.fromarray(frame.to_ndarray(format="rgb24"), "RGB")
        rotation = -round(frame.rotation / 90) * 90 % 360
        aspect = stream.codec_context.sample_aspect_ratio
    if aspect and aspect > 0 and aspect != 1:
        wide = max(1, round(image.width * Fraction(aspect)))
        image = image.resize((wide, image.height), Image.Resampling.LANCZOS)
    if rotation:
        image = image.transpose(_TURNS[rotation])
    return _Picture(image, image.width, image.height)


def _poster_time(container: InputContainer, stream: VideoStream) -> float:
    """Seconds from the first frame: ``POSTER_SECONDS`` or ``POSTER_FRACTION`` of the
    duration, whichever is sooner; 0 (the first frame) when the duration is unknown."""
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / av.time_base
    else:
        return 0.0
    return max(0.0, min(POSTER_SECONDS, POSTER_FRACTION * seconds))


def _poster_frame(
    container: InputContainer, stream: VideoStream, seconds: float
) -> VideoFrame | None:
    """The frame on show ``seconds`` after the first decodable one: the last at or
    before that time (the last decoded if the video ends sooner; the first if frames
    carry no time). Decoding runs from the start, so at most about a second of video
    is decoded, and only the chosen frame is kept."""
    chosen: VideoFrame | None = None
    start: float | None = None
    try:
        for count, packet in enumerate(container.demux(stream)):
            if count >= MAX_POSTER_PACKETS:
                break
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue  # a damaged packet: look for the next decodable frame
            for frame in frames:
                if not isinstance(frame, VideoFrame):
                    continue
                if chosen is None:
                    chosen, start = frame, frame.time
                elif frame.time is not None and start is not None:
                    if frame.time - start > seconds:
                        return chosen
                    chosen = frame
                if start is None or seconds <= 0:
                    return chosen  # no time to go by, or the first frame was asked for
    except av.FFmpegError:
        pass  # the file ends early or breaks down: use what was decoded
    return chosen


__all__ = ["WIDTHS", "Derivative", "make_derivatives", "target_widths"]
