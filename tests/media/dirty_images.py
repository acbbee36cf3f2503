"""Builders of dirty images: every metadata slot Chorus must clear carries a planted
marker from ``tests.media.checkers.marker``. Written by hand (not with exiftool, which
is one of the checkers) so that what goes in is exactly known.

Also used by ``bench/images.py`` to build its 12 MP photo with full metadata.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageCms

from tests.media.checkers import marker

# TIFF field types
BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 1, 2, 3, 4, 5, 7
_UNIT = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1}

Value = bytes | int | Sequence[tuple[int, int]]


@dataclass(frozen=True)
class Entry:
    tag: int
    type: int
    value: Value


def _encode_value(entry: Entry) -> tuple[int, bytes]:
    if entry.type in (ASCII, UNDEFINED, BYTE):
        assert isinstance(entry.value, bytes)
        return len(entry.value), entry.value
    if entry.type in (SHORT, LONG):
        assert isinstance(entry.value, int)
        return 1, struct.pack(">H" if entry.type == SHORT else ">I", entry.value)
    assert isinstance(entry.value, Sequence)
    pairs = list(entry.value)
    return len(pairs), b"".join(struct.pack(">II", num, den) for num, den in pairs)


def _ifd_size(entries: Sequence[Entry]) -> int:
    size = 2 + 12 * len(entries) + 4
    for entry in entries:
        data = _encode_value(entry)[1]
        if len(data) > 4:
            size += len(data) + (len(data) & 1)
    return size


def _write_ifd(entries: Sequence[Entry], offset: int, next_ifd: int) -> bytes:
    entries = sorted(entries, key=lambda e: e.tag)
    head = struct.pack(">H", len(entries))
    data_offset = offset + 2 + 12 * len(entries) + 4
    data = b""
    for entry in entries:
        count, raw = _encode_value(entry)
        if len(raw) <= 4:
            field = raw.ljust(4, b"\0")
        else:
            field = struct.pack(">I", data_offset + len(data))
            data += raw + b"\0" * (len(raw) & 1)
        head += struct.pack(">HHI", entry.tag, entry.type, count) + field
    return head + struct.pack(">I", next_ifd) + data


def build_tiff(
    ifd0: Sequence[Entry],
    exif_ifd: Sequence[Entry] = (),
    gps_ifd: Sequence[Entry] = (),
    thumbnail: bytes | None = None,
) -> bytes:
    """A big-endian TIFF/EXIF block: IFD0 -> Exif IFD, GPS IFD; IFD1 with a JPEG
    thumbnail when given."""
    ifd0 = list(ifd0)
    if exif_ifd:
        ifd0.append(Entry(0x8769, LONG, 0))
    if gps_ifd:
        ifd0.append(Entry(0x8825, LONG, 0))
    offset0 = 8
    offset_exif = offset0 + _ifd_size(ifd0)
    offset_gps = offset_exif + (_ifd_size(exif_ifd) if exif_ifd else 0)
    offset_ifd1 = offset_gps + (_ifd_size(gps_ifd) if gps_ifd else 0)
    ifd1: list[Entry] = []
    if thumbnail is not None:
        ifd1 = [
            Entry(0x0103, SHORT, 6),  # Compression: JPEG
            Entry(0x0201, LONG, 0),
            Entry(0x0202, LONG, len(thumbnail)),
        ]
        offset_thumb = offset_ifd1 + _ifd_size(ifd1)
        ifd1[1] = Entry(0x0201, LONG, offset_thumb)
    ifd0 = [
        Entry(e.tag, e.type, offset_exif if e.tag == 0x8769 else offset_gps)
        if e.tag in (0x8769, 0x8825)
        else e
        for e in ifd0
    ]
    out = b"MM\x00*" + struct.pack(">I", offset0)
    out += _write_ifd(ifd0, offset0, offset_ifd1 if ifd1 else 0)
    if exif_ifd:
        out += _write_ifd(exif_ifd, offset_exif, 0)
    if gps_ifd:
        out += _write_ifd(gps_ifd, offset_gps, 0)
    if ifd1 and thumbnail is not None:
        out += _write_ifd(ifd1, offset_ifd1, 0) + thumbnail
    return out


def dirty_exif(*, orientation: int | None = 6, thumbnail: bool = True) -> bytes:
    """EXIF with Artist, ImageDescription, UserComment, MakerNote, GPS (with a
    processing-method marker), optionally Orientation and an IFD1 thumbnail that
    carries its own COM marker."""
    ifd0 = [
        Entry(0x010E, ASCII, marker("exif-description").encode() + b"\0"),
        Entry(0x013B, ASCII, marker("exif-artist").encode() + b"\0"),
        Entry(0x010F, ASCII, b"ChorusCam\0"),
    ]
    if orientation is not None:
        ifd0.append(Entry(0x0112, SHORT, orientation))
    exif_ifd = [
        Entry(0x9286, UNDEFINED, b"ASCII\0\0\0" + marker("exif-usercomment").encode()),
        Entry(0x927C, UNDEFINED, marker("exif-makernote").encode()),
    ]
    gps_ifd = [
        Entry(0x0000, BYTE, b"\x02\x03\x00\x00"),
        Entry(0x0001, ASCII, b"N\0"),
        Entry(0x0002, RATIONAL, [(48, 1), (51, 1), (2964, 100)]),
        Entry(0x0003, ASCII, b"E\0"),
        Entry(0x0004, RATIONAL, [(2, 1), (17, 1), (4008, 100)]),
        Entry(0x001B, UNDEFINED, b"ASCII\0\0\0" + marker("exif-gps").encode()),
    ]
    thumb = None
    if thumbnail:
        buffer = io.BytesIO()
        Image.new("RGB", (16, 12), (200, 40, 40)).save(
            buffer, "JPEG", quality=70, comment=marker("exif-thumbnail-com").encode()
        )
        thumb = buffer.getvalue()
    return build_tiff(ifd0, exif_ifd, gps_ifd, thumb)


def xmp_packet(name: str = "xmp") -> bytes:
    """An XMP packet with a creator marker and a GPS position."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:exif="http://ns.adobe.com/exif/1.0/">'
        f"<dc:creator><rdf:Seq><rdf:li>{marker(name)}</rdf:li></rdf:Seq></dc:creator>"
        "<exif:GPSLatitude>48,51.494N</exif:GPSLatitude>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def iptc_resource() -> bytes:
    """A Photoshop image-resource block (8BIM 0x0404) with IPTC caption, by-line, city."""

    def dataset(number: int, text: str) -> bytes:
        data = text.encode()
        return bytes([0x1C, 2, number]) + struct.pack(">H", len(data)) + data

    iptc = (
        dataset(120, marker("iptc-caption"))
        + dataset(80, marker("iptc-byline"))
        + dataset(90, marker("iptc-city"))
    )
    iptc += b"\0" * (len(iptc) & 1)
    return b"8BIM" + struct.pack(">HH", 0x0404, 0) + struct.pack(">I", len(iptc)) + iptc


def _mluc(text: str) -> bytes:
    encoded = text.encode("utf-16-be")
    return (
        b"mluc\0\0\0\0"
        + struct.pack(">II2s2sII", 1, 12, b"en", b"US", len(encoded), 28)
        + (encoded)
    )


def icc_profile(name: str = "icc", *, swap_red_blue: bool = False) -> bytes:
    """A valid RGB display profile with marked description and copyright. With
    ``swap_red_blue`` the red and blue primaries trade places: a non-sRGB profile in
    which stored (200, 30, 30) means what sRGB calls (30, 30, 200)."""
    base = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    (count,) = struct.unpack_from(">I", base, 128)
    tags: list[tuple[bytes, bytes]] = []
    for index in range(count):
        signature, offset, size = struct.unpack_from(">4sII", base, 132 + 12 * index)
        tags.append((signature, base[offset : offset + size]))
    replaced = {
        b"desc": _mluc(marker(f"{name}-description")),
        b"cprt": _mluc(marker(f"{name}-copyright")),
    }
    if swap_red_blue:
        lookup = dict(tags)
        replaced |= {b"rXYZ": lookup[b"bXYZ"], b"bXYZ": lookup[b"rXYZ"]}
    tags = [(sig, replaced.get(sig, data)) for sig, data in tags]
    table_end = 132 + 12 * len(tags)
    body, table = b"", b""
    for signature, data in tags:
        table += struct.pack(">4sII", signature, table_end + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    header = bytearray(base[:128])
    header[84:100] = b"\0" * 16  # profile ID (MD5): none
    profile = bytes(header) + struct.pack(">I", len(tags)) + table + body
    return struct.pack(">I", len(profile)) + profile[4:]


def jpeg_segment(code: int, payload: bytes) -> bytes:
    return bytes([0xFF, code]) + struct.pack(">H", len(payload) + 2) + payload


def asymmetric_image(size: tuple[int, int] = (80, 60)) -> Image.Image:
    """Grey picture with a red block in the top-left corner of the stored pixels."""
    image = Image.new("RGB", size, (128, 128, 128))
    image.paste((230, 20, 20), (0, 0, size[0] // 4, size[1] // 3))
    return image


def dirty_jpeg(image: Image.Image | None = None, *, quality: int = 92) -> bytes:
    """A JPEG with EXIF (Orientation 6, GPS, thumbnail, maker note), XMP, IPTC, an ICC
    profile, a comment, an unknown APP15 and a trailer, each with its own marker."""
    buffer = io.BytesIO()
    (image or asymmetric_image()).save(buffer, "JPEG", quality=quality)
    clean = buffer.getvalue()
    segments = (
        jpeg_segment(0xE1, b"Exif\0\0" + dirty_exif())
        + jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + xmp_packet())
        + jpeg_segment(0xE2, b"ICC_PROFILE\0\x01\x01" + icc_profile())
        + jpeg_segment(0xED, b"Photoshop 3.0\0" + iptc_resource())
        + jpeg_segment(0xEF, b"ChorusVendor\0" + marker("jpeg-app15").encode())
        + jpeg_segment(0xFE, marker("jpeg-comment").encode())
    )
    jfif_end = 2 + 2 + struct.unpack_from(">H", clean, 4)[0]
    trailer = b"\0\0" + marker("jpeg-trailer").encode()
    return clean[:jfif_end] + segments + clean[jfif_end:] + trailer


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def dirty_png(image: Image.Image | None = None, *, icc: bytes | None = None) -> bytes:
    """A PNG with tEXt, zTXt (compressed marker), iTXt (plain and compressed), XMP,
    eXIf, iCCP, tIME, a private chunk and a trailer after IEND."""
    buffer = io.BytesIO()
    (image or asymmetric_image()).save(buffer, "PNG")
    clean = buffer.getvalue()
    chunks = (
        png_chunk(b"iCCP", b"Profile\0\0" + zlib.compress(icc or icc_profile("png-icc")))
        + png_chunk(b"tEXt", b"Author\0" + marker("png-text").encode())
        + png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(marker("png-ztxt").encode()))
        + png_chunk(b"iTXt", b"Description\0\0\0en\0\0" + marker("png-itxt").encode())
        + png_chunk(
            b"iTXt", b"Title\0\x01\0\0\0" + zlib.compress(marker("png-itxt-compressed").encode())
        )
        + png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp_packet("png-xmp"))
        + png_chunk(b"eXIf", dirty_exif(orientation=None, thumbnail=False))
        + png_chunk(b"tIME", struct.pack(">HBBBBB", 2024, 5, 17, 9, 30, 0))
        + png_chunk(b"prVt", marker("png-private").encode())
    )
    ihdr_end = 8 + 25
    return clean[:ihdr_end] + chunks + clean[ihdr_end:] + marker("png-trailer").encode()


def dirty_webp(image: Image.Image | None = None, *, lossless: bool = False) -> bytes:
    """A WebP with EXIF, XMP and ICCP chunks, an unknown chunk and a trailer."""
    buffer = io.BytesIO()
    (image or asymmetric_image()).save(
        buffer,
        "WEBP",
        lossless=lossless,
        quality=90,
        exif=dirty_exif(orientation=None),
        xmp=xmp_packet("webp-xmp"),
        icc_profile=icc_profile("webp-icc"),
    )
    data = buffer.getvalue()
    payload = marker("webp-chunk").encode()
    extra = b"CHRM" + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)
    riff = data[8:] + extra
    return b"RIFF" + struct.pack("<I", len(riff)) + riff + marker("webp-trailer").encode()


def dirty_heic(image: Image.Image | None = None, *, orientation: int | None = None) -> bytes:
    """A HEIC with EXIF (incl. GPS), XMP and an ICC profile. pillow-heif turns an EXIF
    orientation into the container's own rotation (irot), as phones do."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    (image or asymmetric_image()).save(
        buffer,
        "HEIF",
        quality=90,
        exif=b"Exif\0\0" + dirty_exif(orientation=orientation, thumbnail=False),
        xmp=xmp_packet("heic-xmp"),
        icc_profile=icc_profile("heic-icc"),
    )
    return buffer.getvalue()
