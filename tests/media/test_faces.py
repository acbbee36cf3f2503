"""Face detection and masking on pictures built offline from the astronaut photograph."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from app.media.anonymise import FILL, mask_regions
from app.media.detectors.faces import FaceBox, detect_faces, enlarge, masking_boxes
from tests.media.face_images import (
    ASTRONAUT_FACE,
    RGB,
    astronaut,
    face_crop,
    load_rgb,
    noisy_background,
    overlaps,
    skimage_data,
)

# (face height px, mirrored, rotation degrees, top-left x, y) on a 4000 x 3000 canvas.
# The 300 px face straddles the seam between the first two full-resolution tiles
# (x 960-1120), so it must come from the overview pass, counted once.
GROUP = [
    (20, False, 0.0, 300, 400),
    (24, True, 0.0, 700, 400),
    (40, False, 0.0, 1100, 400),
    (40, True, -20.0, 1500, 400),
    (60, False, 25.0, 1900, 400),
    (80, True, 0.0, 2400, 400),
    (160, False, 0.0, 3000, 400),
    (300, False, 0.0, 890, 1500),
    (20, True, 0.0, 3500, 2600),
]


def pasted_box(crop: Image.Image, x: int, y: int) -> tuple[int, int, int, int]:
    return (x, y, crop.width, crop.height)


@pytest.fixture(scope="module")
def group_photo() -> tuple[RGB, list[tuple[int, int, int, int]]]:
    canvas = Image.fromarray(noisy_background(4000, 3000, seed=7))
    boxes = []
    for height, mirror, rotate, x, y in GROUP:
        crop = face_crop(height, mirror=mirror, rotate=rotate)
        canvas.paste(crop, (x, y))
        boxes.append(pasted_box(crop, x, y))
    return np.asarray(canvas), boxes


@pytest.fixture(scope="module")
def group_faces(group_photo: tuple[RGB, list[tuple[int, int, int, int]]]) -> list[FaceBox]:
    return detect_faces(group_photo[0])


def test_astronaut_has_exactly_one_face_where_it_is() -> None:
    faces = detect_faces(astronaut())
    assert len(faces) == 1
    assert overlaps(faces[0].box, ASTRONAUT_FACE) > 0.8
    assert faces[0].score > 0.8


def test_downscaled_scan_reports_boxes_in_input_pixels() -> None:
    faces = detect_faces(astronaut(), max_side=256)
    assert len(faces) == 1
    assert overlaps(faces[0].box, ASTRONAUT_FACE) > 0.8


def test_every_pasted_face_is_found_once_at_full_resolution(
    group_photo: tuple[RGB, list[tuple[int, int, int, int]]], group_faces: list[FaceBox]
) -> None:
    _, pasted = group_photo
    for box, (height, mirror, rotate, *_xy) in zip(pasted, GROUP, strict=True):
        hits = [face for face in group_faces if overlaps(face.box, box) > 0.5]
        assert len(hits) == 1, f"{height} px face (mirror={mirror}, rotate={rotate})"
    assert len(group_faces) == len(GROUP), "a face found in the background noise"


def test_pasted_face_boxes_fit_the_faces(
    group_photo: tuple[RGB, list[tuple[int, int, int, int]]], group_faces: list[FaceBox]
) -> None:
    _, pasted = group_photo
    for box in pasted:
        (face,) = (face for face in group_faces if overlaps(face.box, box) > 0.5)
        # The box is about face-sized: neither a speck nor the whole crop's surroundings.
        assert 0.35 * box[3] <= face.h <= 1.2 * box[3]


def test_downscaled_scan_misses_only_small_faces(
    group_photo: tuple[RGB, list[tuple[int, int, int, int]]],
) -> None:
    image, pasted = group_photo
    faces = detect_faces(image, max_side=1280)
    for box, (height, *_rest) in zip(pasted, GROUP, strict=True):
        if height >= 80:  # >= 25 px at 1280
            assert any(overlaps(face.box, box) > 0.5 for face in faces), f"{height} px"


def _text_image() -> RGB:
    image = Image.new("RGB", (1200, 600), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    for row, line in enumerate(
        ["Nothing about us without us.", "Survivors lead this campaign.", "0123456789 @#%&"]
    ):
        draw.text((40, 60 + row * 150), line, fill=(20, 20, 20), font=font)
    return np.asarray(image)


def _gradient() -> RGB:
    y, x = np.mgrid[0:900, 0:1600]
    return np.stack([x * 255 // 1599, y * 255 // 899, (x + y) * 255 // 2498], axis=2).astype(
        np.uint8
    )


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: noisy_background(3000, 2000, seed=3), id="blotchy-noise"),
        pytest.param(
            lambda: np.random.default_rng(5).integers(0, 256, (1500, 2000, 3), dtype=np.uint8),
            id="white-noise",
        ),
        pytest.param(_gradient, id="gradient"),
        pytest.param(_text_image, id="text"),
        pytest.param(lambda: load_rgb(skimage_data("coffee.png")), id="photo-coffee"),
        pytest.param(lambda: load_rgb(skimage_data("rocket.jpg")), id="photo-rocket"),
        pytest.param(lambda: load_rgb(skimage_data("brick.png")), id="photo-brick"),
        pytest.param(lambda: load_rgb(skimage_data("page.png")), id="photo-page"),
    ],
)
def test_no_face_in_pictures_without_one(make: object) -> None:
    assert callable(make)
    assert detect_faces(make()) == []


def test_tiny_and_empty_images() -> None:
    assert detect_faces(np.zeros((1, 1, 3), np.uint8)) == []
    assert detect_faces(np.zeros((0, 10, 3), np.uint8)) == []


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((10, 10), np.uint8),
        np.zeros((10, 10, 4), np.uint8),
        np.zeros((10, 10, 3), np.float32),
    ],
)
def test_only_rgb_uint8_is_accepted(array: np.ndarray) -> None:
    with pytest.raises(ValueError, match="RGB"):
        detect_faces(array)


def test_enlarge_grows_about_the_centre_and_clips() -> None:
    assert enlarge(FaceBox(100, 100, 100, 200, 0.9), 1.3, 1000, 1000) == FaceBox(
        85, 70, 130, 260, 0.9
    )
    assert enlarge(FaceBox(0, 0, 100, 100, 0.5), 2.0, 120, 1000) == FaceBox(0, 0, 120, 150, 0.5)


# Masking ------------------------------------------------------------------------------


def _high_pass(region: RGB) -> np.ndarray:
    """Neighbour differences of the grey image: the edges that make a face a face."""
    grey = region.astype(np.float64).mean(axis=2)
    return np.concatenate([np.diff(grey, axis=0).ravel(), np.diff(grey, axis=1).ravel()])


@pytest.mark.parametrize("method", ["pixelate", "fill"])
def test_masked_face_is_gone(method: str) -> None:
    image = astronaut()
    (box,) = masking_boxes(detect_faces(image), image.shape[1], image.shape[0])
    masked = mask_regions(image, [box], method=method)

    assert not any(overlaps(face.box, box.box) > 0.2 for face in detect_faces(masked))
    inside = (slice(box.y, box.y + box.h), slice(box.x, box.x + box.w))
    before, after = image[inside], masked[inside]
    assert np.abs(before.astype(int) - after.astype(int)).mean() > 20
    after_edges = _high_pass(after)
    if after_edges.std() > 0:
        # Pixelation keeps ~48 coarse colours, so the raw pixels still correlate with
        # the original's layout (~0.8); every edge inside a block is gone.
        assert abs(np.corrcoef(_high_pass(before), after_edges)[0, 1]) < 0.3
    # Outside the box nothing changed.
    outside = np.ones(image.shape[:2], bool)
    outside[inside] = False
    assert np.array_equal(image[outside], masked[outside])


def test_pixelation_keeps_at_most_eight_blocks_across() -> None:
    image = astronaut()
    box = (160, 40, 120, 160)
    masked = mask_regions(image, [box], method="pixelate")
    region = masked[40:200, 160:280]
    assert len(np.unique(region.reshape(-1, 3), axis=0)) <= 8 * 6
    block = 160 // 8
    assert (region[:block, :block] == region[0, 0]).all()


def test_pixelation_noise_is_fresh_each_time() -> None:
    image = astronaut()
    first = mask_regions(image, [(160, 40, 120, 160)])
    second = mask_regions(image, [(160, 40, 120, 160)])
    assert not np.array_equal(first, second)


def test_fill_is_a_fixed_colour_and_the_input_is_untouched() -> None:
    image = astronaut()
    copy = image.copy()
    masked = mask_regions(
        image, [FaceBox(500, 500, 50, 50, 0.9), (-10, -10, 30, 20)], method="fill"
    )
    assert np.array_equal(image, copy)
    assert (masked[500:, 500:] == FILL).all()
    assert (masked[:10, :20] == FILL).all()
    assert not (masked[10:, 20:500] == FILL).all()


def test_boxes_outside_the_image_are_ignored() -> None:
    image = astronaut()
    assert np.array_equal(mask_regions(image, [(600, 600, 10, 10), (5, 5, 0, 10)]), image)


def test_unknown_masking_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        mask_regions(astronaut(), [], method="blur")
