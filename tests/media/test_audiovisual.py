"""Audio and video sanitizer: a dirty file per format (markers planted in every tag,
cover art, chapter, subtitle, SEI, RIFF chunk and box we can reach) goes in; the output
is read back with exiftool, ffprobe, PyAV and a byte search, and must hold nothing but
decodable sound and pictures of the same length."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from app.media.av_encode import PITCH_FACTOR
from app.media.base import Options, sanitizer_for
from app.media.errors import MediaRefused
from app.media.limits import Limits
from app.media.report import Report
from app.media.sanitizers.audiovisual import VOICE_NOTE, AudioVisualSanitizer
from app.media.types import MediaType
from tests.media import checkers
from tests.media.dirty_av import BUILDERS, ffmpeg

QUIET = Options(detect_faces=False, detect_speech=False)
ALLOWED_FORMAT_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder"}
KINDS = sorted(BUILDERS)
# exiftool's Vorbis group also reports the identification header's fields.
VORBIS_STRUCTURE = {
    f"Vorbis:{name}"
    for name in ("VorbisVersion", "AudioChannels", "SampleRate", "NominalBitrate")
    + ("MaxBitrate", "MinBitrate")
}
# What each dirty file must be reported as carrying (a subset of report.removed).
EXPECTED_REMOVED = {
    "mp3": {"container.metadata", "cover_art", "id3v2", "id3v1", "apev2", "location"},
    "m4a": {"container.metadata", "cover_art", "chapters", "mp4.udta", "aac.filler"},
    "flac": {"container.metadata", "cover_art", "vorbis_comment", "location"},
    "ogg-vorbis": {"stream.metadata", "vorbis_comment", "location"},
    "ogg-opus": {"stream.metadata", "vorbis_comment", "location"},
    "wav": {"container.metadata", "riff.info", "riff.bext", "riff.ixml", "riff.id3"},
    "mp4": {"container.metadata", "stream.metadata", "location", "chapters", "h264.sei"},
    "mov": {"container.metadata", "stream.metadata", "location", "data_streams", "h264.sei"},
    "mp4-hevc": {"container.metadata", "stream.metadata", "subtitle_streams", "hevc.sei"},
    "webm": {"container.metadata", "stream.metadata", "chapters", "subtitle_streams"},
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Build (once per module) the dirty file of a kind, in a folder of its own."""
    built: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind not in built:
            folder = tmp_path_factory.mktemp(kind.replace("-", "_"))
            built[kind] = BUILDERS[kind][0](folder)
        return built[kind]

    return get


@pytest.fixture(scope="module")
def cleaned(
    dirty: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], tuple[Path, Path, Report, str]]:
    """Sanitize (once per module) the dirty file of a kind with the sanitizer class."""
    done: dict[str, tuple[Path, Path, Report, str]] = {}

    def get(kind: str) -> tuple[Path, Path, Report, str]:
        if kind not in done:
            source = dirty(kind)
            media_type = MediaType(BUILDERS[kind][1])
            before = sha256(source)
            out = tmp_path_factory.mktemp("out") / f"clean{media_type.extension}"
            report = Report()
            AudioVisualSanitizer().sanitize(source, out, media_type, QUIET, report)
            assert sha256(source) == before, "the upload was modified"
            done[kind] = (source, out, report, before)
        return done[kind]

    return get


def probe(path: Path) -> dict[str, Any]:
    return checkers.ffprobe(path)


def duration(path: Path) -> float:
    return float(probe(path)["format"]["duration"])


def decoded_frames(path: Path) -> dict[str, int]:
    """Frames decoded per stream type, reading the whole file with PyAV."""
    counts: dict[str, int] = {}
    with av.open(str(path)) as container:
        for frame in container.decode(*container.streams):
            kind = "video" if isinstance(frame, av.VideoFrame) else "audio"
            counts[kind] = counts.get(kind, 0) + 1
    return counts


# --- every format: nothing left, still plays -----------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_no_marker_survives(
    kind: str, cleaned: Callable[..., tuple[Path, Path, Report, str]]
) -> None:
    source, out, _, _ = cleaned(kind)
    assert checkers.markers_in(source), "the dirty file should carry markers"
    assert checkers.markers_in(out) == []
    assert checkers.MARKER_PREFIX.decode() not in checkers.metadata_text(out)


@pytest.mark.parametrize("kind", KINDS)
def test_only_audio_and_video_streams_without_tags(
    kind: str, cleaned: Callable[..., tuple[Path, Path, Report, str]]
) -> None:
    _, out, _, _ = cleaned(kind)
    info = probe(out)
    assert info.get("chapters", []) == []
    for stream in info["streams"]:
        assert stream["codec_type"] in ("audio", "video")
        assert stream["disposition"].get("attached_pic", 0) == 0
        tags = stream.get("tags", {})
        assert "creation_time" not in tags
        assert tags.get("language", "und") == "und"
        assert tags.get("handler_name", "VideoHandler") in ("VideoHandler", "SoundHandler")
        assert set(tags) <= {"language", "handler_name", "vendor_id", "DURATION"}
    format_tags = info["format"].get("tags", {})
    assert set(format_tags) <= ALLOWED_FORMAT_TAGS
    assert format_tags.get("encoder", "Lavf") == "Lavf"


@pytest.mark.parametrize("kind", KINDS)
def test_residual_metadata_is_empty_and_removals_reported(
    kind: str, cleaned: Callable[..., tuple[Path, Path, Report, str]]
) -> None:
    source, out, report, _ = cleaned(kind)
    media_type = MediaType(BUILDERS[kind][1])
    sanitizer = AudioVisualSanitizer()
    assert sanitizer.residual_metadata(out, media_type) == []
    assert sanitizer.residual_metadata(source, media_type) != []
    assert EXPECTED_REMOVED[kind] <= set(report.removed)


@pytest.mark.parametrize("kind", KINDS)
def test_duration_kept_and_everything_decodes(
    kind: str, cleaned: Callable[..., tuple[Path, Path, Report, str]]
) -> None:
    source, out, _, _ = cleaned(kind)
    assert duration(out) == pytest.approx(duration(source), abs=0.1)
    frames = decoded_frames(out)
    assert frames.get("audio", 0) > 0
    if kind in ("mp4", "mov", "mp4-hevc", "webm"):
        assert frames.get("video", 0) > 0
    else:
        assert "video" not in frames  # cover art is gone


def test_mp4_boxes_and_times(cleaned: Callable[..., tuple[Path, Path, Report, str]]) -> None:
    """No udta/meta/uuid box, zero creation times, x264's settings SEI gone too."""
    from app.media import isobmff

    for kind in ("mp4", "mov", "m4a"):
        _, out, _, _ = cleaned(kind)
        kinds = {box.kind for box in isobmff.boxes(out)}
        assert not kinds & {b"udta", b"meta", b"uuid", b"ilst", b"\xa9xyz", b"keys"}
        assert set(isobmff.creation_times(out)) == {0}
        assert b"x264" not in out.read_bytes()
        assert b"Lavc" not in out.read_bytes()  # FFmpeg's AAC encoder signs its frames
        tags = checkers.exiftool(out)
        assert tags.get("QuickTime:CreateDate") == "0000:00:00 00:00:00"


def _samples(path: Path) -> np.ndarray:
    """Every decoded sample; packets the decoder rejects (the junk a dirty MP3 carries
    between frames) are skipped."""
    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for packet in container.demux(audio=0):
            try:
                chunks.extend(f.to_ndarray().ravel() for f in packet.decode())
            except av.InvalidDataError:
                continue
    return np.concatenate(chunks)


def test_remuxed_audio_is_bit_identical(
    cleaned: Callable[..., tuple[Path, Path, Report, str]],
) -> None:
    """Blanking AAC filler and cutting MP3 junk changes no decoded sample."""
    for kind in ("m4a", "mp3", "flac"):
        source, out, _, _ = cleaned(kind)
        assert np.array_equal(_samples(source), _samples(out)), kind


def test_hevc_header_sei_removed(cleaned: Callable[..., tuple[Path, Path, Report, str]]) -> None:
    source, out, _, _ = cleaned("mp4-hevc")
    assert b"x265" in source.read_bytes()
    assert b"x265" not in out.read_bytes()


def test_flac_and_ogg_carry_no_comments(
    cleaned: Callable[..., tuple[Path, Path, Report, str]],
) -> None:
    from app.media import av_bytes

    _, out, _, _ = cleaned("flac")
    with out.open("rb") as handle:
        kinds = [kind for kind, *_ in av_bytes.flac_blocks(handle)]
    assert av_bytes.FLAC_VORBIS_COMMENT not in kinds
    assert av_bytes.FLAC_PICTURE not in kinds
    for kind in ("ogg-vorbis", "ogg-opus"):
        _, out, _, _ = cleaned(kind)
        tags = checkers.exiftool(out)
        comments = {key for key in tags if key.startswith("Vorbis:")} - VORBIS_STRUCTURE
        assert comments == {"Vorbis:Vendor"}
        assert tags["Vorbis:Vendor"] == "ffmpeg"  # fixed by bitexact: no version


def test_wav_is_plain_riff(cleaned: Callable[..., tuple[Path, Path, Report, str]]) -> None:
    from app.media import av_bytes

    _, out, _, _ = cleaned("wav")
    with out.open("rb") as handle:
        chunks = [chunk for chunk, *_ in av_bytes.riff_chunks(handle)]
    assert set(chunks) <= {b"fmt ", b"data", b"JUNK"}


@pytest.mark.parametrize("kind", KINDS)
def test_pipeline_end_to_end(kind: str, dirty: Callable[[str], Path], tmp_path: Path) -> None:
    pipeline = pytest.importorskip("app.media.pipeline")
    pytest.importorskip("app.media.sniff")
    source = dirty(kind)
    out = tmp_path / f"out{source.suffix}"
    report = pipeline.sanitize_file(source, out, QUIET, claimed_name=source.name)
    assert report.input.media_type == BUILDERS[kind][1]
    assert report.output.sha256 == sha256(out)
    assert checkers.markers_in(out) == []
    assert pipeline.residual_metadata(out) == []
    assert isinstance(sanitizer_for(MediaType(BUILDERS[kind][1])), AudioVisualSanitizer)


def test_rotation_kept_on_remux(dirty: Callable[[str], Path], tmp_path: Path) -> None:
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-i", dirty("mp4"), "-map", "0:v", "-map", "0:a", "-c", "copy",
           "-metadata:s:v:0", "rotate=90", rotated)  # fmt: skip
    out = tmp_path / "out.mp4"
    AudioVisualSanitizer().sanitize(rotated, out, MediaType.MP4, QUIET, Report())
    with av.open(str(out)) as container:
        assert next(container.decode(video=0)).rotation == 90


def test_reencoded_video_is_turned_upright(tmp_path: Path) -> None:
    """A sideways-stored video with a rotation flag comes out upright, as ffmpeg's own
    autorotation shows it (the re-encoded stream carries no display matrix)."""
    stored = tmp_path / "stored.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=1",
           "-vf", "transpose=cclock", "-c:v", "mjpeg", stored)  # fmt: skip
    flagged = tmp_path / "flagged.mp4"
    ffmpeg("-i", stored, "-c", "copy", "-metadata:s:v:0", "rotate=90", flagged)
    reference = tmp_path / "reference.png"
    ffmpeg("-i", flagged, "-frames:v", "1", reference)
    out = tmp_path / "out.mp4"
    AudioVisualSanitizer().sanitize(flagged, out, MediaType.MP4, QUIET, Report())
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
    assert frame.rotation == 0
    with Image.open(reference) as image:
        expected = np.asarray(image.convert("RGB"), dtype=np.int16)
    got = frame.to_ndarray(format="rgb24").astype(np.int16)
    assert got.shape == expected.shape == (240, 320, 3)
    assert np.abs(got - expected).mean() < 8


def test_mjpeg_video_is_reencoded(tmp_path: Path) -> None:
    """MJPEG frames can carry EXIF: such video is re-encoded, never copied."""
    source = tmp_path / "mjpeg.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=1",
           "-c:v", "mjpeg", source)  # fmt: skip
    out = tmp_path / "out.mov"
    report = Report()
    AudioVisualSanitizer().sanitize(source, out, MediaType.MOV, QUIET, report)
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in container.decode(video=0)) == 10
    assert report.notes


# --- refusals ------------------------------------------------------------------------


def _refusal(source: Path, media_type: MediaType, options: Options, tmp_path: Path) -> str:
    with pytest.raises(MediaRefused) as caught:
        AudioVisualSanitizer().sanitize(source, tmp_path / "out", media_type, options, Report())
    reason = caught.value.reason
    assert reason.endswith(".")
    assert reason[0].isupper()
    assert not any(word in reason for word in ("av.", "Errno", "ffmpeg", "PyAV", "\n"))
    return reason


def test_refuses_over_duration_limit(dirty: Callable[[str], Path], tmp_path: Path) -> None:
    options = Options(detect_faces=False, detect_speech=False,
                      limits=Limits(max_duration_seconds=1.0))  # fmt: skip
    assert "longer" in _refusal(dirty("mp3"), MediaType.MP3, options, tmp_path)
    assert "longer" in _refusal(dirty("webm"), MediaType.WEBM, options, tmp_path)


def test_refuses_over_picture_limit(dirty: Callable[[str], Path], tmp_path: Path) -> None:
    options = Options(detect_faces=False, detect_speech=False,
                      limits=Limits(max_video_pixels=100))  # fmt: skip
    assert "picture" in _refusal(dirty("mp4"), MediaType.MP4, options, tmp_path)


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"OggS" + bytes(200), MediaType.OGG),
        (b"\x00\x00\x00\x18ftypisom" + bytes(500), MediaType.MP4),
        (b"RIFF\x10\x00\x00\x00WAVEjunk", MediaType.WAV),
    ],
)
def test_refuses_corrupt_files(data: bytes, media_type: MediaType, tmp_path: Path) -> None:
    source = tmp_path / "corrupt.bin"
    source.write_bytes(data)
    _refusal(source, media_type, QUIET, tmp_path)


def test_refuses_truncated_video(dirty: Callable[[str], Path], tmp_path: Path) -> None:
    source = tmp_path / "cut.webm"
    source.write_bytes(dirty("webm").read_bytes()[:300])
    _refusal(source, MediaType.WEBM, QUIET, tmp_path)


# --- voice alteration ----------------------------------------------------------------


def _mono16k(path: Path) -> np.ndarray:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray()[0] for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray()[0] for f in resampler.resample(None))
    return np.concatenate(chunks)


def median_f0(path: Path) -> float:
    """Median fundamental frequency over voiced 40 ms frames (autocorrelation)."""
    samples = _mono16k(path)
    low, high = 16000 // 400, 16000 // 60  # lags for 400 Hz .. 60 Hz
    found: list[float] = []
    for start in range(0, len(samples) - 640, 320):
        frame = samples[start : start + 640] - samples[start : start + 640].mean()
        if np.sqrt(np.mean(frame**2)) < 0.02:
            continue
        corr = np.correlate(frame, frame, mode="full")[639:]
        lag = low + int(np.argmax(corr[low:high]))
        if corr[lag] > 0.5 * corr[0]:
            found.append(16000 / lag)
    assert len(found) > 20, "too few voiced frames to estimate a pitch"
    return float(np.median(found))


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sentence spoken by espeak-ng, as a WAV file."""
    import shutil

    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng not installed")
    out = tmp_path_factory.mktemp("speech") / "spoken.wav"
    sentence = "Our group meets every week to rehearse the dance and record the podcast."
    subprocess.run([exe, "-w", str(out), sentence], check=True)  # noqa: S603
    return out


@pytest.mark.parametrize("container", ["wav", "m4a", "mp4"])
def test_voice_alteration_shifts_pitch(spoken: Path, container: str, tmp_path: Path) -> None:
    if container == "wav":
        source, media_type = spoken, MediaType.WAV
    elif container == "m4a":
        source, media_type = tmp_path / "spoken.m4a", MediaType.M4A
        ffmpeg("-i", spoken, "-c:a", "aac", source)
    else:
        source, media_type = tmp_path / "spoken.mp4", MediaType.MP4
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-i", spoken,
               "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
               source)  # fmt: skip
    out = tmp_path / f"altered{media_type.extension}"
    report = Report()
    options = Options(alter_voice=True, detect_faces=False, detect_speech=False)
    AudioVisualSanitizer().sanitize(source, out, media_type, options, report)
    ratio = median_f0(out) / median_f0(source)
    assert ratio == pytest.approx(PITCH_FACTOR, rel=0.1)
    assert duration(out) == pytest.approx(duration(source), abs=0.1)
    assert report.anonymised["voice_altered"] is True
    assert VOICE_NOTE in report.notes
    assert "anonymous" not in json.dumps(report.anonymised)
    assert AudioVisualSanitizer().residual_metadata(out, media_type) == []


def test_no_voice_no_alteration_claimed(face_video: Path, tmp_path: Path) -> None:
    """A video without sound is not reported as voice-altered."""
    report = Report()
    options = Options(alter_voice=True, detect_faces=False, detect_speech=False)
    AudioVisualSanitizer().sanitize(face_video, tmp_path / "o.mp4", MediaType.MP4, options, report)
    assert "voice_altered" not in report.anonymised
    assert VOICE_NOTE not in report.notes


def test_speech_reported(spoken: Path, tmp_path: Path) -> None:
    pytest.importorskip("app.media.detectors.speech")
    out = tmp_path / "out.wav"
    report = Report()
    options = Options(detect_faces=False)
    AudioVisualSanitizer().sanitize(spoken, out, MediaType.WAV, options, report)
    assert report.speech
    assert all(0 <= item.start < item.end for item in report.speech)


# --- faces ---------------------------------------------------------------------------


def astronaut() -> Image.Image:
    """The astronaut photo shipped in scikit-image's wheel (without importing it)."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-image is not installed (it ships the test face)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "astronaut.png"
    if not path.exists():
        pytest.skip("astronaut.png not found in scikit-image")
    with Image.open(path) as image:
        return image.convert("RGB")


def face_frames(count: int, size: tuple[int, int] = (640, 480)) -> Iterator[np.ndarray]:
    """A face crossing a grey stage from left to right."""
    face = astronaut().resize((220, 220))
    width, height = size
    for index in range(count):
        stage = Image.new("RGB", size, (90, 90, 100))
        x = int((width - 220) * index / max(1, count - 1))
        stage.paste(face, (x, (height - 220) // 2))
        yield np.asarray(stage)


@pytest.fixture(scope="module")
def face_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of a moving face at 15 fps (H.264), with a sine soundtrack."""
    path = tmp_path_factory.mktemp("faces") / "faces.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for rgb in face_frames(30):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def frames_with_faces(path: Path) -> tuple[int, int]:
    """(frames with a detected face, frames) over every decoded frame."""
    from app.media.detectors.faces import detect_faces

    hits = total = 0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            total += 1
            hits += bool(detect_faces(frame.to_ndarray(format="rgb24")))
    return hits, total


def test_faces_masked_in_video(face_video: Path, tmp_path: Path) -> None:
    pytest.importorskip("app.media.detectors.video_faces")
    pytest.importorskip("app.media.anonymise")
    before, total = frames_with_faces(face_video)
    assert before >= total * 0.8, "the detector should see the face in the input"
    out = tmp_path / "masked.mp4"
    report = Report()
    options = Options(mask_faces=True, detect_speech=False)
    AudioVisualSanitizer().sanitize(face_video, out, MediaType.MP4, options, report)
    after, total_after = frames_with_faces(out)
    assert total_after == total
    assert after <= total // 10, f"faces still found in {after} of {total} frames"
    assert report.anonymised["faces_masked"] >= total * 0.8
    assert report.faces
    assert all(face.masked for face in report.faces)
    assert AudioVisualSanitizer().residual_metadata(out, MediaType.MP4) == []


def test_faces_reported_without_masking(face_video: Path, tmp_path: Path) -> None:
    pytest.importorskip("app.media.detectors.video_faces")
    report = Report()
    options = Options(detect_speech=False)
    AudioVisualSanitizer().sanitize(face_video, tmp_path / "o.mp4", MediaType.MP4, options, report)
    assert report.faces
    assert all(face.time is not None and not face.masked for face in report.faces)
