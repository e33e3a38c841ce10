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
# integer arrays longer than this many bytes are zlib-compressed (key times shrink to a few per
# cent); float arrays are written raw: zlib gains little on them and costs most of the writing time
_COMPRESS_OVER = 128


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
        if len(data) > _COMPRESS_OVER and value.dtype.kind != "f":
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


# ---------------------------------------------------------------------------------------------
# reading


class FbxDecodeError(ValueError):
    """The bytes are not a binary FBX this decoder can read (the message says where and why)."""


_SCALARS = {b"Y": "<h", b"C": "<?", b"I": "<i", b"F": "<f", b"D": "<d", b"L": "<q"}
_ARRAYS = {b"f": "<f4", b"d": "<f8", b"l": "<i8", b"i": "<i4", b"b": "?"}


def decode(data: bytes, max_array_bytes: int = 1 << 32) -> tuple[int, list[Node]]:
    """-> (version, top-level nodes) of a binary FBX (7.x, 32- or 64-bit records). Arrays come
    back as numpy arrays; strings as str (an object's `name\\0\\x01Class` kept whole); raw data as
    Raw. FbxDecodeError on anything that does not add up: offsets outside the file or going
    backwards, lengths past a record's end, unknown types, arrays whose bytes do not match their count
    or that would unpack past `max_array_bytes`."""
    if not data.startswith(MAGIC[:21]):
        kind = "an ASCII FBX (only binary FBX is read)" if data.lstrip()[:1] in (b";", b"F") else "not an FBX file"
        raise FbxDecodeError(kind)
    if len(data) < 27:
        raise FbxDecodeError("the file stops inside its header")
    version = struct.unpack_from("<I", data, 23)[0]
    wide = version >= 7500
    head = struct.Struct("<3QB" if wide else "<3IB")
    nodes, offset = [], 27
    while True:
        node, offset = _decode_node(data, offset, len(data), head, max_array_bytes)
        if node is None:
            return version, nodes
        nodes.append(node)


def _decode_node(data: bytes, offset: int, limit: int, head: struct.Struct, max_array: int):
    if offset + head.size > limit:
        raise FbxDecodeError(f"byte {offset}: the file stops inside a node record")
    end, count, props_len, name_len = head.unpack_from(data, offset)
    if end == 0:
        return None, offset + head.size
    pos = offset + head.size
    if not (pos + name_len + props_len <= end <= limit):
        raise FbxDecodeError(f"byte {offset}: a node record claims to end at byte {end}, outside its place")
    name = data[pos:pos + name_len].decode("ascii", "replace")
    pos += name_len
    props_end = pos + props_len
    props = []
    for _ in range(count):
        value, pos = _decode_property(data, pos, props_end, max_array)
        props.append(value)
    if pos != props_end:
        raise FbxDecodeError(f"byte {offset}: node {name!r}'s properties do not fill their {props_len} bytes")
    children = []
    while pos < end:
        child, pos = _decode_node(data, pos, end, head, max_array)
        if child is None:
            break
        children.append(child)
    return Node(name, tuple(props), children), end


def _decode_property(data: bytes, pos: int, limit: int, max_array: int):
    if pos >= limit:
        raise FbxDecodeError(f"byte {pos}: a property runs past its node's end")
    code = data[pos:pos + 1]
    pos += 1
    if code in _SCALARS:
        fmt = _SCALARS[code]
        size = struct.calcsize(fmt)
        if pos + size > limit:
            raise FbxDecodeError(f"byte {pos}: a property runs past its node's end")
        return struct.unpack_from(fmt, data, pos)[0], pos + size
    if code in (b"S", b"R"):
        if pos + 4 > limit:
            raise FbxDecodeError(f"byte {pos}: a property runs past its node's end")
        (size,) = struct.unpack_from("<I", data, pos)
        if pos + 4 + size > limit:
            raise FbxDecodeError(f"byte {pos}: a {size}-byte string runs past its node's end")
        raw = data[pos + 4:pos + 4 + size]
        return (raw.decode("utf-8", "replace") if code == b"S" else Raw(raw)), pos + 4 + size
    if code in _ARRAYS:
        if pos + 12 > limit:
            raise FbxDecodeError(f"byte {pos}: a property runs past its node's end")
        count, encoding, size = struct.unpack_from("<3I", data, pos)
        dtype = np.dtype(_ARRAYS[code])
        if pos + 12 + size > limit:
            raise FbxDecodeError(f"byte {pos}: an array of {size} bytes runs past its node's end")
        if count * dtype.itemsize > max_array:
            raise FbxDecodeError(f"byte {pos}: an array of {count} values is larger than the limit")
        raw = data[pos + 12:pos + 12 + size]
        if encoding == 1:
            try:
                raw = zlib.decompressobj().decompress(raw, count * dtype.itemsize + 1)
            except zlib.error as exc:
                raise FbxDecodeError(f"byte {pos}: a compressed array is damaged ({exc})") from None
        elif encoding != 0:
            raise FbxDecodeError(f"byte {pos}: unknown array encoding {encoding}")
        if len(raw) != count * dtype.itemsize:
            raise FbxDecodeError(f"byte {pos}: an array of {count} values holds {len(raw)} bytes")
        return np.frombuffer(raw, dtype).copy(), pos + 12 + size
    raise FbxDecodeError(f"byte {pos - 1}: unknown property type {code!r}")
