"""Independent scan of a PDF for metadata and hidden parts: what ``residual_metadata``
reports after every sanitize and again at publication.

It looks at every object in the cross-reference table (reachable or not), the trailer,
the JPEG bitstreams of ``DCTDecode`` images, and the raw bytes for earlier revisions of
an incrementally updated file.
"""

from __future__ import annotations

import mmap
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from app.media.pdf_jpeg import JpegError, strip_jpeg

# Keys whose presence anywhere is a finding, by kind.
KEY_KINDS = {
    "/Metadata": "pdf.xmp",
    "/AF": "pdf.attachments",
    "/EmbeddedFiles": "pdf.attachments",
    "/EF": "pdf.attachments",
    "/Names": "pdf.names",
    "/OpenAction": "pdf.open_action",
    "/AA": "pdf.actions",
    "/JS": "pdf.javascript",
    "/AcroForm": "pdf.forms",
    "/Annots": "pdf.annotations",
    "/PieceInfo": "pdf.private_data",
    "/StructTreeRoot": "pdf.structure",
    "/OCProperties": "pdf.hidden_layers",
    "/Outlines": "pdf.outlines",
    "/Threads": "pdf.threads",
    "/Perms": "pdf.signatures",
    "/URI": "pdf.links",
    "/Thumb": "pdf.thumbnails",
    "/ActualText": "pdf.structure",
}
# Values of /Type (or /S for actions) that are findings.
TYPE_KINDS = {
    "/EmbeddedFile": "pdf.attachments",
    "/Filespec": "pdf.attachments",
    "/Metadata": "pdf.xmp",
    "/Annot": "pdf.annotations",
    "/StructElem": "pdf.structure",
    "/OCG": "pdf.hidden_layers",
    "/JavaScript": "pdf.javascript",
}
REVISION_MARK = b"startxref"


def scan(path: Path) -> list[str]:
    """Kinds of metadata or hidden content found in the PDF at ``path`` (sorted).

    Raises ``pikepdf.PasswordError`` or ``pikepdf.PdfError`` for a file that cannot be
    opened; the caller turns those into a refusal.
    """
    found: set[str] = set()
    with pikepdf.open(path) as pdf:
        if pdf.is_encrypted:
            found.add("pdf.encrypted")
        info = pdf.trailer.get("/Info")
        if isinstance(info, Dictionary) and len(info.keys()):
            found.add("pdf.info")
        for obj in pdf.objects:
            for holder in _with_direct_children(obj):
                found |= _findings(holder)
        if revisions(path) > 1 + int(pdf.is_linearized):
            found.add("pdf.history")
    return sorted(found)


def _with_direct_children(obj: pikepdf.Object) -> list[Dictionary | Stream]:
    """``obj`` and the dictionaries nested in it directly (indirect ones come on their own)."""
    holders: list[Dictionary | Stream] = []
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, Dictionary | Stream):
            holders.append(item)
            children = [value for _, value in item.items()]
        elif isinstance(item, Array):
            children = list(item)
        else:
            continue
        stack.extend(c for c in children if isinstance(c, Dictionary | Array) and not c.is_indirect)
    return holders


def _findings(obj: Dictionary | Stream) -> set[str]:
    keys = set(obj.keys())
    found = {KEY_KINDS[key] for key in keys & KEY_KINDS.keys()}
    for key in ("/Type", "/S"):
        value = obj.get(key)
        if isinstance(value, Name) and str(value) in TYPE_KINDS:
            found.add(TYPE_KINDS[str(value)])
    if isinstance(obj, Stream) and obj.get("/Subtype") == Name.Image:
        found |= _jpeg_findings(obj)
    return found


def _jpeg_findings(image: Stream) -> set[str]:
    filters = image.get("/Filter")
    chain = list(filters) if isinstance(filters, Array) else [filters]
    if chain != [Name.DCTDecode]:
        return {"pdf.jpeg_unchecked"} if Name.DCTDecode in chain else set()
    try:
        stripped = strip_jpeg(image.read_raw_bytes())
    except JpegError:
        return {"pdf.jpeg_damaged"}
    found = set()
    if stripped.app_segments or stripped.other_segments or stripped.trailing_bytes:
        found.add("pdf.jpeg_app_segments")
    if stripped.comments:
        found.add("pdf.jpeg_comments")
    return found


def revisions(path: Path) -> int:
    """How many cross-reference sections (``startxref``) the raw bytes hold.

    A file saved once has one (two when linearized); each incremental update adds one,
    and with it the previous revision stays readable in the file.
    """
    with path.open("rb") as handle:
        if path.stat().st_size == 0:
            return 0
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            count, pos = 0, data.find(REVISION_MARK)
            while pos != -1:
                count += 1
                pos = data.find(REVISION_MARK, pos + len(REVISION_MARK))
            return count
