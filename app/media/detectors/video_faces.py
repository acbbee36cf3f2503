"""Faces in video: sampled for the report, and tracked frame by frame for masking.

Decoding: PyAV with frame threading; non-reference frames (B-frames) are not even
decoded while sampling (``skip_frame = "NONREF"``, 30 % less decoding here) and
frames between samples are never converted to RGB. Seeking keyframe to keyframe was
not worth it: phone and camera videos put keyframes seconds apart, so a sample every
0.5 s would decode most frames anyway, and decoding (2.5 ms a 1080p frame) costs far
less than detection (50-180 ms a sample).

Frames are scanned upright: a phone's portrait video is stored sideways with a display
rotation, and CenterFace finds faces lying on their side less surely (lower scores).

Both scans give weak small candidates a smaller budget of enlarged second looks
(``rechecks``) than a still image gets: a cluttered frame can hold dozens, and each
costs about a tenth of a 640 px frame scan.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import av
import numpy as np
import numpy.typing as npt
from PIL import Image

from app.media.detectors.faces import (
    MASK_ENLARGE,
    RGB,
    THRESHOLD,
    FaceBox,
    detect_faces,
    enlarge,
)
from app.media.errors import MediaRefused
from app.media.report import Face

SAMPLE_MAX_SIDE = 1280
TRACK_MAX_SIDE = 640
SAMPLE_RECHECKS = 16
TRACK_RECHECKS = 4


def _quarter_turns(rotation: int) -> int:
    """Counter-clockwise quarter turns that show a frame upright (``frame.rotation``)."""
    return round(rotation / 90) % 4


def _scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    longest = max(width, height)
    if max_side is None or longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(2, round(width * scale)), max(2, round(height * scale))


def _detection_view(
    frame: av.VideoFrame | RGB, max_side: int | None, turns: int
) -> tuple[RGB, float, float]:
    """The frame downscaled and turned upright as RGB, and the x and y scale from the
    stored frame to it (before turning). PyAV frames are scaled by swscale, which
    converts and resizes in one pass."""
    if isinstance(frame, av.VideoFrame):
        stored_w, stored_h = frame.width, frame.height
        width, height = _scaled_size(stored_w, stored_h, max_side)
        rgb = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
        small: RGB = np.asarray(rgb, dtype=np.uint8)
    else:
        stored_h, stored_w = frame.shape[:2]
        width, height = _scaled_size(stored_w, stored_h, max_side)
        small = frame
        if (width, height) != (stored_w, stored_h):
            small = np.asarray(
                Image.fromarray(frame).resize((width, height), Image.Resampling.BILINEAR)
            )
    return np.ascontiguousarray(np.rot90(small, turns)), width / stored_w, height / stored_h


def _unturn(box: FaceBox, turns: int, width: int, height: int) -> FaceBox:
    """A box in ``np.rot90(stored, turns)`` mapped back to ``stored``, an image
    ``width`` x ``height``. One counter-clockwise turn sends stored (row r, column c) to
    upright (row w - 1 - c, column r), so it is undone turn by turn, outermost first."""
    x, y, w, h = box.box
    for turn in range(turns % 4, 0, -1):
        inner_width = width if (turn - 1) % 2 == 0 else height
        x, y, w, h = inner_width - y - h, x, h, w
    return FaceBox(x, y, w, h, box.score)


def _to_stored(
    boxes: list[FaceBox], turns: int, scale_x: float, scale_y: float, size: tuple[int, int]
) -> list[FaceBox]:
    """Upright-view boxes in the stored frame's full-resolution pixels."""
    stored_w, stored_h = size
    small_w, small_h = round(stored_w * scale_x), round(stored_h * scale_y)
    out: list[FaceBox] = []
    for box in boxes:
        flat = _unturn(box, turns, small_w, small_h)
        x0 = max(0, int(np.floor(flat.x / scale_x)))
        y0 = max(0, int(np.floor(flat.y / scale_y)))
        x1 = min(stored_w, int(np.ceil((flat.x + flat.w) / scale_x)))
        y1 = min(stored_h, int(np.ceil((flat.y + flat.h) / scale_y)))
        if x1 > x0 and y1 > y0:
            out.append(FaceBox(x0, y0, x1 - x0, y1 - y0, flat.score))
    return out


@dataclass(frozen=True, slots=True)
class VideoScan:
    """What a sampled scan found: faces with their times, and how many frames it
    scanned (for ``Report.frames_scanned``)."""

    faces: list[Face]
    frames_scanned: int


def scan_video(
    path: Path,
    *,
    every_seconds: float = 0.5,
    max_side: int = SAMPLE_MAX_SIDE,
    threshold: float = THRESHOLD,
    rechecks: int = SAMPLE_RECHECKS,
) -> VideoScan:
    """Detect faces in one frame every ``every_seconds`` of the first video stream.

    Boxes are in the upright (as displayed) frame's full-resolution pixels; the frames
    are scanned downscaled to ``max_side``, so faces smaller than about 2.5 % of the
    frame's longer side at 1280 may be missed. Raises ``MediaRefused`` if the video
    cannot be decoded, ``MediaFault`` if the model cannot be loaded.
    """
    if every_seconds <= 0:
        raise ValueError("every_seconds must be positive")
    faces: list[Face] = []
    scanned = 0
    try:
        with av.open(str(path)) as container:
            streams = [
                s
                for s in container.streams.video
                if not s.disposition & av.stream.Disposition.attached_pic
            ]
            if not streams:
                return VideoScan([], 0)
            stream = streams[0]
            stream.thread_type = "AUTO"
            stream.codec_context.skip_frame = "NONREF"
            rate = float(stream.average_rate or stream.guessed_rate or 30)
            due = None
            for index, frame in enumerate(container.decode(stream)):
                time = frame.time if frame.time is not None else index / rate
                if due is not None and time < due:
                    continue
                due = time + every_seconds
                scanned += 1
                turns = _quarter_turns(frame.rotation)
                view, scale_x, scale_y = _detection_view(frame, max_side, turns)
                upright = _upright_size(frame.width, frame.height, turns)
                for box in detect_faces(view, threshold=threshold, rechecks=rechecks):
                    faces.append(
                        Face(
                            box=_rescaled(box, view.shape[1], view.shape[0], upright),
                            score=round(box.score, 3),
                            time=round(time, 3),
                        )
                    )
    except av.error.FFmpegError as error:
        raise MediaRefused("The video could not be decoded.") from error
    return VideoScan(faces, scanned)


def _upright_size(width: int, height: int, turns: int) -> tuple[int, int]:
    return (height, width) if turns % 2 else (width, height)


def _rescaled(
    box: FaceBox, view_w: int, view_h: int, size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """A box in the view's pixels as (x, y, w, h) in a ``size`` frame, rounded outward."""
    sx, sy = size[0] / view_w, size[1] / view_h
    x0, y0 = int(np.floor(box.x * sx)), int(np.floor(box.y * sy))
    x1 = min(size[0], int(np.ceil((box.x + box.w) * sx)))
    y1 = min(size[1], int(np.ceil((box.y + box.h) * sy)))
    return (x0, y0, x1 - x0, y1 - y0)


def faces_in_video(
    path: Path, *, every_seconds: float = 0.5, max_side: int = SAMPLE_MAX_SIDE
) -> list[Face]:
    """Faces found in one frame every ``every_seconds``, with ``time`` set (see
    ``scan_video``, which also counts the frames scanned)."""
    return scan_video(path, every_seconds=every_seconds, max_side=max_side).faces


Frame = TypeVar("Frame", av.VideoFrame, npt.NDArray[np.uint8])


class FaceTracker(Generic[Frame]):
    """Which boxes to mask in every frame of a video, for a masking encoder.

    Push decoded frames in order (PyAV frames or RGB arrays); get them back, a few
    frames later, each with the boxes to mask, in the stored frame's pixels::

        tracker = FaceTracker()
        for frame in container.decode(stream):
            for ready, boxes in tracker.push(frame):
                encode(mask_regions(ready.to_ndarray(format="rgb24"), boxes))
        for ready, boxes in tracker.flush():
            ...

    The trade-off: detecting on every frame is the safest and 3x the cost; here the
    detector runs every ``detect_every`` frames (and on the last one), downscaled to
    ``max_side``. Each frame is masked with the union of every detection within
    ``reach`` frames before *and after* it (the tracker holds ``reach`` frames back
    to see ahead), each box enlarged by ``enlarge`` and grown by ``growth`` of its size
    per frame of distance. Looking both ways covers a face that enters between two
    detections; a reach of two detection intervals bridges one missed detection; the
    growth covers a face that moves up to ~4 % of its width per frame (a face crossing
    a 1080p frame in one second). What it does not cover: a face smaller than ~20 px at
    ``max_side`` (60 px in a 1080p frame at 640), and a face seen for fewer frames than
    ``detect_every``. Memory: ``reach`` frames are held (6 by default).
    """

    def __init__(
        self,
        *,
        detect_every: int = 3,
        max_side: int = TRACK_MAX_SIDE,
        threshold: float = THRESHOLD,
        enlarge: float = MASK_ENLARGE,
        growth: float = 0.08,
        reach: int | None = None,
        rechecks: int = TRACK_RECHECKS,
    ) -> None:
        if detect_every < 1:
            raise ValueError("detect_every must be at least 1")
        self.detect_every = detect_every
        self.max_side = max_side
        self.threshold = threshold
        self.enlarge = enlarge
        self.growth = growth
        self.reach = reach if reach is not None else 2 * detect_every
        self.rechecks = rechecks
        self.detections = 0  # detector runs so far
        self._pending: deque[tuple[int, Frame]] = deque()
        self._found: deque[tuple[int, list[FaceBox]]] = deque()  # (frame number, boxes)
        self._count = 0
        self._last_detected = -1
        self._size = (0, 0)

    def _detect(self, number: int, frame: Frame) -> None:
        turns = _quarter_turns(frame.rotation) if isinstance(frame, av.VideoFrame) else 0
        view, scale_x, scale_y = _detection_view(frame, self.max_side, turns)
        boxes = detect_faces(view, threshold=self.threshold, rechecks=self.rechecks)
        self._found.append((number, _to_stored(boxes, turns, scale_x, scale_y, self._size)))
        self._last_detected = number
        self.detections += 1

    def _boxes_for(self, number: int) -> list[FaceBox]:
        width, height = self._size
        out: list[FaceBox] = []
        for found_at, boxes in self._found:
            distance = abs(number - found_at)
            if distance > self.reach:
                continue
            factor = self.enlarge * (1 + self.growth * distance)
            out.extend(enlarge(box, factor, width, height) for box in boxes)
        return out

    def _release(self, final: bool) -> list[tuple[Frame, list[FaceBox]]]:
        ready: list[tuple[Frame, list[FaceBox]]] = []
        while self._pending and (final or self._pending[0][0] + self.reach <= self._count - 1):
            number, frame = self._pending.popleft()
            ready.append((frame, self._boxes_for(number)))
            while self._found and self._found[0][0] < number - self.reach:
                self._found.popleft()
        return ready

    def push(self, frame: Frame) -> list[tuple[Frame, list[FaceBox]]]:
        """Take the next frame; return the frames now ready, in order, with boxes."""
        if isinstance(frame, av.VideoFrame):
            self._size = (frame.width, frame.height)
        else:
            self._size = (frame.shape[1], frame.shape[0])
        number = self._count
        self._count += 1
        if number % self.detect_every == 0:
            self._detect(number, frame)
        self._pending.append((number, frame))
        return self._release(final=False)

    def flush(self) -> list[tuple[Frame, list[FaceBox]]]:
        """The frames still held, with boxes (the last frame gets its own detection)."""
        if self._pending and self._last_detected != self._pending[-1][0]:
            self._detect(*self._pending[-1])
        return self._release(final=True)
