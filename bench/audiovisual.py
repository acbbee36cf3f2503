"""Benchmark: audio and video sanitizing on generated inputs, beside other tools.

Inputs (generated in a temporary folder, deleted afterwards):

- a 30-minute podcast MP3 (espeak-ng sentences between music and noise, 128 kbit/s
  stereo) with ID3v2 tags and cover art;
- a 3-minute 1080p30 H.264 MP4 (testsrc2 with two of scikit-image's astronaut faces
  moving over it, AAC sound) with tags, and its first 10 seconds for deface;
- for memory, a ~2 GB MP4 made by concatenating a high-bitrate clip (``-c copy``).

Times are the median of several runs, as a multiple of real time (media seconds per
wall second) and as a ratio to Chorus from the same run: Chorus's remux alone, with
speech or face detection, and face masking; ``exiftool -all=``, mat2, ``ffmpeg
-map_metadata -1 -c copy`` and deface (``--backend onnxrt``, from its own virtualenv,
see --deface). Peak memory of remuxing the 2 GB file is the child process's maximum
resident set size.

Targets on a 2-core machine (issue 3): audio remux + speech detection >= 100x real
time; video remux >= 100x; face masking >= 1x and >= 1.5x deface; peak memory for a
2 GB video <= 300 MB.

    .venv/bin/python bench/audiovisual.py [--runs 3] [--minutes 30] [--video-seconds 180]
        [--deface-seconds 10] [--deface /tmp/deface-venv/bin/deface] [--skip-2gb]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.media.base import Options  # noqa: E402
from app.media.report import Report  # noqa: E402
from app.media.sanitizers.audiovisual import AudioVisualSanitizer  # noqa: E402
from app.media.types import MediaType  # noqa: E402

SENTENCES = [
    "Welcome back to our podcast. Today we talk about the dance we made together.",
    "Every movement was chosen by the group, and every choice was ours.",
    "We want people to know the signs, and to know where to find help.",
]
TAGS = [
    *("-metadata", "title=Episode twelve", "-metadata", "artist=Group member"),
    *("-metadata", "comment=Recorded at the shelter", "-metadata", "location=+48.85+002.35/"),
]
Action = Callable[[int], object]
RSS_LIMIT_MB = 300
FACE_SCAN = "chorus remux + face scan (report)"
DEFACE = "deface --backend onnxrt (solid)"
ONCE = frozenset({FACE_SCAN, DEFACE})


def ffmpeg(*args: str | Path) -> None:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise SystemExit("the ffmpeg command is needed to generate inputs (Debian: ffmpeg)")
    base = [exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    subprocess.run([*base, *map(str, args)], check=True)


def astronaut(folder: Path) -> tuple[Path, Path]:
    """A large and a small face cut from scikit-image's astronaut, as PNG files."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scikit-image's wheel (astronaut.png) is needed: make test deps")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "astronaut.png"
    with Image.open(path) as image:
        head = image.convert("RGB").crop((120, 0, 340, 240))
    large, small = folder / "face-large.png", folder / "face-small.png"
    head.resize((330, 360)).save(large)
    head.resize((110, 120)).save(small)
    return large, small


def podcast(folder: Path, minutes: float) -> Path:
    """Speech, music and noise in a one-minute block, looped, with ID3 tags and art."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng is needed (Debian: espeak-ng)")
    parts: list[str | Path] = []
    for index, sentence in enumerate(SENTENCES):
        spoken = folder / f"sentence-{index}.wav"
        subprocess.run([espeak, "-w", str(spoken), sentence], check=True)
        parts += ["-i", spoken]
    block = folder / "block.wav"
    music = "aevalsrc=0.2*sin(2*PI*220*t)+0.15*sin(2*PI*277*t)+0.1*sin(2*PI*330*t):d=20"
    ffmpeg(
        *parts, "-f", "lavfi", "-i", music, "-f", "lavfi", "-i", "anoisesrc=a=0.05:d=10",
        "-filter_complex",
        "[0]aresample=44100,apad=pad_dur=3[a];[1]aresample=44100,apad=pad_dur=3[b];"
        "[2]aresample=44100,apad=pad_dur=3[c];[3]aresample=44100[m];[4]aresample=44100[n];"
        "[a][m][b][n][c]concat=n=5:v=0:a=1,aformat=channel_layouts=stereo[out]",
        "-map", "[out]", block,
    )  # fmt: skip
    cover = folder / "cover.jpg"
    Image.new("RGB", (600, 600), (180, 40, 90)).save(cover, quality=90)
    out = folder / "podcast.mp3"
    ffmpeg(
        "-stream_loop", "-1", "-i", block, "-i", cover, "-t", str(minutes * 60),
        "-map", "0:a", "-map", "1", "-c:a", "libmp3lame", "-b:a", "128k", "-c:v", "copy",
        "-disposition:v", "attached_pic", *TAGS, "-id3v2_version", "3", out,
    )  # fmt: skip
    return out


def video(folder: Path, seconds: int) -> Path:
    """1080p30 test pattern with a large face crossing it and a small one drifting."""
    large, small = astronaut(folder)
    out = folder / "faces-1080p.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
        "-loop", "1", "-i", large, "-loop", "1", "-i", small,
        "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
        "-filter_complex",
        "[0][1]overlay=x='mod(t*160,1590)':y=240:shortest=1[a];"
        "[a][2]overlay=x=1500:y='650-mod(t*40,400)':shortest=1[v]",
        "-map", "[v]", "-map", "3", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
        "-pix_fmt", "yuv420p", "-c:a", "aac", *TAGS, out,
    )  # fmt: skip
    return out


def excerpt(source: Path, seconds: int) -> Path:
    out = source.with_name(f"excerpt-{seconds}s.mp4")
    ffmpeg("-i", source, "-t", str(seconds), "-c", "copy", out)
    return out


def chorus(source: Path, media_type: MediaType, work: Path, **flags: bool) -> Action:
    options = Options(**{"detect_faces": False, "detect_speech": False, **flags})

    def run(index: int) -> object:
        out = work / f"chorus-{index}{media_type.extension}"
        AudioVisualSanitizer().sanitize(source, out, media_type, options, Report())
        out.unlink()
        return None

    return run


def pipeline(source: Path, work: Path) -> Action:
    from app.media.pipeline import sanitize_file

    def run(index: int) -> object:
        out = work / f"pipeline-{index}{source.suffix}"
        report = sanitize_file(source, out, Options(detect_faces=False))
        out.unlink()
        return report

    return run


def command(make: Callable[[int], list[str]], cleanup: Callable[[int], None]) -> Action:
    def run(index: int) -> object:
        subprocess.run(make(index), check=True, capture_output=True)
        cleanup(index)
        return None

    return run


def others(source: Path, work: Path) -> list[tuple[str, Action | None]]:
    """exiftool, mat2 and ffmpeg on a copy each, outputs deleted after each run."""
    exiftool, mat2, ffmpeg_exe = (shutil.which(n) for n in ("exiftool", "mat2", "ffmpeg"))
    suffix = source.suffix

    def gone(*paths: Path) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    def mat2_args(i: int) -> list[str]:
        shutil.copyfile(source, work / f"mat2-{i}{suffix}")  # mat2 writes .cleaned beside it
        return [str(mat2), str(work / f"mat2-{i}{suffix}")]

    return [
        (
            "exiftool -all=",
            command(
                lambda i: [
                    str(exiftool),
                    "-q",
                    "-all=",
                    "-o",
                    str(work / f"x{i}{suffix}"),
                    str(source),
                ],  # fmt: skip
                lambda i: gone(work / f"x{i}{suffix}"),
            )
            if exiftool
            else None,
        ),
        (
            "mat2",
            command(
                mat2_args,
                lambda i: gone(work / f"mat2-{i}{suffix}", work / f"mat2-{i}.cleaned{suffix}"),
            )
            if mat2
            else None,
        ),
        (
            "ffmpeg -map_metadata -1 -c copy",
            command(
                lambda i: [
                    str(ffmpeg_exe),
                    "-v",
                    "error",
                    "-y",
                    "-i",
                    str(source),
                    "-map_metadata",
                    "-1",
                    "-c",
                    "copy",
                    str(work / f"f{i}{suffix}"),
                ],
                lambda i: gone(work / f"f{i}{suffix}"),
            )  # fmt: skip
            if ffmpeg_exe
            else None,
        ),
    ]


def median_time(action: Action, runs: int) -> float:
    timings = []
    for run in range(runs):
        start = time.perf_counter()
        action(run)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def table(
    title: str, seconds: float, rows: list[tuple[str, Action | None]], runs: int
) -> dict[str, float]:
    """Time each row; print median, x real time and ratio to the first row. Rows marked
    ``ONCE`` (slow and informational, or the slow rival) run once."""
    print(f"\n{title} ({seconds:.0f} s of media, median of {runs}; * = one run)")
    print(f"{'tool':40} {'median s':>9} {'x realtime':>11} {'x chorus':>9}")
    timed: dict[str, float] = {}
    for label, action in rows:
        if action is None:
            print(f"{label:40} {'n/a':>9}")
            continue
        try:
            timed[label] = median_time(action, 1 if label in ONCE else runs)
        except subprocess.CalledProcessError as error:
            reason = error.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            print(f"{label:40} {'fails':>9}  {reason[0][:60]}")
            continue
        reference = next(iter(timed.values()))
        star = "*" if label in ONCE and runs > 1 else " "
        print(
            f"{label + star:40} {timed[label]:9.2f} {seconds / timed[label]:11.1f} "
            f"{timed[label] / reference:9.2f}"
        )
    return timed


PEAK_CODE = """
import resource, sys
from pathlib import Path
from app.media.base import Options
from app.media.report import Report
from app.media.sanitizers.audiovisual import AudioVisualSanitizer
from app.media.types import MediaType
options = Options(detect_faces=False, detect_speech=False)
AudioVisualSanitizer().sanitize(Path(sys.argv[1]), Path(sys.argv[2]), MediaType.MP4, options,
                                Report())
try:  # this process image's own high-water mark (ru_maxrss also counts the parent's)
    status = Path("/proc/self/status").read_text()
    print(int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]))
except (OSError, StopIteration):
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mb(source: Path, work: Path) -> float:
    """Peak resident memory (MB) of a fresh process that remuxes ``source``."""
    out = work / "big-clean.mp4"
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", PEAK_CODE, str(source), str(out)],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    )
    out.unlink()
    return int(done.stdout.split()[-1]) / 1024


def big_video(folder: Path, gigabytes: float) -> Path:
    """A ~``gigabytes`` GB MP4: a 10 s near-lossless 1080p clip concatenated (-c copy)."""
    clip = folder / "clip.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=10",
        "-f", "lavfi", "-i", "sine=duration=10", "-c:v", "libx264", "-preset", "ultrafast",
        "-qp", "4", "-c:a", "aac", clip,
    )  # fmt: skip
    copies = max(1, round(gigabytes * 1e9 / clip.stat().st_size))
    listing = folder / "list.txt"
    listing.write_text("".join(f"file '{clip}'\n" for _ in range(copies)))
    out = folder / "big.mp4"
    ffmpeg("-f", "concat", "-safe", "0", "-i", listing, "-c", "copy", out)
    clip.unlink()
    return out


def verdict(label: str, ok: bool, detail: str) -> bool:
    print(f"target {label}: {'met' if ok else 'MISSED'} ({detail})")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--video-seconds", type=int, default=180)
    parser.add_argument("--deface-seconds", type=int, default=10)
    parser.add_argument(
        "--deface",
        default=str(Path(tempfile.gettempdir()) / "deface-venv" / "bin" / "deface"),
        help="deface from a virtualenv with its own dependencies (never Chorus's .venv)",
    )
    parser.add_argument("--skip-2gb", action="store_true")
    args = parser.parse_args()
    deface = args.deface if Path(args.deface).exists() else None
    if deface is None:
        print(f"deface not found at {args.deface}: deface is n/a")
    ok = True
    with tempfile.TemporaryDirectory(prefix="chorus-av-bench-") as tmp:
        folder = Path(tmp)
        work = folder / "work"
        work.mkdir()
        mp3 = podcast(folder, args.minutes)
        audio = table(
            "30-minute podcast MP3 (ID3v2 + cover art)",
            args.minutes * 60,
            [
                ("chorus remux + speech detection", chorus(mp3, MediaType.MP3, work,
                                                           detect_speech=True)),
                ("chorus remux", chorus(mp3, MediaType.MP3, work)),
                ("chorus pipeline (sniff..residual) + speech", pipeline(mp3, work)),
                *others(mp3, work),
            ],
            args.runs,
        )  # fmt: skip
        mp3.unlink()
        mp4 = video(folder, args.video_seconds)
        remux = table(
            "3-minute 1080p30 MP4 with faces",
            args.video_seconds,
            [
                ("chorus remux", chorus(mp4, MediaType.MP4, work)),
                (FACE_SCAN, chorus(mp4, MediaType.MP4, work,
                                                             detect_faces=True)),
                ("chorus mask faces", chorus(mp4, MediaType.MP4, work, mask_faces=True)),
                *others(mp4, work),
            ],
            args.runs,
        )  # fmt: skip
        clip = excerpt(mp4, args.deface_seconds)
        deface_args = ["--backend", "onnxrt", "--ep", "CPUExecutionProvider",
                       "--replacewith", "solid"]  # fmt: skip
        masking = table(
            f"first {args.deface_seconds} s of it: face masking",
            args.deface_seconds,
            [
                ("chorus mask faces", chorus(clip, MediaType.MP4, work, mask_faces=True)),
                (
                    DEFACE,
                    command(
                        lambda i: [
                            str(deface),
                            *deface_args,
                            "-o",
                            str(work / f"d{i}.mp4"),
                            str(clip),
                        ],
                        lambda i: (work / f"d{i}.mp4").unlink(missing_ok=True),
                    )  # fmt: skip
                    if deface
                    else None,
                ),
            ],
            args.runs,
        )
        print()
        rate = args.minutes * 60 / audio["chorus remux + speech detection"]
        ok &= verdict("audio remux + speech >= 100x real time", rate >= 100, f"{rate:.0f}x")
        rate = args.video_seconds / remux["chorus remux"]
        ok &= verdict("video remux >= 100x real time", rate >= 100, f"{rate:.0f}x")
        rate = args.video_seconds / remux["chorus mask faces"]
        ok &= verdict("1080p30 masking >= 1x real time", rate >= 1, f"{rate:.2f}x")
        if DEFACE in masking:
            ratio = masking[DEFACE] / masking["chorus mask faces"]
            ok &= verdict("masking >= 1.5x faster than deface", ratio >= 1.5, f"{ratio:.2f}x")
        if not args.skip_2gb:
            mp4.unlink()
            clip.unlink()
            big = big_video(folder, 2.0)
            size = big.stat().st_size / 1e9
            peak = peak_rss_mb(big, work)
            big.unlink()
            ok &= verdict(
                f"peak memory remuxing a {size:.2f} GB video <= {RSS_LIMIT_MB} MB",
                peak <= RSS_LIMIT_MB,
                f"{peak:.0f} MB",
            )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
