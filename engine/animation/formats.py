"""Reads and writes takes by file extension (.npz, .csv, .bvh, .trc), with the export options
the CLI and the GUI share (the command line's own options: engine/cli/export_arguments.py).

- .npz: Monocap's take (engine/core/take.py), every field kept.
- .csv: one row per frame: frame, time_s, then <joint>_x_m, _y_m, _z_m (metres; empty when
  nobody was in view). The frame rate is 1 / the time step.
- .trc: OpenSim markers (engine/animation/trc.py), mm by default.
- .bvh: joint rotations on a rig (engine/animation/solver.py, engine/animation/bvh_writer.py), cm by default.
  Takes of other skeletons (a BVH from elsewhere) are mapped onto Monocap's body first
  (engine/animation/rig_mappings.py), with its fingers where every finger of both hands has
  three joints (engine/animation/rig_fingers.py); CSV, TRC and NPZ keep the source's own joints.
- .fbx, .glb, .gltf: the same rig and motion as the BVH (one solve, `rig_motion_for`), as an
  armature and its animation (engine/animation/fbx_writer.py: binary FBX 7.4, cm by default;
  engine/animation/gltf_writer.py: glTF 2.0, metres); .vrma: a VRM Animation, always on the VRM rig.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.animation.bvh_reader import guess_units, read_bvh
from engine.animation.bvh_writer import UNITS_PER_M, write_bvh
from engine.animation.fbx_reader import ArmatureMotion, read_fbx
from engine.animation.fbx_writer import FBX_UNITS, write_fbx
from engine.animation.gltf_reader import read_gltf
from engine.animation.gltf_writer import write_gltf
from engine.animation.rig import RIGS, get_rig
from engine.animation.rig_mappings import on_body_if_possible, to_body_take
from engine.animation.rig_recognizer import up_direction
from engine.animation.solver import RigMotion, SolverOptions, rig_motion, solve
from engine.animation.trc import TRC_UNITS, read_trc, write_trc
from engine.core.atomic import file_set, settle_interrupted_commits
from engine.core.errors import InputError, NoValidFramesError, OutputError
from engine.core.input_checks import DEFAULT_LIMITS, InputLimits, check_positions, check_rate, check_rate_to_write
from engine.core.rotations import EULER_ORDERS, swing_rotation
from engine.core.skeletons import Skeleton, frame_joints, guess_mirror_pairs
from engine.core.take import Take, load_npz, save_npz, valid_frames
from engine.core.take_csv import read_csv, write_csv
from engine.core.units import METRES_PER_UNIT
from engine.motion.gaps import runs

FORMATS = ("npz", "csv", "bvh", "trc", "fbx", "glb", "gltf", "vrma")
RIG_FORMATS = ("bvh", "fbx", "glb", "gltf", "vrma")  # the formats that put the take on a rig
DEFAULT_FORMATS = ("npz", "csv", "bvh")
log = logging.getLogger("monocap.export")
LOW_CONFIDENCE = 0.75  # below this, writing a BVH from a mapped skeleton warns


@dataclass(frozen=True)
class ExportOptions:
    rig: str = "monocap"  # "monocap" or "mixamo" (engine/animation/rig.py)
    units: str | None = None  # None: the format's default (BVH cm, TRC mm; CSV is always metres)
    euler_order: str = "ZXY"  # BVH rotation channel order (intrinsic)
    start_frame: int = 0  # first frame exported
    end_frame: int | None = None  # one past the last frame exported (None: to the end)
    fps: float | None = None  # resample to this rate (None: the take's own)
    root_motion: bool = True  # False: the root stays above the origin
    ground: bool = True  # BVH: move the take so the floor is at y = 0
    foot_contact: bool = True  # BVH: pin planted feet so they do not slide
    max_gap_s: float = 0.5  # invalid runs up to this long are interpolated, longer ones held

    def __post_init__(self) -> None:
        if self.rig not in RIGS:
            raise ValueError(f"unknown rig {self.rig!r}; use one of {', '.join(RIGS)}")
        if self.euler_order not in EULER_ORDERS:
            raise ValueError(f"unknown Euler order {self.euler_order!r}; use one of {', '.join(EULER_ORDERS)}")
        if self.units is not None and self.units not in UNITS_PER_M:
            raise ValueError(f"unknown unit {self.units!r}; use one of {', '.join(UNITS_PER_M)}")
        if self.fps is not None and not self.fps > 0:
            raise ValueError("the frame rate must be positive")
        if self.start_frame < 0 or (self.end_frame is not None and self.end_frame <= self.start_frame):
            raise ValueError("the frame range must be START:END with 0 <= START < END")

    def solver_options(self) -> SolverOptions:
        return SolverOptions(foot_contact=self.foot_contact, ground=self.ground,
                             root_motion=self.root_motion, max_gap_s=self.max_gap_s)


def _extension(path: Path) -> str:
    return path.suffix.lower().lstrip(".")


# ---------------------------------------------------------------------------------------------
# reading


def read_take(path: str | Path, units: str | None = None, joint_map: dict[str, str] | None = None,
              limits: InputLimits = DEFAULT_LIMITS) -> Take:
    """Reads a take from .npz, .csv, .bvh, .trc, .fbx, .glb or .gltf, validated (counts, finite
    values, rate, sizes within `limits`). InputError naming the file otherwise.

    BVH only: `units` (a key of engine.core.units.METRES_PER_UNIT) overrides the unit guessed from the rest
    pose; `joint_map` ({source joint: Monocap joint}) corrects the rig recogniser. A set of files whose
    commit was killed half way through its renames is finished first, so a reader never sees a mix."""
    path = Path(path)
    with contextlib.suppress(OSError, OutputError):  # a folder it may not write: read what is there
        settle_interrupted_commits(path)
    ext = _extension(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if ext == "npz":
        take = load_npz(path, limits)
    elif ext == "csv":
        take = _read_any_csv(path, limits)
    elif ext == "trc":
        take = read_trc(path, limits)
    elif ext == "bvh":
        return take_from_bvh(path, units, joint_map, limits)
    elif ext == "fbx":
        return take_from_armature(path, read_fbx(path, limits), joint_map)
    elif ext in ("glb", "gltf", "vrma"):
        return take_from_armature(path, read_gltf(path, limits), joint_map)
    else:
        raise InputError(f"{path}: unknown take format {path.suffix!r}; use one of .{', .'.join(FORMATS)}")
    if joint_map:
        take = replace(take, metadata={**take.metadata, "joint_map": dict(joint_map)})
    return take


def read_take_as_body(path: str | Path) -> Take:
    """Any take file, its skeleton mapped onto MONOCAP_BODY where it can be (so that joint
    angles and comparisons with captures work), its fingers too where every finger of both hands
    has three joints; kept as it is otherwise."""
    return on_body_if_possible(read_take(path), str(path))


def take_from_bvh(path: str | Path, units: str | None = None, joint_map: dict[str, str] | None = None,
                  limits: InputLimits = DEFAULT_LIMITS) -> Take:
    """A BVH from anywhere as a take on its own skeleton (end sites included), in metres. The
    metadata keeps the unit, the rest pose (for the rig recogniser) and the joint map."""
    motion = read_bvh(path, limits)
    if motion.num_frames == 0:
        raise InputError(f"{path}: the BVH file has no frames")
    if units is not None and units not in METRES_PER_UNIT:
        raise InputError(f"{path}: unknown unit {units!r}; use one of {', '.join(METRES_PER_UNIT)}")
    unit = units or guess_units(motion)
    scale = METRES_PER_UNIT[unit]
    joints = motion.positions(scale, include_end_sites=True)
    skeleton = motion.skeleton(include_end_sites=True)
    rest = motion.shape_pose(scale)
    up_axis, to_y_up = _turn_to_y_up(skeleton, rest)
    if up_axis != "+Y":
        joints, rest = joints @ to_y_up.T, rest @ to_y_up.T
    check_positions(joints, str(path), skeleton.joint_names, allow_nan=False)
    t_count = joints.shape[0]
    fps = check_rate(motion.fps, f"{path}: Frame Time")
    valid = np.isfinite(joints).all(axis=(1, 2))
    metadata = {"source": str(path), "source_units": unit, "source_units_m": scale,
                "source_units_guessed": units is None, "source_up": up_axis,
                "rest_pose_m": np.round(rest, 6).tolist()}
    if joint_map:
        metadata["joint_map"] = dict(joint_map)
    return Take(joints, skeleton, fps, np.arange(t_count) / fps, valid, metadata=metadata)


def take_from_armature(path: Path, arm: ArmatureMotion, joint_map: dict[str, str] | None = None) -> Take:
    """An FBX's or glTF's skeleton as a take on its own joints, in metres, turned to stand along
    +Y as a BVH's is; the metadata as take_from_bvh's."""
    if not arm.names:
        raise InputError(f"{path}: the file has no joints")
    skeleton = Skeleton(path.stem or "armature", arm.names, arm.parents, guess_mirror_pairs(arm.names))
    joints, rest = arm.joints_m, arm.rest_m
    up_axis, to_y_up = _turn_to_y_up(skeleton, rest)
    if up_axis != "+Y":
        joints, rest = joints @ to_y_up.T, rest @ to_y_up.T
    check_positions(joints, str(path), skeleton.joint_names, allow_nan=False)
    fps = check_rate(arm.fps, f"{path}: its frame rate")
    unit = next((u for u, m in METRES_PER_UNIT.items() if abs(m * 100 - arm.unit_cm) < 1e-9), f"{arm.unit_cm:g} cm")
    metadata = {"source": str(path), "source_units": unit, "source_units_m": arm.unit_cm / 100.0,
                "source_units_guessed": False, "source_up": up_axis, "rest_pose_m": np.round(rest, 6).tolist()}
    if joint_map:
        metadata["joint_map"] = dict(joint_map)
    t_count = joints.shape[0]
    return Take(joints, skeleton, fps, np.arange(t_count) / fps, np.ones(t_count, bool), metadata=metadata)


def _turn_to_y_up(skeleton: Skeleton, rest_m: np.ndarray) -> tuple[str, np.ndarray]:
    """The file's up axis (the principal axis nearest hips -> chest in the rest pose, "+Y" when
    the rig is not a person) and the quarter turn that takes it onto +Y."""
    up = up_direction(skeleton, rest_m)
    if up is None:
        return "+Y", np.eye(3)
    k = int(np.argmax(np.abs(up)))
    axis = np.zeros(3)
    axis[k] = np.sign(up[k])
    name = ("+" if up[k] > 0 else "-") + "XYZ"[k]
    if name == "+Y":
        return name, np.eye(3)
    return name, np.round(swing_rotation(axis, np.array([0.0, 1.0, 0.0])))


def _read_any_csv(path: Path, limits: InputLimits = DEFAULT_LIMITS) -> Take:
    return read_csv(path, limits=limits, any_joints=True)


# ---------------------------------------------------------------------------------------------
# writing


def select_frames(take: Take, options: ExportOptions) -> Take:
    """Applies the frame range, then resamples to options.fps (linear between frames; a new
    frame is valid when the frames it is made from are)."""
    t_count = take.num_frames
    end = t_count if options.end_frame is None else min(options.end_frame, t_count)
    if options.start_frame >= end:
        raise InputError(f"frame range {options.start_frame}:{options.end_frame} is outside the take's "
                         f"{t_count} frames")
    if options.start_frame or end != t_count:
        take = take.slice(options.start_frame, end)
    if options.fps is None or abs(options.fps - take.fps) < 1e-9 or take.num_frames < 2:
        return take if options.fps is None else replace(take, fps=float(options.fps))
    t0 = take.timestamps_s[0]
    duration = (take.num_frames - 1) / take.fps  # frames are taken as evenly spaced at take.fps
    new_t = np.arange(0.0, duration + 1e-9, 1.0 / options.fps)
    pos = new_t * take.fps
    lo = np.clip(np.floor(pos).astype(int), 0, take.num_frames - 1)
    hi = np.clip(lo + 1, 0, take.num_frames - 1)
    w = np.clip(pos - lo, 0.0, 1.0)
    w = np.where(w < 1e-9, 0.0, w)
    joints = (1 - w)[:, None, None] * take.joints_m[lo] + w[:, None, None] * take.joints_m[hi]
    joints = np.where((w == 0)[:, None, None], take.joints_m[lo], joints)
    valid = take.valid[lo] & np.where(w > 0, take.valid[hi], True) & valid_frames(joints, take.skeleton)
    joints[~valid] = np.nan
    confidence = None
    if take.joint_confidence is not None:  # a new frame is as sure of a joint as the less sure of its two
        confidence = np.where((w == 0)[:, None], take.joint_confidence[lo],
                              np.minimum(take.joint_confidence[lo], take.joint_confidence[hi]))
    return Take(joints, take.skeleton, float(options.fps), t0 + new_t, valid,
                image_size=take.image_size, metadata=dict(take.metadata), joint_confidence=confidence)


def _require_valid(take: Take, path: Path) -> None:
    if not np.any(take.valid & valid_frames(take.joints_m, take.skeleton)):
        raise NoValidFramesError(f"{path}: nobody was found in any of the take's {take.num_frames} frames; "
                                 "nothing to export")


def write_take(take: Take, path: str | Path, options: ExportOptions = ExportOptions(),
               solved: dict | None = None) -> Path:
    """Writes `take` to `path`, the format chosen by the extension. The file appears complete
    or not at all (OutputError when it cannot be written); inside a set (engine/session/outputs.write_outputs) or
    `engine.core.atomic.file_set` it appears together with the rest of its set. `solved`: a dict
    the files of one set share (same take, same options), so BVH, FBX and glTF are solved once."""
    path = Path(path)
    ext = _extension(path)
    if ext not in FORMATS:
        raise OutputError(f"{path}: unknown output format {path.suffix!r}; use one of .{', .'.join(FORMATS)}")
    check_rate_to_write(take.fps, path)
    take = select_frames(take, options)
    with file_set(path.parent, path.stem):
        return _write_one(take, path, ext, options, {} if solved is None else solved)


def _write_one(take: Take, path: Path, ext: str, options: ExportOptions, solved: dict) -> Path:
    if ext == "npz":
        return save_npz(take, path)
    _require_valid(take, path)
    if ext == "csv":
        return write_csv(take, path)
    if ext == "trc":
        units = options.units or "mm"
        if units not in TRC_UNITS:
            raise OutputError(f"{path}: TRC files are in {', '.join(TRC_UNITS)}, not {units}")
        return write_trc(take, path, units)
    if ext == "vrma":  # a VRM Animation is on the VRM humanoid, whatever the set's rig
        options = replace(options, rig="vrm")
    if options.rig not in solved:
        solved[options.rig] = rig_motion_for(take, path, options)
    motion = solved[options.rig]
    if ext == "bvh":
        return write_bvh(motion, path, options.units or "cm", options.euler_order)
    if ext == "fbx":
        units = options.units or "cm"
        if units not in FBX_UNITS:
            raise OutputError(f"{path}: FBX files are in {', '.join(FBX_UNITS)}, not {units}")
        return write_fbx(motion, path, units)
    return write_gltf(motion, path)  # glTF is in metres, whatever --units says


def rig_motion_for(take: Take, path: Path, options: ExportOptions) -> RigMotion:
    """The take on the rig `options.rig` asks for: mapped onto Monocap's body (with its fingers)
    where it is another skeleton, partial frames filled, solved. The one path of every rig format."""
    source = str(take.metadata.get("source", path))
    body = to_body_take(take, what=source, fingers=True)
    if body.metadata.get("fingers_note"):
        log.warning("%s: %s", source, body.metadata["fingers_note"])
    confidence = body.metadata.get("mapping_confidence", 1.0)
    if confidence < LOW_CONFIDENCE:
        log.warning("%s: its skeleton maps onto Monocap's body with confidence %.2f only; check the mapping "
                    "with `monocap inspect`, correct it with --map FILE", source, confidence)
    body = fill_missing_joints(body, source)
    _check_bones(body, source)
    solution = solve(body, options.solver_options())
    for a, b in runs(solution.held):
        log.warning("%s: frames %d-%d (%.1f s) had nobody in view; the pose is held there",
                    path, a, b - 1, (b - a) / body.fps)
    return rig_motion(solution, get_rig(options.rig, fingers=solution.has_fingers))


def fill_missing_joints(take: Take, source: str) -> Take:
    """The take with every joint a frame needs that is missing in a valid frame (a partial frame)
    filled from that joint alone: linear between the nearest frames that have it, held before
    the first and after the last. The joints the frame has, and its fingers, are left as they
    are. InputError when a joint is missing from every frame."""
    needed = frame_joints(take.skeleton)
    joints = take.joints_m.copy()
    frames = np.arange(take.num_frames)
    for j in needed:
        have = take.valid & np.isfinite(joints[:, j]).all(axis=-1)
        fill = take.valid & ~have
        if not fill.any():
            continue
        if not have.any():
            raise InputError(f"{source}: {take.skeleton.joint_names[j]} is missing from every frame; the motion "
                             "cannot be put on a rig without it")
        for c in range(3):
            joints[fill, j, c] = np.interp(frames[fill], frames[have], joints[have, j, c])
    return take.with_joints(joints)


MIN_BONE_M = 1e-4  # joints closer than this have no direction between them to solve a rotation from


def _check_bones(body: Take, source: str) -> None:
    """InputError when a valid frame has two joints of a bone at the same place: no rig rotation
    can be solved there (a damaged file, not a person)."""
    parents = np.array([p for p in body.skeleton.parents if p >= 0])
    children = np.array([i for i, p in enumerate(body.skeleton.parents) if p >= 0])
    lengths = np.linalg.norm(body.joints_m[:, children] - body.joints_m[:, parents], axis=-1)
    bad = (lengths < MIN_BONE_M) & body.valid[:, None]
    if bad.any():
        frame, bone = np.unravel_index(int(np.argmax(bad)), bad.shape)
        names = body.skeleton.joint_names
        raise InputError(f"{source}: frame {frame}: {names[parents[bone]]} and {names[children[bone]]} are at the "
                         "same place; the motion cannot be put on a rig (damaged file?)")


# ---------------------------------------------------------------------------------------------
# partial frames


def partial_frames_line(take: Take) -> str | None:
    """How many frames have some joints missing and which, or None when none has."""
    partial = take.partial_frames()
    if not partial.size:
        return None
    needed = frame_joints(take.skeleton)
    missing = ~np.isfinite(take.joints_m[partial[0]][needed]).all(axis=-1)
    names = [take.skeleton.joint_names[j] for j in needed[missing]]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (f"{partial.size} of {take.num_frames} frames are partial: some joints missing, the rest kept "
            f"(first: frame {partial[0]}, {shown})")


def say_partial_frames(take: Take, source: str) -> None:
    line = partial_frames_line(take)
    if line:
        log.warning("%s: %s; a BVH fills each missing joint from the frames around it, CSV and TRC leave it "
                    "empty", source, line)
