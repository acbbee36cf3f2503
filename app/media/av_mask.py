"""Face masking for the video encoder: a ``FrameStage`` that runs the face tracker
over upright frames and masks its boxes irreversibly.

The tracker (``detectors.video_faces.FaceTracker``) detects every few frames at
reduced size and holds a few frames back, so each frame is masked with detections from
before and after it. Frames without a box go to the encoder untouched. Every
``REPORT_EVERY`` seconds the masked areas (overlapping boxes merged) are kept for the
report, so masking needs no second detection pass. Boxes are
filled with ``anonymise.FILL`` grey directly in the frame's Y, U and V planes: the
same pixels ``anonymise.mask_regions(method="fill")`` would produce, without two
full-frame RGB conversions (at 1080p those cost more than the encoder). The
``pixelate`` method goes through ``mask_regions`` on RGB.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
from av.video.frame import VideoFrame

from app.media.errors import MediaFault
from app.media.report import Face

# A solid fill, not pixelation: in a video the same face is pixelated again in every
# frame, with the block grid landing on it differently as it moves, and combining
# many such frames (multi-frame super-resolution) recovers detail one frame hides.
# Pixelated faces also remain faces to a detector (CenterFace finds them at 0.2-0.6).
MASK_METHOD = "fill"
DETECTIONS_PER_SECOND = 5  # the tracker's detector runs about this often
REPORT_EVERY = 0.5  # seconds between frames whose masked areas go into the report
FULL_RANGE = 2  # AVCOL_RANGE_JPEG

Box = tuple[int, int, int, int]
RGB = npt.NDArray[np.uint8]


def box_of(item: Any) -> Box:
    """(x, y, width, height) of a ``FaceBox`` or of such a tuple."""
    x, y, w, h = item.box if hasattr(item, "box") else item
    return int(x), int(y), int(w), int(h)


class FaceMaskStage:
    """Track and mask faces in a stream of upright frames; count what it masked."""

    def __init__(self, rate: Fraction | float | None, method: str = MASK_METHOD) -> None:
        try:
            from app.media.anonymise import FILL, mask_regions
            from app.media.detectors.video_faces import FaceTracker
        except ModuleNotFoundError as error:
            raise MediaFault("the face detector is not installed") from error
        every = max(1, int(float(rate or 30) / DETECTIONS_PER_SECOND))
        self.tracker: Any = FaceTracker(detect_every=every)
        self._mask = mask_regions
        self._grey = FILL[0]
        self.method = method
        self.frames_masked = 0
        self.faces: list[Face] = []  # masked areas, sampled every REPORT_EVERY seconds
        self._report_due = 0.0

    def push(self, frame: VideoFrame) -> list[VideoFrame]:
        """Take the next frame; return the frames ready to encode, masked."""
        return [self._masked(ready, boxes) for ready, boxes in self.tracker.push(frame)]

    def flush(self) -> list[VideoFrame]:
        """The frames the tracker still holds, masked."""
        return [self._masked(ready, boxes) for ready, boxes in self.tracker.flush()]

    @property
    def detections(self) -> int:
        """Frames the detector looked at."""
        return int(self.tracker.detections)

    def _masked(self, frame: VideoFrame, found: Sequence[Any]) -> VideoFrame:
        if not found:
            return frame
        self.frames_masked += 1
        boxes: list[Box] = [box_of(item) for item in found]
        self._sample(frame, boxes, max(float(getattr(item, "score", 1.0)) for item in found))
        if self.method == "fill":
            masked = fill_yuv(frame, boxes, self._grey)
        else:
            rgb: RGB = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            masked = VideoFrame.from_ndarray(self._mask(rgb, boxes, method=self.method), "rgb24")
        masked.pts, masked.time_base = frame.pts, frame.time_base
        return masked

    def _sample(self, frame: VideoFrame, boxes: list[Box], score: float) -> None:
        time = float(frame.time) if frame.time is not None else self._report_due
        if time < self._report_due:
            return
        self._report_due = time + REPORT_EVERY
        for box in merged(boxes):
            self.faces.append(
                Face(box=box, score=round(score, 3), time=round(time, 3), masked=True)
            )


def merged(boxes: Sequence[Box]) -> list[Box]:
    """Overlapping boxes replaced by their bounding box, until none overlap."""
    pending = [tuple(box) for box in boxes]
    out: list[Box] = []
    while pending:
        x, y, w, h = pending.pop()
        grown = True
        while grown:
            grown = False
            for other in list(pending):
                ox, oy, ow, oh = other
                if ox < x + w and x < ox + ow and oy < y + h and y < oy + oh:
                    pending.remove(other)
                    x0, y0 = min(x, ox), min(y, oy)
                    w, h = max(x + w, ox + ow) - x0, max(y + h, oy + oh) - y0
                    x, y, grown = x0, y0, True
        out.append((x, y, w, h))
    return out


def fill_yuv(frame: VideoFrame, boxes: Sequence[Box], grey: int) -> VideoFrame:
    """A new 4:2:0 frame: ``frame`` with every (x, y, width, height) box solid grey.

    Chroma is neutral (128) over the box rounded outward to whole chroma samples, so
    no colour of the region survives either.
    """
    width, height = frame.width - frame.width % 2, frame.height - frame.height % 2
    if frame.format.name != "yuv420p" or (width, height) != (frame.width, frame.height):
        frame = frame.reformat(width=width, height=height, format="yuv420p")
    planes: RGB = np.asarray(frame.to_ndarray(), dtype=np.uint8)  # Y rows, then U, then V
    luma = planes[:height]
    chroma = planes[height:].reshape(2, height // 2, width // 2)
    level = grey if frame.color_range == FULL_RANGE else round(16 + grey * 219 / 255)
    for x, y, w, h in boxes:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if x1 <= x0 or y1 <= y0:
            continue
        luma[y0:y1, x0:x1] = level
        chroma[:, y0 // 2 : (y1 + 1) // 2, x0 // 2 : (x1 + 1) // 2] = 128
    out = VideoFrame.from_ndarray(planes, format="yuv420p")
    out.color_range = frame.color_range
    return out
