"""Binary signatures: which format a file's first bytes announce, read with bounded,
seeking reads only. Used by ``app.media.sniff``; returns either an accepted
``MediaType`` (provisional for ISO media files, see ``app.media.validate``), a refusal
sentence for a format Chorus knows and refuses, or ``None`` when the bytes name no
binary format (the file may then be text).
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Callable
from typing import BinaryIO

from app.media.types import MediaType

UNKNOWN = (
    "Chorus does not accept this kind of file; it takes JPEG, PNG, WebP or HEIC images, "
    "PDFs, MP3, M4A, WAV, FLAC or Ogg recordings, MP4, MOV or WebM videos, "
    "and plain or Markdown text."
)
DAMAGED = "This file is damaged or incomplete; please export it again and upload the new copy."
ARCHIVE = (
    "Compressed archives (such as ZIP, RAR or 7z) are not accepted; "
    "please upload each file on its own."
)
OFFICE = (
    "Word and other office documents are not accepted; please save it as a PDF and upload that."
)
EBOOK = "E-books (EPUB) are not accepted; please save it as a PDF and upload that."
PROGRAM = (
    "Programs and scripts are not accepted; "
    "please upload an image, a PDF, a recording, a video or a text."
)
GIF = "GIF images are not accepted; please upload a PNG or JPEG."
TIFF = "TIFF images are not accepted; please upload a PNG or JPEG."
BMP = "BMP images are not accepted; please upload a PNG or JPEG."
AVIF = "AVIF images are not accepted; please upload a PNG or JPEG."
OTHER_VIDEO = "This kind of video is not accepted; please upload an MP4, MOV or WebM video."

HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
AVIF_BRANDS = frozenset({b"avif", b"avis"})
ISO_MEDIA_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"mp71"}
    | {b"avc1", b"M4A ", b"M4B ", b"M4V ", b"M4VH", b"M4VP", b"qt  ", b"dash", b"f4v "}
    | {b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"mmp4", b"MSNV", b"XAVC"}
)
QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})


class Reader:
    """Bounded reads at any offset of an open binary file."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self.handle = handle
        self.size = size

    def read_at(self, offset: int, count: int) -> bytes:
        """Up to ``count`` bytes from ``offset`` (fewer at the end of the file)."""
        if offset < 0 or offset >= self.size:
            return b""
        self.handle.seek(offset)
        return self.handle.read(min(count, self.size - offset))


def decode_utf8(data: bytes, *, final: bool) -> str:
    """Strict UTF-8 without a leading byte-order mark; ``final=False`` tolerates a
    character cut at the end of ``data``."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    return decoder.decode(data, final=final)


def identify_binary(reader: Reader, head: bytes) -> MediaType | str | None:
    """The accepted type, a refusal sentence, or ``None`` (no binary signature)."""
    for check in _CHECKS:
        found = check(reader, head)
        if found is not None:
            return found
    return None


def _images(reader: Reader, head: bytes) -> MediaType | str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG if head[12:16] == b"IHDR" else DAMAGED
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return TIFF
    if head.startswith(b"BM") and len(head) >= 18:
        header_size = struct.unpack_from("<I", head, 14)[0]
        if header_size in (12, 16, 40, 52, 56, 64, 108, 124):
            return BMP
    return None


def _riff(reader: Reader, head: bytes) -> MediaType | str | None:
    if not head.startswith(b"RIFF"):
        return None
    kind = head[8:12]
    if kind == b"WEBP":
        return MediaType.WEBP if head[12:16] in (b"VP8 ", b"VP8L", b"VP8X") else DAMAGED
    if kind == b"WAVE":
        return MediaType.WAV
    if kind == b"AVI ":
        return OTHER_VIDEO
    return UNKNOWN


def _iso_media(reader: Reader, head: bytes) -> MediaType | str | None:
    """ISO base media (ftyp): HEIC, or MP4/MOV until streams are probed; AVIF refused."""
    if head[4:8] != b"ftyp":
        return MediaType.MOV if head[4:8] in QUICKTIME_ATOMS else None
    box_size = struct.unpack_from(">I", head)[0]
    if box_size < 16 or box_size > len(head):
        return DAMAGED
    major = head[8:12]
    brands = {major} | {head[i : i + 4] for i in range(16, box_size - 3, 4)}
    if brands & AVIF_BRANDS:
        return AVIF
    if major in HEIF_BRANDS or brands & (HEIF_BRANDS - {b"mif1", b"msf1"}):
        return MediaType.HEIC
    if major == b"qt  ":
        return MediaType.MOV
    if major in ISO_MEDIA_BRANDS or brands & ISO_MEDIA_BRANDS:
        return MediaType.MP4
    return UNKNOWN


def _sound(reader: Reader, head: bytes) -> MediaType | str | None:
    if head.startswith(b"fLaC"):
        return MediaType.FLAC
    if head.startswith(b"OggS"):
        return _ogg(head)
    if head.startswith(b"ID3"):
        return _after_id3(reader, head)
    if mpeg_frames(head):
        return MediaType.MP3
    if adts_frames(head):
        return MediaType.M4A
    return None


def _ogg(head: bytes) -> MediaType | str:
    if len(head) < 28:
        return DAMAGED
    packet = head[27 + head[26] :]
    if packet.startswith((b"\x01vorbis", b"OpusHead")):
        return MediaType.OGG
    if packet.startswith((b"\x80theora", b"\x80kate", b"fishead")):
        return OTHER_VIDEO
    return UNKNOWN


def _after_id3(reader: Reader, head: bytes) -> MediaType | str:
    """Skip ID3v2 tags (cover art can make them megabytes long) and look at the audio."""
    offset = 0
    for _ in range(4):
        tag = reader.read_at(offset, 10)
        if not tag.startswith(b"ID3"):
            break
        if len(tag) < 10 or tag[3] not in (2, 3, 4) or any(b & 0x80 for b in tag[6:10]):
            return DAMAGED
        length = (tag[6] << 21) | (tag[7] << 14) | (tag[8] << 7) | tag[9]
        offset += 10 + length + (10 if tag[5] & 0x10 else 0)
    window = reader.read_at(offset, 16384)
    audio = window.lstrip(b"\x00")
    if audio.startswith(b"fLaC"):
        return MediaType.FLAC
    if mpeg_frames(audio):
        return MediaType.MP3
    if adts_frames(audio):
        return MediaType.M4A
    return DAMAGED


_MPEG_BITRATES = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2
    0: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2.5
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame_length(header: bytes) -> int | None:
    """Length of the MPEG audio Layer III frame starting with ``header``, or ``None``."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    if header[3] & 3 == 2:  # reserved emphasis
        return None
    bitrate = _MPEG_BITRATES[version][bitrate_index] * 1000
    rate = _MPEG_RATES[version][rate_index]
    return (144 if version == 3 else 72) * bitrate // rate + ((header[2] >> 1) & 1)


def mpeg_frames(data: bytes) -> bool:
    """Two consecutive, consistent MP3 frame headers at the start of ``data``."""
    length = _mpeg_frame_length(data[:4])
    if length is None:
        return False
    second = data[length : length + 4]
    return (
        _mpeg_frame_length(second) is not None
        and second[1] == data[1]
        and second[2] & 0x0C == data[2] & 0x0C
    )


def _adts_frame_length(header: bytes) -> int | None:
    if len(header) < 7 or header[0] != 0xFF or header[1] & 0xF6 != 0xF0:
        return None
    if (header[2] >> 2) & 0x0F > 12:
        return None
    length = ((header[3] & 3) << 11) | (header[4] << 3) | (header[5] >> 5)
    return length if length >= 7 else None


def adts_frames(data: bytes) -> bool:
    """Two consecutive ADTS (raw AAC) frame headers at the start of ``data``."""
    length = _adts_frame_length(data[:7])
    return length is not None and _adts_frame_length(data[length : length + 7]) is not None


def _ebml(reader: Reader, head: bytes) -> MediaType | str | None:
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    doc_type = ebml_doc_type(head)
    if doc_type == b"webm":
        return MediaType.WEBM
    if doc_type == b"matroska":
        return OTHER_VIDEO
    return UNKNOWN if doc_type is not None else DAMAGED


def _vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at ``pos``: (value, width), or ``None``."""
    if pos >= len(data) or data[pos] == 0:
        return None
    width = 9 - data[pos].bit_length()
    if pos + width > len(data):
        return None
    value = int.from_bytes(data[pos : pos + width], "big")
    if not keep_marker:
        value &= (1 << (7 * width)) - 1
    return value, width


def ebml_doc_type(head: bytes) -> bytes | None:
    """The DocType of the EBML header at the start of ``head`` ("webm", "matroska")."""
    size = _vint(head, 4, keep_marker=False)
    if size is None:
        return None
    pos = 4 + size[1]
    end = min(len(head), pos + size[0])
    while pos < end:
        element = _vint(head, pos, keep_marker=True)
        length = element and _vint(head, pos + element[1], keep_marker=False)
        if element is None or not length:
            return None
        pos += element[1] + length[1]
        if element[0] == 0x4282:
            return head[pos : pos + length[0]].rstrip(b"\x00")
        pos += length[0]
    return None


def _refused(reader: Reader, head: bytes) -> str | None:
    """Archives, office documents and programs."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        if b"mimetypeapplication/epub+zip" in head:
            return EBOOK
        if b"[Content_Types].xml" in head or b"mimetypeapplication/vnd.oasis" in head:
            return OFFICE
        return ARCHIVE
    if head.startswith(_ARCHIVE_MAGIC) or head[257:262] == b"ustar":
        return ARCHIVE
    if head.startswith(b"BZh") and head[4:10] == b"1AY&SY":
        return ARCHIVE
    if head.startswith(_PROGRAM_MAGIC) or (head.startswith(b"MZ") and b"\x00" in head[:64]):
        return PROGRAM
    if head.startswith(b"#!") and head[2:].lstrip(b" \t").startswith(b"/"):
        return PROGRAM
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # old .doc/.xls/.ppt
        return OFFICE
    return None


_ARCHIVE_MAGIC = (
    b"\x1f\x8b",  # gzip
    b"\x1f\x9d",  # compress
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",  # zstd
    b"\x04\x22\x4d\x18",  # lz4
    b"LZIP\x01",
    b"MSCF\x00\x00\x00\x00",  # cabinet
)
_PROGRAM_MAGIC = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary or Java class
    b"\x00asm",  # WebAssembly
)

_CHECKS: tuple[Callable[[Reader, bytes], MediaType | str | None], ...] = (
    _refused,
    _images,
    _riff,
    _iso_media,
    _ebml,
    _sound,
)


def has_zip_directory(reader: Reader, tail_offset: int, tail: bytes) -> bool:
    """Whether ``tail`` (read at ``tail_offset``) ends a ZIP archive: an end-of-central-
    directory record whose central directory really starts where the record says."""
    at = tail.rfind(b"PK\x05\x06")
    while at >= 0:
        if at + 22 <= len(tail) and _directory_found(reader, tail_offset + at, tail, at):
            return True
        at = tail.rfind(b"PK\x05\x06", 0, at)
    return False


def _directory_found(reader: Reader, record: int, tail: bytes, at: int) -> bool:
    directory_size = struct.unpack_from("<I", tail, at + 12)[0]
    if directory_size == 0xFFFFFFFF:  # ZIP64: a locator sits just before the record
        return reader.read_at(record - 20, 4) == b"PK\x06\x07"
    if 0 < directory_size <= record:
        return reader.read_at(record - directory_size, 4) == b"PK\x01\x02"
    return False
