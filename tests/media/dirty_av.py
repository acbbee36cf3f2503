"""Builders of dirty audio and video files: short synthetic sound and pictures from
FFmpeg's ``lavfi`` sources, with a planted marker (``checkers.marker``) in every
metadata slot the Debian ``ffmpeg`` command (or a few lines of byte writing) can reach.

The library itself never runs the ffmpeg command; only these test builders do.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from tests.media.checkers import marker

SECONDS = 2
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
SEI_UUID = "086f3693-b7b3-4f2c-9653-21492feee5b8"


def ffmpeg(*args: str | Path) -> None:
    """Run the ffmpeg command quietly; skip the test when it is not installed."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        pytest.skip("ffmpeg not installed (Debian package ffmpeg)")
    command = [exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    subprocess.run([*command, *map(str, args)], check=True)  # noqa: S603


def tags(prefix: str) -> list[str]:
    """Container tags with markers: title, artist, comment, a place and a time."""
    return [
        *("-metadata", f"title={marker(prefix + '-title')}"),
        *("-metadata", f"artist={marker(prefix + '-artist')}"),
        *("-metadata", f"comment={marker(prefix + '-comment')}"),
        *("-metadata", "location=+48.8566+002.3522/"),
        *("-metadata", "creation_time=2024-05-01T10:00:00Z"),
    ]


def cover_jpeg(folder: Path) -> Path:
    """A small JPEG whose own EXIF carries a marker (cover art must go whole)."""
    exif = Image.Exif()
    exif[0x010E] = marker("cover-exif")  # ImageDescription
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, "JPEG", exif=exif.tobytes())
    path = folder / "cover.jpg"
    path.write_bytes(buffer.getvalue())
    return path


def chapters(folder: Path) -> Path:
    """An FFmetadata file with two titled chapters."""
    text = ";FFMETADATA1\n"
    for index in range(2):
        text += (
            f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={index * 1000}\nEND={index * 1000 + 1000}\n"
            f"title={marker(f'chapter-{index}')}\n"
        )
    path = folder / "chapters.txt"
    path.write_text(text)
    return path


def subtitles(folder: Path) -> Path:
    path = folder / "subtitles.srt"
    path.write_text(f"1\n00:00:00,000 --> 00:00:01,500\n{marker('subtitle-text')}\n")
    return path


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)


def append_riff_chunks(path: Path, chunks: list[bytes]) -> None:
    """Append chunks to a WAV file and fix the RIFF size."""
    data = bytearray(path.read_bytes()) + b"".join(chunks)
    struct.pack_into("<I", data, 4, len(data) - 8)
    path.write_bytes(bytes(data))


def id3v1_tag(text: str) -> bytes:
    """An ID3v1 tag (128 bytes at the very end of an MP3) with title and comment."""
    title = text.encode().ljust(30, b"\x00")[:30]
    return b"TAG" + title + bytes(30) * 2 + b"2024" + title + b"\xff"


def ape_tag(text: str) -> bytes:
    """An APEv2 tag (items and footer) with one Title item."""
    value = text.encode()
    item = struct.pack("<II", len(value), 0) + b"Title\x00" + value
    footer = b"APETAGEX" + struct.pack("<IIII", 2000, len(item) + 32, 1, 0) + bytes(8)
    return item + footer


def _audio(seconds: int = SECONDS) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]


def _video(seconds: int = SECONDS, size: str = "320x240") -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}"]


def dirty_mp3(folder: Path) -> Path:
    """ID3v2.3 (title, artist, comment, TXXX, APIC cover with EXIF), APEv2, ID3v1."""
    out = folder / "dirty.mp3"
    ffmpeg(
        *_audio(), "-i", cover_jpeg(folder), "-map", "0", "-map", "1",
        "-c:a", "libmp3lame", "-c:v", "copy", "-disposition:v", "attached_pic",
        *tags("id3"), "-metadata", f"TXXX={marker('id3-txxx')}",
        "-metadata:s:v", f"title={marker('apic-title')}",
        "-id3v2_version", "3", "-write_id3v1", "0", out,
    )  # fmt: skip
    out.write_bytes(out.read_bytes() + ape_tag(marker("ape-title")) + id3v1_tag(marker("id3v1")))
    return out


def dirty_m4a(folder: Path) -> Path:
    """iTunes ilst tags, cover art, chapters, an Apple location key, handler name."""
    out = folder / "dirty.m4a"
    ffmpeg(
        *_audio(), "-i", cover_jpeg(folder), "-i", chapters(folder),
        "-map", "0", "-map", "1", "-map_chapters", "2", "-c:a", "aac", "-c:v", "copy",
        "-disposition:v", "attached_pic", *tags("ilst"),
        "-metadata:s:a:0", f"handler_name={marker('m4a-handler')}", out,
    )  # fmt: skip
    return out


def dirty_flac(folder: Path) -> Path:
    """Vorbis comments and a PICTURE block."""
    out = folder / "dirty.flac"
    ffmpeg(
        *_audio(), "-i", cover_jpeg(folder), "-map", "0", "-map", "1",
        "-c:a", "flac", "-c:v", "copy", "-disposition:v", "attached_pic",
        *tags("vorbis"), out,
    )  # fmt: skip
    return out


def dirty_ogg(folder: Path, codec: str) -> Path:
    """Ogg Vorbis or Opus with comments (and the encoder's vendor string)."""
    out = folder / f"dirty-{codec}.ogg"
    ffmpeg(*_audio(), "-c:a", codec, *tags(codec), out)
    return out


def dirty_wav(folder: Path) -> Path:
    """LIST/INFO (from tags), bext (originator), and hand-made iXML and id3 chunks."""
    out = folder / "dirty.wav"
    ffmpeg(
        *_audio(), "-c:a", "pcm_s16le", *tags("info"), "-write_bext", "1",
        "-metadata", f"originator={marker('bext-originator')}", out,
    )  # fmt: skip
    ixml = f"<BWFXML><NOTE>{marker('ixml')}</NOTE></BWFXML>".encode()
    id3 = b"ID3\x03\x00\x00" + bytes([0, 0, 0, 30]) + marker("wav-id3").encode().ljust(30)
    append_riff_chunks(out, [_riff_chunk(b"iXML", ixml), _riff_chunk(b"id3 ", id3)])
    return out


def _apple_keys(prefix: str) -> list[str]:
    return [
        *("-metadata", "com.apple.quicktime.location.ISO6709=+48.8566+002.3522+035.000/"),
        *("-metadata", f"com.apple.quicktime.make={marker(prefix + '-make')}"),
        *("-metadata", f"com.apple.quicktime.software={marker(prefix + '-software')}"),
        *("-movflags", "+use_metadata_tags"),
    ]


def _iso_video(folder: Path, name: str, codec: list[str], extra: list[str]) -> Path:
    out = folder / name
    ffmpeg(
        *_video(), *_audio(), "-i", subtitles(folder), "-i", chapters(folder),
        "-map", "0", "-map", "1", "-map", "2", "-map_chapters", "3",
        *codec, "-c:a", "aac", "-c:s", "mov_text", *tags(name.split(".")[0]),
        "-metadata:s:a:0", f"handler_name={marker('audio-handler')}",
        "-metadata:s:v:0", f"handler_name={marker('video-handler')}",
        "-metadata:s:a:0", "language=fra", "-timecode", "01:00:00:00", *extra, out,
    )  # fmt: skip
    return out


def _x264() -> list[str]:
    planted = f"h264_metadata=sei_user_data={SEI_UUID}+{marker('sei')}"
    return ["-c:v", "libx264", "-preset", "ultrafast", "-bsf:v", planted]


def append_xmp_box(path: Path) -> None:
    """A top-level ``uuid`` box with an XMP packet, as Adobe tools write."""
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>{marker("xmp")}</rdf:RDF></x:xmpmeta>'
    body = XMP_UUID + xmp.encode()
    path.write_bytes(path.read_bytes() + struct.pack(">I", 8 + len(body)) + b"uuid" + body)


def dirty_mp4(folder: Path) -> Path:
    """H.264 with x264's settings SEI and a planted user-data SEI, udta tags, Apple
    location keys, handler names, language, subtitles, chapters, timecode, XMP."""
    out = _iso_video(folder, "dirty.mp4", _x264(), _apple_keys("mp4"))
    append_xmp_box(out)
    return out


def dirty_mov(folder: Path) -> Path:
    """As MP4, in a QuickTime file."""
    out = _iso_video(folder, "dirty.mov", _x264(), _apple_keys("mov"))
    append_xmp_box(out)
    return out


def dirty_hevc(folder: Path) -> Path:
    """HEVC from x265, whose settings SEI sits in the hvcC global header."""
    return _iso_video(
        folder, "dirty-hevc.mp4", ["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1",
                                   "-x265-params", "log-level=0"], []
    )  # fmt: skip


def dirty_webm(folder: Path) -> Path:
    """Tags (title, encoder), a stream title, a WebVTT subtitle track, chapters."""
    out = folder / "dirty.webm"
    ffmpeg(
        *_video(), *_audio(), "-i", subtitles(folder), "-i", chapters(folder),
        "-map", "0", "-map", "1", "-map", "2", "-map_chapters", "3",
        "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
        "-c:a", "libopus", "-c:s", "webvtt", *tags("webm"),
        "-metadata", f"encoder={marker('webm-encoder')}",
        "-metadata:s:v:0", f"title={marker('webm-video-title')}", out,
    )  # fmt: skip
    return out


BUILDERS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "mp3": (dirty_mp3, "audio/mpeg"),
    "m4a": (dirty_m4a, "audio/mp4"),
    "flac": (dirty_flac, "audio/flac"),
    "ogg-vorbis": (lambda folder: dirty_ogg(folder, "libvorbis"), "audio/ogg"),
    "ogg-opus": (lambda folder: dirty_ogg(folder, "libopus"), "audio/ogg"),
    "wav": (dirty_wav, "audio/wav"),
    "mp4": (dirty_mp4, "video/mp4"),
    "mov": (dirty_mov, "video/quicktime"),
    "mp4-hevc": (dirty_hevc, "video/mp4"),
    "webm": (dirty_webm, "video/webm"),
}
