"""A podcast (MP3) and a dance-performance video (MP4) made with PyAV from the vendored
speech and face, with planted tags: ID3 frames and cover art in the MP3; iTunes tags,
a 3GPP location, handler names and an H.264 user-data SEI in the MP4."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator

import av
import av.audio.frame
import av.stream
import numpy as np

from app.demo.media.pictures import dirty_jpeg, face_picture, gradient
from app.demo.media.planted import ISO6709, SPEECH, DemoFile, marker

VIDEO_SIZE = (480, 360)
FPS = 15
VIDEO_SECONDS = 4
SEI_UUID = "a4c5e0d2-5f0b-4c8e-9d1e-3b7f6a2c9e01"  # any UUID: it only labels the user data


def speech(
    rate: int, frame_size: int, *, seconds: float | None = None
) -> Iterator[av.audio.frame.AudioFrame]:
    """The vendored speech as mono float-planar frames of ``frame_size`` samples at
    ``rate``, cut after ``seconds`` when given; timestamps count samples."""
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate, frame_size=frame_size)
    limit = None if seconds is None else round(seconds * rate)
    done = 0
    with av.open(str(SPEECH)) as source:
        decoded = source.decode(audio=0)
        for frame in (*decoded, None):
            for out in resampler.resample(frame):
                if limit is not None and done >= limit:
                    return
                out.pts = done
                done += out.samples
                yield out


def _tags(slot: str) -> dict[str, str]:
    return {
        "title": marker(f"{slot}-title"),
        "artist": marker(f"{slot}-artist"),
        "album": marker(f"{slot}-album"),
        "comment": marker(f"{slot}-comment"),
        "description": marker(f"{slot}-description"),
        "date": "2025-11-14",
        "location": ISO6709,
    }


def podcast() -> DemoFile:
    """An MP3 episode: the speech, with ID3v2 title, artist, album, comment, a custom
    (TXXX) place, cover art with its own EXIF, and an ID3v1 tag at the end."""
    buffer = io.BytesIO()
    art = dirty_jpeg(face_picture(), "cover-art")
    with (
        av.open(io.BytesIO(art), "r", format="jpeg_pipe") as picture,
        av.open(buffer, "w", format="mp3", container_options={"write_id3v1": "1"}) as out,
    ):
        out.metadata.update(_tags("id3"))
        audio = out.add_stream("libmp3lame", rate=44_100, layout="mono")
        audio.bit_rate = 48_000
        cover = out.add_stream_from_template(picture.streams.video[0])
        cover.disposition = av.stream.Disposition.attached_pic
        cover.metadata["title"] = marker("cover-title")
        for packet in picture.demux(video=0):
            if packet.size:
                packet.stream = cover
                out.mux(packet)
        for frame in speech(44_100, audio.codec_context.frame_size or 1152):
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return DemoFile("episode-03-final.mp3", buffer.getvalue())


def _frames() -> Iterator[av.VideoFrame]:
    """The face drifting gently across a warm backdrop."""
    width, height = VIDEO_SIZE
    backdrop = np.asarray(gradient(width, height, (60, 40, 80), (200, 120, 90)))
    face = np.asarray(face_picture())
    size = face.shape[0]
    for index in range(FPS * VIDEO_SECONDS):
        t = index / FPS
        x = round((width - size) / 2 + 40 * math.sin(2 * math.pi * t / VIDEO_SECONDS))
        y = round((height - size) / 2 + 12 * math.cos(2 * math.pi * t / VIDEO_SECONDS))
        canvas = backdrop.copy()
        canvas[y : y + size, x : x + size] = face
        frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
        frame.pts = index
        yield frame


def video() -> DemoFile:
    """A four-second H.264/AAC MP4: the face moving, the speech, iTunes tags, a 3GPP
    location, named handlers, a language, and a planted user-data SEI."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        out.metadata.update(_tags("mp4"))
        picture = out.add_stream("libx264", rate=FPS)
        picture.width, picture.height = VIDEO_SIZE
        picture.pix_fmt = "yuv420p"
        picture.options = {"preset": "veryfast", "crf": "26"}
        picture.metadata["handler_name"] = marker("video-handler")
        sound = out.add_stream("aac", rate=44_100, layout="mono")
        sound.bit_rate = 64_000
        sound.metadata["handler_name"] = marker("audio-handler")
        sound.metadata["language"] = "fra"
        video_packets = [p for frame in (*_frames(), None) for p in picture.encode(frame)]
        # The filter reads the stream's avcC parameters, set when the header is written.
        out.start_encoding()
        planted = f"h264_metadata=sei_user_data={SEI_UUID}+{marker('h264-sei')}"
        sei = av.bitstream.BitStreamFilterContext(planted, picture)
        for packet in (*video_packets, None):
            for filtered in sei.filter(packet):
                filtered.stream = picture
                out.mux(filtered)
        for chunk in speech(44_100, sound.codec_context.frame_size or 1024, seconds=VIDEO_SECONDS):
            out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))
    return DemoFile("rehearsal-2025-11-14.mp4", buffer.getvalue())
