"""Cheap structural validation of a sniffed file: is it whole, and within the limits?

Each family is opened with the library that will clean it (Pillow and pillow-heif,
pikepdf, PyAV), with the demuxer forced to the sniffed format so FFmpeg never guesses.
ISO media files (ftyp) are settled here: with a video stream they are MP4 (or MOV for
the QuickTime brand), with sound only they are M4A.
"""

from __future__ import annotations

import functools
import struct
import warnings
from pathlib import Path

import av
import pikepdf
import pillow_heif
from av.stream import Disposition
from PIL import Image

from app.media.errors import MediaRefused
from app.media.limits import Limits
from app.media.types import DEMUXERS, Family, MediaType

IMAGE_DAMAGED = (
    "This image is damaged or incomplete; please export it again and upload the new copy."
)
IMAGE_TOO_LARGE = "This image is too large to process safely."
PDF_DAMAGED = "This PDF is damaged or incomplete; please export it again and upload the new copy."
PDF_LOCKED = "This PDF is locked with a password; please upload a copy without the password."
PDF_EMPTY = "This PDF has no pages."
PDF_TOO_COMPLEX = "This PDF is too complex to process safely."
RECORDING_DAMAGED = (
    "This recording is damaged or incomplete; please export it again and upload the new copy."
)
VIDEO_DAMAGED = (
    "This video is damaged or incomplete; please export it again and upload the new copy."
)
NO_SOUND = "This recording has no sound in it."
VIDEO_TOO_LARGE = "This video's picture is larger than Chorus accepts."

_PIL_FORMAT = {
    MediaType.JPEG: "JPEG",
    MediaType.PNG: "PNG",
    MediaType.WEBP: "WEBP",
    MediaType.HEIC: "HEIF",
}
_DAMAGED = {
    Family.IMAGE: IMAGE_DAMAGED,
    Family.PDF: PDF_DAMAGED,
    Family.AUDIO: RECORDING_DAMAGED,
    Family.VIDEO: VIDEO_DAMAGED,
}
_ISO_TYPES = frozenset({MediaType.HEIC, MediaType.MP4, MediaType.MOV})
_MAX_BOXES = 100_000


def validate(path: Path, media_type: MediaType, limits: Limits) -> MediaType:
    """Check that the file is whole and within ``limits``; return its final type.

    Raises ``MediaRefused`` for a damaged or truncated file, a decompression bomb, too
    many pages, too long a recording or too large a video picture.
    """
    family = media_type.family
    if media_type in _ISO_TYPES or (media_type is MediaType.M4A and _is_iso(path)):
        _check_iso_boxes(path, _DAMAGED[family])
    if family is Family.IMAGE:
        _validate_image(path, media_type, limits)
    elif family is Family.PDF:
        _validate_pdf(path, limits)
    elif family in (Family.AUDIO, Family.VIDEO):
        return _validate_av(path, media_type, limits)
    return media_type


@functools.cache
def _register_heif() -> None:
    pillow_heif.register_heif_opener()


def _validate_image(path: Path, media_type: MediaType, limits: Limits) -> None:
    """Pillow's ``verify``, then a real decode within the pixel limit."""
    _register_heif()
    formats = [_PIL_FORMAT[media_type]]
    previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, limits.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=formats) as image:
                _check_pixels(image.size, limits)
                image.verify()
            with Image.open(path, formats=formats) as image:
                if media_type is MediaType.JPEG:  # decodes every scan, 1/8 the pixels
                    image.draft(image.mode, (image.width // 8, image.height // 8))
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRefused(IMAGE_TOO_LARGE) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError):
        raise MediaRefused(IMAGE_DAMAGED) from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _check_pixels(size: tuple[int, int], limits: Limits) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise MediaRefused(IMAGE_DAMAGED)
    if width * height > limits.max_pixels:
        raise MediaRefused(IMAGE_TOO_LARGE)


def _validate_pdf(path: Path, limits: Limits) -> None:
    """The file ends with %%EOF, opens, has pages within the limit and few enough objects."""
    with path.open("rb") as handle:
        handle.seek(max(0, handle.seek(0, 2) - 1024))
        if b"%%EOF" not in handle.read():
            raise MediaRefused(PDF_DAMAGED)
    try:
        with pikepdf.open(path) as pdf:
            declared = pdf.trailer.get("/Size")
            if isinstance(declared, int) and declared > limits.max_pdf_objects:
                raise MediaRefused(PDF_TOO_COMPLEX)
            pages = len(pdf.pages)
            if pages == 0:
                raise MediaRefused(PDF_EMPTY)
            if pages > limits.max_pages:
                raise MediaRefused(
                    f"This PDF has more pages than Chorus accepts (the limit is "
                    f"{limits.max_pages})."
                )
            if len(pdf.objects) > limits.max_pdf_objects:
                raise MediaRefused(PDF_TOO_COMPLEX)
    except pikepdf.PasswordError:
        raise MediaRefused(PDF_LOCKED) from None
    except (pikepdf.PdfError, pikepdf.ForeignObjectError, ValueError, RuntimeError):
        raise MediaRefused(PDF_DAMAGED) from None


def _validate_av(path: Path, media_type: MediaType, limits: Limits) -> MediaType:
    """Open with the sniffed demuxer; settle MP4/MOV/M4A; check streams and limits."""
    iso = media_type in (MediaType.MP4, MediaType.MOV)
    demuxer = DEMUXERS.get(media_type) or ("mov" if _is_iso(path) else "aac")
    damaged = _DAMAGED[media_type.family]
    try:
        with av.open(str(path), format=demuxer, metadata_errors="ignore") as container:
            audio = len(container.streams.audio)
            pictures = [
                stream
                for stream in container.streams.video
                if not stream.disposition & Disposition.attached_pic
            ]
            duration = container.duration
    except (av.FFmpegError, OSError, ValueError, UnicodeError):
        raise MediaRefused(damaged) from None
    if iso and not pictures:
        media_type = MediaType.M4A
    if media_type.family is Family.AUDIO and audio == 0:
        raise MediaRefused(NO_SOUND)
    if not audio and not pictures:
        raise MediaRefused(damaged)
    if duration is not None and duration / av.time_base > limits.max_duration_seconds:
        raise MediaRefused(_too_long(media_type, limits.max_duration_seconds))
    for stream in pictures:
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > limits.max_video_pixels:
            raise MediaRefused(VIDEO_TOO_LARGE)
    return media_type


def _too_long(media_type: MediaType, seconds: float) -> str:
    noun = "video" if media_type.family is Family.VIDEO else "recording"
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size or unit == "second":
            amount = seconds / size
            limit = f"{amount:g} {unit}" + ("" if amount == 1 else "s")
            break
    return f"This {noun} is longer than Chorus accepts (the limit is {limit})."


def _is_iso(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(8)[4:8] == b"ftyp"


def _check_iso_boxes(path: Path, damaged: str) -> None:
    """Every top-level box must end within the file: a cut-off file fails here even
    when its index (moov) came first and the demuxer would open it."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        offset = 0
        for _ in range(_MAX_BOXES):
            if offset == size:
                return
            handle.seek(offset)
            header = handle.read(16)
            if len(header) < 8:
                break
            box_size = struct.unpack_from(">I", header)[0]
            if box_size == 0:  # the last box runs to the end of the file
                return
            if box_size == 1:
                if len(header) < 16:
                    break
                box_size = struct.unpack_from(">Q", header, 8)[0]
            if box_size < 8 or offset + box_size > size:
                break
            offset += box_size
    raise MediaRefused(damaged)
