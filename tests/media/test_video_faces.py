"""Faces in video: sampled scans for the report and the tracker a masking encoder uses."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from app.media.detectors.faces import FaceBox, detect_faces
from app.media.detectors.video_faces import FaceTracker, _unturn, scan_video
from app.media.errors import MediaRefused
from tests.media.face_images import RGB, face_crop, noisy_background, overlaps

WIDTH, HEIGHT = 640, 360


def scene(face_at: tuple[int, int] | None, face_height: int = 90) -> RGB:
    canvas = Image.fromarray(noisy_background(WIDTH, HEIGHT, seed=11))
    if face_at is not None:
        canvas.paste(face_crop(face_height), face_at)
    return np.asarray(canvas)


def write_video(path: Path, frames: list[RGB], *, rate: int = 10, rotation: int = 0) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"}
        if rotation:
            stream.set_display_rotation(rotation)
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def covered(box: FaceBox, boxes: list[FaceBox]) -> float:
    """Share of ``box``'s pixels inside the union of ``boxes``."""
    mask = np.zeros((box.y + box.h + 1, box.x + box.w + 1), bool)
    for other in boxes:
        mask[other.y : other.y + other.h, other.x : other.x + other.w] = True
    return float(mask[box.y : box.y + box.h, box.x : box.x + box.w].mean())


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_boxes_turn_back_to_the_stored_frame(turns: int) -> None:
    stored = np.zeros((30, 50), np.uint8)
    stored[4:10, 20:35] = 1  # rows 4-9, columns 20-34
    upright = np.rot90(stored, turns)
    rows, cols = np.nonzero(upright)
    found = FaceBox(
        int(cols.min()), int(rows.min()), int(np.ptp(cols)) + 1, int(np.ptp(rows)) + 1, 1.0
    )
    assert _unturn(found, turns, 50, 30).box == (20, 4, 15, 6)


def test_sampled_scan_finds_the_face_at_each_sample(tmp_path: Path) -> None:
    frames = [scene((300, 100))] * 30  # 3 s at 10 fps
    expected = detect_faces(frames[0])
    assert len(expected) == 1
    result = scan_video(write_video(tmp_path / "still.mp4", frames), every_seconds=0.5)
    assert result.frames_scanned == 6
    assert [face.time for face in result.faces] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    for face in result.faces:
        assert overlaps(face.box, expected[0].box) > 0.8


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_faces_in_a_rotated_video_are_found_upright(tmp_path: Path, rotation: int) -> None:
    upright = scene((300, 100))
    expected = detect_faces(upright)[0].box
    stored = np.ascontiguousarray(np.rot90(upright, -round(rotation / 90)))
    path = write_video(tmp_path / "phone.mp4", [stored] * 5, rotation=rotation)
    faces = scan_video(path, every_seconds=1.0).faces
    assert faces
    assert all(overlaps(face.box, expected) > 0.8 for face in faces)


def test_no_faces_no_video_and_broken_files(tmp_path: Path) -> None:
    assert scan_video(write_video(tmp_path / "empty.mp4", [scene(None)] * 10)).faces == []
    audio = tmp_path / "sound.m4a"
    with av.open(str(audio), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    assert scan_video(audio).frames_scanned == 0
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\xff" * 500)
    with pytest.raises(MediaRefused):
        scan_video(broken)


def _run(tracker: FaceTracker[RGB], frames: list[RGB]) -> list[tuple[RGB, list[FaceBox]]]:
    ready: list[tuple[RGB, list[FaceBox]]] = []
    for frame in frames:
        ready.extend(tracker.push(frame))
    return ready + tracker.flush()


def test_tracker_keeps_a_moving_face_covered() -> None:
    # A 90 px face moving 8 px right and 3 px down a frame (its own width in ~11 frames).
    frames = [scene((40 + 8 * i, 30 + 3 * i)) for i in range(36)]
    tracker: FaceTracker[RGB] = FaceTracker(detect_every=3, max_side=640)
    ready = _run(tracker, frames)
    assert [id(frame) for frame, _ in ready] == [id(frame) for frame in frames]
    assert tracker.detections == 13  # every third frame, and the last
    for frame, boxes in ready:
        (face,) = detect_faces(frame)  # what a detector on every frame would find
        assert covered(face, boxes) == 1.0


def test_tracker_covers_a_face_that_enters_between_detections() -> None:
    # Detections run on frames 0, 3, 6, 9, 12, ...; the face appears on frame 10.
    frames = [scene(None)] * 10 + [scene((200, 80))] * 8
    ready = _run(FaceTracker(detect_every=3), frames)
    (face,) = detect_faces(frames[10])
    for _frame, boxes in ready[10:]:
        assert covered(face, boxes) == 1.0
    for _frame, boxes in ready[:6]:  # more than `reach` frames before it: untouched
        assert boxes == []


def test_tracker_bridges_one_missed_detection() -> None:
    frames = [scene((200, 80))] * 12
    frames[6] = scene(None)  # the detector sees nothing on detection frame 6
    ready = _run(FaceTracker(detect_every=3), frames)
    (face,) = detect_faces(frames[5])
    for index in (4, 5, 7, 8):
        assert covered(face, ready[index][1]) == 1.0


def test_tracker_on_decoded_rotated_frames(tmp_path: Path) -> None:
    upright = scene((300, 100))
    stored = np.ascontiguousarray(np.rot90(upright, -1))
    path = write_video(tmp_path / "phone.mp4", [stored] * 8, rotation=90)
    (face,) = detect_faces(stored, threshold=0.1)  # sideways, found with a low threshold
    tracker: FaceTracker[av.VideoFrame] = FaceTracker()
    with av.open(str(path)) as container:
        ready = [item for frame in container.decode(video=0) for item in tracker.push(frame)]
    ready += tracker.flush()
    assert len(ready) == 8
    for frame, boxes in ready:
        assert (frame.width, frame.height) == (stored.shape[1], stored.shape[0])
        assert covered(face, boxes) > 0.95
