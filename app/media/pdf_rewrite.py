"""Allow-list rewrite of a PDF into a brand-new document.

Only the page tree survives: a new catalog holds ``/Type``, ``/Pages`` and a few
harmless viewer settings, and each page keeps only its geometry, ``/Resources``,
``/Contents`` and transparency ``/Group``. Everything else is never copied: the Info
dictionary, XMP, name trees (attachments, JavaScript, named destinations), ``/AF``,
actions, forms, annotations, outlines, optional-content (hidden layer) configuration,
threads, signatures, page labels, output intents — and, because nothing is copied but
the objects the new pages reach, every earlier revision of an incrementally updated
file.

What the pages reach is then cleaned in place: private keys (``/Metadata``,
``/PieceInfo``, ``/LastModified``, ``/AF``, ``/OPI``, actions, ...) are dropped
anywhere, image and form XObjects keep only the keys that draw them, JPEG images lose
their APPn and COM segments (losslessly, see ``pdf_jpeg``), ICC profiles (whose text
can name a device or its owner) become the device colour space with as many
components (colours may shift slightly), and marked-content property lists in content
streams (``/ActualText``, ``/Alt``, optional-content membership) are reduced to their
tags. Content that sat in a hidden layer is therefore drawn: a reviewer sees it.

The tagged-PDF structure tree goes too, because its ``/Alt`` and ``/ActualText``
entries may carry names: that costs screen-reader users the document's reading order
and image descriptions, so the work's own alt text and transcript must carry them.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

import pikepdf
from pikepdf import Array, Dictionary, Name, Operator, Stream

from app.media.errors import MediaRefused
from app.media.limits import Limits
from app.media.pdf_jpeg import JpegError, strip_jpeg
from app.media.report import Report

PAGE_KEYS = frozenset(
    {"/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox", "/Rotate", "/Resources"}
) | {"/Contents", "/UserUnit", "/Group"}
INHERITABLE = frozenset({"/Resources", "/MediaBox", "/CropBox", "/Rotate"})
PAGE_LAYOUTS = frozenset({"/SinglePage", "/OneColumn", "/TwoColumnLeft", "/TwoColumnRight"})
PAGE_LAYOUTS |= {"/TwoPageLeft", "/TwoPageRight"}
PAGE_MODES = frozenset({"/UseNone", "/FullScreen"})
VIEWER_FLAGS = frozenset({"/HideToolbar", "/HideMenubar", "/HideWindowUI", "/FitWindow"})
VIEWER_FLAGS |= {"/CenterWindow", "/DisplayDocTitle"}
VIEWER_NAMES = {"/Direction": {"/L2R", "/R2L"}, "/PrintScaling": {"/None", "/AppDefault"}}

# Removal kinds for what the catalog and the pages held (anything unlisted: "pdf.other").
KINDS = {
    "/Metadata": "pdf.xmp",
    "/AF": "pdf.attachments",
    "/Collection": "pdf.attachments",
    "/OpenAction": "pdf.open_action",
    "/AA": "pdf.actions",
    "/AcroForm": "pdf.forms",
    "/Annots": "pdf.annotations",
    "/PieceInfo": "pdf.private_data",
    "/StructTreeRoot": "pdf.structure",
    "/MarkInfo": "pdf.structure",
    "/StructParents": "pdf.structure",
    "/OCProperties": "pdf.hidden_layers",
    "/Outlines": "pdf.outlines",
    "/Threads": "pdf.threads",
    "/SpiderInfo": "pdf.web_capture",
    "/Perms": "pdf.signatures",
    "/Legal": "pdf.signatures",
    "/URI": "pdf.links",
    "/Thumb": "pdf.thumbnails",
    "/LastModified": "pdf.dates",
    "/OutputIntents": "pdf.icc_profiles",
    "/PageLabels": "pdf.page_labels",
    "/Lang": "pdf.language",
}
CATALOG_KEPT = frozenset({"/Type", "/Pages", "/Names", "/PageLayout", "/PageMode", "/Version"})
CATALOG_KEPT |= {"/ViewerPreferences"}  # filtered; /Names is counted tree by tree
NAME_TREE_KINDS = {"/EmbeddedFiles": "pdf.attachments", "/JavaScript": "pdf.javascript"}

# Dropped wherever they appear in what a page reaches.
DROP_KEYS = frozenset(KINDS) | {"/OPI", "/A", "/JS", "/Names", "/EmbeddedFiles", "/EF"}
DROP_KEYS |= {"/OC", "/Properties", "/StructParent", "/Alt", "/ActualText", "/Info"}
DROP_KEYS |= {"/Dests", "/ID", "/Ref", "/Measure", "/PtData", "/Alternates"}
# Default colour spaces must be CIE-based, and ICC profiles become device spaces below.
DROP_KEYS |= {"/DefaultGray", "/DefaultRGB", "/DefaultCMYK"}
STREAM_DROP_KEYS = frozenset({"/F", "/FFilter", "/FDecodeParms", "/DL"})
# A dictionary of one of these types reached from a page is cut off where found.
DROP_TYPES = frozenset({"/Catalog", "/Pages", "/Page", "/Annot", "/Filespec", "/Action"})
DROP_TYPES |= {"/EmbeddedFile", "/Metadata", "/OCG", "/OCMD", "/StructElem", "/Sig"}
IMAGE_KEYS = frozenset({"/Type", "/Subtype", "/Width", "/Height", "/ColorSpace", "/Length"})
IMAGE_KEYS |= {"/BitsPerComponent", "/Intent", "/ImageMask", "/Mask", "/Decode", "/Matte"}
IMAGE_KEYS |= {"/Interpolate", "/SMask", "/SMaskInData", "/Filter", "/DecodeParms"}
FORM_KEYS = frozenset({"/Type", "/Subtype", "/FormType", "/BBox", "/Matrix", "/Resources"})
FORM_KEYS |= {"/Group", "/Filter", "/DecodeParms", "/Length"}
DEVICE_SPACES = {1: Name.DeviceGray, 3: Name.DeviceRGB, 4: Name.DeviceCMYK}
DAMAGED_IMAGE = "This PDF contains a damaged image, so Chorus cannot clean it."
DAMAGED_PAGE = "This PDF contains a damaged page, so Chorus cannot clean it."
MARKED_CONTENT = re.compile(rb"(?<![A-Za-z])(?:BDC|DP)(?![A-Za-z0-9])")
BOMB = "This PDF contains compressed data that expands far beyond what Chorus accepts."


def rewrite(src: pikepdf.Pdf, report: Report, limits: Limits) -> pikepdf.Pdf:
    """Build a new PDF holding only the allow-listed parts of ``src``'s pages.

    The caller closes the returned document. Raises ``MediaRefused`` for a damaged
    image or a decompression bomb in a content stream.
    """
    _report_document(src, report)
    dest = pikepdf.new()
    try:
        cleaner = _Cleaner(dest, report, limits)
        for page in src.pages:
            if not isinstance(page.obj, Dictionary):
                raise MediaRefused(DAMAGED_PAGE)
            kept = Dictionary(Type=Name.Page)
            for key in sorted(PAGE_KEYS):
                value = _inherited(page.obj, key) if key in INHERITABLE else page.obj.get(key)
                if value is not None:
                    kept[key] = value
            for key, value in page.obj.items():
                if key not in PAGE_KEYS and key not in ("/Type", "/Parent"):
                    _count(report, key, value)
            copied = dest.copy_foreign(src.make_indirect(kept))
            cleaner.clean_page(copied)
            dest.pages.append(pikepdf.Page(copied))
        _copy_viewer_settings(src.Root, dest.Root)
    except BaseException:
        dest.close()
        raise
    return dest


def _inherited(page: pikepdf.Object, key: str) -> pikepdf.Object | None:
    """A page attribute, looked up through ``/Parent`` nodes when inheritable."""
    node: pikepdf.Object | None = page
    for _ in range(64):  # a deeper (or cyclic) page tree is treated as not having it
        if not isinstance(node, Dictionary):
            return None
        if key in node:
            return node[key]
        node = node.get("/Parent")
    return None


def _report_document(src: pikepdf.Pdf, report: Report) -> None:
    info = src.trailer.get("/Info")
    if isinstance(info, Dictionary):
        report.remove("pdf.info", len(info.keys()))
    names = src.Root.get("/Names")
    if isinstance(names, Dictionary):
        for key, tree in names.items():
            report.remove(NAME_TREE_KINDS.get(key, "pdf.names"), _tree_size(tree))
    for key, value in src.Root.items():
        if key not in CATALOG_KEPT:
            _count(report, key, value)


def _count(report: Report, key: str, value: object) -> None:
    """Record a dropped catalog or page entry (arrays of annotations or files by item)."""
    count = len(value) if key in {"/Annots", "/AF"} and isinstance(value, Array) else 1
    report.remove(KINDS.get(key, "pdf.other"), count)


def _tree_size(tree: pikepdf.Object) -> int:
    try:
        return max(1, len(pikepdf.NameTree(tree)))
    except (TypeError, ValueError, pikepdf.PdfError):
        return 1


def _copy_viewer_settings(src_root: pikepdf.Object, dest_root: pikepdf.Object) -> None:
    """Page layout, page mode and viewer flags, when they are plain allowed values."""
    layout, mode = src_root.get("/PageLayout"), src_root.get("/PageMode")
    if isinstance(layout, Name) and layout in PAGE_LAYOUTS:
        dest_root.PageLayout = Name(str(layout))
    if isinstance(mode, Name) and mode in PAGE_MODES:
        dest_root.PageMode = Name(str(mode))
    prefs = src_root.get("/ViewerPreferences")
    if not isinstance(prefs, Dictionary):
        return
    kept = Dictionary()
    for key in VIEWER_FLAGS:
        if isinstance(prefs.get(key), bool):
            kept[key] = bool(prefs[key])
    for key, allowed in VIEWER_NAMES.items():
        value = prefs.get(key)
        if isinstance(value, Name) and value in allowed:
            kept[key] = Name(str(value))
    if len(kept.keys()):
        dest_root.ViewerPreferences = kept


class _Cleaner:
    """Cleans, in place, everything a copied page reaches (each object once)."""

    def __init__(self, dest: pikepdf.Pdf, report: Report, limits: Limits) -> None:
        self.dest = dest
        self.report = report
        self.limits = limits
        self.seen: set[tuple[int, int]] = set()

    def clean_page(self, page: pikepdf.Object) -> None:
        """Clean a copied page dictionary and everything it reaches."""
        contents = page.get("/Contents")
        if isinstance(contents, Stream | Array) and self._has_marked_content(contents):
            page.Contents = self.dest.make_stream(self._stripped_content(page))
        self._walk(page)

    def _walk(self, root: pikepdf.Object) -> None:
        stack = [root]
        while stack:
            obj = stack.pop()
            if obj.is_indirect:
                if obj.objgen in self.seen:
                    continue
                self.seen.add(obj.objgen)
            if isinstance(obj, Array):
                stack.extend(self._children(obj, list(enumerate(obj))))
                continue
            if isinstance(obj, Stream):
                self._clean_stream(obj)
            elif not isinstance(obj, Dictionary):
                continue
            for key in set(obj.keys()) & DROP_KEYS:
                self.report.remove(KINDS.get(key, "pdf.private_data"))
                del obj[key]
            stack.extend(self._children(obj, list(obj.items())))

    def _children(
        self, holder: pikepdf.Object, items: list[tuple[int | str, pikepdf.Object]]
    ) -> Iterator[pikepdf.Object]:
        """Containers below ``holder``; dropped types are cut off, ICC spaces replaced."""
        for key, value in items:
            if not isinstance(value, Dictionary | Array | Stream):
                continue
            if isinstance(value, Dictionary | Stream) and value.get("/Type") in DROP_TYPES:
                self.report.remove("pdf.other")
                if isinstance(key, int):
                    holder[key] = None
                else:
                    del holder[key]
                continue
            device = _device_space(value)
            if device is not None:
                self.report.remove("pdf.icc_profiles")
                holder[key] = device
                continue
            yield value

    def _clean_stream(self, stream: Stream) -> None:
        for key in set(stream.keys()) & STREAM_DROP_KEYS:
            del stream[key]
        subtype = stream.get("/Subtype")
        if subtype == Name.Image:
            self._keep_only(stream, IMAGE_KEYS)
            self._clean_jpeg(stream)
        elif subtype == Name.Form:
            self._keep_only(stream, FORM_KEYS)
            if self._has_marked_content(stream):
                stream.write(self._stripped_content(stream))
        elif subtype == Name.PS:  # PostScript XObject: arbitrary code, drawn as nothing
            self.report.remove("pdf.postscript")
            stream.write(b"")
            for key in set(stream.keys()) - {"/Type", "/Length"}:
                del stream[key]
            stream.Subtype, stream.BBox = Name.Form, Array([0, 0, 0, 0])
        elif stream.get("/PatternType") == 1 and self._has_marked_content(stream):
            stream.write(self._stripped_content(stream), filter=None)

    def _keep_only(self, stream: Stream, allowed: frozenset[str]) -> None:
        for key in set(stream.keys()) - allowed:
            self.report.remove(KINDS.get(key, "pdf.private_data"))
            del stream[key]

    def _clean_jpeg(self, image: Stream) -> None:
        filters = image.get("/Filter")
        chain = list(filters) if isinstance(filters, Array) else [filters]
        if not chain or chain[-1] != Name.DCTDecode:
            return
        if any(f != Name.FlateDecode for f in chain[:-1]):
            raise MediaRefused(DAMAGED_IMAGE)
        data = image.read_raw_bytes()
        for _ in chain[:-1]:
            data = self._inflate(data)
        try:
            stripped = strip_jpeg(data)
        except JpegError:
            raise MediaRefused(DAMAGED_IMAGE) from None
        self.report.remove("pdf.jpeg_app_segments", stripped.app_segments)
        self.report.remove("pdf.jpeg_comments", stripped.comments)
        self.report.remove("pdf.jpeg_other_segments", stripped.other_segments)
        self.report.remove("pdf.jpeg_trailers", int(stripped.trailing_bytes > 0))
        if not stripped.changed and len(chain) == 1:
            return
        parms = image.get("/DecodeParms")
        parms = parms[-1] if isinstance(parms, Array) else parms
        clean = Dictionary()  # an APP14 transform overrides /ColorTransform (PDF 32000 7.4.8)
        if stripped.adobe_transform is not None:
            clean.ColorTransform = min(stripped.adobe_transform, 1)
        elif isinstance(parms, Dictionary) and isinstance(parms.get("/ColorTransform"), int):
            clean.ColorTransform = int(parms.ColorTransform)
        image.write(
            stripped.data, filter=Name.DCTDecode, decode_parms=clean if len(clean.keys()) else None
        )

    def _inflate(self, data: bytes) -> bytes:
        """Inflate a Flate stream, refusing one that expands beyond the limits."""
        ceiling = self.limits.max_decompressed_ratio * max(len(data), 4096)
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(data, ceiling)
        except zlib.error:
            raise MediaRefused(DAMAGED_PAGE) from None
        if inflater.unconsumed_tail:
            raise MediaRefused(BOMB)
        return out

    def _decoded(self, stream: Stream) -> bytes:
        if stream.get("/Filter") == Name.FlateDecode and "/DecodeParms" not in stream:
            return self._inflate(stream.read_raw_bytes())
        try:
            return stream.read_bytes()
        except pikepdf.PdfError:
            raise MediaRefused(DAMAGED_PAGE) from None

    def _has_marked_content(self, contents: Stream | Array) -> bool:
        parts = contents if isinstance(contents, Array) else [contents]
        data = b"".join(self._decoded(p) for p in parts if isinstance(p, Stream))
        return MARKED_CONTENT.search(data) is not None

    def _stripped_content(self, holder: pikepdf.Object) -> bytes:
        """The content stream with marked-content property lists reduced to tags."""
        kept: list[pikepdf.ContentStreamInstruction | pikepdf.ContentStreamInlineImage] = []
        for instruction in pikepdf.parse_content_stream(holder):
            if isinstance(instruction, pikepdf.ContentStreamInstruction):
                op = instruction.operator
                if op in (Operator("BDC"), Operator("DP")) and instruction.operands:
                    self.report.remove("pdf.marked_content")
                    tag = instruction.operands[0]
                    new_op = Operator("BMC" if op == Operator("BDC") else "MP")
                    instruction = pikepdf.ContentStreamInstruction([tag], new_op)
            kept.append(instruction)
        return pikepdf.unparse_content_stream(kept)


def _device_space(value: pikepdf.Object) -> Name | None:
    """The device colour space that replaces an ``[/ICCBased profile]`` array."""
    if not isinstance(value, Array) or len(value) != 2 or value[0] != Name.ICCBased:
        return None
    profile = value[1]
    components = profile.get("/N") if isinstance(profile, Stream) else None
    return DEVICE_SPACES.get(components if isinstance(components, int) else 3, Name.DeviceRGB)
