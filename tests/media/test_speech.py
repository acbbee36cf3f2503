"""Speech detection: sentences spoken by espeak-ng are found; music and noise are not."""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from app.media.detectors import speech
from app.media.detectors.speech import (
    CONTEXT,
    SAMPLE_RATE,
    WINDOW,
    SpeechDetector,
    _Segmenter,
    detect_speech,
    speech_in_file,
)
from app.media.errors import MediaRefused
from app.media.models import session

Samples = npt.NDArray[np.float32]
RATE = 22_050  # espeak-ng's own rate; everything is resampled to 16 kHz on the way in

SENTENCES = {
    "en": "Nothing about us without us. Survivors lead this campaign, and their voices"
    " stay their own.",
    "fr": "Nous avons écrit ce fanzine ensemble, pour que personne ne reste seule.",
    "es": "Esta campaña la hicimos juntas, paso a paso, desde la idea hasta la difusión.",
}


def _espeak() -> str:
    """espeak-ng's path: skipped locally if it is missing, a failure under CI."""
    path = shutil.which("espeak-ng")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("espeak-ng is not installed; .ci/run installs it")
        pytest.skip("espeak-ng not installed (Debian: espeak-ng)")
    return path


def _read_wav(path: Path) -> tuple[Samples, int]:
    with wave.open(str(path)) as handle:
        raw = handle.readframes(handle.getnframes())
        rate = handle.getframerate()
    return (np.frombuffer(raw, np.int16).astype(np.float32) / 32768.0), rate


def _write_wav(path: Path, samples: npt.NDArray[np.floating], rate: int = RATE) -> Path:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())
    return path


def spoken(tmp_path: Path, language: str = "en") -> Samples:
    out = tmp_path / f"spoken-{language}.wav"
    subprocess.run(  # noqa: S603 - fixed arguments
        [_espeak(), "-v", language, "-w", str(out), SENTENCES[language]], check=True
    )
    samples, rate = _read_wav(out)
    assert rate == RATE
    return samples


def _active_frames(samples: Samples, rate: int) -> npt.NDArray[np.bool_]:
    """20 ms frames where the voice is sounding (energy above -35 dB of the peak)."""
    size = rate // 50
    frames = samples[: len(samples) // size * size].reshape(-1, size)
    energy = np.sqrt((frames**2).mean(axis=1))
    return energy > energy.max() * 10 ** (-35 / 20)


def _voiced_times(samples: Samples) -> npt.NDArray[np.float64]:
    """Centres (s) of the 20 ms frames where the voice sounds."""
    return (np.flatnonzero(_active_frames(samples, RATE)) + 0.5) * 0.02


def _share_inside(times: npt.NDArray[np.float64], ranges: list[tuple[float, float]]) -> float:
    return float(np.mean([any(s <= t <= e for s, e in ranges) for t in times]))


def _to_16k(samples: Samples, rate: int = RATE) -> Samples:
    """Resampled the way speech_in_file does it, in one go (test sizes are small)."""
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    parts = [f.to_ndarray()[0] for f in [*resampler.resample(frame), *resampler.resample(None)]]
    return np.concatenate(parts).astype(np.float32)


def music(seconds: float, *, seed: int) -> Samples:
    """Chords of harmonic tones with plucked envelopes, a bass line and a little
    vibrato: a guitar-and-bass loop at 120 bpm."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    chords = [[261.6, 329.6, 392.0], [220.0, 261.6, 329.6], [174.6, 220.0, 261.6], [196.0, 246.9]]
    beat = 0.5
    for index in range(int(seconds / beat)):
        span = (t >= index * beat) & (t < (index + 1) * beat)
        local = t[span] - index * beat
        envelope = np.exp(-4 * local) * np.minimum(1, local * 200)
        chord = chords[(index // 2) % len(chords)]
        for pitch in [*chord, chord[0] / 2]:
            vibrato = 1 + 0.003 * np.sin(2 * np.pi * 5 * local)
            for harmonic in range(1, 7):
                amplitude = rng.uniform(0.5, 1.0) / harmonic**1.2
                out[span] += (
                    amplitude * envelope * np.sin(2 * np.pi * pitch * harmonic * vibrato * local)
                )
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def melody(seconds: float) -> Samples:
    """A sung-like line: one voice with harmonics, gliding between scale notes."""
    t = np.arange(int(seconds * RATE)) / RATE
    notes = 220.0 * 2 ** (np.array([0, 2, 4, 5, 7, 9, 7, 5, 4, 2]) / 12)
    pitch = notes[(t / 0.4).astype(int) % len(notes)] * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    out = sum(np.sin(h * phase) / h for h in range(1, 9))
    return (0.4 * out / np.abs(out).max()).astype(np.float32)


def drums(seconds: float, *, seed: int) -> Samples:
    """Kick, snare (noise bursts) and hi-hat at 100 bpm."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * RATE))
    step = int(RATE * 60 / 100 / 2)
    for index, start in enumerate(range(0, out.size - step, step)):
        local = np.arange(step) / RATE
        if index % 4 == 0:
            out[start : start + step] += np.sin(2 * np.pi * 60 * local) * np.exp(-20 * local)
        if index % 4 == 2:
            out[start : start + step] += 0.6 * rng.standard_normal(step) * np.exp(-25 * local)
        out[start : start + step] += 0.15 * rng.standard_normal(step) * np.exp(-80 * local)
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def white_noise(seconds: float) -> Samples:
    return (0.3 * np.random.default_rng(1).standard_normal(int(seconds * RATE))).astype(np.float32)


def pink_noise(seconds: float) -> Samples:
    spectrum = np.fft.rfft(np.random.default_rng(2).standard_normal(int(seconds * RATE)))
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.size), 1))
    out = np.fft.irfft(spectrum)
    return (0.4 * out / np.abs(out).max()).astype(np.float32)


# Speech is found ----------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_spoken_sentences_are_found(tmp_path: Path, language: str) -> None:
    samples = spoken(tmp_path, language)
    ranges = [(s.start, s.end) for s in speech_in_file(_write_wav(tmp_path / "s.wav", samples))]
    voiced = _voiced_times(samples)
    first, last = voiced[0], voiced[-1]
    covered = sum(max(0.0, min(end, last) - max(start, first)) for start, end in ranges)
    assert covered >= 0.8 * (last - first), "most of the spoken duration is one speech range"
    assert _share_inside(voiced, ranges) >= 0.9


def test_speech_after_silence_starts_where_the_voice_does(tmp_path: Path) -> None:
    samples = spoken(tmp_path)
    quiet = np.zeros(3 * RATE, np.float32)
    path = _write_wav(tmp_path / "padded.wav", np.concatenate([quiet, samples, quiet]))
    found = speech_in_file(path)
    total = (2 * quiet.size + samples.size) / RATE
    assert found
    assert 2.9 <= found[0].start <= 3.4
    assert total - 3.4 <= found[-1].end <= total - 2.9
    assert all(item.track == 0 for item in found)


def test_quiet_speech_over_music_is_found(tmp_path: Path) -> None:
    voice = 0.25 * spoken(tmp_path)
    bed = 0.3 * music(voice.size / RATE + 1, seed=4)[: voice.size]
    found = speech_in_file(_write_wav(tmp_path / "mix.wav", voice + bed))
    assert _share_inside(_voiced_times(voice), [(s.start, s.end) for s in found]) >= 0.8


# Music and noise are not ---------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: music(12, seed=0), id="chords"),
        pytest.param(lambda: music(12, seed=1) + 0.5 * drums(12, seed=1), id="band"),
        pytest.param(lambda: melody(12), id="melody"),
        pytest.param(lambda: drums(12, seed=2), id="drums"),
        pytest.param(lambda: white_noise(8), id="white-noise"),
        pytest.param(lambda: pink_noise(8), id="pink-noise"),
        pytest.param(lambda: np.zeros(5 * RATE, np.float32), id="silence"),
    ],
)
def test_no_speech_in_music_or_noise(tmp_path: Path, make: object) -> None:
    assert callable(make)
    assert speech_in_file(_write_wav(tmp_path / "sound.wav", make())) == []


# Streaming and the algorithm -----------------------------------------------------------


@pytest.mark.parametrize("lane_windows", [speech.LANE_WINDOWS, 40])
def test_streaming_in_odd_chunks_equals_one_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lane_windows: int
) -> None:
    monkeypatch.setattr(speech, "LANE_WINDOWS", lane_windows)  # 40: several blocks
    monkeypatch.setattr(speech, "MIN_LANE_WINDOWS", min(speech.MIN_LANE_WINDOWS, 10))
    samples = _to_16k(np.concatenate([np.zeros(RATE, np.float32), spoken(tmp_path)]))
    whole = detect_speech(samples)
    detector = SpeechDetector()
    position, sizes = 0, [1, 7, 511, 512, 513, 1000, 4096, 3]
    index = 0
    while position < samples.size:
        size = sizes[index % len(sizes)]
        detector.feed(samples[position : position + size])
        position += size
        index += 1
    assert detector.finish() == whole
    assert whole


class _Recorder:
    """Stands in for the segmenter to keep every window's probability."""

    def __init__(self) -> None:
        self.probabilities: list[float] = []
        self._segmenter = _Segmenter()

    def push(self, probability: float) -> None:
        self.probabilities.append(probability)
        self._segmenter.push(probability)

    def finish(self, total: int) -> list[tuple[float, float]]:
        return self._segmenter.finish(total)


def _sequential(samples: Samples) -> list[float]:
    """The reference: one window at a time, as silero's own wrapper runs it."""
    net = session("silero_vad")
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros(CONTEXT, np.float32)
    padded = np.concatenate([samples, np.zeros(-samples.size % WINDOW, np.float32)])
    out = []
    for window in padded.reshape(-1, WINDOW):
        x = np.concatenate([context, window])[None]
        probability, state = net.run(
            None, {"input": x, "state": state, "sr": np.array(SAMPLE_RATE, np.int64)}
        )
        out.append(float(probability[0, 0]))
        context = window[-CONTEXT:]
    return out


def _laned(samples: Samples) -> tuple[list[float], list[tuple[float, float]]]:
    detector = SpeechDetector()
    recorder = _Recorder()
    detector._segmenter = recorder  # type: ignore[assignment]
    detector.feed(samples)
    return recorder.probabilities, detector.finish()


@pytest.fixture
def talk(tmp_path: Path) -> Samples:
    """About 25 s at 16 kHz: speech, music, silence and speech again."""
    voice = spoken(tmp_path)
    quiet = np.zeros(RATE, np.float32)
    bed = music(6, seed=5)
    return _to_16k(np.concatenate([quiet, voice, bed, quiet, voice, quiet, 0.3 * voice, bed]))


def test_one_lane_is_exactly_silero_streaming(
    talk: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speech, "LANES", 1)
    monkeypatch.setattr(speech, "LANE_WINDOWS", 100_000)
    probabilities, _ = _laned(talk)
    assert probabilities == pytest.approx(_sequential(talk), abs=1e-6)


def test_lanes_find_the_same_speech_as_one_stream(
    talk: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lanes of 3.2 s, 8 to a block: this clip runs as one full block and a short one.
    monkeypatch.setattr(speech, "LANE_WINDOWS", 100)
    monkeypatch.setattr(speech, "MIN_LANE_WINDOWS", 20)
    monkeypatch.setattr(speech, "WARMUP", 32)
    reference = _sequential(talk)
    probabilities, ranges = _laned(talk)
    assert len(probabilities) == len(reference)
    # A restart every 3.2 s (every 60 s in use) moves a few windows near each restart.
    differ = np.abs(np.array(probabilities) - np.array(reference)) > 0.05
    assert differ.mean() < 0.05
    segmenter = _Segmenter()
    for probability in reference:
        segmenter.push(probability)
    expected = segmenter.finish(talk.size)
    speech_time = sum(end - start for start, end in expected)
    assert abs(sum(end - start for start, end in ranges) - speech_time) < 0.05 * speech_time
    for start, end in expected:
        assert any(s < end and start < e for s, e in ranges)


def test_other_sample_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="16000"):
        detect_speech(np.zeros(RATE, np.float32), sample_rate=RATE)


def _windows(probabilities: list[float]) -> list[tuple[float, float]]:
    segmenter = _Segmenter()
    for probability in probabilities:
        segmenter.push(probability)
    return segmenter.finish(len(probabilities) * WINDOW)


def test_segments_follow_silero_rules() -> None:
    ms = WINDOW / SAMPLE_RATE  # 32 ms per window
    # 10 windows of speech (320 ms) between silences: kept, padded 30 ms each side.
    assert _windows([0.0] * 10 + [0.9] * 10 + [0.0] * 10) == [
        (round(10 * ms - 0.03, 3), round(20 * ms + 0.03, 3))
    ]
    # 7 windows (224 ms) is under the 250 ms minimum: dropped.
    assert _windows([0.0] * 10 + [0.9] * 7 + [0.0] * 10) == []
    # A dip to 0.4 stays speech (under 0.5 but above 0.35); a 64 ms gap does not split.
    assert len(_windows([0.9] * 10 + [0.4] * 5 + [0.9] * 10 + [0.0] * 2 + [0.9] * 10)) == 1
    # 160 ms of silence splits; the two ranges are padded towards each other.
    first, second = _windows([0.9] * 10 + [0.0] * 5 + [0.9] * 10 + [0.0] * 10)
    assert first[1] < second[0]
    # Speech running to the end closes at the end of the audio.
    assert _windows([0.0] * 5 + [0.9] * 20) == [(round(5 * ms - 0.03, 3), round(25 * ms, 3))]


# Files: containers, codecs and tracks ---------------------------------------------------


def _encode(path: Path, tracks: list[Samples], *, codec: str, video: bool = False) -> Path:
    """Mux mono tracks (at RATE) into one file, with a short black video if asked."""
    with av.open(str(path), "w") as out:
        streams = []
        for _ in tracks:
            stream = out.add_stream(codec, rate=48_000 if codec == "libopus" else RATE)
            stream.layout = "mono"
            streams.append(stream)
        picture = None
        if video:
            picture = out.add_stream("libx264", rate=5)
            picture.width, picture.height, picture.pix_fmt = 64, 64, "yuv420p"
        for stream, samples in zip(streams, tracks, strict=True):
            resampler = av.AudioResampler(
                format=stream.codec_context.format.name, layout="mono", rate=stream.rate
            )
            size = stream.codec_context.frame_size or 1024
            source = _to_rate(samples, stream.rate)
            for start in range(0, source.size, size):
                frame = av.AudioFrame.from_ndarray(
                    source[start : start + size].reshape(1, -1), format="flt", layout="mono"
                )
                frame.sample_rate = stream.rate
                for converted in resampler.resample(frame):
                    for packet in stream.encode(converted):
                        out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        if picture is not None:
            black = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            for _ in range(5 * max(len(t) for t in tracks) // RATE):
                for packet in picture.encode(black):
                    out.mux(packet)
            for packet in picture.encode(None):
                out.mux(packet)
    return path


def _to_rate(samples: Samples, rate: int) -> Samples:
    if rate == RATE:
        return samples
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = RATE
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    return np.concatenate(
        [f.to_ndarray()[0] for f in [*resampler.resample(frame), *resampler.resample(None)]]
    ).astype(np.float32)


@pytest.mark.parametrize(
    ("name", "codec"),
    [("talk.mp3", "libmp3lame"), ("talk.ogg", "libopus"), ("talk.flac", "flac")],
)
def test_speech_is_found_in_compressed_audio(tmp_path: Path, name: str, codec: str) -> None:
    voice = np.concatenate([np.zeros(RATE, np.float32), spoken(tmp_path)])
    found = speech_in_file(_encode(tmp_path / name, [voice], codec=codec))
    assert found
    assert 0.8 <= found[0].start <= 1.4


def test_speech_in_a_video_and_its_tracks(tmp_path: Path) -> None:
    voice = np.concatenate([np.zeros(RATE, np.float32), spoken(tmp_path)])
    bed = music(voice.size / RATE, seed=3)[: voice.size]
    path = _encode(tmp_path / "talk.mp4", [bed, voice], codec="aac", video=True)
    found = speech_in_file(path)
    assert found
    assert {item.track for item in found} == {1}  # the music track has none
    assert speech_in_file(path, track=0) == []
    assert speech_in_file(path, track=1) == found
    with pytest.raises(MediaRefused):
        speech_in_file(path, track=2)


def test_a_file_that_is_not_media_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "not.mp3"
    path.write_bytes(b"ID3\x04" + bytes(range(256)) * 20)
    with pytest.raises(MediaRefused):
        speech_in_file(path)
