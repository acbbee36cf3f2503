"""Byte-level views of audio files that FFmpeg's demuxers summarise away: FLAC metadata
blocks, RIFF/WAVE chunks, ID3/APE tags. Used to report what an upload carried, to
check a cleaned file independently of FFmpeg, and to blank the FLAC comment block the
muxer always writes. Every read is bounded: headers only, never whole files.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

FLAC_STREAMINFO = 0
FLAC_PADDING = 1
FLAC_VORBIS_COMMENT = 4
FLAC_PICTURE = 6
FLAC_NAMES = {
    0: "streaminfo",
    1: "padding",
    2: "application",
    3: "seektable",
    4: "vorbis_comment",
    5: "cuesheet",
    6: "picture",
}
MAX_ITEMS = 10_000
# The only RIFF chunks a clean WAV holds (``fact`` is required for compressed formats).
RIFF_ALLOWED = frozenset({b"fmt ", b"data", b"fact"})


def id3v2_size(handle: BinaryIO, offset: int = 0) -> int:
    """Total size of an ID3v2 tag at ``offset`` (0 when there is none)."""
    handle.seek(offset)
    head = handle.read(10)
    if len(head) < 10 or not head.startswith(b"ID3") or any(b & 0x80 for b in head[6:10]):
        return 0
    length = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    return 10 + length + (10 if head[5] & 0x10 else 0)


def trailing_tags(handle: BinaryIO) -> list[str]:
    """Tags appended at the end of a file: ID3v1 (``TAG`` 128 bytes from the end),
    APEv2 (``APETAGEX`` footer) and Lyrics3."""
    size = handle.seek(0, 2)
    found: list[str] = []
    if size >= 128:
        handle.seek(size - 128)
        if handle.read(3) == b"TAG":
            found.append("id3v1")
    handle.seek(max(0, size - 160 - 32))
    tail = handle.read()
    if b"APETAGEX" in tail:
        found.append("apev2")
    if b"LYRICS200" in tail or b"LYRICSEND" in tail:
        found.append("lyrics3")
    return found


def flac_blocks(handle: BinaryIO) -> Iterator[tuple[int, int, int, bool]]:
    """(type, offset of the block header, body length, is-last) for each metadata
    block of a FLAC stream, skipping an ID3v2 tag in front of ``fLaC``."""
    start = id3v2_size(handle)
    handle.seek(start)
    if handle.read(4) != b"fLaC":
        return
    offset = start + 4
    for _ in range(MAX_ITEMS):
        handle.seek(offset)
        header = handle.read(4)
        if len(header) < 4:
            return
        last = bool(header[0] & 0x80)
        kind = header[0] & 0x7F
        length = int.from_bytes(header[1:4], "big")
        yield kind, offset, length, last
        if last:
            return
        offset += 4 + length


def flac_vorbis_comments(handle: BinaryIO, offset: int, length: int) -> int:
    """How many comments (not counting the vendor string) a VORBIS_COMMENT block holds."""
    handle.seek(offset + 4)
    body = handle.read(min(length, 8 + 65536))
    if len(body) < 4:
        return 0
    vendor = struct.unpack_from("<I", body)[0]
    if 4 + vendor + 4 > len(body):
        return 1  # a vendor string this long is itself suspicious: count it
    return int(struct.unpack_from("<I", body, 4 + vendor)[0])


def blank_flac_tags(path: Path) -> int:
    """Turn every VORBIS_COMMENT and PICTURE block of a FLAC file into zero-filled
    PADDING, in place (FFmpeg's FLAC muxer always writes a comment block with a vendor
    string). Only for files Chorus has just written; returns how many were blanked."""
    with path.open("r+b") as handle:
        targets = [
            (offset, length, last)
            for kind, offset, length, last in flac_blocks(handle)
            if kind in (FLAC_VORBIS_COMMENT, FLAC_PICTURE)
        ]
        for offset, length, last in targets:
            handle.seek(offset)
            handle.write(bytes([FLAC_PADDING | (0x80 if last else 0)]))
            handle.seek(offset + 4)
            handle.write(bytes(length))
    return len(targets)


def riff_chunks(handle: BinaryIO) -> Iterator[tuple[bytes, int, int]]:
    """(id, offset, length) of each top-level chunk of a RIFF/RF64 WAVE file, with the
    list type of ``LIST`` chunks as ``LIST/INFO`` style ids, and ``trailing`` for any
    bytes after the end the RIFF header declares (an ID3v1 tag, for one)."""
    handle.seek(0)
    head = handle.read(12)
    if head[:4] not in (b"RIFF", b"RF64", b"BW64") or head[8:12] != b"WAVE":
        return
    size = handle.seek(0, 2)
    declared = struct.unpack_from("<I", head, 4)[0] + 8
    end = size if head[:4] != b"RIFF" or declared > size else declared
    offset = 12
    for _ in range(MAX_ITEMS):
        if offset + 8 > end:
            break
        handle.seek(offset)
        header = handle.read(12)
        chunk, length = header[:4], struct.unpack_from("<I", header, 4)[0]
        if chunk == b"data" and length == 0xFFFFFFFF:  # RF64: the real size is in ds64
            length = end - offset - 8
        name = chunk + b"/" + header[8:12] if chunk == b"LIST" else chunk
        yield name, offset, length
        offset += 8 + length + (length & 1)
    if end < size:
        yield b"trailing", end, size - end


def blank_chunk(handle: BinaryIO, offset: int, length: int, limit: int = 4096) -> bool:
    """Whether a RIFF chunk's body is short and all zeros (the ``JUNK`` chunk FFmpeg
    reserves for an RF64 header carries nothing)."""
    if length > limit:
        return False
    handle.seek(offset + 8)
    return not any(handle.read(length))
