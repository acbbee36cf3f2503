"""Audio frames made safe to copy.

Raw MP3 and ADTS demuxers cut the stream into frames with a parser that hands bytes
found between frames (APE tags, junk, hidden data) over as a frame of their own or as
the tail of one; AAC encoders write their name and version (FFmpeg) or free text
(data stream elements) at the start of frames. ``tidy_audio_frame`` cuts a frame to
the length its header declares, drops what is not a frame, and zeroes those elements.
"""

from __future__ import annotations

# MPEG audio bitrates (kbit/s, index 1-14) by (MPEG-1?, layer) and sample rates.
_MPEG_KBPS = {
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def frame_length(codec: str, data: bytes) -> int | None:
    """The length of the MPEG audio or ADTS AAC frame that ``data`` starts with, from
    its header (all of ``data`` for free-format MP3); ``None`` when ``data`` does not
    start with a valid frame header."""
    if len(data) < 7 or data[0] != 0xFF:
        return None
    if codec == "aac":
        if data[1] & 0xF6 != 0xF0:
            return None
        return ((data[3] & 3) << 11) | (data[4] << 3) | (data[5] >> 5)
    if codec not in ("mp1", "mp2", "mp3") or data[1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (data[1] >> 3) & 3, (data[1] >> 1) & 3
    index, rate_index, padding = data[2] >> 4, (data[2] >> 2) & 3, (data[2] >> 1) & 1
    if version == 1 or layer_bits == 0 or index == 15 or rate_index == 3:
        return None
    if index == 0:  # free format: the length is not in the header
        return len(data)
    layer = 4 - layer_bits
    bitrate = _MPEG_KBPS[(version == 3, layer)][index - 1] * 1000
    rate = _MPEG_RATES[version][rate_index]
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4
    if layer == 3 and version != 3:
        return 72 * bitrate // rate + padding
    return 144 * bitrate // rate + padding


# AAC syntax elements (ISO/IEC 14496-3 4.4.2.1) and fill extension types.
_AAC_DSE, _AAC_FIL = 4, 6
_EXT_FILL, _EXT_FILL_DATA = 0, 1


def _bits(data: bytes | bytearray, start: int, count: int) -> int:
    value = 0
    for bit in range(start, start + count):
        value = (value << 1) | ((data[bit >> 3] >> (7 - (bit & 7))) & 1)
    return value


def _zero_bits(data: bytearray, start: int, end: int) -> None:
    for bit in range(start, end):
        data[bit >> 3] &= ~(0x80 >> (bit & 7)) & 0xFF


def blank_aac_leading_data(data: bytes) -> bytes | None:
    """The AAC frame with the bytes of its leading data and filler elements zeroed,
    or ``None`` when it starts with neither (the usual case).

    FFmpeg's AAC encoder writes its name and version in a filler element at the start
    of a frame; other encoders put free text in data stream elements. Decoders skip
    both, so zeroing them changes no sample. Filler carrying SBR or other extension
    data is left alone, and elements after the audio cannot be found without decoding.
    """
    start = 0
    if frame_length("aac", data) is not None:  # ADTS: a 7-byte header, 9 with CRC
        start = 56 if data[1] & 1 else 72
    total = len(data) * 8
    buffer = bytearray(data)
    position = start
    changed = False
    while position + 15 <= total:
        element = _bits(buffer, position, 3)
        if element == _AAC_FIL:
            count = _bits(buffer, position + 3, 4)
            body = position + 7
            if count == 15:
                count += _bits(buffer, body, 8) - 1
                body += 8
            end = body + 8 * count
            if count == 0 or end > total:
                break
            if _bits(buffer, body, 4) in (_EXT_FILL, _EXT_FILL_DATA):
                _zero_bits(buffer, body + 4, end)
                changed = True
        elif element == _AAC_DSE:
            aligned = _bits(buffer, position + 7, 1)
            count = _bits(buffer, position + 8, 8)
            body = position + 16
            if count == 255:
                count += _bits(buffer, body, 8)
                body += 8
            if aligned:
                body = (body + 7) & ~7
            end = body + 8 * count
            if end > total:
                break
            _zero_bits(buffer, body, end)
            changed = changed or count > 0
        else:
            break
        position = end
    return bytes(buffer) if changed else None


def tidy_audio_frame(codec: str, data: bytes) -> bytes | None:
    """An MP3/MP2 or AAC frame made safe to copy: ``data`` itself when nothing needs
    doing, a shorter or zero-blanked copy otherwise, ``None`` when ``data`` is not a
    frame at all (bytes the demuxer's parser found between frames)."""
    if codec != "aac" or data[:1] == b"\xff":  # MP3, or AAC in ADTS frames
        length = frame_length(codec, data)
        if length is None:
            return None
        data = data[:length] if length < len(data) else data
    if codec == "aac":
        blanked = blank_aac_leading_data(data)
        if blanked is not None:
            return blanked
    return data
