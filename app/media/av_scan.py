"""What metadata an audio or video file carries: counted on the upload for the report
(cleaning never depends on it), and listed on a cleaned file as an independent check.

Two views are combined: what FFmpeg's demuxers expose (tags, chapters, streams), and
the raw structures FFmpeg summarises away (ID3 tags, FLAC blocks, RIFF chunks, MP4
boxes and header times, SEI units in H.264/HEVC).
"""

from __future__ import annotations

import re
from itertools import islice
from pathlib import Path

from av.container import InputContainer

from app.media import av_bytes, isobmff
from app.media.av_remux import codec_name, is_picture, open_input
from app.media.av_units import header_units, is_sei, packet_units
from app.media.types import Family, MediaType

# Container keys that describe the file's structure (ISO brands), not its content.
STRUCTURAL_KEYS = frozenset({"major_brand", "minor_version", "compatible_brands"})
# Values FFmpeg's demuxers report for files written by FFmpeg with no tags at all:
# MP4's default language and handler names, the sample-entry vendor field, and
# Matroska's MuxingApp ("Lavf" without a version under bitexact) and track durations.
ALLOWED_VALUES: dict[str, frozenset[str]] = {
    "language": frozenset({"und"}),
    "handler_name": frozenset({"VideoHandler", "SoundHandler"}),
    "vendor_id": frozenset({"[0][0][0][0]", "FFMP"}),
    "encoder": frozenset({"Lavf"}),
}
_DURATION_TAG = re.compile(r"\d{2}:\d{2}:\d{2}\.\d{9}")
_LOCATION = re.compile(r"location|xyz|iso6709|gps|latitude|longitude", re.I)
_FLAC_ALLOWED = frozenset({av_bytes.FLAC_STREAMINFO, av_bytes.FLAC_PADDING, 3})
_RIFF_KINDS = {
    b"LIST/INFO": "riff.info",
    b"bext": "riff.bext",
    b"iXML": "riff.ixml",
    b"trailing": "riff.trailing_data",
}
_ISO_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"})
_SEI_PACKETS = 60  # packets checked for SEI at the start of a cleaned stream


def _unexpected(tags: dict[str, str], media_type: MediaType) -> list[str]:
    """Tag keys that are content rather than structure."""
    keys: list[str] = []
    for key, value in tags.items():
        if key in STRUCTURAL_KEYS or value in ALLOWED_VALUES.get(key, ()):
            continue
        if key == "DURATION" and media_type is MediaType.WEBM and _DURATION_TAG.fullmatch(value):
            continue
        keys.append(key)
    return keys


def _located(tags: dict[str, str]) -> bool:
    return any(_LOCATION.search(key) for key in tags)


def removals(container: InputContainer, path: Path, media_type: MediaType) -> dict[str, int]:
    """Kinds (and counts) of metadata in an upload, for the report only."""
    found: dict[str, int] = {}

    def add(kind: str, count: int = 1) -> None:
        if count > 0:
            found[kind] = found.get(kind, 0) + count

    add("container.metadata", len(_unexpected(container.metadata, media_type)))
    add("location", int(_located(container.metadata)))
    add("chapters", len(container.chapters()))
    for stream in container.streams:
        add("stream.metadata", len(_unexpected(stream.metadata, media_type)))
        add("location", int(_located(stream.metadata)))
        if stream.type == "video" and not is_picture(stream):
            add("cover_art")
        elif stream.type == "video" and media_type.family is Family.AUDIO:
            add("video_streams")
        elif stream.type in ("data", "attachment"):
            add("data_streams")
        elif stream.type == "subtitle":
            add("subtitle_streams")
    if media_type in (MediaType.OGG, MediaType.FLAC) and any(
        s.metadata for s in container.streams.audio
    ):
        add("vorbis_comment")
    for kind in _raw(path, media_type):
        add(kind)
    return found


def residue(path: Path, media_type: MediaType) -> list[str]:
    """Kinds of metadata left in a cleaned file (empty when clean).

    Raises ``MediaRefused`` when the file cannot be opened.
    """
    kinds: list[str] = []
    with open_input(path, media_type) as container:
        if _unexpected(container.metadata, media_type):
            kinds.append("container.metadata")
        if container.chapters():
            kinds.append("chapters")
        for stream in container.streams:
            if stream.type not in ("audio", "video"):
                kinds.append(f"{stream.type}_streams")
            elif not is_picture(stream) and stream.type == "video":
                kinds.append("cover_art")
            if _unexpected(stream.metadata, media_type):
                kinds.append("stream.metadata")
        kinds.extend(_sei(container))
    kinds.extend(_raw(path, media_type))
    return sorted(set(kinds))


def _sei(container: InputContainer) -> list[str]:
    """SEI units in the global header or first packets of H.264/HEVC streams."""
    streams = [s for s in container.streams.video if codec_name(s) in ("h264", "hevc")]
    kinds: list[str] = []
    for stream in streams:
        codec = codec_name(stream)
        header = bytes(stream.codec_context.extradata or b"")
        length_size = (header[4] & 3) + 1 if codec == "h264" and header[:1] == b"\x01" else 4
        if codec == "hevc" and header[:1] == b"\x01" and len(header) > 21:
            length_size = (header[21] & 3) + 1
        found = any(is_sei(codec, t) for t in header_units(codec, header))
        for packet in islice(container.demux(stream), _SEI_PACKETS):
            units = packet_units(codec, bytes(packet), length_size) if packet.size else []
            found = found or any(is_sei(codec, t) for t in units)
        if found:
            kinds.append(f"{codec}.sei")
    return kinds


def _raw(path: Path, media_type: MediaType) -> list[str]:
    """Metadata structures seen in the bytes, whatever FFmpeg makes of them."""
    kinds: list[str] = []
    with path.open("rb") as handle:
        if av_bytes.id3v2_size(handle):
            kinds.append("id3v2")
        if media_type in (MediaType.MP3, MediaType.M4A, MediaType.FLAC):
            kinds.extend(av_bytes.trailing_tags(handle))
        if media_type is MediaType.FLAC:
            for kind, *_ in av_bytes.flac_blocks(handle):
                if kind == av_bytes.FLAC_VORBIS_COMMENT:
                    kinds.append("vorbis_comment")
                elif kind == av_bytes.FLAC_PICTURE:
                    kinds.append("cover_art")
                elif kind not in _FLAC_ALLOWED:
                    kinds.append("flac." + av_bytes.FLAC_NAMES.get(kind, "block"))
        if media_type is MediaType.WAV:
            for chunk, offset, length in av_bytes.riff_chunks(handle):
                if chunk == b"JUNK" and av_bytes.blank_chunk(handle, offset, length):
                    continue
                if chunk not in av_bytes.RIFF_ALLOWED:
                    name = chunk.decode("latin-1").strip().lower()
                    kinds.append(_RIFF_KINDS.get(chunk, "riff." + name))
    if media_type in (MediaType.MP4, MediaType.MOV, MediaType.M4A) and _is_iso(path):
        for box in isobmff.metadata_boxes(path):
            kinds.append("mp4." + box.kind.decode("latin-1").replace("\xa9", ""))
        if any(isobmff.creation_times(path)):
            kinds.append("mp4.creation_time")
    return kinds


def _is_iso(path: Path) -> bool:
    """An ISO/QuickTime box file (M4A may also be raw AAC in ADTS frames)."""
    with path.open("rb") as handle:
        return handle.read(8)[4:8] in _ISO_FIRST_BOXES
