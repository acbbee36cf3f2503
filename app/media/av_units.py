"""Data hidden inside packets and codec headers, below what a muxer sees.

- Global headers: the ``filter_units`` bitstream filter cleans packets but copies the
  header unchanged, and x265 puts its settings string there, as an SEI unit of the
  HEVC configuration (``hvcC``). ``strip_extradata`` rebuilds it without SEI. H.264's
  ``avcC`` holds only parameter sets; Annex B headers are split and filtered.
- Audio frames: see ``av_frames``.
- Packet side data: only sample skipping survives a copy (``without_side_data``).
"""

from __future__ import annotations

import re
import struct

from av.packet import Packet
from av.stream import Stream

# Packet side data kept on copy: timing only. Everything else (metadata updates, new
# extradata with comment headers, Matroska block additions, captions) is dropped.
KEPT_SIDE_DATA = frozenset({"skip_samples"})
H264_SEI = frozenset({6})
HEVC_SEI = frozenset({39, 40})
_START_CODE = re.compile(b"\x00\x00\x01")


def strip_extradata(codec: str, extradata: bytes) -> bytes:
    """``extradata`` without SEI units (H.264, HEVC) or with an empty comment header
    (Vorbis); unchanged for other codecs."""
    if codec == "vorbis":
        return _empty_vorbis_comments(extradata)
    if codec not in ("h264", "hevc") or len(extradata) < 4:
        return extradata
    if extradata.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        return _strip_annexb(codec, extradata)
    if codec == "hevc" and extradata[0] == 1:
        return _strip_hvcc(extradata)
    return extradata


# A Vorbis comment header with an empty vendor string, no comments, the framing bit.
EMPTY_VORBIS_COMMENTS = b"\x03vorbis" + bytes(8) + b"\x01"


def split_xiph(data: bytes) -> list[bytes] | None:
    """The packets of Xiph-laced extradata (Vorbis in Matroska and MP4), or ``None``."""
    if not data:
        return None
    count, pos, sizes = data[0] + 1, 1, []
    for _ in range(count - 1):
        size = 0
        while pos < len(data) and data[pos] == 255:
            size, pos = size + 255, pos + 1
        if pos >= len(data):
            return None
        size, pos = size + data[pos], pos + 1
        sizes.append(size)
    packets = []
    for size in sizes:
        packets.append(data[pos : pos + size])
        pos += size
    if pos > len(data):
        return None
    return [*packets, data[pos:]]


def join_xiph(packets: list[bytes]) -> bytes:
    """Xiph lacing of ``packets`` (the inverse of ``split_xiph``)."""
    out = bytearray([len(packets) - 1])
    for packet in packets[:-1]:
        out += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    return bytes(out) + b"".join(packets)


def _empty_vorbis_comments(extradata: bytes) -> bytes:
    """Vorbis extradata (identification, comment, setup headers) with the comment
    header replaced by an empty one: vendor string and comments gone."""
    packets = split_xiph(extradata)
    if packets is None or len(packets) != 3 or not packets[1].startswith(b"\x03vorbis"):
        return extradata  # not Xiph-laced headers: the muxer will refuse or rebuild them
    return join_xiph([packets[0], EMPTY_VORBIS_COMMENTS, packets[2]])


def unit_type(codec: str, header: int) -> int:
    """The NAL unit type from the first header byte."""
    return header & 0x1F if codec == "h264" else (header >> 1) & 0x3F


def _strip_annexb(codec: str, data: bytes) -> bytes:
    dropped = H264_SEI if codec == "h264" else HEVC_SEI
    starts = [m.end() for m in _START_CODE.finditer(data)]
    kept: list[bytes] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] - 3 if index + 1 < len(starts) else len(data)
        unit = data[start:end].rstrip(b"\x00")
        if unit and unit_type(codec, unit[0]) not in dropped:
            kept.append(b"\x00\x00\x00\x01" + unit)
    return b"".join(kept)


def _strip_hvcc(data: bytes) -> bytes:
    """Rebuild an ``hvcC`` record (ISO/IEC 14496-15 8.3.3) without SEI arrays or units."""
    if len(data) < 23:
        return data
    out = bytearray(data[:22])
    count = data[22]
    arrays: list[bytes] = []
    pos = 23
    for _ in range(count):
        if pos + 3 > len(data):
            return data  # malformed: leave it to the decoder to refuse
        header, units = data[pos], struct.unpack_from(">H", data, pos + 1)[0]
        pos += 3
        kept: list[bytes] = []
        for _ in range(units):
            if pos + 2 > len(data):
                return data
            length = struct.unpack_from(">H", data, pos)[0]
            unit = data[pos + 2 : pos + 2 + length]
            pos += 2 + length
            if unit and unit_type("hevc", unit[0]) not in HEVC_SEI:
                kept.append(struct.pack(">H", len(unit)) + unit)
        if kept and (header & 0x3F) not in HEVC_SEI:
            arrays.append(bytes([header]) + struct.pack(">H", len(kept)) + b"".join(kept))
    out.append(len(arrays))
    for array in arrays:
        out += array
    return bytes(out)


def header_units(codec: str, extradata: bytes) -> list[int]:
    """NAL unit types in an H.264/HEVC global header (Annex B, ``avcC`` or ``hvcC``)."""
    if extradata.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        starts = [m.end() for m in _START_CODE.finditer(extradata)]
        return [unit_type(codec, extradata[s]) for s in starts if s < len(extradata)]
    if codec == "hevc" and len(extradata) >= 23 and extradata[0] == 1:
        types: list[int] = []
        pos = 23
        for _ in range(extradata[22]):
            if pos + 3 > len(extradata):
                break
            units = struct.unpack_from(">H", extradata, pos + 1)[0]
            pos += 3
            for _ in range(units):
                if pos + 2 > len(extradata):
                    return types
                length = struct.unpack_from(">H", extradata, pos)[0]
                if length and pos + 2 < len(extradata):
                    types.append(unit_type(codec, extradata[pos + 2]))
                pos += 2 + length
        return types
    return []  # avcC holds parameter sets only


def packet_units(codec: str, data: bytes, length_size: int = 4) -> list[int]:
    """NAL unit types in a length-prefixed (MP4-style) H.264/HEVC packet."""
    types: list[int] = []
    pos = 0
    while pos + length_size < len(data):
        length = int.from_bytes(data[pos : pos + length_size], "big")
        if length == 0 or pos + length_size + length > len(data):
            break
        types.append(unit_type(codec, data[pos + length_size]))
        pos += length_size + length
    return types


def is_sei(codec: str, kind: int) -> bool:
    """Whether a NAL unit type is SEI for this codec."""
    return kind in (H264_SEI if codec == "h264" else HEVC_SEI)


def without_side_data(packet: Packet[Stream]) -> Packet[Stream]:
    """The packet itself when it carries no side data, else a copy carrying only
    the side data in ``KEPT_SIDE_DATA``."""
    if not any(True for _ in packet.iter_sidedata()):
        return packet
    return copy_packet(packet, bytes(packet))


def copy_packet(packet: Packet[Stream], data: bytes) -> Packet[Stream]:
    """A new packet with ``data``, the timing and key flag of ``packet``, and only the
    side data in ``KEPT_SIDE_DATA``."""
    clean = Packet(data)
    clean.pts, clean.dts, clean.duration = packet.pts, packet.dts, packet.duration
    clean.time_base = packet.time_base
    clean.is_keyframe = packet.is_keyframe
    for side in packet.iter_sidedata():
        if side.data_type in KEPT_SIDE_DATA:
            clean.set_sidedata(side)
    return clean
