"""Re-encoding jobs, used when a stream must change: a voice altered, faces masked, or
a codec Chorus will not copy (see ``av_remux.COPYABLE``).

Encoders run with ``flags=+bitexact`` (no version strings in the bitstream) and H.264
output goes through the same SEI filter as copied streams: x264 writes its settings
into an SEI unit of the first frame.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Protocol, cast

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.filter import Graph
from av.packet import Packet
from av.stream import Stream
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from app.media.errors import MediaFault

# Voice alteration: resample-based shift of pitch and formants together, duration
# restored by atempo. 0.8 (about four semitones down) is clearly a different voice to
# a listener, stays intelligible, and keeps atempo (1.25) well inside its clean range.
# Lowering rather than raising avoids the "chipmunk" effect that mocks the speaker.
PITCH_FACTOR = 0.8

AUDIO_ENCODER = {
    "mp3": "libmp3lame",
    "ipod": "aac",
    "mp4": "aac",
    "mov": "aac",
    "wav": "pcm_s16le",
    "flac": "flac",
    "ogg": "libopus",
    "webm": "libopus",
}
VIDEO_ENCODER = {"mp4": "libx264", "mov": "libx264", "webm": "libvpx-vp9"}
# x264's preset: "veryfast" when a stream is only re-encoded for its codec; "ultrafast"
# when faces are masked, where detection shares the two cores with the encoder (at
# 1080p30 here: 1.16x real time and 13 Mbit/s, against 0.87x and 8 Mbit/s superfast).
X264_PRESET = {False: "veryfast", True: "ultrafast"}
VIDEO_OPTIONS = {
    "libx264": {"crf": "23"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8", "crf": "32", "b": "0"},
}
AUDIO_BITRATE = {"aac": 128_000, "libopus": 96_000, "libmp3lame": 128_000}
OPUS_RATE = 48_000
MP3_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})


class FrameStage(Protocol):
    """Changes decoded (upright) frames before encoding; may hold some back."""

    def push(self, frame: VideoFrame) -> list[VideoFrame]:
        """Take the next frame; return the frames ready to encode, in order."""
        ...

    def flush(self) -> list[VideoFrame]:
        """Return every frame still held."""
        ...


def encoder(name: str) -> av.Codec:
    """The encoder, or ``MediaFault`` when this PyAV build lacks it."""
    try:
        return av.Codec(name, "w")
    except (av.FFmpegError, ValueError):
        raise MediaFault(f"this installation cannot encode {name}") from None


def _drain(graph: Graph) -> list[AudioFrame]:
    frames: list[AudioFrame] = []
    while True:
        try:
            frame = graph.pull()
        except (av.BlockingIOError, av.EOFError):
            return frames
        if isinstance(frame, AudioFrame):
            frames.append(frame)


class AudioEncodeJob:
    """Decode one audio stream, optionally shift its pitch, encode it again."""

    def __init__(
        self, source: AudioStream, output: OutputContainer, fmt: str, pitch: float | None
    ) -> None:
        self.source: Stream = source
        self.audio = source
        self.pitch = pitch
        name = AUDIO_ENCODER[fmt]
        codec = encoder(name)
        decoder = source.codec_context
        rate = decoder.sample_rate
        if name == "libopus":
            rate = OPUS_RATE
        elif name == "libmp3lame" and rate not in MP3_RATES:
            rate = 44100
        layout = "mono" if decoder.channels == 1 else "stereo"
        self.target = cast(AudioStream, output.add_stream(codec.name, rate=rate, layout=layout))
        context = self.target.codec_context
        context.options = {"flags": "+bitexact"}
        if name in AUDIO_BITRATE:
            context.bit_rate = AUDIO_BITRATE[name]
        if name == "flac" and decoder.format.bits > 16:
            context.format = "s32"
        self.graph = _graph(source, context.format.name, rate, layout, pitch)

    def feed(self, packet: Packet[Stream]) -> list[Packet[Stream]]:
        return self._encode(self.audio.decode(packet))

    def flush(self) -> list[Packet[Stream]]:
        packets = self._encode(self.audio.decode(None))
        self.graph.push(None)
        for frame in _drain(self.graph):
            packets.extend(self.target.encode(frame))
        packets.extend(self.target.encode(None))
        return packets

    def _encode(self, frames: list[AudioFrame]) -> list[Packet[Stream]]:
        packets: list[Packet[Stream]] = []
        for frame in frames:
            self.graph.push(frame)
            for filtered in _drain(self.graph):
                packets.extend(self.target.encode(filtered))
        return packets


def _graph(
    source: AudioStream, sample_format: str, rate: int, layout: str, pitch: float | None
) -> Graph:
    """abuffer → [asetrate, aresample, atempo] → aformat → abuffersink."""
    graph = Graph()
    rate_in = source.codec_context.sample_rate
    nodes = [graph.add_abuffer(template=source)]
    if pitch is not None:
        nodes.append(graph.add("asetrate", str(round(rate_in * pitch))))
        nodes.append(graph.add("aresample", str(rate_in)))
        nodes.append(graph.add("atempo", f"{1 / pitch:.6f}"))
    nodes.append(
        graph.add(
            "aformat", sample_fmts=sample_format, sample_rates=str(rate), channel_layouts=layout
        )
    )
    nodes.append(graph.add("abuffersink"))
    graph.link_nodes(*nodes)
    graph.configure()
    return graph


class VideoEncodeJob:
    """Decode one video stream, pass the frames through ``stage``, encode them again.

    Frames are turned upright first (phones store portrait video sideways with a
    rotation flag, and faces must be found and masked the way people see them).
    """

    def __init__(
        self,
        source: VideoStream,
        output: OutputContainer,
        fmt: str,
        stage: FrameStage | None,
        rotation: int = 0,
    ) -> None:
        self.source: Stream = source
        self.video = source
        self.stage = stage
        self.rotation = rotation % 360
        decoder = source.codec_context
        decoder.thread_type = "AUTO"
        name = VIDEO_ENCODER[fmt]
        codec = encoder(name)
        rate = source.average_rate or source.guessed_rate or Fraction(30)
        width, height = decoder.width, decoder.height
        if self.rotation in (90, 270):
            width, height = height, width
        self.size = (width - width % 2, height - height % 2)
        self.target = cast(VideoStream, output.add_stream(codec.name, rate=rate))
        context = self.target.codec_context
        context.width, context.height = self.size
        context.pix_fmt = "yuv420p"
        if source.time_base is not None:
            context.time_base = source.time_base
            self.target.time_base = source.time_base
        options = {**VIDEO_OPTIONS.get(name, {}), "flags": "+bitexact"}
        if name == "libx264":
            options["preset"] = X264_PRESET[stage is not None]
        context.options = options
        context.thread_type = "AUTO"
        self.filter = (
            av.BitStreamFilterContext("filter_units=remove_types=6", "h264")
            if name == "libx264"
            else None
        )
        self.frames = 0

    def feed(self, packet: Packet[Stream]) -> list[Packet[Stream]]:
        return self._encode(self.video.decode(packet))

    def flush(self) -> list[Packet[Stream]]:
        packets = self._encode(self.video.decode(None), final=True)
        packets.extend(self._filtered(self.target.encode(None)))
        if self.filter is not None:
            packets.extend(self._retarget(self.filter.filter(None)))
        return packets

    def _encode(self, frames: list[VideoFrame], *, final: bool = False) -> list[Packet[Stream]]:
        ready: list[VideoFrame] = []
        for frame in frames:
            self.frames += 1
            if frame.time_base is None:  # frames drained at the end carry none
                frame.time_base = self.source.time_base
            picture = self._upright(frame)
            ready.extend([picture] if self.stage is None else self.stage.push(picture))
        if final and self.stage is not None:
            ready.extend(self.stage.flush())
        packets: list[Packet[Stream]] = []
        for picture in ready:
            if (picture.width, picture.height) != self.size or picture.format.name != "yuv420p":
                pts, time_base = picture.pts, picture.time_base
                picture = picture.reformat(self.size[0], self.size[1], "yuv420p")
                picture.pts, picture.time_base = pts, time_base
            packets.extend(self._filtered(self.target.encode(picture)))
        return packets

    def _upright(self, frame: VideoFrame) -> VideoFrame:
        if not self.rotation:
            return frame
        turns = {90: 3, 180: 2, 270: 1}[self.rotation]  # np.rot90 turns anticlockwise
        rgb: np.ndarray[tuple[int, int, int], np.dtype[np.uint8]] = np.ascontiguousarray(
            np.rot90(frame.to_ndarray(format="rgb24"), turns)
        )
        upright = VideoFrame.from_ndarray(rgb, format="rgb24")
        upright.pts, upright.time_base = frame.pts, frame.time_base
        return upright

    def _filtered(self, packets: list[Packet[Stream]]) -> list[Packet[Stream]]:
        if self.filter is None:
            return packets
        out: list[Packet[Stream]] = []
        for packet in packets:
            time_base = packet.time_base
            for filtered in self.filter.filter(packet):
                filtered.time_base = time_base
                out.append(filtered)
        return self._retarget(out)

    def _retarget(self, packets: list[Packet[Stream]]) -> list[Packet[Stream]]:
        for packet in packets:
            packet.stream = self.target
        return packets
