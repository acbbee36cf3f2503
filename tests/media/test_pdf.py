"""PDF sanitizer: a dirty PDF with a planted marker in every slot we can reach goes in,
and the output is read back with exiftool, a byte search of raw and inflated streams,
and pikepdf. Hostile and broken PDFs are refused with one plain sentence."""

from __future__ import annotations

import importlib.util
import io
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String
from PIL import Image

from app.media.base import Options, sanitizer_for
from app.media.errors import MediaRefused
from app.media.limits import Limits
from app.media.pdf_jpeg import strip_jpeg
from app.media.report import Report
from app.media.sanitizers.pdf import PdfSanitizer
from app.media.types import MediaType
from tests.media import checkers
from tests.media.checkers import marker

PAGE_SIZES = [(612.0, 792.0), (420.0, 595.0)]
# Every marker the dirty PDF carries, one per slot.
PLANTED = [
    *("exif-make", "exif-artist", "gps-method", "jpeg-com", "jpeg-xmp", "iptc-by"),
    *("jpeg-trailer", "image-xmp", "form-xmp", "form-pieceinfo", "layer-name", "icc-desc"),
    *("white-text", "hidden-layer-text", "actual-text", "page-xmp", "page-pieceinfo"),
    *("page-aa-js", "page-af", "note-contents", "note-author", "link-uri", "form-field-value"),
    *("catalog-xmp", "attachment-key", "attachment-data", "attachment", "doc-js", "af-only"),
    *("open-action-js", "catalog-aa-js", "lang", "alt-text", "bookmark", "info-author"),
    *("info-creator", "info-producer", "info-title", "update-author"),
]
ALL_MARKERS = sorted(marker(name) for name in PLANTED)
# Drawn on the page (white, or in a hidden layer): content, not metadata. It survives
# the allow-list rewrite, as any page text does, and only flattening removes it.
CONTENT_MARKERS = [marker("white-text"), marker("hidden-layer-text")]
# Catalog and page keys that must not survive (XMP anywhere is checked separately).
DROPPED_CATALOG = ["/Names", "/AF", "/OpenAction", "/AA", "/AcroForm", "/Outlines"]
DROPPED_CATALOG += ["/OCProperties", "/StructTreeRoot", "/MarkInfo", "/Metadata", "/Lang"]
DROPPED_PAGE = ["/Annots", "/AA", "/Metadata", "/PieceInfo", "/LastModified", "/AF"]


# --- building the dirty PDF -------------------------------------------------------


def _segment(code: int, payload: bytes) -> bytes:
    return bytes([0xFF, code]) + struct.pack(">H", len(payload) + 2) + payload


def dirty_jpeg() -> bytes:
    """A small photo with EXIF (incl. GPS), XMP, Photoshop/IPTC, a COM and a trailer."""
    y, x = np.mgrid[0:48, 0:64]
    pixels = np.stack([x * 4, y * 5, (x + y) * 2], axis=-1).astype(np.uint8)
    exif = Image.Exif()
    exif[0x010F] = marker("exif-make")
    exif[0x013B] = marker("exif-artist")
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 0.0), 0x1B: marker("gps-method")})
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(
        buffer, "JPEG", quality=90, exif=exif.tobytes(), comment=marker("jpeg-com").encode()
    )
    data = buffer.getvalue()
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + marker("jpeg-xmp").encode()
    by_line = marker("iptc-by").encode()
    record = b"\x1c\x02\x50" + struct.pack(">H", len(by_line)) + by_line
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + struct.pack(">I", len(record)) + record
    extra = _segment(0xE1, xmp + b"</x:xmpmeta>") + _segment(0xED, iptc)
    return data[:2] + extra + data[2:] + marker("jpeg-trailer").encode()


def _js(pdf: pikepdf.Pdf, name: str) -> pikepdf.Object:
    return pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String(f"app.alert('{name}')")))


def _filespec(pdf: pikepdf.Pdf, name: str) -> pikepdf.Object:
    data = pdf.make_stream(f"attached {marker(name)}".encode(), Type=Name.EmbeddedFile)
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Filespec,
            F=String(f"{marker(name)}.txt"),
            UF=String(f"{marker(name)}.txt"),
            EF=Dictionary(F=data),
        )
    )


def _xmp(pdf: pikepdf.Pdf, name: str) -> pikepdf.Object:
    body = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{marker(name)}</dc:creator>'
    return pdf.make_stream((body + "</x:xmpmeta>").encode(), Type=Name.Metadata, Subtype=Name.XML)


def _first_page(pdf: pikepdf.Pdf, jpeg: bytes) -> None:
    page = pdf.pages[0].obj
    image = pdf.make_stream(
        jpeg,
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=64,
        Height=48,
        ColorSpace=Name.DeviceRGB,
        BitsPerComponent=8,
        Filter=Name.DCTDecode,
        Metadata=_xmp(pdf, "image-xmp"),
    )
    form = pdf.make_stream(
        b"0 0 1 rg 0 0 10 10 re f",
        Type=Name.XObject,
        Subtype=Name.Form,
        BBox=Array([0, 0, 10, 10]),
        Metadata=_xmp(pdf, "form-xmp"),
        PieceInfo=Dictionary(App=Dictionary(Private=String(marker("form-pieceinfo")))),
    )
    ocg = pdf.make_indirect(Dictionary(Type=Name.OCG, Name=String(marker("layer-name"))))
    pdf.Root.OCProperties = Dictionary(
        OCGs=Array([ocg]), D=Dictionary(OFF=Array([ocg]), Order=Array([ocg]))
    )
    icc = pdf.make_stream(b"fake profile " + marker("icc-desc").encode(), N=3)
    page.Resources = Dictionary(
        XObject=Dictionary(Im0=image, Fm0=form),
        Font=Dictionary(F1=Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)),
        Properties=Dictionary(oc1=ocg),
        ColorSpace=Dictionary(CS0=Array([Name.ICCBased, icc])),
    )
    page.Contents = pdf.make_stream(
        b"q 256 0 0 192 72 500 cm /Im0 Do Q q /Fm0 Do Q\n"
        b"BT /F1 24 Tf 72 450 Td (Visible title) Tj ET\n"
        b"BT 1 1 1 rg /F1 10 Tf 72 400 Td (" + marker("white-text").encode() + b") Tj ET\n"
        b"/OC /oc1 BDC BT /F1 10 Tf 72 380 Td ("
        + marker("hidden-layer-text").encode()
        + b") Tj ET EMC\n/Span <</ActualText ("
        + marker("actual-text").encode()
        + b")>> BDC BT /F1 10 Tf 72 360 Td (abc) Tj ET EMC\n"
    )
    page.Metadata = _xmp(pdf, "page-xmp")
    page.PieceInfo = Dictionary(App=Dictionary(Private=String(marker("page-pieceinfo"))))
    page.LastModified = String("D:20240101000000Z")
    page.AA = Dictionary(O=_js(pdf, marker("page-aa-js")))
    page.AF = Array([_filespec(pdf, "page-af")])


def _annotations_and_form(pdf: pikepdf.Pdf) -> None:
    page = pdf.pages[0].obj
    note = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Text,
        Rect=Array([10, 10, 30, 30]),
        Contents=String(marker("note-contents")),
        T=String(marker("note-author")),
    )
    uri = String(f"https://{marker('link-uri')}.example/")
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([40, 10, 90, 30]),
        A=Dictionary(S=Name.URI, URI=uri),
    )
    field = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=String("name"),
            V=String(marker("form-field-value")),
            Rect=Array([100, 10, 200, 30]),
            P=page,
        )
    )
    page.Annots = Array([pdf.make_indirect(note), pdf.make_indirect(link), field])
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]))


def _document_parts(pdf: pikepdf.Pdf) -> None:
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = marker("catalog-xmp")
    pdf.attachments[marker("attachment-key")] = pikepdf.AttachedFileSpec(
        pdf, f"secret {marker('attachment-data')}".encode(), filename=marker("attachment")
    )
    names = pdf.Root.Names
    names.JavaScript = Dictionary(Names=Array([String("doc"), _js(pdf, marker("doc-js"))]))
    pdf.Root.AF = Array([_filespec(pdf, "af-only")])
    pdf.Root.OpenAction = _js(pdf, marker("open-action-js"))
    pdf.Root.AA = Dictionary(WC=_js(pdf, marker("catalog-aa-js")))
    pdf.Root.Lang = String(marker("lang"))
    pdf.Root.MarkInfo = Dictionary(Marked=True)
    element = Dictionary(Type=Name.StructElem, S=Name.Figure, Alt=String(marker("alt-text")))
    pdf.Root.StructTreeRoot = Dictionary(Type=Name.StructTreeRoot, K=pdf.make_indirect(element))
    with pdf.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem(marker("bookmark"), 0))
    pdf.docinfo[Name.Author] = marker("info-author")
    pdf.docinfo[Name.Creator] = marker("info-creator")
    pdf.docinfo[Name.Producer] = marker("info-producer")
    pdf.docinfo[Name.Title] = marker("info-title")


def append_update(path: Path, author: str) -> None:
    """Append an incremental update by hand: a new Info object, an xref, a trailer."""
    data = path.read_bytes()
    with pikepdf.open(path) as pdf:
        size = int(pdf.trailer.Size)
        root = pdf.Root.objgen
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    offset = len(data)
    body = f"{size} 0 obj\n<< /Author ({author}) >>\nendobj\n".encode()
    xref_at = offset + len(body)
    xref = f"xref\n{size} 1\n{offset:010d} 00000 n \n".encode()
    trailer = (
        f"trailer\n<< /Size {size + 1} /Root {root[0]} {root[1]} R /Info {size} 0 R "
        f"/Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n"
    ).encode()
    path.write_bytes(data + body + xref + trailer)


@pytest.fixture
def dirty_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "dirty.pdf"
    with pikepdf.new() as pdf:
        for size in PAGE_SIZES:
            pdf.add_blank_page(page_size=size)
        _first_page(pdf, dirty_jpeg())
        _annotations_and_form(pdf)
        _document_parts(pdf)
        pdf.pages[1].obj.Rotate = 90
        # A resource that smuggles in the whole (dirty) catalog by reference.
        smuggler = Dictionary(Type=Name.ExtGState, CA=1, Smuggled=pdf.Root)
        pdf.pages[1].obj.Resources = Dictionary(ExtGState=Dictionary(GS0=smuggler))
        pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    append_update(path, marker("update-author"))
    return path


def sanitize(source: Path, out: Path, **options: object) -> Report:
    """Through the pipeline when the sniffer exists, else the sanitizer class alone."""
    opts = Options(detect_faces=False, **options)  # type: ignore[arg-type]
    if importlib.util.find_spec("app.media.sniff") is not None:
        from app.media.pipeline import sanitize_file

        return sanitize_file(source, out, opts)
    report = Report()
    PdfSanitizer().sanitize(source, out, MediaType.PDF, opts, report)
    return report


def reachable(pdf: pikepdf.Pdf) -> list[pikepdf.Object]:
    """Every dictionary, array and stream reachable from the trailer, direct ones too."""
    found: list[pikepdf.Object] = []
    seen: set[tuple[int, int]] = set()
    stack: list[pikepdf.Object] = [pdf.trailer]
    while stack:
        obj = stack.pop()
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        found.append(obj)
        children = list(obj) if isinstance(obj, Array) else [v for _, v in obj.items()]
        stack.extend(c for c in children if isinstance(c, Dictionary | Array | pikepdf.Stream))
    return found


def all_keys(pdf: pikepdf.Pdf) -> set[str]:
    keys: set[str] = set()
    for obj in pdf.objects:
        if isinstance(obj, Dictionary | pikepdf.Stream):
            keys |= set(obj.keys())
    return keys


# --- the dirty input is really dirty ------------------------------------------------


def test_dirty_input_carries_every_marker(dirty_pdf: Path) -> None:
    assert checkers.markers_in(dirty_pdf, ALL_MARKERS) == ALL_MARKERS
    assert marker("update-author") in str(checkers.exiftool(dirty_pdf))


def test_residual_metadata_lists_what_the_input_carries(dirty_pdf: Path) -> None:
    kinds = PdfSanitizer().residual_metadata(dirty_pdf, MediaType.PDF)
    expected = {"pdf.info", "pdf.xmp", "pdf.names", "pdf.attachments", "pdf.javascript"}
    expected |= {"pdf.open_action", "pdf.actions", "pdf.forms", "pdf.annotations"}
    expected |= {"pdf.jpeg_app_segments", "pdf.jpeg_comments", "pdf.history"}
    expected |= {"pdf.outlines", "pdf.structure", "pdf.hidden_layers", "pdf.private_data"}
    assert expected <= set(kinds)


# --- normal mode: the allow-list rewrite ---------------------------------------------


@pytest.fixture
def cleaned(dirty_pdf: Path, tmp_path: Path) -> tuple[Path, Report]:
    out = tmp_path / "clean.pdf"
    return out, sanitize(dirty_pdf, out)


def test_no_marker_left_but_the_drawn_text(cleaned: tuple[Path, Report]) -> None:
    out, _ = cleaned
    assert checkers.markers_in(out, ALL_MARKERS) == sorted(CONTENT_MARKERS)
    assert checkers.MARKER_PREFIX.decode() not in str(checkers.exiftool(out))


def test_dropped_keys_are_gone(cleaned: tuple[Path, Report]) -> None:
    out, _ = cleaned
    with pikepdf.open(out) as pdf:
        assert set(pdf.Root.keys()) == {"/Type", "/Pages"}
        assert not set(pdf.trailer.keys()) & {"/Info", "/Prev", "/Encrypt"}
        for page in pdf.pages:
            assert not set(page.obj.keys()) & set(DROPPED_PAGE)
            assert "/Properties" not in page.Resources
        keys = all_keys(pdf)
        assert not keys & {*DROPPED_CATALOG, *DROPPED_PAGE, "/JS", "/URI", "/EF", "/OC"}
        assert not keys & {"/ActualText", "/Alt", "/T", "/V", "/Properties", "/Thumb"}
        arrays = [o for o in reachable(pdf) if isinstance(o, Array) and len(o)]
        assert Name.ICCBased not in [array[0] for array in arrays]
        assert "/Smuggled" not in pdf.pages[1].Resources.ExtGState.GS0  # the dirty catalog


def test_one_revision_and_fresh_id(
    cleaned: tuple[Path, Report], dirty_pdf: Path, tmp_path: Path
) -> None:
    out, _ = cleaned
    data = out.read_bytes()
    assert data.count(b"startxref") == 1
    assert data.count(b"%%EOF") == 1
    again = tmp_path / "again.pdf"
    sanitize(dirty_pdf, again)
    original_id = re.search(rb"/ID \[ ?<([0-9a-f]+)>", dirty_pdf.read_bytes())
    assert original_id is not None
    with pikepdf.open(out) as first, pikepdf.open(again) as second:
        ids = [bytes(first.trailer.ID[0]), bytes(second.trailer.ID[0])]
    assert ids[0] != ids[1]  # random, not derived from the content
    assert bytes.fromhex(original_id.group(1).decode()) not in ids


def test_pages_and_sizes_preserved(cleaned: tuple[Path, Report]) -> None:
    out, _ = cleaned
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == len(PAGE_SIZES)
        for page, (width, height) in zip(pdf.pages, PAGE_SIZES, strict=True):
            assert [float(v) for v in page.MediaBox] == [0, 0, width, height]
        assert int(pdf.pages[1].Rotate) == 90


def test_embedded_jpeg_is_stripped_losslessly(cleaned: tuple[Path, Report]) -> None:
    out, _ = cleaned
    with pikepdf.open(out) as pdf:
        data = pdf.pages[0].Resources.XObject.Im0.read_raw_bytes()
    stripped = strip_jpeg(data)
    assert not stripped.changed
    before = np.asarray(Image.open(io.BytesIO(dirty_jpeg())))
    after = np.asarray(Image.open(io.BytesIO(data)))
    assert np.array_equal(before, after)


def test_report_counts_removals(cleaned: tuple[Path, Report]) -> None:
    _, report = cleaned
    for kind in ("pdf.info", "pdf.xmp", "pdf.attachments", "pdf.javascript", "pdf.open_action"):
        assert report.removed.get(kind, 0) >= 1, kind
    for kind in ("pdf.annotations", "pdf.forms", "pdf.history", "pdf.jpeg_app_segments"):
        assert report.removed.get(kind, 0) >= 1, kind
    for kind in ("pdf.jpeg_comments", "pdf.structure", "pdf.outlines", "pdf.hidden_layers"):
        assert report.removed.get(kind, 0) >= 1, kind
    assert report.removed["pdf.annotations"] == 3
    assert report.removed["pdf.attachments"] >= 3  # Names, catalog /AF, page /AF
    assert report.removed["pdf.history"] == 1
    assert "pdf_flattened" not in report.anonymised


def test_residual_metadata_of_the_output_is_empty(cleaned: tuple[Path, Report]) -> None:
    out, _ = cleaned
    assert PdfSanitizer().residual_metadata(out, MediaType.PDF) == []


def test_input_is_not_modified(dirty_pdf: Path, tmp_path: Path) -> None:
    before = dirty_pdf.read_bytes()
    sanitize(dirty_pdf, tmp_path / "out.pdf")
    assert dirty_pdf.read_bytes() == before


def test_registered_for_pdf() -> None:
    assert isinstance(sanitizer_for(MediaType.PDF), PdfSanitizer)


# --- flatten mode ----------------------------------------------------------------------


def test_flatten_leaves_only_pixels(dirty_pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "flat.pdf"
    report = sanitize(dirty_pdf, out, flatten_pdf=True)
    assert report.anonymised["pdf_flattened"] is True
    assert checkers.markers_in(out) == []
    assert checkers.MARKER_PREFIX.decode() not in str(checkers.exiftool(out))
    assert PdfSanitizer().residual_metadata(out, MediaType.PDF) == []
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 2
        assert set(pdf.Root.keys()) == {"/Type", "/Pages"}
        assert "/Font" not in all_keys(pdf)
        sizes = [tuple(float(v) for v in page.MediaBox[2:]) for page in pdf.pages]
        image = pdf.pages[0].Resources.XObject.Im0
        assert not strip_jpeg(image.read_raw_bytes()).changed
        assert int(image.Width) == 1275  # 8.5 in at 150 dpi
        assert abs(int(image.Height) - 1650) <= 1
    assert sizes[0] == pytest.approx(PAGE_SIZES[0])
    assert sizes[1] == pytest.approx(PAGE_SIZES[1][::-1])  # rotated page, as displayed
    assert report.removed.get("pdf.info", 0) >= 1


# --- normal mode keeps the look ----------------------------------------------------------


def photo_pdf(path: Path, jpeg: bytes, size: tuple[int, int], colour_space: Name) -> Path:
    """One page: a JPEG photo, a line of text and a small form XObject."""
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(612, 792))
        page = pdf.pages[0].obj
        image = pdf.make_stream(
            jpeg,
            Type=Name.XObject,
            Subtype=Name.Image,
            Width=size[0],
            Height=size[1],
            ColorSpace=colour_space,
            BitsPerComponent=8,
            Filter=Name.DCTDecode,
        )
        form = pdf.make_stream(
            b"1 0 0 rg 0 0 30 30 re f", Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, 30, 30]
        )
        font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
        page.Resources = Dictionary(
            XObject=Dictionary(Im0=image, Fm0=form), Font=Dictionary(F1=font)
        )
        page.Contents = pdf.make_stream(
            b"q 512 0 0 512 50 200 cm /Im0 Do Q q 1 0 0 1 50 100 cm /Fm0 Do Q "
            b"BT /F1 18 Tf 50 150 Td (A visible line) Tj ET"
        )
        pdf.save(path)
    return path


def render(path: Path) -> np.ndarray:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        page = document[0]
        bitmap = page.render(scale=1, draw_annots=False)
        pixels = np.array(bitmap.to_numpy())
        bitmap.close()
        page.close()
    finally:
        document.close()
    return pixels


def numeric_component_ids(jpeg: bytes) -> bytes:
    """Renumber components R, G, B as 1, 2, 3 (in SOF0 and SOS), as most encoders do:
    then only the APP14 segment (or /ColorTransform) says the data is not YCbCr."""
    data = bytearray(jpeg)
    renumber = {ord("R"): 1, ord("G"): 2, ord("B"): 3}
    sof, sos = data.index(b"\xff\xc0"), data.index(b"\xff\xda")
    for k in range(data[sof + 9]):
        data[sof + 10 + 3 * k] = renumber[data[sof + 10 + 3 * k]]
    for k in range(data[sos + 4]):
        data[sos + 5 + 2 * k] = renumber[data[sos + 5 + 2 * k]]
    return bytes(data)


def _same(jpeg: bytes) -> bytes:
    return jpeg


JPEG_VARIANTS: dict[str, tuple[str, dict[str, object], Name, Callable[[bytes], bytes]]] = {
    "ycbcr": ("RGB", {}, Name.DeviceRGB, _same),
    # RGB kept as RGB: libjpeg writes an APP14 "Adobe" segment with transform 0; once
    # it is stripped, the PDF must say /ColorTransform 0 or the colours change.
    "rgb-no-transform": ("RGB", {"keep_rgb": True}, Name.DeviceRGB, numeric_component_ids),
    "cmyk": ("CMYK", {}, Name.DeviceCMYK, _same),
    "progressive-restarts": (
        "RGB",
        {"progressive": True, "restart_marker_rows": 1},
        Name.DeviceRGB,
        _same,
    ),
}


@pytest.mark.parametrize("variant", sorted(JPEG_VARIANTS))
def test_normal_mode_renders_like_the_input(tmp_path: Path, variant: str) -> None:
    mode, save_options, colour_space, adjust = JPEG_VARIANTS[variant]
    y, x = np.mgrid[0:120, 0:160]
    pixels = np.stack([x, y * 2, (x + y) % 255], axis=-1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(
        buffer, "JPEG", quality=92, comment=marker("com").encode(), **save_options
    )
    jpeg = adjust(buffer.getvalue())
    source = photo_pdf(tmp_path / "photo.pdf", jpeg, (160, 120), colour_space)
    out = tmp_path / "clean.pdf"
    report = sanitize(source, out)
    assert report.removed["pdf.jpeg_comments"] == 1
    assert checkers.markers_in(out) == []
    before, after = render(source), render(out)
    assert (before[80:592, 50:562] < 250).any(axis=2).mean() > 0.9  # the photo is drawn
    assert np.array_equal(before, after)


def test_pipeline_rescan_of_the_output_is_clean(cleaned: tuple[Path, Report]) -> None:
    pytest.importorskip("app.media.sniff")
    from app.media.pipeline import residual_metadata

    out, _ = cleaned
    assert residual_metadata(out) == []


# --- refusals ----------------------------------------------------------------------------


def _refused(source: Path, tmp_path: Path, **options: object) -> str:
    out = tmp_path / "refused.pdf"
    with pytest.raises(MediaRefused) as caught:
        PdfSanitizer().sanitize(
            source,
            out,
            MediaType.PDF,
            Options(detect_faces=False, **options),
            Report(),  # type: ignore[arg-type]
        )
    reason = caught.value.reason
    assert re.fullmatch(r"[A-Z][^.]*(\.[^.]+)*\.", reason), reason
    assert "pikepdf" not in reason
    assert "qpdf" not in reason
    return reason


def _plain_pdf(path: Path, pages: int = 1, **save: object) -> Path:
    with pikepdf.new() as pdf:
        for _ in range(pages):
            pdf.add_blank_page()
        pdf.save(path, **save)  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize("user", ["secret", ""])
def test_encrypted_pdf_is_refused(tmp_path: Path, user: str) -> None:
    source = _plain_pdf(
        tmp_path / "locked.pdf", encryption=pikepdf.Encryption(owner="owner", user=user)
    )
    assert "password" in _refused(source, tmp_path)


def test_too_many_pages_is_refused(tmp_path: Path) -> None:
    source = _plain_pdf(tmp_path / "long.pdf", pages=3)
    reason = _refused(source, tmp_path, limits=Limits(max_pages=2))
    assert "limit is 2" in reason


def test_too_many_objects_is_refused(tmp_path: Path) -> None:
    source = _plain_pdf(tmp_path / "many.pdf", pages=3)
    assert "complex" in _refused(source, tmp_path, limits=Limits(max_pdf_objects=3))


def test_content_stream_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        content = zlib.compress(b"q Q " * 250_000, 9)  # 1 MB from a few kB
        pdf.pages[0].obj.Contents = pdf.make_stream(content, Filter=Name.FlateDecode)
        pdf.save(path)
    limits = Limits(max_decompressed_ratio=20)
    assert "expands" in _refused(path, tmp_path, limits=limits)


def test_linearized_input_is_not_taken_for_history(tmp_path: Path) -> None:
    source = _plain_pdf(tmp_path / "web.pdf", pages=2, linearize=True)
    assert source.read_bytes().count(b"startxref") == 2
    report = sanitize(source, tmp_path / "out.pdf")
    assert "pdf.history" not in report.removed
    assert PdfSanitizer().residual_metadata(source, MediaType.PDF) == []


BREAKERS: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) * 2 // 3],
    "broken-xref": lambda data: re.sub(rb"\d{10} 00000 n", b"0000000009 00000 n", data),
    "not-a-pdf-body": lambda data: data[:20] + b"\x00" * 200 + b"\n%%EOF\n",
}


@pytest.mark.parametrize("breaker", sorted(BREAKERS))
def test_broken_pdf_is_refused(tmp_path: Path, breaker: str) -> None:
    path = _plain_pdf(
        tmp_path / "whole.pdf", pages=2, object_stream_mode=pikepdf.ObjectStreamMode.disable
    )
    path.write_bytes(BREAKERS[breaker](path.read_bytes()))
    assert "damaged" in _refused(path, tmp_path)


def test_pipeline_refuses_broken_pdf_and_leaves_nothing(tmp_path: Path) -> None:
    pytest.importorskip("app.media.sniff")
    from app.media.pipeline import sanitize_file

    path = _plain_pdf(tmp_path / "whole.pdf", pages=2)
    path.write_bytes(path.read_bytes()[:-200])
    out = tmp_path / "out" / "clean.pdf"
    with pytest.raises(MediaRefused):
        sanitize_file(path, out)
    assert not out.exists()
    assert not [p for p in out.parent.glob("*") if p.name.startswith(".partial")]


# --- faces -----------------------------------------------------------------------------


def _astronaut() -> Path:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-image (for its bundled astronaut.png) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "astronaut.png"
    if not path.exists():
        pytest.skip("astronaut.png not found in scikit-image")
    return path


@pytest.fixture
def face_pdf(tmp_path: Path) -> Path:
    pytest.importorskip("app.media.detectors.faces")
    pytest.importorskip("app.media.anonymise")
    photo = Image.open(_astronaut()).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    return photo_pdf(tmp_path / "face.pdf", buffer.getvalue(), photo.size, Name.DeviceRGB)


def test_faces_reported_in_normal_mode(face_pdf: Path, tmp_path: Path) -> None:
    report = Report()
    options = Options(detect_faces=True)
    PdfSanitizer().sanitize(face_pdf, tmp_path / "out.pdf", MediaType.PDF, options, report)
    assert report.faces
    assert all(face.page == 0 for face in report.faces)
    assert not any(face.masked for face in report.faces)
    x, y, w, h = report.faces[0].box  # points from the top-left; the photo spans
    assert 50 <= x < x + w <= 562  # x 50-562 and y 80-592 of the 612 x 792 page
    assert 80 <= y < y + h <= 592
    assert any("flatten" in note for note in report.notes)


def _smoothness(path: Path, box: tuple[int, int, int, int]) -> float:
    """Share of horizontally neighbouring pixels, inside a face box, that are equal."""
    with pikepdf.open(path) as pdf:
        data = pdf.pages[0].Resources.XObject.Im0.read_raw_bytes()
    page = np.asarray(Image.open(io.BytesIO(data)), dtype=np.int16)
    scale = 150 / 72
    x, y, w, h = (int(v * scale) for v in box)
    face = page[y : y + h, x : x + w]
    return float(np.mean(np.abs(np.diff(face, axis=1)).max(axis=-1) < 3))


def test_faces_masked_when_asked(face_pdf: Path, tmp_path: Path) -> None:
    masked, plain = tmp_path / "masked.pdf", tmp_path / "plain.pdf"
    report, plain_report = Report(), Report()
    sanitizer = PdfSanitizer()
    sanitizer.sanitize(face_pdf, masked, MediaType.PDF, Options(mask_faces=True), report)
    sanitizer.sanitize(face_pdf, plain, MediaType.PDF, Options(flatten_pdf=True), plain_report)
    assert report.anonymised["pdf_flattened"] is True
    assert report.anonymised["faces_masked"] == len(report.faces) > 0
    assert all(face.masked for face in report.faces)
    # Flattening without masking still reports the faces (the consent gate counts them).
    assert [f.box for f in plain_report.faces] == [f.box for f in report.faces]
    assert not any(face.masked for face in plain_report.faces)
    box = report.faces[0].box
    smooth_masked, smooth_plain = _smoothness(masked, box), _smoothness(plain, box)
    assert smooth_masked > 0.7  # coarse blocks (about 0.8 here)
    assert smooth_plain < 0.55  # a real face, upscaled (about 0.4 here)


def test_residual_metadata_looks_inside_direct_dictionaries(tmp_path: Path) -> None:
    path = tmp_path / "nested.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        deep = Dictionary(Deep=Dictionary(JS=String("app.alert(1)")))
        pdf.pages[0].obj.Resources = Dictionary(ExtGState=Dictionary(GS0=deep))
        pdf.save(path)
    assert PdfSanitizer().residual_metadata(path, MediaType.PDF) == ["pdf.javascript"]
