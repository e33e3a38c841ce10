"""A take: a recorded sequence of 3D poses with its metadata, and its .npz / .csv / .json files.

World frame (every take, every exporter): right-handed, metres, Y up, X to the camera's right,
Z towards the camera; the ground plane is y = 0. See engine/core/coords.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from engine.core.atomic import atomic_path, write_text_atomic
from engine.core.errors import InputError
from engine.core.skeletons import Skeleton


@dataclass(frozen=True, eq=False)
class Take:
    """joints_m: (T, J, 3) world positions in metres, NaN where `valid` is False.

    keypoints_px: (T, K, 2) the detector's 2D keypoints in pixels, keypoint_scores: (T, K) in
    [0, 1] (0 where nothing was detected); both None for takes that never had a detector.
    hand_keypoints_px: (T, 2, 21, 2) both hands' 2D keypoints (left first; engine/hands.py), NaN
    where a hand was not found; None for takes captured without hands.
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

    def __post_init__(self) -> None:
        t, j = self.joints_m.shape[:2]
        if self.joints_m.shape != (t, j, 3):
            raise ValueError(f"joints_m must be (T, J, 3), got {self.joints_m.shape}")
        if j != self.skeleton.num_joints:
            raise ValueError(f"joints_m has {j} joints, skeleton {self.skeleton.name} has {self.skeleton.num_joints}")
        if self.timestamps_s.shape != (t,) or self.valid.shape != (t,):
            raise ValueError("timestamps_s and valid must be (T,)")

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
        )


def save_npz(take: Take, path: str | Path) -> Path:
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
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    return Path(path)


def load_npz(path: str | Path) -> Take:
    from engine.core import skeletons

    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
        names = tuple(str(n) for n in data["joint_names"])
        parents = tuple(int(p) for p in data["parents"])
        skeleton_name = str(data["skeleton_name"]) if "skeleton_name" in data else path.stem
        skeleton = _registered_or_new(skeleton_name, names, parents)
        kp_skeleton = None
        if "keypoint_names" in data:
            kp_name = str(data["keypoint_skeleton_name"])
            try:
                kp_skeleton = skeletons.get(kp_name)
            except KeyError:
                kp_skeleton = None
        return Take(
            joints_m=data["joints_m"].astype(np.float64),
            skeleton=skeleton,
            fps=float(data["fps"]),
            timestamps_s=data["timestamps_s"].astype(np.float64),
            valid=data["valid"].astype(bool),
            keypoints_px=data["keypoints_px"].astype(np.float64) if "keypoints_px" in data else None,
            keypoint_scores=data["keypoint_scores"].astype(np.float64) if "keypoint_scores" in data else None,
            keypoint_skeleton=kp_skeleton,
            image_size=tuple(int(v) for v in data["image_size"]) if "image_size" in data else None,
            metadata=json.loads(str(data["metadata_json"])) if "metadata_json" in data else {},
            hand_keypoints_px=data["hand_keypoints_px"].astype(np.float64) if "hand_keypoints_px" in data else None,
        )
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"{path}: not a Monocap take ({exc})") from None


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


def csv_header(skeleton: Skeleton) -> list[str]:
    cols = ["frame", "time_s"]
    for name in skeleton.joint_names:
        cols += [f"{name}_x_m", f"{name}_y_m", f"{name}_z_m"]
    return cols


def write_csv(take: Take, path: str | Path) -> Path:
    """One row per frame: frame, time_s, then x, y, z in metres per joint (empty where invalid)."""
    lines = [",".join(csv_header(take.skeleton))]
    flat = take.joints_m.reshape(take.num_frames, -1)
    for i in range(take.num_frames):
        values = ",".join("" if not np.isfinite(v) else f"{v:.5f}" for v in flat[i])
        lines.append(f"{i},{take.timestamps_s[i]:.6f},{values}")
    return write_text_atomic(path, "\n".join(lines) + "\n")


def read_csv(path: str | Path, skeleton: Skeleton | None = None) -> Take:
    """Reads a CSV written by write_csv back into a take (joint names from the header)."""
    from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS, frame_joints

    path = Path(path)
    try:
        rows = path.read_text(encoding="utf-8").strip().splitlines()
        header = rows[0].split(",")
        if header[:2] != ["frame", "time_s"] or (len(header) - 2) % 3:
            raise ValueError("header must be frame,time_s,<joint>_x_m,<joint>_y_m,<joint>_z_m,...")
        names = tuple(h[:-4] for h in header[2::3])
        data = np.array([[float(v) if v else np.nan for v in r.split(",")] for r in rows[1:]], dtype=float)
    except (OSError, ValueError, IndexError) as exc:
        raise InputError(f"{path}: not a Monocap CSV ({exc})") from None
    if skeleton is None:
        skeleton = next((s for s in (MONOCAP_BODY, MONOCAP_HANDS) if s.joint_names == names), None)
    if skeleton is None or skeleton.joint_names != names:
        raise InputError(f"{path}: joints {names[:3]}... do not match a known skeleton")
    joints = data[:, 2:].reshape(len(data), len(names), 3)
    times = data[:, 1]
    span = float(times[-1] - times[0]) if len(times) > 1 else 0.0
    fps = (len(times) - 1) / span if span > 0 else 30.0
    valid = np.isfinite(joints[:, frame_joints(skeleton)]).all(axis=(1, 2))
    return Take(joints, skeleton, fps, times, valid)


def write_json(path: str | Path, payload: dict) -> Path:
    return write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
