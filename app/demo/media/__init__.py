"""Demo files for every kind of work, built on the spot with planted metadata.

Each builder returns a file as a careless upload would carry it: a camera photo with
GPS coordinates and names in its EXIF, XMP and comments; a PDF fanzine whose Info, XMP,
attachment, annotation and embedded JPEG name a secret shelter; an MP3 podcast and an
MP4 performance with tags saying the same; a script with an e-mail address and a phone
number in its text. Every planted string starts with ``MARKER``, so a byte search
shows whether any of it reached a published file. The face (a NASA photograph, public
domain) and the speech (espeak-ng) come from the two files vendored beside this module
(see README.md there).

No database, no Flask: the demo pipeline (``app.demo.works``) and the tests use these.
"""

from __future__ import annotations

from app.demo.media.pictures import fanzine_pdf, photo
from app.demo.media.planted import EMAIL, MARKER, PHONE, DemoFile, marker
from app.demo.media.sound import podcast, video
from app.demo.media.texts import script

__all__ = [
    "EMAIL",
    "MARKER",
    "PHONE",
    "DemoFile",
    "fanzine_pdf",
    "marker",
    "photo",
    "podcast",
    "script",
    "video",
]
