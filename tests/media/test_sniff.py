"""Sniffing: every accepted type is recognised from its bytes, and everything else is
refused with one plain sentence. All inputs are generated here."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pikepdf
import pillow_heif
import pytest
from av.container import OutputContainer
from PIL import Image

from app.media import formats, sniff, validate
from app.media.errors import MediaRefused
from app.media.limits import Limits
from app.media.types import MediaType

Builder = Callable[[Path], None]
JARGON = (
    *("error", "exception", "traceback", "errno", "0x", "none", "ihdr", "ftyp", "eocd"),
    *("pikepdf", "ffmpeg", "pillow", "pyav", "magic", "signature", "demux", "utf-16"),
)


def assert_plain_sentence(reason: str, path: Path) -> None:
    """One sentence a survivor can read: capital first, ends with '.', no path or jargon."""
    assert reason[0].isupper(), reason
    assert reason.endswith("."), reason
    assert "\n" not in reason
    assert not re.search(r"[.!?]\s+[A-Z]", reason[:-1]), f"more than one sentence: {reason}"
    assert len(reason) <= 220
    assert str(path.parent) not in reason
    assert path.name not in reason
    lowered = reason.lower()
    assert not [word for word in JARGON if word in lowered], reason


# Builders ---------------------------------------------------------------------------


def _noise(width: int = 96, height: int = 64) -> Image.Image:
    pixels = np.random.default_rng(7).integers(0, 255, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def image(fmt: str, **params: object) -> Builder:
    def build(path: Path) -> None:
        pillow_heif.register_heif_opener()
        _noise().save(path, format=fmt, **params)

    return build


def pdf(pages: int = 1, encryption: pikepdf.Encryption | None = None) -> Builder:
    def build(path: Path) -> None:
        document = pikepdf.new()
        for _ in range(pages):
            document.add_blank_page()
        document.save(path, encryption=encryption)

    return build


def media(
    container: str,
    audio: str | None = "aac",
    video: str | None = None,
    *,
    rate: int = 44100,
    seconds: float = 1.0,
    metadata: dict[str, str] | None = None,
) -> Builder:
    """A short sine tone (and a few solid frames) encoded with PyAV's own encoders."""

    def build(path: Path) -> None:
        with av.open(str(path), "w", format=container) as output:
            output.metadata.update(metadata or {})
            picture = output.add_stream(video, rate=10) if video else None
            sound = output.add_stream(audio, rate=rate, layout="mono") if audio else None
            if picture is not None:
                _encode_video(output, picture, seconds)
            if sound is not None:
                _encode_audio(output, sound, rate, seconds)

    return build


def _encode_video(output: OutputContainer, stream: Any, seconds: float) -> None:
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    for index in range(int(10 * seconds)):
        pixels = np.full((48, 64, 3), index * 20 % 255, np.uint8)
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        frame.pts = index
        output.mux(stream.encode(frame))
    output.mux(stream.encode(None))


def _encode_audio(output: OutputContainer, stream: Any, rate: int, seconds: float) -> None:
    count = int(rate * seconds)
    tone = (np.sin(2 * np.pi * 440 * np.arange(count) / rate) * 9000).astype(np.int16)
    size = stream.codec_context.frame_size or 1024
    for start in range(0, count, size):
        frame = av.AudioFrame.from_ndarray(
            tone[start : start + size].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts = rate, start
        output.mux(stream.encode(frame))
    output.mux(stream.encode(None))


def raw(data: bytes) -> Builder:
    def build(path: Path) -> None:
        path.write_bytes(data)

    return build


def then(first: Builder, change: Callable[[bytes], bytes]) -> Builder:
    """Build with ``first``, then rewrite the bytes (truncate, append, prepend)."""

    def build(path: Path) -> None:
        first(path)
        path.write_bytes(change(path.read_bytes()))

    return build


def truncated(first: Builder) -> Builder:
    return then(first, lambda data: data[: len(data) * 2 // 3])


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A 1-bit PNG of ``width`` x ``height`` zero pixels: tiny on disk, huge in memory."""
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", body)
        + png_chunk(b"IEND", b"")
    )


def png_with_text(text: bytes) -> Builder:
    def build(path: Path) -> None:
        buffer = io.BytesIO()
        _noise().save(buffer, format="PNG")
        data = buffer.getvalue()
        path.write_bytes(data[:33] + png_chunk(b"tEXt", b"Comment\x00" + text) + data[33:])

    return build


def replace_ftyp_with_free(first: Builder) -> Builder:
    """An old QuickTime file: no ftyp box (replaced by a free box of the same size)."""

    def change(data: bytes) -> bytes:
        size = int.from_bytes(data[:4], "big")
        return data[:4] + b"free" + b"\x00" * (size - 8) + data[size:]

    return then(first, change)


def id3_tag(padding: int) -> bytes:
    """An ID3v2.3 tag with one text frame and ``padding`` zero bytes (as cover art would)."""
    frame = b"TIT2" + struct.pack(">I", 6) + b"\x00\x00" + b"\x00title"
    size = len(frame) + padding
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x03\x00\x00" + syncsafe + frame + b"\x00" * padding


MARKDOWN = "# A title\n\nSome *words* and a [link](https://example.org).\n"
PLAIN = "We met on a Tuesday.\nIt was raining, and nobody came.\n"


# Accepted ---------------------------------------------------------------------------

ACCEPTED: list[tuple[str, Builder, str | None, MediaType]] = [
    ("jpeg", image("JPEG", quality=90), "photo.jpg", MediaType.JPEG),
    ("jpeg-unknown-extension", image("JPEG"), "photo.bin", MediaType.JPEG),
    ("jpeg-no-name", image("JPEG"), None, MediaType.JPEG),
    ("jpeg-trailing-bytes", then(image("JPEG"), lambda d: d + b"trailer"), "a.jpg", MediaType.JPEG),
    ("png", image("PNG"), "drawing.png", MediaType.PNG),
    ("webp", image("WEBP"), "drawing.webp", MediaType.WEBP),
    ("webp-lossless", image("WEBP", lossless=True), "drawing.webp", MediaType.WEBP),
    ("heic", image("HEIF"), "IMG_0001.HEIC", MediaType.HEIC),
    ("pdf", pdf(3), "zine.pdf", MediaType.PDF),
    ("pdf-leading-whitespace", then(pdf(), lambda d: b"\r\n  " + d), "zine.pdf", MediaType.PDF),
    ("mp3", media("mp3", "libmp3lame"), "talk.mp3", MediaType.MP3),
    (
        "mp3-with-id3",
        media("mp3", "libmp3lame", metadata={"title": "t", "artist": "a"}),
        "talk.mp3",
        MediaType.MP3,
    ),
    (
        "mp3-behind-large-id3",
        then(media("mp3", "libmp3lame"), lambda d: id3_tag(200_000) + d),
        "talk.mp3",
        MediaType.MP3,
    ),
    ("mp3-mpeg2", media("mp3", "libmp3lame", rate=22050), "talk.mp3", MediaType.MP3),
    (
        "flac-behind-id3",
        then(media("flac", "flac"), lambda d: id3_tag(100) + d),
        "talk.flac",
        MediaType.FLAC,
    ),
    ("m4a", media("ipod"), "talk.m4a", MediaType.M4A),
    ("m4a-named-mp4", media("mp4"), "talk.mp4", MediaType.M4A),
    ("aac-adts", media("adts"), "talk.aac", MediaType.M4A),
    ("wav", media("wav", "pcm_s16le"), "talk.wav", MediaType.WAV),
    ("flac", media("flac", "flac"), "talk.flac", MediaType.FLAC),
    ("ogg-opus", media("ogg", "libopus", rate=48000), "talk.opus", MediaType.OGG),
    ("mp4", media("mp4", "aac", "libx264"), "dance.mp4", MediaType.MP4),
    ("mp4-silent", media("mp4", None, "libx264"), "dance.mp4", MediaType.MP4),
    ("mov", media("mov", "aac", "libx264"), "dance.mov", MediaType.MOV),
    (
        "mov-without-ftyp",
        replace_ftyp_with_free(media("mov", "aac", "libx264")),
        "dance.mov",
        MediaType.MOV,
    ),
    ("webm", media("webm", "libopus", "libvpx", rate=48000), "dance.webm", MediaType.WEBM),
    ("markdown-by-name", raw(PLAIN.encode()), "script.md", MediaType.MARKDOWN),
    ("markdown-by-structure", raw(MARKDOWN.encode()), "script.txt", MediaType.MARKDOWN),
    ("plain-text", raw(PLAIN.encode()), "script.txt", MediaType.TEXT),
    ("text-utf8-bom", raw(b"\xef\xbb\xbf" + "Ioana și Ștefan".encode()), None, MediaType.TEXT),
    ("text-tabs-formfeed", raw(b"a\tb\r\nc\fd\n"), "notes.text", MediaType.TEXT),
]


@pytest.mark.parametrize(
    ("builder", "name", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in ACCEPTED],
)
def test_accepted_types_are_recognised_from_bytes(
    tmp_path: Path, builder: Builder, name: str | None, expected: MediaType
) -> None:
    path = tmp_path / "upload"
    builder(path)
    assert sniff.sniff(path, Limits(), claimed_name=name) is expected


# Refused ----------------------------------------------------------------------------

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 57
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"This program cannot be run in DOS mode"
DOCX = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}
ODT = {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}
EPUB = {"mimetype": b"application/epub+zip", "META-INF/container.xml": b"<x/>"}
AVIF_BOX = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64
EBML_MKV = b"\x1a\x45\xdf\xa3\x93\x42\x82\x88matroska\x42\x87\x81\x04\x42\x85\x81\x02"

REFUSED: list[tuple[str, Builder, str | None, str, Limits]] = [
    ("empty", raw(b""), "a.jpg", sniff.EMPTY, Limits()),
    ("blank-text", raw(b" \r\n\t\n"), "a.txt", sniff.EMPTY, Limits()),
    ("over-size", image("PNG"), "a.png", sniff.too_large(1000), Limits(max_bytes=1000)),
    ("svg", raw(SVG), "logo.svg", sniff.SVG, Limits()),
    ("svg-xml-prolog", raw(b'<?xml version="1.0"?>\n' + SVG), None, sniff.SVG, Limits()),
    ("svg-after-comment", raw(b"<!-- hi -->\n" + SVG), "a.txt", sniff.SVG, Limits()),
    ("html", raw(b"<!DOCTYPE html><html><body>x</body></html>"), None, sniff.HTML, Limits()),
    ("html-no-doctype", raw(b"\n<html><script>x</script></html>"), "a.md", sniff.HTML, Limits()),
    ("xml", raw(b'<?xml version="1.0"?><note>x</note>'), None, sniff.XML, Limits()),
    ("zip", raw(zip_bytes({"a.txt": b"hello"})), "a.zip", formats.ARCHIVE, Limits()),
    ("docx", raw(zip_bytes(DOCX)), "story.docx", formats.OFFICE, Limits()),
    (
        "zip-holding-a-pdf",
        raw(zip_bytes({"zine.pdf": b"%PDF-1.7\n"})),
        None,
        formats.ARCHIVE,
        Limits(),
    ),
    (
        "text-mentioning-pdf-header",
        raw(b"Files start with %PDF-1.7\n"),
        None,
        sniff.POLYGLOT,
        Limits(),
    ),
    ("odt", raw(zip_bytes(ODT)), "story.odt", formats.OFFICE, Limits()),
    ("epub", raw(zip_bytes(EPUB)), "story.epub", formats.EBOOK, Limits()),
    ("gzip", raw(gzip.compress(b"hello" * 100)), None, formats.ARCHIVE, Limits()),
    ("bzip2", raw(bz2.compress(b"hello" * 100)), None, formats.ARCHIVE, Limits()),
    ("xz", raw(lzma.compress(b"hello" * 100)), None, formats.ARCHIVE, Limits()),
    ("tar", raw(tar_bytes()), "a.tar", formats.ARCHIVE, Limits()),
    ("7z", raw(b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24), None, formats.ARCHIVE, Limits()),
    ("rar", raw(b"Rar!\x1a\x07\x01\x00" + b"\x00" * 24), None, formats.ARCHIVE, Limits()),
    ("zstd", raw(b"\x28\xb5\x2f\xfd" + b"\x00" * 24), None, formats.ARCHIVE, Limits()),
    ("elf", raw(ELF), "photo.jpg", formats.PROGRAM, Limits()),
    ("windows-exe", raw(PE), "setup.exe", formats.PROGRAM, Limits()),
    ("mach-o", raw(b"\xcf\xfa\xed\xfe" + b"\x00" * 60), None, formats.PROGRAM, Limits()),
    ("shebang", raw(b"#!/bin/sh\nrm -rf ~\n"), "notes.txt", formats.PROGRAM, Limits()),
    ("shebang-env", raw(b"#! /usr/bin/env python\n"), None, formats.PROGRAM, Limits()),
    ("gif", image("GIF"), "a.gif", formats.GIF, Limits()),
    ("tiff", image("TIFF"), "a.tiff", formats.TIFF, Limits()),
    ("bmp", image("BMP"), "a.bmp", formats.BMP, Limits()),
    ("avif-brand", raw(AVIF_BOX), "a.avif", formats.AVIF, Limits()),
    ("avif", image("AVIF"), "a.avif", formats.AVIF, Limits()),
    ("mkv", raw(EBML_MKV), "a.mkv", formats.OTHER_VIDEO, Limits()),
    ("avi", media("avi", "mp3", "mpeg4"), "a.avi", formats.OTHER_VIDEO, Limits()),
    (
        "jpeg-with-zip-appended",
        then(image("JPEG"), lambda d: d + zip_bytes({"secret.txt": b"x" * 100})),
        "a.jpg",
        sniff.POLYGLOT,
        Limits(),
    ),
    ("png-with-pdf-header", png_with_text(b"%PDF-1.7"), "a.png", sniff.POLYGLOT, Limits()),
    (
        "pdf-after-junk",
        then(pdf(), lambda d: b"Dear reader, " + d),
        "a.pdf",
        sniff.POLYGLOT,
        Limits(),
    ),
    ("truncated-jpeg", truncated(image("JPEG")), "a.jpg", validate.IMAGE_DAMAGED, Limits()),
    ("truncated-png", truncated(image("PNG")), "a.png", validate.IMAGE_DAMAGED, Limits()),
    ("truncated-webp", truncated(image("WEBP")), "a.webp", validate.IMAGE_DAMAGED, Limits()),
    ("truncated-heic", truncated(image("HEIF")), "a.heic", validate.IMAGE_DAMAGED, Limits()),
    ("truncated-pdf", truncated(pdf(2)), "a.pdf", validate.PDF_DAMAGED, Limits()),
    (
        "truncated-mp4",
        truncated(media("mp4", "aac", "libx264")),
        "a.mp4",
        validate.VIDEO_DAMAGED,
        Limits(),
    ),
    ("png-ihdr-missing", raw(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40), None, formats.DAMAGED, Limits()),
    (
        "id3-then-garbage",
        raw(id3_tag(10) + b"not audio at all" * 50),
        "a.mp3",
        formats.DAMAGED,
        Limits(),
    ),
    ("bomb-png", raw(png_bomb(20_000, 20_000)), "a.png", validate.IMAGE_TOO_LARGE, Limits()),
    (
        "png-over-pixel-limit",
        image("PNG"),
        "a.png",
        validate.IMAGE_TOO_LARGE,
        Limits(max_pixels=1000),
    ),
    ("pdf-too-many-pages", pdf(3), "a.pdf", "more pages", Limits(max_pages=2)),
    ("pdf-too-many-objects", pdf(3), "a.pdf", validate.PDF_TOO_COMPLEX, Limits(max_pdf_objects=4)),
    (
        "pdf-with-password",
        pdf(1, encryption=pikepdf.Encryption(user="secret", owner="secret")),
        "a.pdf",
        validate.PDF_LOCKED,
        Limits(),
    ),
    (
        "audio-too-long",
        media("flac", "flac", seconds=1.0),
        "a.flac",
        "recording is longer than Chorus accepts (the limit is 0.5 seconds)",
        Limits(max_duration_seconds=0.5),
    ),
    (
        "video-too-long",
        media("mp4", "aac", "libx264", seconds=2.0),
        "a.mp4",
        "video is longer than Chorus accepts (the limit is 1 second)",
        Limits(max_duration_seconds=1),
    ),
    (
        "video-picture-too-large",
        media("webm", "libopus", "libvpx", rate=48000),
        "a.webm",
        validate.VIDEO_TOO_LARGE,
        Limits(max_video_pixels=32 * 32),
    ),
    (
        "pdf-named-jpg",
        pdf(),
        "photo.jpg",
        "This file's name says .jpg but its contents are a PDF; "
        "please check you chose the right file.",
        Limits(),
    ),
    ("jpeg-named-png", image("JPEG"), "a.png", "contents are a JPEG image", Limits()),
    ("text-named-jpg", raw(PLAIN.encode()), "a.JPG", "contents are plain text", Limits()),
    ("video-named-m4a", media("mp4", "aac", "libx264"), "a.m4a", "an MP4 video", Limits()),
    ("utf16-text", raw("\ufeffhello".encode("utf-16-le")), None, sniff.NOT_UTF8, Limits()),
    ("latin1-text", raw("Ana şi Ştefan, café".encode("cp1250")), None, sniff.NOT_UTF8, Limits()),
    ("control-characters", raw(b"hello\x1b[31m red\n"), None, sniff.CONTROL_CHARACTERS, Limits()),
    ("binary-junk", raw(bytes(range(256)) * 4), None, formats.UNKNOWN, Limits()),
    (
        "text-too-long",
        raw(PLAIN.encode() * 100),
        "a.txt",
        sniff.TOO_LONG_TEXT,
        Limits(max_text_bytes=1000),
    ),
]


@pytest.mark.parametrize(
    ("builder", "name", "expected", "limits"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED],
)
def test_refused_with_one_plain_sentence(
    tmp_path: Path, builder: Builder, name: str | None, expected: str, limits: Limits
) -> None:
    path = tmp_path / "upload-7d1c"
    builder(path)
    with pytest.raises(MediaRefused) as refused:
        sniff.sniff(path, limits, claimed_name=name)
    assert expected in refused.value.reason
    assert str(refused.value) == refused.value.reason
    assert_plain_sentence(refused.value.reason, path)


def test_every_refusal_sentence_is_plain(tmp_path: Path) -> None:
    constants = [
        value
        for module in (sniff, formats, validate)
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and value.endswith(".")
    ]
    assert len(constants) > 25
    for sentence in constants:
        assert_plain_sentence(sentence, tmp_path / "upload-7d1c")


def test_too_large_names_the_limit() -> None:
    assert sniff.too_large(4 * 1024**3).endswith("(the limit is 4 GB).")
    assert sniff.too_large(200 * 1024**2).endswith("(the limit is 200 MB).")


def test_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bomb(20_000, 20_000))
    assert path.stat().st_size < 200_000  # 400 megapixels, tiny on disk
    with pytest.raises(MediaRefused, match="too large to process safely"):
        sniff.sniff(path, Limits(max_pixels=1_000_000))


def test_pixel_limit_does_not_leak_into_pillow(tmp_path: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    path = tmp_path / "a.png"
    image("PNG")(path)
    with pytest.raises(MediaRefused):
        sniff.sniff(path, Limits(max_pixels=100))
    assert before == Image.MAX_IMAGE_PIXELS


def test_a_zip_signature_without_a_directory_is_not_a_polyglot(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    then(image("JPEG"), lambda d: d + b"PK\x05\x06" + b"\x00" * 18)(path)
    assert sniff.sniff(path, Limits()) is MediaType.JPEG


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# Title\n\ntext", True),
        ("text with a [link](https://example.org)", True),
        ("some **strong** words", True),
        ("> a quote", True),
        ("```\ncode\n```", True),
        ("- one\n- two\n", True),
        ("1. one\n2. two\n", True),
        ("- just one dash line\n", False),
        ("#hashtag is not a heading", False),
        ("Plain words, 3 * 4 = 12, and a_b_c.", False),
    ],
)
def test_markdown_structure(text: str, expected: bool) -> None:
    assert sniff.looks_like_markdown(text) is expected


def test_reads_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large file is never read whole: every read asks for at most 64 KiB."""
    path = tmp_path / "big.mp3"
    then(media("mp3", "libmp3lame"), lambda d: id3_tag(3_000_000) + d)(path)
    sizes: list[int] = []
    original = formats.Reader.read_at

    def spy(self: formats.Reader, offset: int, count: int) -> bytes:
        sizes.append(count)
        return original(self, offset, count)

    monkeypatch.setattr(formats.Reader, "read_at", spy)
    assert sniff.sniff(path, Limits()) is MediaType.MP3
    assert sizes
    assert max(sizes) <= sniff.TAIL_BYTES
