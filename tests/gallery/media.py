"""Small clean media for gallery tests, made on the spot: a picture, a PDF page, a
second of quiet noise, a short silent video and a Markdown script. None holds a face
or speech, so every one passes the consent gate without consent."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
from PIL import Image

from tests.media.face_images import noisy_background
from tests.studio.media import noise_wav

__all__ = ["jpeg", "mp4", "noise_wav", "pdf", "script"]


def jpeg(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(noisy_background(width, height, seed=seed)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def pdf() -> bytes:
    buffer = io.BytesIO()
    pages = [Image.fromarray(noisy_background(200, 280, seed=s)) for s in (1, 2)]
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=72)
    return buffer.getvalue()


def mp4(frames: int = 8) -> bytes:
    """A one-second silent H.264 MP4, 96 x 64 pixels."""
    buffer = io.BytesIO()
    rng = np.random.default_rng(5)
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=frames)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.time_base = Fraction(1, frames)
        for index in range(frames):
            pixels = rng.integers(60, 200, (64, 96, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buffer.getvalue()


def script(title: str = "The crossing") -> bytes:
    return (
        f"# {title}\n\n*A short scene for two voices.*\n\n"
        "**A:** When I arrived I had one bag.\n\n**B:** And now?\n\n"
        "**A:** Now I have a group. <script>alert(1)</script>\n"
    ).encode()
