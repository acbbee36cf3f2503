"""Irreversible masking of image regions (faces), on RGB arrays.

Two methods, both destroying the pixels rather than transforming them:

- ``fill``: a solid fixed dark grey. Nothing of the region survives; the safest choice.
- ``pixelate``: the region becomes at most 8 x 8 coarse blocks (block side = the box's
  longer side / 8), each block's colour quantised to 8 levels per channel and jittered
  with fresh random noise. A blur is a known, invertible-in-practice convolution: the
  detail is attenuated, not removed, and deconvolution or a model trained on blurred
  faces brings much of it back. Here each block keeps one coarse, noisy colour for
  hundreds of pixels; the detail inside a block is discarded, not hidden, so no
  algorithm can put it back. Over a box enlarged ~1.3x around the face, the whole face
  is ~6 x 6 blocks. What survives is a rough colour layout (skin tone, hair colour), so
  an adversary holding a short list of candidates could still compare those few
  values with their photos; the quantisation and noise make even that unreliable, and
  ``fill`` leaves nothing at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from app.media.detectors.faces import FaceBox

METHODS = ("fill", "pixelate")
FILL = (48, 48, 48)  # fixed, so the fill carries no information about the region
BLOCKS = 8  # at most this many blocks across the region's longer side
LEVELS = 8  # colour levels per channel kept of each block
NOISE = 12  # +- this much uniform noise per block and channel, after quantising

Box = FaceBox | tuple[int, int, int, int]


def _clipped(box: Box, width: int, height: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the box clipped to the image, or None if nothing is left."""
    x, y, w, h = box.box if isinstance(box, FaceBox) else box
    x0, y0 = max(0, int(x)), max(0, int(y))
    x1, y1 = min(width, int(x) + int(w)), min(height, int(y) + int(h))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _pixelate(region: npt.NDArray[np.uint8], rng: np.random.Generator) -> None:
    """Replace ``region`` in place by quantised, jittered block colours."""
    height, width = region.shape[:2]
    block = max(1, math.ceil(max(width, height) / BLOCKS))
    step = 256 // LEVELS
    for top in range(0, height, block):
        for left in range(0, width, block):
            cell = region[top : top + block, left : left + block]
            mean = cell.reshape(-1, 3).mean(axis=0)
            level = np.floor(mean / step) * step + step / 2
            colour = level + rng.uniform(-NOISE, NOISE, size=3)
            cell[...] = np.clip(np.rint(colour), 0, 255).astype(np.uint8)


def mask_regions(
    rgb: npt.NDArray[np.uint8], boxes: Iterable[Box], *, method: str = "pixelate"
) -> npt.NDArray[np.uint8]:
    """A copy of ``rgb`` (height, width, 3) with every box masked; the input is untouched.

    Boxes are (x, y, width, height) or ``FaceBox``; pass them already enlarged for
    masking (``faces.masking_boxes``). They are clipped to the image; overlapping boxes
    are each masked in turn. Raises ``ValueError`` for an unknown method or an array
    that is not (height, width, 3) uint8.
    """
    if method not in METHODS:
        raise ValueError(f"unknown masking method {method!r}; expected one of {METHODS}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("expected an RGB image as a (height, width, 3) uint8 array")
    out = rgb.copy()
    height, width = out.shape[:2]
    rng = np.random.default_rng()  # fresh OS entropy: the noise cannot be replayed
    for box in boxes:
        clipped = _clipped(box, width, height)
        if clipped is None:
            continue
        x0, y0, x1, y1 = clipped
        if method == "fill":
            out[y0:y1, x0:x1] = FILL
        else:
            _pixelate(out[y0:y1, x0:x1], rng)
    return out
