"""Benchmark: a 24-page PDF with a 3 MP photo (with EXIF) on every page.

Times, as the median of several runs on the same generated file: Chorus's allow-list
sanitize (the sanitizer alone, and the whole pipeline with sniffing and the residual
check), the same with face detection, flattening, and beside them ``exiftool -all=``
and mat2 where installed. Ratios are to the pipeline's normal sanitize from the same
run. Target on a 2-core machine: normal sanitize <= 0.5 s.

    .venv/bin/python bench/pdf.py [--runs 5] [--pages 24]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image

from app.media.base import Options
from app.media.report import Report
from app.media.sanitizers.pdf import PdfSanitizer
from app.media.types import MediaType

TARGET_SECONDS = 0.5


def photo(seed: int) -> bytes:
    """A 2000x1500 photo-like JPEG (smooth shapes plus sensor-like noise) with EXIF."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:1500, 0:2000].astype(np.float32)
    base = np.stack(
        [
            128 + 100 * np.sin(x / (150 + 20 * c) + seed + c) * np.cos(y / (90 + 15 * c))
            for c in range(3)
        ],
        axis=-1,
    )
    pixels = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x013B] = "Camera maker", "Model X", "Someone"
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 1.0)})
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=88, exif=exif.tobytes())
    return buffer.getvalue()


def build(path: Path, pages: int) -> None:
    with pikepdf.new() as pdf:
        pdf.docinfo[pikepdf.Name.Author] = "Someone"
        for index in range(pages):
            pdf.add_blank_page(page_size=(612, 792))
            page = pdf.pages[index].obj
            image = pdf.make_stream(
                photo(index),
                Type=pikepdf.Name.XObject,
                Subtype=pikepdf.Name.Image,
                Width=2000,
                Height=1500,
                ColorSpace=pikepdf.Name.DeviceRGB,
                BitsPerComponent=8,
                Filter=pikepdf.Name.DCTDecode,
            )
            font = pikepdf.Dictionary(
                Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
            )
            page.Resources = pikepdf.Dictionary(
                XObject=pikepdf.Dictionary(Im0=image), Font=pikepdf.Dictionary(F1=font)
            )
            page.Contents = pdf.make_stream(
                f"q 540 0 0 405 36 330 cm /Im0 Do Q BT /F1 18 Tf 36 280 Td (Page {index + 1}) "
                "Tj ET".encode()
            )
        pdf.save(path)


def median_time(action: Callable[[int], object], runs: int) -> float:
    timings = []
    for run in range(runs):
        start = time.perf_counter()
        action(run)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def chorus(
    source: Path, work: Path, use_pipeline: bool, **options: bool
) -> Callable[[int], object]:
    opts = Options(**{"detect_faces": False, **options})

    def run(index: int) -> object:
        out = work / f"chorus-{use_pipeline}-{sorted(options.items())}-{index}.pdf"
        if use_pipeline:
            from app.media.pipeline import sanitize_file

            return sanitize_file(source, out, opts)
        report = Report()
        PdfSanitizer().sanitize(source, out, MediaType.PDF, opts, report)
        return report

    return run


def external(command: Callable[[int], list[str]]) -> Callable[[int], object]:
    def run(index: int) -> object:
        return subprocess.run(command(index), check=True, capture_output=True)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "photos.pdf"
        build(source, args.pages)
        size = source.stat().st_size / 1e6
        print(
            f"{args.pages}-page PDF, 2000x1500 JPEG per page, {size:.1f} MB; median of {args.runs}"
        )
        cases: list[tuple[str, Callable[[int], object] | None]] = [
            ("chorus sanitize (pipeline)", chorus(source, work, True)),
            ("chorus sanitize (sanitizer only)", chorus(source, work, False)),
            (
                "chorus sanitize + face scan",
                _if_faces(chorus(source, work, True, detect_faces=True)),
            ),
            ("chorus flatten 150 dpi", chorus(source, work, True, flatten_pdf=True)),
            ("chorus flatten + mask faces", _if_faces(chorus(source, work, True, mask_faces=True))),
            (
                "exiftool -all=",
                _if_tool(
                    "exiftool",
                    lambda i: [
                        "exiftool",
                        "-q",
                        "-all=",
                        "-o",
                        str(work / f"exif-{i}.pdf"),
                        str(source),
                    ],
                ),
            ),
            ("mat2", _if_tool("mat2", lambda i: _mat2(source, work, i))),
        ]
        results: list[tuple[str, float | None]] = []
        for name, action in cases:
            results.append((name, None if action is None else median_time(action, args.runs)))
    reference = results[0][1] or 1.0
    print(f"{'tool':36} {'seconds':>9} {'x chorus':>9}")
    for name, seconds in results:
        if seconds is None:
            print(f"{name:36} {'n/a':>9} {'':>9}")
        else:
            print(f"{name:36} {seconds:9.3f} {seconds / reference:9.2f}")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average during the run (1, 5, 15 min): {load}")
    verdict = "met" if reference <= TARGET_SECONDS else "MISSED"
    print(f"target: normal sanitize <= {TARGET_SECONDS} s: {verdict} ({reference:.3f} s)")


def _mat2(source: Path, work: Path, index: int) -> list[str]:
    copy = work / f"mat2-{index}.pdf"
    shutil.copyfile(source, copy)  # mat2 writes <name>.cleaned.pdf beside its input
    return ["mat2", str(copy)]


def _if_tool(name: str, command: Callable[[int], list[str]]) -> Callable[[int], object] | None:
    return external(command) if shutil.which(name) else None


def _if_faces(action: Callable[[int], object]) -> Callable[[int], object] | None:
    needed = ("app.media.anonymise", "app.media.detectors.faces")
    return action if all(importlib.util.find_spec(name) for name in needed) else None


if __name__ == "__main__":
    main()
