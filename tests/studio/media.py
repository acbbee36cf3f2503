"""Test files for the studio: built here, offline, each carrying something to remove
or find. Markers are built at run time so no source line holds them."""

from __future__ import annotations

import io
import wave
import zipfile

import numpy as np
from PIL import ExifTags, Image

from tests.media.face_images import face_crop, noisy_background

MARKER = "-".join(["planted", "marker", "5c1"])
EMAIL = "amira" + "@" + "example.org"


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = MARKER
    exif[ExifTags.Base.Make] = "MarkerCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (50.0, 51.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 21.0, 3.0)
    return exif


def gps_jpeg(size: tuple[int, int] = (320, 240)) -> bytes:
    """A JPEG with an EXIF block holding a GPS position and a marker description."""
    picture = Image.fromarray(noisy_background(*size, seed=3))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90, exif=_exif().tobytes())
    return buffer.getvalue()


def face_jpeg(faces: int = 1) -> bytes:
    """A 640 x 480 JPEG with ``faces`` faces and the same EXIF block."""
    picture = Image.fromarray(noisy_background(640, 480))
    for index in range(faces):
        picture.paste(face_crop(120), (40 + index * 200, 120))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=92, exif=_exif().tobytes())
    return buffer.getvalue()


def noise_wav(seconds: float = 1.0, rate: int = 16_000) -> bytes:
    """Quiet noise: no speech for the detector to hear."""
    rng = np.random.default_rng(7)
    samples = (rng.normal(0, 300, int(seconds * rate))).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())
    return buffer.getvalue()


def markdown_script() -> bytes:
    return (
        "# Our voices\n\nWe walked a long way together.\n\n"
        f"Write to us at {EMAIL} if you want to help.\n"
    ).encode()


def svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inside.txt", MARKER)
    return buffer.getvalue()


def webvtt() -> bytes:
    return b"\xef\xbb\xbfWEBVTT\r\n\r\n00:00.000 --> 00:02.000\r\nWe walked together.\r\n"
