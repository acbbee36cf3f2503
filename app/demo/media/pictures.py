"""A camera photo with a face, and a PDF fanzine drawn page by page: both with planted
metadata in every slot Pillow and pikepdf can write (and a few written by hand)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pikepdf
from PIL import ExifTags, Image, ImageDraw, ImageFont

from app.demo.media.planted import (
    FACE,
    LATITUDE,
    LONGITUDE,
    TAKEN_AT,
    DemoFile,
    marker,
)

PHOTO_SIZE = (512, 384)
PAGE_SIZE = (420, 595)  # A5 at 72 dpi: a PDF point per pixel
INK = (40, 34, 70)
PAPER = (250, 244, 228)


def gradient(width: int, height: int, top: tuple[int, ...], bottom: tuple[int, ...]) -> Image.Image:
    """A vertical colour gradient, like a painted wall."""
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    start = np.array(top, dtype=np.float32)
    end = np.array(bottom, dtype=np.float32)
    rows = start + (end - start) * ramp
    pixels = np.broadcast_to(rows, (height, width, 3)).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels), "RGB")


def face_picture() -> Image.Image:
    """The vendored face photograph (a fresh copy, no metadata)."""
    with Image.open(FACE) as image:
        return image.convert("RGB")


def _scene() -> Image.Image:
    """A photograph of a person pinned to a workshop wall, under paper bunting."""
    scene = gradient(*PHOTO_SIZE, (238, 205, 160), (176, 120, 96))
    draw = ImageDraw.Draw(scene)
    colours = ((214, 80, 72), (68, 120, 190), (236, 190, 60))
    for index, x in enumerate(range(8, PHOTO_SIZE[0] - 32, 40)):
        sag = round(10 * (1 - ((x - 256) / 256) ** 2))
        draw.polygon(
            [(x, 12 + sag), (x + 32, 12 + sag), (x + 16, 48 + sag)], fill=colours[index % 3]
        )
    for index in range(4):
        y = 96 + index * 66
        draw.ellipse((412, y, 452, y + 40), fill=(250, 240, 220))
    scene.paste(face_picture(), (128, 80))
    return scene


def _exif_with_thumbnail(thumbnail: bytes) -> bytes:
    """EXIF naming a camera, its owner and a place (GPS), with an IFD1 thumbnail."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "DemoCam"
    exif[ExifTags.Base.Model] = marker("exif-model")
    exif[ExifTags.Base.ImageDescription] = marker("exif-description")
    exif[ExifTags.Base.Artist] = marker("exif-artist")
    exif[ExifTags.Base.Copyright] = marker("exif-copyright")
    exif[ExifTags.Base.Software] = marker("exif-software")
    exif[ExifTags.Base.DateTime] = TAKEN_AT
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = TAKEN_AT
    details[ExifTags.Base.UserComment] = b"ASCII\0\0\0" + marker("exif-usercomment").encode()
    details[ExifTags.Base.CameraOwnerName] = marker("exif-owner")
    details[ExifTags.Base.BodySerialNumber] = marker("exif-serial")
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = tuple(float(v) for v in LATITUDE)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = tuple(float(v) for v in LONGITUDE)
    gps[ExifTags.GPS.GPSProcessingMethod] = b"ASCII\0\0\0" + marker("exif-gps").encode()
    return _append_thumbnail(exif.tobytes(), thumbnail)


def _append_thumbnail(exif: bytes, thumbnail: bytes) -> bytes:
    """Link an IFD1 holding a JPEG thumbnail after Pillow's IFD0 (Pillow writes none)."""
    head, tiff = exif[:6], bytearray(exif[6:])
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd0,) = struct.unpack_from(order + "I", tiff, 4)
    (count,) = struct.unpack_from(order + "H", tiff, ifd0)
    if len(tiff) % 2:
        tiff += b"\0"
    ifd1 = len(tiff)
    struct.pack_into(order + "I", tiff, ifd0 + 2 + 12 * count, ifd1)
    data_at = ifd1 + 2 + 3 * 12 + 4
    tiff += struct.pack(order + "H", 3)
    tiff += struct.pack(order + "HHIHH", 0x0103, 3, 1, 6, 0)  # Compression: JPEG
    tiff += struct.pack(order + "HHII", 0x0201, 4, 1, data_at)  # JPEGInterchangeFormat
    tiff += struct.pack(order + "HHII", 0x0202, 4, 1, len(thumbnail))  # ...Length
    tiff += struct.pack(order + "I", 0) + thumbnail
    return head + bytes(tiff)


def _xmp() -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
        ' xmlns:exif="http://ns.adobe.com/exif/1.0/">'
        f"<dc:creator><rdf:Seq><rdf:li>{marker('xmp-creator')}</rdf:li></rdf:Seq></dc:creator>"
        f"<photoshop:City>{marker('xmp-city')}</photoshop:City>"
        f"<exif:GPSLatitude>{LATITUDE[0]},{LATITUDE[1]}.0N</exif:GPSLatitude>"
        f"<exif:GPSLongitude>{LONGITUDE[0]},{LONGITUDE[1]}.0E</exif:GPSLongitude>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def _iptc_segment() -> bytes:
    """An APP13 Photoshop segment with IPTC by-line, city and caption."""
    records = b"".join(
        b"\x1c\x02" + bytes([dataset]) + struct.pack(">H", len(value)) + value
        for dataset, value in (
            (80, marker("iptc-byline").encode()),
            (90, marker("iptc-city").encode()),
            (120, marker("iptc-caption").encode()),
        )
    )
    records += b"\0" * (len(records) % 2)
    block = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(records)) + records
    body = b"Photoshop 3.0\0" + block
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def _insert_after_app0(jpeg: bytes, segment: bytes) -> bytes:
    if jpeg[2:4] != b"\xff\xe0":
        return jpeg[:2] + segment + jpeg[2:]
    end = 4 + struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:end] + segment + jpeg[end:]


def dirty_jpeg(image: Image.Image, slot: str, *, quality: int = 88) -> bytes:
    """``image`` as a JPEG with EXIF (GPS, camera, owner, thumbnail), XMP, IPTC, a comment
    and data after the end of the image, each naming ``slot`` in its marker."""
    thumb = io.BytesIO()
    small = image.copy()
    small.thumbnail((160, 120))
    small.save(thumb, "JPEG", quality=70, comment=marker(f"{slot}-thumbnail-comment").encode())
    buffer = io.BytesIO()
    image.save(
        buffer,
        "JPEG",
        quality=quality,
        exif=_exif_with_thumbnail(thumb.getvalue()),
        xmp=_xmp(),
        comment=marker(f"{slot}-comment").encode(),
    )
    jpeg = _insert_after_app0(buffer.getvalue(), _iptc_segment())
    return jpeg + marker(f"{slot}-trailer").encode()


def photo() -> DemoFile:
    """A workshop photo with one face, straight from a (pretend) phone camera."""
    return DemoFile("IMG_20251114_184207.jpg", dirty_jpeg(_scene(), "photo"))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _pages() -> list[Image.Image]:
    """Three drawn pages: a cover with a paper boat, a page of words, a back cover."""
    width, height = PAGE_SIZE
    cover = gradient(width, height, (120, 170, 210), (30, 70, 120))
    draw = ImageDraw.Draw(cover)
    draw.text((30, 40), "Paper boats", font=_font(44), fill=PAPER)
    draw.text((32, 100), "a fanzine made together", font=_font(20), fill=PAPER)
    for row in range(6):
        y = 380 + row * 34
        for x in range(-20, width, 60):
            draw.arc((x, y, x + 60, y + 30), 0, 180, fill=(200, 225, 245), width=4)
    draw.polygon([(110, 330), (310, 330), (270, 380), (150, 380)], fill=PAPER)
    draw.polygon([(205, 200), (205, 320), (285, 320)], fill=(236, 190, 60))

    words = Image.new("RGB", PAGE_SIZE, PAPER)
    draw = ImageDraw.Draw(words)
    lines = [
        "We fold what we carry",
        "into paper boats,",
        "and let the river",
        "take them further",
        "than we could walk.",
        "",
        "Each boat is one of us.",
        "None of them sinks alone.",
    ]
    for index, line in enumerate(lines):
        draw.text((36, 60 + index * 40), line, font=_font(26), fill=INK)
    for index in range(4):
        x = 50 + index * 85
        draw.polygon([(x, 470), (x + 70, 470), (x + 56, 500), (x + 14, 500)], fill=(68, 120, 190))

    back = gradient(width, height, (236, 190, 60), (214, 80, 72))
    draw = ImageDraw.Draw(back)
    draw.text((40, 250), "Made together", font=_font(38), fill=INK)
    draw.text((40, 310), "by the demo group", font=_font(22), fill=INK)
    return [cover, words, back]


def fanzine_pdf() -> DemoFile:
    """A three-page PDF fanzine with the shelter named in its Info dictionary, XMP,
    an attached file, a note annotation and the comment and EXIF of its first page's
    JPEG."""
    pages = _pages()
    drawn = io.BytesIO()
    pages[0].save(drawn, "PDF", save_all=True, append_images=pages[1:], resolution=72.0)
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(drawn.getvalue())) as pdf:
        pdf.docinfo[pikepdf.Name.Title] = marker("pdf-info-title")
        pdf.docinfo[pikepdf.Name.Author] = marker("pdf-info-author")
        pdf.docinfo[pikepdf.Name.Subject] = marker("pdf-info-subject")
        pdf.docinfo[pikepdf.Name.Keywords] = marker("pdf-info-keywords")
        pdf.docinfo[pikepdf.Name.Creator] = marker("pdf-info-creator")
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            xmp["dc:creator"] = [marker("pdf-xmp-creator")]
            xmp["dc:description"] = marker("pdf-xmp-description")
            xmp["xmp:CreatorTool"] = marker("pdf-xmp-tool")
        pdf.attachments["notes.txt"] = pikepdf.AttachedFileSpec(
            pdf, marker("pdf-attachment").encode(), mime_type="text/plain"
        )
        first = pdf.pages[0]
        first.Annots = pdf.make_indirect(
            pikepdf.Array(
                [
                    pikepdf.Dictionary(
                        Type=pikepdf.Name.Annot,
                        Subtype=pikepdf.Name.Text,
                        Rect=[20, 20, 40, 40],
                        Contents=pikepdf.String(marker("pdf-annotation")),
                    )
                ]
            )
        )
        for image in first.get_images().values():
            image.write(dirty_jpeg(pages[0], "pdf-jpeg"), filter=pikepdf.Name.DCTDecode)
        pdf.save(out)
    return DemoFile("paper-boats-final-v3.pdf", out.getvalue())
