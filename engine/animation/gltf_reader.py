"""Reads the skeleton and animation of a glTF 2.0 file (.glb, .vrma, or .gltf with its buffers
embedded or beside it) as joint positions, for `inspect` and `convert` (pygltflib parses the file).

The joints are the first skin's joints (every node where there is no skin), parents first. A
node's local transform is its translation, rotation and scale (or its matrix); the first
animation's channels replace them over time, read at the frames' times: LINEAR between keys
(rotations normalised-linear, exact for files baked a key a frame), STEP and CUBICSPLINE at the
keys' values. glTF has no frame rate: frames are spaced by the commonest time between keys of
the animation's first channel. Lengths are metres and Y is up, as the format defines them. A file
pygltflib cannot parse, accessors outside their buffers, or a file without nodes is an InputError
naming the file.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pygltflib as gl
from scipy.spatial.transform import Rotation

from engine.animation.fbx_reader import ArmatureMotion
from engine.core.errors import InputError
from engine.core.input_checks import DEFAULT_LIMITS, InputLimits, check_rate
from engine.core.take import DEFAULT_FPS

_COMPONENTS = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}


class _Bad(ValueError):
    pass


def read_gltf(path, limits: InputLimits = DEFAULT_LIMITS) -> ArmatureMotion:
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            binary = fh.read(4) == b"glTF"  # .glb, .vrma: by the magic, whatever the extension
        doc = gl.GLTF2().load_binary(str(path)) if binary else gl.GLTF2().load_json(str(path))
    except Exception as exc:  # noqa: BLE001 - pygltflib raises whatever its parser meets; any of it is a damaged file
        raise InputError(f"{path}: not a readable glTF file ({type(exc).__name__}: {str(exc)[:120]})") from None
    if doc is None:
        raise InputError(f"{path}: not a readable glTF file")
    try:
        return _motion(doc, path, limits)
    except (_Bad, IndexError, KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: not a readable glTF file: {exc}") from None


def _buffers(doc: gl.GLTF2, path: Path) -> list[bytes]:
    out = []
    for i, buf in enumerate(doc.buffers):
        if buf.uri is None:
            data = doc.binary_blob() or b""
        elif buf.uri.startswith("data:"):
            data = base64.b64decode(buf.uri.split(",", 1)[1])
        else:
            data = (path.parent / buf.uri).read_bytes()
        if len(data) < (buf.byteLength or 0):
            raise _Bad(f"buffer {i} holds {len(data)} bytes, not {buf.byteLength}")
        out.append(data)
    return out


def _accessor(doc: gl.GLTF2, buffers: list[bytes], index: int) -> np.ndarray:
    acc = doc.accessors[index]
    if acc.componentType != gl.FLOAT or acc.type not in _COMPONENTS:
        raise _Bad(f"accessor {index} is not of floats")
    width = _COMPONENTS[acc.type]
    view = doc.bufferViews[acc.bufferView]
    stride = view.byteStride or 4 * width
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    need = stride * (acc.count - 1) + 4 * width if acc.count else 0
    data = buffers[view.buffer]
    if acc.count < 0 or start + need > min(len(data), (view.byteOffset or 0) + view.byteLength):
        raise _Bad(f"accessor {index} reaches past its buffer view")
    if not acc.count:
        return np.zeros((0, width))
    if stride == 4 * width:
        return np.frombuffer(data, "<f4", count=acc.count * width, offset=start).reshape(acc.count, width).astype(float)
    return np.stack([np.frombuffer(data, "<f4", count=width, offset=start + k * stride) for k in range(acc.count)]
                    ).astype(float)


def _motion(doc: gl.GLTF2, path: Path, limits: InputLimits) -> ArmatureMotion:
    if not doc.nodes:
        raise _Bad("it has no nodes")
    buffers = _buffers(doc, path)
    joints = list(doc.skins[0].joints) if doc.skins else list(range(len(doc.nodes)))
    limits.check_joints(len(joints), str(path))
    parent = {c: i for i, n in enumerate(doc.nodes) for c in (n.children or [])}
    channels = doc.animations[0].channels if doc.animations else []
    samplers = doc.animations[0].samplers if doc.animations else []
    inputs = [_accessor(doc, buffers, samplers[c.sampler].input)[:, 0] for c in channels]
    fps = DEFAULT_FPS
    start = stop = 0.0
    if inputs and inputs[0].size > 1:
        # key times are float32: a rate a key a frame comes back as 30.0000018; 4 decimals keep 29.97
        fps = check_rate(round(1.0 / float(np.median(np.diff(inputs[0]))), 4), f"{path}: its key times")
        start, stop = min(float(t[0]) for t in inputs), max(float(t[-1]) for t in inputs)
    count = int(round((stop - start) * fps)) + 1
    limits.check_frames(count, str(path))
    times = start + np.arange(count) / fps
    animated: dict[tuple[int, str], np.ndarray] = {}
    for c, t in zip(channels, inputs):
        sampler = samplers[c.sampler]
        values = _accessor(doc, buffers, sampler.output)
        if sampler.interpolation == gl.ANIM_CUBICSPLINE:
            values = values[1::3]
        if values.shape[0] != t.size:
            raise _Bad(f"a sampler has {t.size} key times and {values.shape[0]} values")
        if sampler.interpolation == gl.ANIM_STEP:
            sampled = values[np.clip(np.searchsorted(t, times, side="right") - 1, 0, t.size - 1)]
        else:
            sampled = np.stack([np.interp(times, t, values[:, k]) for k in range(values.shape[1])], axis=1)
        animated[(c.target.node, c.target.path)] = sampled
    world: dict[int, np.ndarray] = {}
    rest: dict[int, np.ndarray] = {}

    def place(i: int) -> None:
        if i in world:
            return
        node = doc.nodes[i]
        local_rest = _local(node, None, count)
        local = _local(node, animated, count, i)
        p = parent.get(i)
        if p is not None:
            place(p)
        world[i] = world[p] @ local if p is not None else local
        rest[i] = rest[p] @ local_rest[0] if p is not None else local_rest[0]

    order = sorted(joints, key=lambda i: _depth(i, parent))
    for i in order:
        place(i)
    index = {n: k for k, n in enumerate(order)}
    names = tuple(doc.nodes[i].name or f"node{i}" for i in order)

    def joint_parent(i: int) -> int:
        p = parent.get(i)
        while p is not None and p not in index:
            p = parent.get(p)
        return -1 if p is None else index[p]

    return ArmatureMotion(names, tuple(joint_parent(i) for i in order),
                          np.stack([world[i][:, :3, 3] for i in order], axis=1),
                          np.stack([rest[i][:3, 3] for i in order]), fps, 100.0)


def _depth(i: int, parent: dict) -> int:
    d, seen = 0, {i}
    while i in parent and parent[i] not in seen:
        i = parent[i]
        seen.add(i)
        d += 1
    return d


def _local(node: gl.Node, animated: dict | None, count: int, i: int = -1) -> np.ndarray:
    """(count, 4, 4) the node's local transform at each frame (its own values where not animated)."""
    m = np.tile(np.eye(4), (count, 1, 1))
    if node.matrix is not None and not (animated and any((i, p) in animated for p in ("translation", "rotation", "scale"))):
        m[:] = np.asarray(node.matrix, float).reshape(4, 4).T
        return m
    animated = animated or {}
    t = animated.get((i, "translation"), np.tile(np.asarray(node.translation or (0, 0, 0), float), (count, 1)))
    q = animated.get((i, "rotation"), np.tile(np.asarray(node.rotation or (0, 0, 0, 1), float), (count, 1)))
    s = animated.get((i, "scale"), np.tile(np.asarray(node.scale or (1, 1, 1), float), (count, 1)))
    norms = np.linalg.norm(q, axis=1, keepdims=True)
    if not np.all(norms > 0):
        raise _Bad(f"node {node.name!r} has a zero rotation")
    m[:, :3, :3] = Rotation.from_quat(q / norms).as_matrix() * s[:, None, :]
    m[:, :3, 3] = t
    return m
