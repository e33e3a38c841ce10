"""Writes a solved rig (engine/animation/solver.RigMotion) as glTF 2.0 (pygltflib): `.glb`
(binary, one file), `.gltf` (JSON with its buffer embedded as a data URI, still one file) or
`.vrma`, a VRM Animation (binary glTF on the VRM rig with the VRMC_vrm_animation 1.0 extension,
whose humanoid names each bone's node; its rest pose a T-pose, as VRM Animation expects), for
VTuber apps and three-vrm.

What the file holds, as the glTF 2.0 specification defines it (metres, +Y up, the asset's front
towards +Z, right-handed; rotations as unit quaternions x, y, z, w):

- one node per rig joint, named as the rig names it, parented as the rig; a joint's translation is
  its rest offset and its rotation the identity, so the rest pose is the rig's T-pose, standing on
  the floor (engine/animation/fbx_writer.rest_root_m); a rig's floor bones (UE5's `root` above
  the first joint, and its IK roots) are still nodes at the origin; a rig with end bones
  (Monocap's, Mixamo's) gets its End Sites as still leaves `<joint>_end`;
- one skin whose joints are those nodes, with their inverse bind matrices (the rest pose), so
  importers (Blender, Godot, Unity's glTFast, three.js) make an armature of them; no mesh;
- one animation: a rotation channel for every joint and a translation channel for the first joint
  (the root motion), one key a frame, LINEAR; the key times are the frames' times from 0.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pygltflib as gl
from scipy.spatial.transform import Rotation

from engine.animation.fbx_writer import rest_root_m
from engine.animation.solver import RigMotion
from engine.core.atomic import atomic_path
from engine.core.input_checks import check_rate_to_write

GLTF_SUFFIXES = ("glb", "gltf", "vrma")
VRM_ANIMATION = "VRMC_vrm_animation"


def _quaternions(local_rotations: np.ndarray) -> np.ndarray:
    """(T, R, 3, 3) -> (T, R, 4) x, y, z, w, each joint's sign kept from frame to frame so that
    interpolation between keys takes the short way."""
    t_count, r_count = local_rotations.shape[:2]
    q = Rotation.from_matrix(local_rotations.reshape(-1, 3, 3)).as_quat().reshape(t_count, r_count, 4)
    if t_count > 1:
        flip = np.einsum("trk,trk->tr", q[1:], q[:-1]) < 0.0
        sign = np.where(np.cumsum(flip, axis=0) % 2 == 1, -1.0, 1.0)
        q[1:] *= sign[..., None]
    return q


class _Blob:
    """The one buffer, one buffer view and accessor per array (4-byte aligned floats)."""

    def __init__(self, gltf: gl.GLTF2) -> None:
        self.gltf = gltf
        self.parts: list[bytes] = []
        self.size = 0

    def accessor(self, array: np.ndarray, kind: str, bounds: bool = False) -> int:
        data = np.ascontiguousarray(array, dtype="<f4")
        raw = data.tobytes()
        self.gltf.bufferViews.append(gl.BufferView(buffer=0, byteOffset=self.size, byteLength=len(raw)))
        self.parts.append(raw)
        self.size += len(raw)
        flat = data.reshape(data.shape[0], -1)
        acc = gl.Accessor(bufferView=len(self.gltf.bufferViews) - 1, componentType=gl.FLOAT, count=data.shape[0],
                          type=kind)
        if bounds:
            acc.min, acc.max = flat.min(axis=0).tolist(), flat.max(axis=0).tolist()
        self.gltf.accessors.append(acc)
        return len(self.gltf.accessors) - 1

    def data(self) -> bytes:
        return b"".join(self.parts)


def gltf_document(motion: RigMotion, name: str = "Take 001", vrm_animation: bool = False) -> gl.GLTF2:
    """The glTF of `motion`; vrm_animation: a VRM Animation (VRMC_vrm_animation 1.0), whose
    humanoid maps each VRM bone name to its node (the motion must be on the `vrm` rig)."""
    fps = check_rate_to_write(motion.fps, "glTF")
    rig = motion.rig
    gltf = gl.GLTF2(asset=gl.Asset(version="2.0", generator="Monocap"), scene=0)
    blob = _Blob(gltf)
    first = len(rig.floor_bones)  # still bones at the origin: the first holds the others and the rig
    for k, name in enumerate(rig.floor_bones):
        gltf.nodes.append(gl.Node(name=name, children=[]))
        if k:
            gltf.nodes[0].children.append(k)
    rest_world = np.zeros((len(rig.joints), 3))
    root_rest = rest_root_m(motion)
    for i, j in enumerate(rig.joints):
        t = root_rest if j.parent < 0 else motion.offsets_m[i]
        rest_world[i] = t if j.parent < 0 else rest_world[j.parent] + t
        gltf.nodes.append(gl.Node(name=j.name, translation=[float(x) for x in t], children=[]))
        parent = (0 if first else None) if j.parent < 0 else first + j.parent
        if parent is not None:
            gltf.nodes[parent].children.append(first + i)
    ends = []
    for i, j in enumerate(rig.joints):
        if rig.end_bones and j.end is not None:
            gltf.nodes[first + i].children.append(len(gltf.nodes))
            gltf.nodes.append(gl.Node(name=f"{j.name}_end", translation=[float(x) for x in motion.end_offsets_m[i]]))
            ends.append(rest_world[i] + motion.end_offsets_m[i])
    for node in gltf.nodes:
        node.children = node.children or None
    joints = list(range(len(gltf.nodes)))
    world = np.concatenate([np.zeros((first, 3)), rest_world, np.reshape(ends, (-1, 3))])
    inverse_bind = np.tile(np.eye(4), (len(joints), 1, 1))
    inverse_bind[:, 3, :3] = -world  # column-major: the translation is the 4th column
    gltf.skins.append(gl.Skin(name=rig.name, joints=joints, skeleton=0,
                              inverseBindMatrices=blob.accessor(inverse_bind.reshape(-1, 16), gl.MAT4)))
    gltf.scenes.append(gl.Scene(name=name, nodes=[0]))
    t_count = motion.local_rotations.shape[0]
    if t_count:
        times = blob.accessor(np.arange(t_count) / fps, gl.SCALAR, bounds=True)
        anim = gl.Animation(name=name, channels=[], samplers=[])

        def channel(node: int, path: str, values: np.ndarray, kind: str) -> None:
            anim.samplers.append(gl.AnimationSampler(input=times, output=blob.accessor(values, kind),
                                                     interpolation=gl.ANIM_LINEAR))
            anim.channels.append(gl.AnimationChannel(sampler=len(anim.samplers) - 1,
                                                     target=gl.AnimationChannelTarget(node=node, path=path)))

        channel(first, gl.TRANSLATION, motion.root_m, gl.VEC3)
        quats = _quaternions(motion.local_rotations)
        for i in range(len(rig.joints)):
            channel(first + i, gl.ROTATION, quats[:, i], gl.VEC4)
        gltf.animations.append(anim)
    if vrm_animation:
        bones = {j.name: {"node": first + i} for i, j in enumerate(rig.joints)}
        gltf.extensionsUsed = [VRM_ANIMATION]
        gltf.extensions = {VRM_ANIMATION: {"specVersion": "1.0", "humanoid": {"humanBones": bones}}}
    gltf.buffers.append(gl.Buffer(byteLength=blob.size))
    gltf.set_binary_blob(blob.data())
    return gltf


def write_gltf(motion: RigMotion, path: str | Path) -> Path:
    """Writes `motion` to `path` atomically: binary glTF for .glb, JSON with an embedded buffer for
    .gltf, a binary VRM Animation for .vrma. ValueError on non-finite values, OutputError on an
    implausible rate."""
    path = Path(path)
    check_rate_to_write(motion.fps, path)
    if not (np.isfinite(motion.local_rotations).all() and np.isfinite(motion.root_m).all()):
        raise ValueError("refusing to write NaN or infinity into a glTF file")
    vrma = path.suffix.lower() == ".vrma"
    if vrma and motion.rig.name != "vrm":
        raise ValueError(f"a VRM Animation needs the vrm rig, not {motion.rig.name}")
    gltf = gltf_document(motion, path.stem, vrm_animation=vrma)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".gltf":
            blob = gltf.binary_blob()
            gltf.destroy_binary_blob()
            gltf.buffers[0].uri = "data:application/octet-stream;base64," + base64.b64encode(blob).decode("ascii")
            gltf.save_json(str(tmp))
        else:
            gltf.save_binary(str(tmp))
    return path
