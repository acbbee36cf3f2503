"""Remuxing with PyAV: which streams survive, which muxer options keep metadata out,
and the packet copy (through bitstream filters that drop in-band user data).

Nothing here decodes. Packets stream from input to output one at a time, so memory
stays flat whatever the file size.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import av
from av.container import InputContainer, OutputContainer
from av.packet import Packet
from av.stream import Disposition, Stream
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from app.media.av_frames import tidy_audio_frame
from app.media.av_units import copy_packet, strip_extradata, without_side_data
from app.media.errors import MediaRefused
from app.media.limits import Limits
from app.media.types import DEMUXERS, Family, MediaType

RECORDING_DAMAGED = (
    "This recording is damaged or incomplete; please export it again and upload the new copy."
)
VIDEO_DAMAGED = (
    "This video is damaged or incomplete; please export it again and upload the new copy."
)
NOTHING_TO_KEEP = "This file has no sound or picture that Chorus can publish."

# The muxer each sanitized type is written with (M4A: the iTunes flavour of MP4).
OUTPUT_FORMAT: dict[MediaType, str] = {
    MediaType.MP3: "mp3",
    MediaType.M4A: "ipod",
    MediaType.WAV: "wav",
    MediaType.FLAC: "flac",
    MediaType.OGG: "ogg",
    MediaType.MP4: "mp4",
    MediaType.MOV: "mov",
    MediaType.WEBM: "webm",
}
_PCM = frozenset({"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le"})
# Codecs copied without re-encoding, per output format: those whose bitstream either
# cannot carry free text or is cleaned by a bitstream filter (``av_units``). Anything
# else (MJPEG frames with EXIF, for one) is re-encoded.
COPYABLE: dict[str, frozenset[str]] = {
    "mp3": frozenset({"mp3"}),
    "ipod": frozenset({"aac", "alac"}),
    "wav": _PCM,
    "flac": frozenset({"flac"}),
    "ogg": frozenset({"opus", "vorbis"}),
    "mp4": frozenset({"h264", "hevc", "av1", "vp9", "aac", "mp3", "opus", "alac", "flac"}),
    "mov": frozenset({"h264", "hevc", "aac", "alac", "mp3"}) | _PCM | {"pcm_s16be"},
    "webm": frozenset({"vp8", "vp9", "av1", "opus", "vorbis"}),
}


def container_options(fmt: str) -> dict[str, str]:
    """Muxer options that write no tags, times, versions or random identifiers.

    ``fflags=+bitexact`` zeroes MP4 creation times, writes "Lavf" without a version,
    and makes Ogg serials and Matroska UIDs deterministic. MP3: no ID3v2 or ID3v1; the
    Xing/Info frame is kept because players need it for an exact duration and gapless
    playback, and bitexact leaves only "Lavf" in its encoder field.
    """
    options = {"fflags": "+bitexact"}
    if fmt in ("mp4", "mov", "ipod"):
        options.update({"movflags": "+faststart", "write_tmcd": "0"})
    elif fmt == "mp3":
        options.update({"id3v2_version": "0", "write_id3v1": "0", "write_xing": "1"})
    elif fmt == "wav":
        options.update({"write_bext": "0", "write_peak": "off", "rf64": "auto"})
    elif fmt == "flac":
        options.update({"padding": "0"})
    return options


def damaged(media_type: MediaType) -> str:
    """The refusal sentence for a file that cannot be read."""
    return VIDEO_DAMAGED if media_type.family is Family.VIDEO else RECORDING_DAMAGED


def open_input(path: Path, media_type: MediaType) -> InputContainer:
    """Open an upload with the demuxer its sniffed type calls for.

    Raises ``MediaRefused`` when FFmpeg cannot read it.
    """
    demuxer = DEMUXERS.get(media_type)
    if demuxer is None:  # M4A: an MP4 box file, or raw AAC in ADTS frames
        with path.open("rb") as handle:
            demuxer = "mov" if handle.read(8)[4:8] == b"ftyp" else "aac"
    try:
        return av.open(str(path), format=demuxer, metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError, UnicodeError):
        raise MediaRefused(damaged(media_type)) from None


def open_output(path: Path, media_type: MediaType) -> OutputContainer:
    """A new output container of the sanitized type, with metadata-free options."""
    fmt = OUTPUT_FORMAT[media_type]
    return av.open(str(path), "w", format=fmt, container_options=container_options(fmt))


def codec_name(stream: Stream) -> str:
    """The codec's canonical name ("mp3", not the decoder's "mp3float")."""
    return str(stream.codec_context.codec.canonical_name)


def is_picture(stream: Stream) -> bool:
    """A real video stream: not cover art stored as a one-frame video."""
    return stream.type == "video" and not stream.disposition & Disposition.attached_pic


def kept_streams(container: InputContainer, media_type: MediaType) -> list[Stream]:
    """The streams that survive: audio, plus moving pictures for video types.

    Cover art, subtitles, data, timecode and attachment streams are dropped. Raises
    ``MediaRefused`` when nothing usable is left.
    """
    video = media_type.family is Family.VIDEO
    kept = [s for s in container.streams if s.type == "audio" or (video and is_picture(s))]
    if not kept or (video and not any(is_picture(s) for s in kept)):
        raise MediaRefused(NOTHING_TO_KEEP)
    return kept


def check_limits(container: InputContainer, streams: Iterable[Stream], limits: Limits) -> None:
    """Refuse a file over the duration or picture-size limits, before any work."""
    duration = container.duration
    if duration is not None and duration / av.time_base > limits.max_duration_seconds:
        raise MediaRefused(too_long(limits.max_duration_seconds))
    for stream in streams:
        if isinstance(stream, VideoStream):
            context = stream.codec_context
            if context.width * context.height > limits.max_video_pixels:
                raise MediaRefused("This video's picture is larger than Chorus accepts.")


def display_rotation(path: Path, media_type: MediaType, index: int) -> int:
    """How far (degrees, clockwise) a video stream's pictures must turn to be upright,
    from the display matrix on its first decoded frame (phones film portrait video
    sideways and flag it)."""
    with open_input(path, media_type) as container:
        try:
            for frame in container.decode(container.streams[index]):
                if isinstance(frame, VideoFrame):
                    return -round(frame.rotation) % 360
        except av.FFmpegError:
            raise MediaRefused(damaged(media_type)) from None
    return 0


def too_long(seconds: float) -> str:
    """The refusal sentence for a file over the duration limit, naming the limit."""
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size or unit == "second":
            amount = seconds / size
            limit = f"{amount:g} {unit}" + ("" if amount == 1 else "s")
            break
    return f"This file is longer than Chorus accepts (the limit is {limit})."


class Job(Protocol):
    """Turns the packets of one input stream into packets of one output stream."""

    source: Stream

    def feed(self, packet: Packet[Stream]) -> list[Packet[Stream]]: ...

    def flush(self) -> list[Packet[Stream]]: ...


class CopyJob:
    """Copy one stream's packets, through a filter that drops in-band user data."""

    def __init__(self, source: Stream, output: OutputContainer) -> None:
        self.source = source
        self.target = output.add_stream_from_template(source)
        self.target.metadata.clear()
        self.filter = sei_filter(source, self.target)
        # The filter hands its output header (Annex B for H.264/HEVC) to the target,
        # with the header's own SEI still in it: strip those here.
        header = cleaned = self.target.codec_context.extradata
        if header:
            cleaned = strip_extradata(codec_name(source), header)
            if cleaned != header:
                self.target.codec_context.extradata = cleaned
        self.units_removed = int(bool(header) and cleaned != header)
        # Raw MP3 and ADTS streams are cut into frames by a parser that hands bytes
        # between frames (APE tags, junk, hidden data) over as part of a frame; AAC
        # frames may open with an encoder's name in a filler element.
        self.codec = codec_name(source)
        self.framed = self.codec in ("mp1", "mp2", "mp3", "aac")
        self.bytes_dropped = 0
        self.frames_blanked = 0
        self.last_dts: int | None = None

    def feed(self, packet: Packet[Stream]) -> list[Packet[Stream]]:
        if packet.dts is None:
            return []
        self._monotonic(packet)
        if self.framed:
            framed = self._one_frame(packet)
            if framed is None:
                return []
            packet = framed
        if self.filter is None:
            return [self._retarget(packet)]
        size = packet.size  # the filter takes the packet's data over
        packets = self.filter.filter(packet)
        if sum(p.size for p in packets) < size:
            self.units_removed += 1
        return [self._retarget(p) for p in packets]

    def flush(self) -> list[Packet[Stream]]:
        if self.filter is None:
            return []
        return [self._retarget(p) for p in self.filter.filter(None)]

    def _monotonic(self, packet: Packet[Stream]) -> None:
        """Nudge a decoding time that does not increase (edited or damaged files), as
        the ffmpeg command does: muxers refuse such packets outright."""
        dts = packet.dts
        if dts is not None and self.last_dts is not None and dts <= self.last_dts:
            dts = packet.dts = self.last_dts + 1
            if packet.pts is not None and packet.pts < dts:
                packet.pts = dts
        self.last_dts = dts

    def _one_frame(self, packet: Packet[Stream]) -> Packet[Stream] | None:
        """The packet as exactly one clean frame (``av_units.tidy_audio_frame``);
        ``None`` for bytes that are not a frame at all."""
        data = bytes(packet)
        tidied = tidy_audio_frame(self.codec, data)
        if tidied is None:
            self.bytes_dropped += len(data)
            return None
        if tidied is data:
            return packet
        self.bytes_dropped += len(data) - len(tidied)
        self.frames_blanked += len(tidied) == len(data)
        return copy_packet(packet, tidied)

    def _retarget(self, packet: Packet[Stream]) -> Packet[Stream]:
        packet = without_side_data(packet)
        packet.stream = self.target
        return packet


def sei_filter(source: Stream, target: Stream) -> av.BitStreamFilterContext | None:
    """A bitstream filter dropping user-data units, for codecs that have them:
    H.264 SEI (type 6), HEVC prefix and suffix SEI (39, 40), AV1 metadata OBUs (5)."""
    types = {"h264": "6", "hevc": "39|40", "av1": "5"}.get(codec_name(source))
    if types is None:
        return None
    return av.BitStreamFilterContext(f"filter_units=remove_types={types}", source, target)


def pump(
    source: InputContainer,
    output: OutputContainer,
    jobs: dict[int, Job],
    media_type: MediaType,
    limits: Limits,
) -> float:
    """Demux the kept streams, hand each packet to its job, mux what comes out.

    Returns the largest timestamp seen, in seconds. Raises ``MediaRefused`` for a file
    that cannot be read to the end or runs past the duration limit.
    """
    latest = 0.0
    streams = [job.source for job in jobs.values()]
    try:
        for packet in source.demux(streams):
            if packet.size == 0:
                continue
            if packet.pts is not None and packet.time_base is not None:
                latest = max(latest, float(packet.pts * packet.time_base))
                if latest > limits.max_duration_seconds:
                    raise MediaRefused(too_long(limits.max_duration_seconds))
            output.mux(jobs[packet.stream.index].feed(packet))
        for job in jobs.values():
            output.mux(job.flush())
    except (av.InvalidDataError, av.EOFError):
        raise MediaRefused(damaged(media_type)) from None
    return latest
