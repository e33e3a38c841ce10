"""A take: a recorded sequence of 3D poses with its metadata, and its .npz and .json files (its
.csv: engine/core/take_csv.py).

World frame (every take, every exporter): right-handed, metres, Y up, X to the camera's right,
Z towards the camera; the ground plane is y = 0. See engine/core/coords.py.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from engine.core.atomic import atomic_path, write_text_atomic
from engine.core.errors import InputError
from engine.core.input_checks import (
    DEFAULT_LIMITS,
    MAX_POSITION_M,
    InputLimits,
    check_names_to_write,
    check_positions,
    check_rate,
    check_rate_to_write,
    check_times,
    first_implausible,
    unique_names,
)
from engine.core.npz_inspect import check_stored_sizes, npz_headers
from engine.core.skeletons import Skeleton, frame_joints

# The frame rate taken when nothing tells it: a one-frame take, a video or camera that gives none.
DEFAULT_FPS = 30.0


@dataclass(frozen=True, eq=False)
class Take:
    """joints_m: (T, J, 3) world positions in metres, NaN where `valid` is False.

    keypoints_px: (T, K, 2) the detector's 2D keypoints in pixels, keypoint_scores: (T, K) in
    [0, 1] (0 where nothing was detected); both None for takes that never had a detector.
    hand_keypoints_px: (T, 2, 21, 2) both hands' 2D keypoints (left first; engine/capture/hands.py), NaN
    where a hand was not found; None for takes captured without hands.
    face_curves: (T, C) the face's values per frame (engine/motion/face_expressions.py: head and gaze
    angles in degrees, the expressions 0-1), NaN where the face was not seen, named by
    face_curve_names (C,); None for takes captured without the face.
    joint_confidence: (T, J) how sure the take is of each joint, 0..1: 0 where a joint is missing
    (its position NaN) in a frame that has others; None where nothing is known beyond which
    positions are there (see `per_joint_confidence`). A frame is `valid` when it has any of the
    joints a frame needs (skeletons.frame_joints).
    """

    joints_m: np.ndarray
    skeleton: Skeleton
    fps: float
    timestamps_s: np.ndarray
    valid: np.ndarray
    keypoints_px: np.ndarray | None = None
    keypoint_scores: np.ndarray | None = None
    keypoint_skeleton: Skeleton | None = None
    image_size: tuple[int, int] | None = None
    metadata: dict = field(default_factory=dict)
    hand_keypoints_px: np.ndarray | None = None
    joint_confidence: np.ndarray | None = None
    face_curves: np.ndarray | None = None
    face_curve_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        t, j = self.joints_m.shape[:2]
        if self.joints_m.shape != (t, j, 3):
            raise ValueError(f"joints_m must be (T, J, 3), got {self.joints_m.shape}")
        if j != self.skeleton.num_joints:
            raise ValueError(f"joints_m has {j} joints, skeleton {self.skeleton.name} has {self.skeleton.num_joints}")
        if self.timestamps_s.shape != (t,) or self.valid.shape != (t,):
            raise ValueError("timestamps_s and valid must be (T,)")
        if self.joint_confidence is not None and self.joint_confidence.shape != (t, j):
            raise ValueError(f"joint_confidence must be (T, J) = {(t, j)}, got {self.joint_confidence.shape}")
        if self.face_curves is not None and self.face_curves.shape != (t, len(self.face_curve_names)):
            raise ValueError(f"face_curves must be (T, {len(self.face_curve_names)}), got {self.face_curves.shape}")

    def per_joint_confidence(self) -> np.ndarray:
        """(T, J): the stored joint_confidence, 0 wherever a position is missing or the frame
        invalid; without one, 1 for every joint that is there in a valid frame."""
        present = self.valid[:, None] & np.isfinite(self.joints_m).all(axis=-1)
        if self.joint_confidence is None:
            return present.astype(float)
        return np.where(present, self.joint_confidence, 0.0)

    def partial_frames(self) -> np.ndarray:
        """Indices of the valid frames in which some of the joints a frame needs are missing."""
        needed = np.isfinite(self.joints_m[:, frame_joints(self.skeleton)]).all(axis=-1)
        return np.flatnonzero(self.valid & ~needed.all(axis=1))

    @property
    def num_frames(self) -> int:
        return self.joints_m.shape[0]

    @property
    def duration_s(self) -> float:
        return float(self.timestamps_s[-1] - self.timestamps_s[0]) if self.num_frames else 0.0

    def with_joints(self, joints_m: np.ndarray, **changes) -> "Take":
        return replace(self, joints_m=joints_m, **changes)

    def slice(self, start: int, stop: int) -> "Take":
        """Frames [start, stop) as a new take; timestamps keep their values."""
        s = slice(start, stop)
        return replace(
            self,
            joints_m=self.joints_m[s], timestamps_s=self.timestamps_s[s], valid=self.valid[s],
            keypoints_px=None if self.keypoints_px is None else self.keypoints_px[s],
            keypoint_scores=None if self.keypoint_scores is None else self.keypoint_scores[s],
            hand_keypoints_px=None if self.hand_keypoints_px is None else self.hand_keypoints_px[s],
            joint_confidence=None if self.joint_confidence is None else self.joint_confidence[s],
            face_curves=None if self.face_curves is None else self.face_curves[s],
        )


def valid_frames(joints_m: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(T,) whether each frame has any of the joints a frame needs: someone was in view."""
    return np.isfinite(joints_m[:, frame_joints(skeleton)]).all(axis=-1).any(axis=1)


def missing_as_whole_joints(joints_m: np.ndarray) -> np.ndarray:
    """(T, J, 3) with a joint missing (all three coordinates NaN) wherever any coordinate is."""
    return np.where(np.isfinite(joints_m).all(axis=-1, keepdims=True), joints_m, np.nan)


def confidence_if_partial(joints_m: np.ndarray, skeleton: Skeleton, valid: np.ndarray) -> np.ndarray | None:
    """The (T, J) joint_confidence a reader gives a take whose valid frames miss some joints
    (1 where a joint is there, 0 where not), None when no frame does."""
    present = np.isfinite(joints_m).all(axis=-1)
    if present[valid][:, frame_joints(skeleton)].all():
        return None
    return (present & valid[:, None]).astype(float)


def save_npz(take: Take, path: str | Path) -> Path:
    check_rate_to_write(take.fps, path)
    check_names_to_write(take.skeleton.joint_names, path)
    arrays = {
        "joints_m": take.joints_m.astype(np.float32),
        "joint_names": np.array(take.skeleton.joint_names),
        "parents": np.array(take.skeleton.parents, dtype=np.int32),
        "skeleton_name": np.array(take.skeleton.name),
        "fps": np.array(take.fps, dtype=np.float64),
        "timestamps_s": take.timestamps_s.astype(np.float64),
        "valid": take.valid.astype(bool),
        "metadata_json": np.array(json.dumps(take.metadata)),
    }
    if take.keypoints_px is not None:
        arrays["keypoints_px"] = take.keypoints_px.astype(np.float32)
        arrays["keypoint_scores"] = take.keypoint_scores.astype(np.float32)
        if take.keypoint_skeleton is not None:
            arrays["keypoint_names"] = np.array(take.keypoint_skeleton.joint_names)
            arrays["keypoint_skeleton_name"] = np.array(take.keypoint_skeleton.name)
    if take.hand_keypoints_px is not None:
        arrays["hand_keypoints_px"] = take.hand_keypoints_px.astype(np.float32)
    if take.image_size is not None:
        arrays["image_size"] = np.array(take.image_size, dtype=np.int32)
    if take.joint_confidence is not None:
        arrays["joint_confidence"] = take.joint_confidence.astype(np.float32)
    if take.face_curves is not None:
        arrays["face_curves"] = take.face_curves.astype(np.float32)
        arrays["face_curve_names"] = np.array(take.face_curve_names)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    return Path(path)


_NPZ_REQUIRED = ("joints_m", "joint_names", "parents", "fps", "timestamps_s", "valid")
_NPZ_TEXT = ("joint_names", "skeleton_name", "metadata_json", "keypoint_names", "keypoint_skeleton_name",
             "face_curve_names")
MAX_IMAGE_SIDE_PX = 100_000


def _check_npz_shapes(path: Path, headers: dict, limits: InputLimits) -> None:
    """Shapes, kinds and sizes of a take's arrays, from their headers, before any is loaded."""
    missing = [k for k in _NPZ_REQUIRED if k not in headers]
    if missing:
        raise InputError(f"{path}: not a Monocap take (no {', '.join(missing)})")
    joints = headers["joints_m"].shape
    if len(joints) != 3 or joints[2] != 3:
        raise InputError(f"{path}: joints_m has shape {joints}, not (frames, joints, 3)")
    t_count, j_count = joints[:2]
    limits.check_frames(t_count, str(path))
    limits.check_joints(j_count, str(path))
    limits.check_decompressed(sum(h.nbytes for h in headers.values()), str(path))
    if t_count == 0:
        raise InputError(f"{path}: the take has no frames")
    k_count = headers["keypoints_px"].shape[1] if "keypoints_px" in headers and len(headers["keypoints_px"].shape) > 1 else 0
    expected = {"joint_names": (j_count,), "parents": (j_count,), "fps": (), "timestamps_s": (t_count,),
                "joint_confidence": (t_count, j_count),
                "valid": (t_count,), "keypoints_px": (t_count, k_count, 2), "keypoint_scores": (t_count, k_count),
                "keypoint_names": (k_count,), "image_size": (2,), "skeleton_name": (), "metadata_json": (),
                "keypoint_skeleton_name": ()}
    for name, shape in expected.items():
        if name in headers and headers[name].shape != shape:
            raise InputError(f"{path}: {name} has shape {headers[name].shape}, expected {shape}")
    hands = headers.get("hand_keypoints_px")
    if hands is not None and (len(hands.shape) != 4 or hands.shape[0] != t_count or hands.shape[1] != 2
                              or hands.shape[3] != 2):
        raise InputError(f"{path}: hand_keypoints_px has shape {hands.shape}, expected ({t_count}, 2, keypoints, 2)")
    face = headers.get("face_curves")
    if face is not None and (len(face.shape) != 2 or face.shape[0] != t_count or "face_curve_names" not in headers
                             or headers["face_curve_names"].shape != (face.shape[1],)):
        raise InputError(f"{path}: face_curves has shape {face.shape}, expected ({t_count}, curves) "
                         "with a face_curve_names of as many names")
    limits.check_joints(k_count, f"{path}: keypoints_px")
    if "keypoints_px" in headers and "keypoint_scores" not in headers:
        raise InputError(f"{path}: keypoints_px without keypoint_scores")
    for name, header in headers.items():
        kind = header.dtype.kind
        if name in _NPZ_TEXT:
            ok = kind in "US"
        elif name in ("parents", "image_size"):
            ok = kind in "iu"
        elif name == "valid":
            ok = kind in "biu"
        else:
            ok = kind in "fiu"
        if not ok:
            raise InputError(f"{path}: {name} holds {header.dtype}, not what a Monocap take stores there")


def load_npz(path: str | Path, limits: InputLimits = DEFAULT_LIMITS) -> Take:
    """Reads a take written by save_npz. Every array's shape is checked against the others and
    against `limits` before it is loaded; values must be finite (NaN only in invalid frames),
    the rate plausible. InputError naming the file and the field otherwise."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    headers = npz_headers(path)
    _check_npz_shapes(path, headers, limits)
    check_stored_sizes(path, headers)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in headers}
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, UnicodeDecodeError,
            NotImplementedError, RuntimeError) as exc:
        raise InputError(f"{path}: not a Monocap take (damaged archive: {exc})") from None
    return _take_from_arrays(path, arrays)


def _take_from_arrays(path: Path, data: dict) -> Take:
    from engine.core import skeletons
    where = str(path)
    fps = check_rate(data["fps"], f"{where}: fps")
    names = tuple(str(n) for n in data["joint_names"])
    unique_names(names, where)
    if "" in names:
        raise InputError(f"{where}: joint {names.index('')} has an empty name")
    parents = tuple(int(p) for p in data["parents"])
    for i, p in enumerate(parents):
        if not -1 <= p < i:
            raise InputError(f"{where}: parents[{i}] is {p}; a joint's parent must come before it (or be -1)")
    skeleton_name = str(data["skeleton_name"]) if "skeleton_name" in data else path.stem
    skeleton = _registered_or_new(skeleton_name, names, parents)
    joints = data["joints_m"].astype(np.float64)
    check_positions(joints, f"{where}: joints_m", names, allow_nan=True)
    # NaN is "missing": that joint is missing; a frame with none of the joints it needs has nobody in view
    joints = missing_as_whole_joints(joints)
    valid = data["valid"].astype(bool) & valid_frames(joints, skeleton)
    joints[~valid] = np.nan
    confidence = _stored_confidence(data, where)
    if confidence is None:
        confidence = confidence_if_partial(joints, skeleton, valid)
    else:
        confidence = np.where(valid[:, None] & np.isfinite(joints).all(axis=-1), confidence, 0.0)
    times = data["timestamps_s"].astype(np.float64)
    check_times(times, f"{where}: timestamps_s")
    kp_skeleton = None
    if "keypoint_names" in data and "keypoint_skeleton_name" in data:
        try:
            kp_skeleton = skeletons.get(str(data["keypoint_skeleton_name"]))
        except KeyError:
            kp_skeleton = None
    keypoints = scores = None
    if "keypoints_px" in data:
        keypoints = data["keypoints_px"].astype(np.float64)
        scores = data["keypoint_scores"].astype(np.float64)
        if first_implausible(keypoints, 1e7, allow_nan=True) is not None:
            raise InputError(f"{where}: keypoints_px holds infinite or implausibly large pixel positions")
        with np.errstate(invalid="ignore"):
            if ((scores < 0) | (scores > 1) | np.isinf(scores)).any():
                raise InputError(f"{where}: keypoint_scores must lie between 0 and 1")
        if kp_skeleton is not None and kp_skeleton.num_joints != keypoints.shape[1]:
            kp_skeleton = None
    image_size = None
    if "image_size" in data:
        image_size = tuple(int(v) for v in data["image_size"])
        if not all(0 < v <= MAX_IMAGE_SIDE_PX for v in image_size):
            raise InputError(f"{where}: image_size {image_size} is not a plausible image size")
    metadata = _metadata(data, where, len(names)) if "metadata_json" in data else {}
    hands = None
    if "hand_keypoints_px" in data:
        hands = data["hand_keypoints_px"].astype(np.float64)
        if first_implausible(hands, 1e7, allow_nan=True) is not None:
            raise InputError(f"{where}: hand_keypoints_px holds infinite or implausibly large pixel positions")
    face, face_names = None, ()
    if "face_curves" in data:
        face = data["face_curves"].astype(np.float64)
        face_names = tuple(str(n) for n in data["face_curve_names"])
        if first_implausible(face, 1e4, allow_nan=True) is not None:
            raise InputError(f"{where}: face_curves holds infinite or implausibly large values")
    return Take(joints_m=joints, skeleton=skeleton, fps=fps, timestamps_s=times, valid=valid,
                keypoints_px=keypoints, keypoint_scores=scores, keypoint_skeleton=kp_skeleton,
                image_size=image_size, metadata=metadata, hand_keypoints_px=hands, joint_confidence=confidence,
                face_curves=face, face_curve_names=face_names)


def _stored_confidence(data: dict, where: str) -> np.ndarray | None:
    if "joint_confidence" not in data:
        return None
    confidence = data["joint_confidence"].astype(np.float64)
    with np.errstate(invalid="ignore"):
        if not ((confidence >= 0) & (confidence <= 1)).all():
            raise InputError(f"{where}: joint_confidence must lie between 0 and 1")
    return confidence


MAX_METADATA_DEPTH = 32  # a take's metadata nests a few levels; far deeper is a damaged or hostile file


def _metadata(data: dict, where: str, joint_count: int) -> dict:
    """The take's metadata_json: a JSON object of bounded depth whose known entries
    (`rest_pose_m`, `joint_map`) hold what Monocap reads from them."""
    try:
        metadata = json.loads(str(data["metadata_json"]))
    except RecursionError:
        raise InputError(f"{where}: metadata_json nests deeper than {MAX_METADATA_DEPTH} levels") from None
    except ValueError as exc:
        raise InputError(f"{where}: metadata_json is not valid JSON ({exc})") from None
    if not isinstance(metadata, dict):
        raise InputError(f"{where}: metadata_json is not a JSON object")
    if _depth(metadata) > MAX_METADATA_DEPTH:
        raise InputError(f"{where}: metadata_json nests deeper than {MAX_METADATA_DEPTH} levels")
    if "rest_pose_m" in metadata:
        _check_rest_pose(metadata["rest_pose_m"], joint_count, f"{where}: metadata_json rest_pose_m")
    if "joint_map" in metadata:
        joint_map = metadata["joint_map"]
        if not isinstance(joint_map, dict) or not all(isinstance(v, str) for v in joint_map.values()):
            raise InputError(f"{where}: metadata_json joint_map is not a table of source joint -> Monocap joint")
    return metadata


def _depth(value) -> int:
    """How deeply lists and objects nest in a JSON value (0 for a plain value)."""
    deepest, level = 0, [(value, 0)]
    while level:
        item, depth = level.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth + 1)
            if deepest > MAX_METADATA_DEPTH:
                break
            level.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _check_rest_pose(rest, joint_count: int, where: str) -> None:
    """A rest pose in the metadata: one finite [x, y, z] within MAX_POSITION_M per joint."""
    rows_ok = isinstance(rest, list) and len(rest) == joint_count and all(
        isinstance(row, list) and len(row) == 3 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                        for v in row) for row in rest)
    if not rows_ok:
        raise InputError(f"{where}: not {joint_count} rows of three numbers (x, y, z in metres), one per joint")
    try:
        at = first_implausible(np.array(rest, dtype=float), MAX_POSITION_M)
    except OverflowError:
        at = next((k, c) for k, row in enumerate(rest) for c, v in enumerate(row) if abs(v) > MAX_POSITION_M)
    if at is not None:
        raise InputError(f"{where}: joint {at[0]}: {float(min(rest[at[0]][at[1]], 1e308)):.6g} is not a position in metres "
                         f"(finite, within {MAX_POSITION_M:g} m)")


def _registered_or_new(name: str, names: tuple[str, ...], parents: tuple[int, ...]) -> Skeleton:
    from engine.core import skeletons

    try:
        known = skeletons.get(name)
        if known.joint_names == names and known.parents == parents:
            return known
    except KeyError:
        pass
    from engine.core.skeletons import guess_mirror_pairs

    return Skeleton(name, names, parents, guess_mirror_pairs(names))


def write_json(path: str | Path, payload: dict) -> Path:
    return write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
