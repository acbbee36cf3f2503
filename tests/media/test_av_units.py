"""Byte-level helpers of the audio/video sanitizer, on hand-made bytes: codec headers
(``av_units``), ISO boxes (``isobmff``) and FLAC/RIFF/ID3 structures (``av_bytes``)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from app.media import av_bytes, av_frames, av_units, isobmff
from tests.media.checkers import marker

MARK = marker("unit").encode()


def _hvcc(arrays: list[tuple[int, list[bytes]]]) -> bytes:
    out = bytearray(bytes([1]) + bytes(20) + bytes([0x0F]))  # 22-byte header
    out.append(len(arrays))
    for kind, units in arrays:
        out += bytes([0x80 | kind]) + struct.pack(">H", len(units))
        for unit in units:
            out += struct.pack(">H", len(unit)) + unit
    return bytes(out)


def _hevc_unit(kind: int, body: bytes) -> bytes:
    return bytes([kind << 1, 1]) + body


def test_hvcc_loses_sei_arrays_and_keeps_parameter_sets() -> None:
    vps, sps, pps = (_hevc_unit(k, b"\x0c\x01") for k in (32, 33, 34))
    sei = _hevc_unit(39, b"\x05" + MARK)
    header = _hvcc([(32, [vps]), (33, [sps]), (34, [pps]), (39, [sei])])
    cleaned = av_units.strip_extradata("hevc", header)
    assert MARK not in cleaned
    assert av_units.header_units("hevc", cleaned) == [32, 33, 34]
    assert av_units.header_units("hevc", header) == [32, 33, 34, 39]


def test_annexb_header_loses_sei() -> None:
    sps, sei, pps = b"\x67\x42\x00", b"\x06\x05" + MARK, b"\x68\xce"
    header = b"".join(b"\x00\x00\x00\x01" + unit for unit in (sps, sei, pps))
    cleaned = av_units.strip_extradata("h264", header)
    assert MARK not in cleaned
    assert av_units.header_units("h264", cleaned) == [7, 8]


def test_packet_units_walks_length_prefixes() -> None:
    packet = b"".join(struct.pack(">I", len(u)) + u for u in (b"\x06\x05xx", b"\x65\x88"))
    assert av_units.packet_units("h264", packet) == [6, 5]


def test_vorbis_comment_header_is_emptied() -> None:
    ident = b"\x01vorbis" + bytes(22) + b"\x01"
    comments = b"\x03vorbis" + struct.pack("<I", 4) + b"Xiph" + struct.pack("<I", 1)
    comments += struct.pack("<I", len(MARK) + 6) + b"TITLE=" + MARK + b"\x01"
    setup = b"\x05vorbis" + bytes(300)
    header = av_units.join_xiph([ident, comments, setup])
    assert av_units.split_xiph(header) == [ident, comments, setup]
    cleaned = av_units.strip_extradata("vorbis", header)
    assert MARK not in cleaned
    assert b"Xiph" not in cleaned
    assert av_units.split_xiph(cleaned) == [ident, av_units.EMPTY_VORBIS_COMMENTS, setup]


@pytest.mark.parametrize(
    ("header", "length"),
    [
        (b"\xff\xfb\x90\x64", 417),  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz
        (b"\xff\xfb\x92\x64", 418),  # the same, padded
        (b"\xff\xf3\x50\xc4", 130),  # MPEG-2 Layer III, 40 kbit/s, 22.05 kHz
        (b"\xff\xfd\x80\x64", 417),  # MPEG-1 Layer II, 128 kbit/s, 44.1 kHz
    ],
)
def test_mpeg_frame_length(header: bytes, length: int) -> None:
    assert av_frames.frame_length("mp3", header + bytes(500)) == length


def test_junk_is_not_a_frame_and_frames_are_cut() -> None:
    assert av_frames.tidy_audio_frame("mp3", b"APETAGEX" + bytes(40)) is None
    frame = b"\xff\xfb\x90\x64" + bytes(413)
    assert av_frames.tidy_audio_frame("mp3", frame) is frame
    assert av_frames.tidy_audio_frame("mp3", frame + b"TAG" + MARK) == frame


def test_aac_filler_with_encoder_name_is_zeroed() -> None:
    name = b"Lavc62.28.102"
    count = len(name) + 2
    # FIL element, count 15 + escape, extension type 0 (filler), then the name
    bits = "110" + "1111" + f"{count - 14:08b}" + "0000"
    bits += "0" * (-len(bits) % 8)
    head = int(bits, 2).to_bytes(len(bits) // 8, "big")
    frame = head + name + b"\x00" + b"\x21\x10\x05"  # then an audio element
    blanked = av_frames.blank_aac_leading_data(frame)
    assert blanked is not None
    assert name not in blanked
    assert len(blanked) == len(frame)
    assert blanked.endswith(b"\x21\x10\x05")
    assert av_frames.blank_aac_leading_data(b"\x21\x10\x05\x00") is None  # SCE first


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def test_box_walker_blanks_udta_in_place(tmp_path: Path) -> None:
    mvhd = _box(b"mvhd", bytes([0, 0, 0, 0]) + struct.pack(">II", 3_700_000_000, 5) + bytes(88))
    udta = _box(b"udta", _box(b"\xa9xyz", MARK))
    moov = _box(b"moov", mvhd + _box(b"trak", _box(b"udta", MARK)) + udta)
    path = tmp_path / "f.mp4"
    path.write_bytes(_box(b"ftyp", b"isom" + bytes(4)) + moov + _box(b"mdat", b"data"))
    assert isobmff.creation_times(path) == [3_700_000_000, 5]
    assert {b.kind for b in isobmff.metadata_boxes(path)} == {b"udta"}
    size = path.stat().st_size
    assert isobmff.blank_boxes(path, frozenset({b"udta"})) == 2
    assert path.stat().st_size == size
    assert MARK not in path.read_bytes()
    assert isobmff.metadata_boxes(path) == []


def test_flac_comment_and_picture_become_padding(tmp_path: Path) -> None:
    streaminfo = bytes([0]) + (34).to_bytes(3, "big") + bytes(34)
    comment = bytes([4]) + (len(MARK)).to_bytes(3, "big") + MARK
    picture = bytes([0x80 | 6]) + (len(MARK)).to_bytes(3, "big") + MARK
    path = tmp_path / "f.flac"
    path.write_bytes(b"fLaC" + streaminfo + comment + picture + b"\xff\xf8frames")
    assert av_bytes.blank_flac_tags(path) == 2
    with path.open("rb") as handle:
        assert [(k, last) for k, _, _, last in av_bytes.flac_blocks(handle)] == [
            (0, False),
            (1, False),
            (1, True),
        ]
    assert MARK not in path.read_bytes()


def test_riff_chunks_and_trailing_tags(tmp_path: Path) -> None:
    body = b"WAVE" + _riff(b"fmt ", bytes(16)) + _riff(b"LIST", b"INFO" + MARK)
    body += _riff(b"data", bytes(4))
    path = tmp_path / "f.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body + b"TAG" + bytes(125))
    with path.open("rb") as handle:
        chunks = [c for c, _, _ in av_bytes.riff_chunks(handle)]
        assert chunks == [b"fmt ", b"LIST/INFO", b"data", b"trailing"]
        assert av_bytes.trailing_tags(handle) == ["id3v1"]


def _riff(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)
