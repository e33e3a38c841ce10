"""The binary FBX encoding (version 7400): nodes with typed properties and children, as the
public descriptions of the format give it (Blender's io_scene_fbx `encode_bin`/`parse_fbx`, the
ufbx project's notes, Alexander Gessler's "FBX binary file encoding"). This module knows the
bytes only; what the nodes mean is engine/animation/fbx_writer.py's job.

File: the 23-byte magic `Kaydara FBX Binary  \\0\\x1a\\0`, the version (uint32), the top-level
node records, an empty record that ends them, then the footer (a 16-byte footer id, 4 zero bytes,
zero padding to a multiple of 16, the version again, 120 zero bytes and a 16-byte closing magic).

Node record (7400): end offset (uint32, from the start of the file), property count (uint32),
property bytes (uint32), name length (uint8), name, the properties, then the children followed by
an empty 13-byte record; a node with neither properties nor children (and AnimationStack /
AnimationLayer always) also ends with the empty record, as the SDK writes them.

Property: a type code and its value, little-endian: Y int16, C bool, I int32, F float32,
D float64, L int64; S string and R raw bytes (uint32 length, bytes); arrays f d l i b (uint32
count, uint32 encoding 0 raw / 1 zlib, uint32 byte length, data). An object's name and class are
one string, `name \\0\\x01 Class`.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

VERSION = 7400
MAGIC = b"Kaydara FBX Binary  \x00\x1a\x00"
_SENTINEL = b"\x00" * 13
# The file id, creation time and footer id are tied to each other by a check the SDK makes; the
# values that go together are the fixed ones every open writer uses.
FILE_ID = bytes.fromhex("28b32aebb624ccc2bfc8b02aa92bfcf1")
CREATION_TIME = "1970-01-01 10:00:00:000"
_FOOTER_ID = bytes.fromhex("fabcab09d0c8d466b176fb831cf7267e")
_FOOTER_MAGIC = bytes.fromhex("f85a8c6adef5d97eece90ce3758f290b")
_ALWAYS_CLOSED = {"AnimationStack", "AnimationLayer"}
_ARRAY_CODES = {np.dtype(np.float32): b"f", np.dtype(np.float64): b"d", np.dtype(np.int64): b"l",
                np.dtype(np.int32): b"i", np.dtype(np.bool_): b"b"}
_COMPRESS_OVER = 128  # arrays longer than this many bytes are zlib-compressed


class I32(int):
    """An int written as an FBX int32 (plain ints are int64)."""


class I16(int):
    """An int written as an FBX int16."""


class Raw(bytes):
    """Bytes written as FBX raw data (R); plain bytes are strings (S)."""


def object_name(name: str, cls: str) -> str:
    """The name property of an object: `name`, then \\0\\x01 and its class."""
    return f"{name}\x00\x01{cls}"


@dataclass
class Node:
    name: str
    props: tuple = ()
    children: list[Node] = field(default_factory=list)

    def add(self, name: str, *props, children: list[Node] | None = None) -> Node:
        child = Node(name, props, children or [])
        self.children.append(child)
        return child


def _property(value) -> bytes:
    if isinstance(value, bool):
        return b"C" + struct.pack("<?", value)
    if isinstance(value, I16):
        return b"Y" + struct.pack("<h", value)
    if isinstance(value, I32):
        return b"I" + struct.pack("<i", value)
    if isinstance(value, int):
        return b"L" + struct.pack("<q", value)
    if isinstance(value, float):
        return b"D" + struct.pack("<d", value)
    if isinstance(value, Raw):
        return b"R" + struct.pack("<I", len(value)) + bytes(value)
    if isinstance(value, str):
        data = value.encode("utf-8")
        return b"S" + struct.pack("<I", len(data)) + data
    if isinstance(value, np.ndarray):
        code = _ARRAY_CODES.get(value.dtype)
        if code is None or value.ndim != 1:
            raise TypeError(f"no FBX array type for {value.dtype} of {value.ndim} dimensions")
        data = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<"), copy=False).tobytes()
        encoding = 0
        if len(data) > _COMPRESS_OVER:
            data, encoding = zlib.compress(data, 1), 1
        return code + struct.pack("<3I", value.size, encoding, len(data)) + data
    raise TypeError(f"no FBX property type for {type(value).__name__}")


def _encode(node: Node, offset: int, last: bool, out: list[bytes]) -> int:
    """Appends the node's bytes to `out`; -> the offset after it."""
    name = node.name.encode("ascii")
    props = b"".join(_property(p) for p in node.props)
    head_at = len(out)
    out.append(b"")  # the record's head, once its end is known
    out.append(props)
    end = offset + 13 + len(name) + len(props)
    for i, child in enumerate(node.children):
        end = _encode(child, end, i == len(node.children) - 1, out)
    if node.children or (not node.props and not last) or node.name in _ALWAYS_CLOSED:
        out.append(_SENTINEL)
        end += len(_SENTINEL)
    out[head_at] = struct.pack("<3IB", end, len(node.props), len(props), len(name)) + name
    return end


def encode(top: list[Node]) -> bytes:
    """The whole file: magic, version, the top-level nodes and the footer."""
    out = [MAGIC, struct.pack("<I", VERSION)]
    offset = len(MAGIC) + 4
    for node in top:
        offset = _encode(node, offset, False, out)
    out.append(_SENTINEL)
    offset += len(_SENTINEL)
    out.append(_FOOTER_ID + b"\x00" * 4)
    offset += 20
    pad = (16 - offset % 16) or 16
    out.append(b"\x00" * pad + struct.pack("<I", VERSION) + b"\x00" * 120 + _FOOTER_MAGIC)
    return b"".join(out)
