"""Test pictures with faces, built offline from scikit-image's astronaut photograph.

The wheel is installed with ``--no-deps`` only for its data (see the Makefile), so
the file is found through ``find_spec``, without importing scikit-image.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

RGB = npt.NDArray[np.uint8]

# Where the astronaut's face is in the 512 x 512 photograph (looked at by eye: chin
# ~y 175, hairline ~y 60, cheeks ~x 180-270).
ASTRONAUT_FACE = (170, 50, 110, 135)  # x, y, w, h
# A crop around the face with some hair and neck: the face is ~3/4 of its height.
FACE_CROP = (166, 38, 286, 198)


def skimage_data(name: str) -> Path:
    """A file from scikit-image's bundled data; skipped locally if the wheel is
    missing, a failure under CI (the Makefile installs it)."""
    spec = importlib.util.find_spec("skimage")
    path = (
        Path(next(iter(spec.submodule_search_locations))) / "data" / name
        if spec is not None and spec.submodule_search_locations
        else None
    )
    if path is None or not path.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("scikit-image's data is not installed; the Makefile installs it")
        pytest.skip("scikit-image's data is not installed (make installs it)")
    return path


def load_rgb(path: Path) -> RGB:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def astronaut() -> RGB:
    return load_rgb(skimage_data("astronaut.png"))


def face_crop(face_height: int, *, mirror: bool = False, rotate: float = 0.0) -> Image.Image:
    """The astronaut's face scaled so the face itself is about ``face_height`` px tall."""
    with Image.open(skimage_data("astronaut.png")) as image:
        crop = image.convert("RGB").crop(FACE_CROP)
    scale = face_height / 120  # the face is ~120 px tall in the 160 px crop
    crop = crop.resize(
        (max(1, round(crop.width * scale)), max(1, round(crop.height * scale))),
        Image.Resampling.LANCZOS,
    )
    if mirror:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if rotate:
        crop = crop.rotate(
            rotate, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(128, 128, 128)
        )
    return crop


def noisy_background(width: int, height: int, seed: int = 0) -> RGB:
    """Blotchy colour noise at two scales, like an out-of-focus crowd or wall."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 215, (height // 50 + 1, width // 50 + 1, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BILINEAR))
    fine = rng.normal(0, 12, (height, width, 3))
    return np.clip(base + fine, 0, 255).astype(np.uint8)


def overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over the smaller box's area (1.0 when one contains the other)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    inter_w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    inter_h = max(0, min(ay + ah, by + bh) - max(ay, by))
    smaller = min(aw * ah, bw * bh)
    return inter_w * inter_h / smaller if smaller else 0.0
