"""Running CenterFace: input blobs, output decoding, tiling and small-face rechecks.

CenterFace predicts, on a grid of one cell per 4x4 input pixels, a face-centre
heatmap, the box size (log scale) and a sub-cell offset. It is fully convolutional, so
with the dynamic input shape ``app.media.models`` gives it, it runs on an image at its
own resolution: that is what finds 20 px faces in a 12 MP photo. Inputs are RGB 0-255
float32 NCHW, padded (not stretched) to a multiple of 32 per side, the network's
total stride. Candidates are corner boxes (x0, y0, x1, y1) with scores.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from PIL import Image

from app.media.models import session

MODEL = "centerface"
STRIDE = 32  # the input's sides must be a multiple of this
CELL = 4  # one heatmap cell per CELL x CELL input pixels
NMS_IOU = 0.3  # overlapping candidates above this IoU are one face
CONTAINED = 0.7  # a candidate this much inside a bigger or better one is the same face
TILE = 1280  # longest side scanned in one pass; larger images are tiled
OVERVIEW = 1024  # longest side of the downscaled pass over a tiled image

# Small-face recheck: a weak candidate (heatmap RECHECK_FLOOR..threshold, box under
# SMALL px) is cut out (CROP px around its centre), enlarged UPSCALE times and scanned
# again, where a real face is 60-120 px and scores 0.6-0.9 while the clutter that
# produced the candidate stays under 0.25 (tests; skimage's motorcycle photo). A 20 px
# face scores anywhere from 0.03 to 0.8 at its own size, depending on where it falls
# on the network's 32 px grid; with the floor at 0.02, 382 of 384 such faces pasted
# at varied positions were found (0.05: 371), with no false positive.
RECHECK_FLOOR = 0.02
RECHECK_THRESHOLD = 0.5
SMALL = 40
CROP = 64
UPSCALE = 3
MAX_RECHECKS = 64

Floats = npt.NDArray[np.float32]
RGB = npt.NDArray[np.uint8]
Candidates = tuple[Floats, Floats]


def resized(rgb: RGB, max_side: int | None) -> tuple[RGB, float]:
    """The image scaled so its longer side is at most ``max_side``, and the scale."""
    height, width = rgb.shape[:2]
    longest = max(height, width)
    if max_side is None or longest <= max_side:
        return rgb, 1.0
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(small), scale


def _padded(side: int) -> int:
    return -(-side // STRIDE) * STRIDE


def _blob(images: list[RGB]) -> Floats:
    """Same-size RGB images as float32 NCHW, zero-padded right and bottom to a
    multiple of 32."""
    height, width = images[0].shape[:2]
    blob = np.zeros((len(images), 3, _padded(height), _padded(width)), dtype=np.float32)
    for index, image in enumerate(images):
        blob[index, :, :height, :width] = image.transpose(2, 0, 1)
    return blob


def _decode(outputs: list[Floats], item: int, size: tuple[int, int], floor: float) -> Candidates:
    """Candidates of batch item ``item`` above ``floor``, clipped to ``size`` (w, h)."""
    heatmap, scale, offset = outputs[0][item, 0], outputs[1][item], outputs[2][item]
    rows, cols = np.nonzero(heatmap > floor)
    box_h = np.exp(scale[0, rows, cols]) * CELL
    box_w = np.exp(scale[1, rows, cols]) * CELL
    centre_y = (rows + offset[0, rows, cols] + 0.5) * CELL
    centre_x = (cols + offset[1, rows, cols] + 0.5) * CELL
    width, height = size
    corners = np.stack(
        [
            np.clip(centre_x - box_w / 2, 0, width),
            np.clip(centre_y - box_h / 2, 0, height),
            np.clip(centre_x + box_w / 2, 0, width),
            np.clip(centre_y + box_h / 2, 0, height),
        ],
        axis=1,
    ).astype(np.float32)
    return corners, heatmap[rows, cols].astype(np.float32)


def _run(images: list[RGB], floor: float) -> list[Candidates]:
    """One network pass over same-size images (a batch)."""
    net = session(MODEL)
    outputs = net.run(None, {net.get_inputs()[0].name: _blob(images)})
    size = (images[0].shape[1], images[0].shape[0])
    return [_decode(outputs, item, size, floor) for item in range(len(images))]


def _intersection(box: Floats, others: Floats) -> Floats:
    width = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
    height = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
    inter: Floats = np.clip(width, 0, None) * np.clip(height, 0, None)
    return inter


def suppress(corners: Floats, scores: Floats) -> list[int]:
    """Indices of the boxes kept, best score first.

    Greedy non-maximum suppression by IoU; a box lying mostly inside a kept box is
    dropped too (a face cut by a tile seam, or detected at two scales): it would count
    one face twice, and dropping it never uncovers a pixel, since the box it lies in is
    masked anyway.
    """
    x0, y0, x1, y1 = corners.T
    areas = np.maximum((x1 - x0) * (y1 - y0), 1e-6)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best, rest = int(order[0]), order[1:]
        keep.append(best)
        inter = _intersection(corners[best], corners[rest])
        iou = inter / (areas[best] + areas[rest] - inter)
        order = rest[(iou < NMS_IOU) & (inter / areas[rest] < CONTAINED)]
    kept, kept_areas = corners[keep], areas[keep]
    return [
        index
        for n, index in enumerate(keep)
        if not np.any(
            (_intersection(kept[n], kept) / kept_areas[n] >= CONTAINED)
            & (kept_areas > kept_areas[n])
        )
    ]


def _spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """Evenly spread [start, end) spans of at most ``tile`` covering ``length``, each
    overlapping the next by at least ``overlap``."""
    if length <= tile:
        return [(0, length)]
    count = math.ceil((length - overlap) / (tile - overlap))
    size = min(length, _padded(math.ceil((length + (count - 1) * overlap) / count)))
    starts = [round(i * (length - size) / (count - 1)) for i in range(count)]
    return [(start, start + size) for start in starts]


def _clear_of_seams(
    corners: Floats, tile: tuple[int, int, int, int], size: tuple[int, int]
) -> npt.NDArray[np.bool_]:
    """Which boxes of a tile do not run into an edge it shares with another tile.

    Such a box is a face cut by the seam; the same face lies whole in the neighbouring
    tile or, if bigger than the overlap, in the overview, and the cut box must not
    outscore and suppress that whole one.
    """
    left, top, right, bottom = tile
    width, height = size
    x0, y0, x1, y1 = corners.T
    clear: npt.NDArray[np.bool_] = (
        ((left == 0) | (x0 > left + 1))
        & ((top == 0) | (y0 > top + 1))
        & ((right == width) | (x1 < right - 1))
        & ((bottom == height) | (y1 < bottom - 1))
    )
    return clear


def scan(rgb: RGB, floor: float) -> Candidates:
    """Candidates above ``floor`` over the whole image at its own resolution.

    A large image is scanned in overlapping tiles of about 1.2 MP, plus one
    downscaled overview pass that finds the faces too big for a tile's overlap. On an
    idle 2-core machine a 12 MP image takes 1.5 s this way against 1.3 s in one pass,
    but the process peaks at 0.7 GB instead of 3.2 GB (onnxruntime's arena keeps its
    peak), and memory no longer grows with the image: the limits allow 100 MP, which
    in one pass would need some 25 GB. Under CPU contention tiles were even faster
    per pixel (their activations stay in cache). Bigger tiles (2 MP) gained nothing
    measurable and cost 1 GB.
    The overlap is the size of the smallest face the overview reliably finds (24 px
    there), with margin, so every face lies whole in some tile or in the overview;
    boxes cut by a seam are dropped in favour of those whole ones.
    """
    height, width = rgb.shape[:2]
    if max(height, width) <= TILE:
        return _run([rgb], floor)[0]
    overview, scale = resized(rgb, OVERVIEW)
    corners, scores = _run([overview], floor)[0]
    all_corners, all_scores = [corners / scale], [scores]
    overlap = max(64, _padded(math.ceil(32 * max(height, width) / OVERVIEW)))
    tile = max(TILE, 4 * overlap)
    for top, bottom in _spans(height, tile, overlap):
        for left, right in _spans(width, tile, overlap):
            corners, scores = _run([rgb[top:bottom, left:right]], floor)[0]
            corners += np.array([left, top, left, top], dtype=np.float32)
            whole = _clear_of_seams(corners, (left, top, right, bottom), (width, height))
            all_corners.append(corners[whole])
            all_scores.append(scores[whole])
    return np.concatenate(all_corners), np.concatenate(all_scores)


def _crop(rgb: RGB, centre_x: float, centre_y: float) -> tuple[RGB, int, int]:
    """A CROP x CROP patch around a point (zero-padded past the image's edges),
    enlarged UPSCALE times, and the patch's top-left corner in the image."""
    height, width = rgb.shape[:2]
    left = min(max(0, round(centre_x - CROP / 2)), max(0, width - CROP))
    top = min(max(0, round(centre_y - CROP / 2)), max(0, height - CROP))
    patch = np.zeros((CROP, CROP, 3), dtype=np.uint8)
    part = rgb[top : top + CROP, left : left + CROP]
    patch[: part.shape[0], : part.shape[1]] = part
    side = CROP * UPSCALE
    big = Image.fromarray(patch).resize((side, side), Image.Resampling.BICUBIC)
    return np.asarray(big), left, top


def recheck_small(rgb: RGB, weak: Candidates, found: Floats, limit: int) -> Candidates:
    """The weak small candidates that prove to be faces when looked at enlarged.

    Tiny faces (about 20 px) often score under the threshold at their own size. Each
    weak candidate not already inside a found face is rescanned UPSCALE times larger,
    all in one batch; the face box found near its centre is kept if it scores at least
    RECHECK_THRESHOLD. At most ``limit`` candidates, best first.
    """
    corners, scores = weak
    sizes = np.maximum(corners[:, 2] - corners[:, 0], corners[:, 3] - corners[:, 1])
    small = sizes < SMALL
    corners, scores = corners[small], scores[small]
    centres = (corners[:, :2] + corners[:, 2:]) / 2
    if len(found):
        inside_found = (
            (centres[:, None, 0] >= found[None, :, 0])
            & (centres[:, None, 0] <= found[None, :, 2])
            & (centres[:, None, 1] >= found[None, :, 1])
            & (centres[:, None, 1] <= found[None, :, 3])
        ).any(axis=1)
        corners, scores, centres = (
            corners[~inside_found],
            scores[~inside_found],
            centres[~inside_found],
        )
    picked = suppress(corners, scores)[:limit]
    if not picked:
        return np.empty((0, 4), np.float32), np.empty(0, np.float32)
    crops = [_crop(rgb, float(centres[i, 0]), float(centres[i, 1])) for i in picked]
    results = _run([patch for patch, _, _ in crops], RECHECK_THRESHOLD)
    out_corners, out_scores = [], []
    for index, (_, left, top), (boxes, box_scores) in zip(picked, crops, results, strict=True):
        if not box_scores.size:
            continue
        mapped = boxes / UPSCALE + np.array([left, top, left, top], dtype=np.float32)
        distance = np.abs((mapped[:, :2] + mapped[:, 2:]) / 2 - centres[index]).max(axis=1)
        near = distance < SMALL / 2
        if near.any():
            best = int(np.argmax(np.where(near, box_scores, -1.0)))
            out_corners.append(mapped[best])
            out_scores.append(box_scores[best])
    if not out_corners:
        return np.empty((0, 4), np.float32), np.empty(0, np.float32)
    return np.stack(out_corners), np.array(out_scores, dtype=np.float32)
