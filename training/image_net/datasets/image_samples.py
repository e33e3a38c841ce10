"""The one record every image-data-set reader produces, and the mapping between skeletons.

A reader (h36m.py, mpi_inf_3dhp.py, mpii.py, lsp.py, coco.py) returns a list of `PoseSample`:
one person in one image, with 2D keypoints in pixels, and, for the 3D data sets, the 3D joints in
the camera frame (metres; x right, y down, z forward) and the intrinsics. Joints are in the order
of a registered skeleton (`skeleton`); `JointMap` converts them to the network's skeleton.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from engine.core import skeletons
from engine.core.errors import InputError


@dataclass(eq=False)
class PoseSample:
    """image_path: the image file (or `image`, an in-memory (H, W, 3) uint8 RGB array).

    joints2d_px: (K, 2) pixels; visible2d: (K,) bool, False where the joint has no 2D label.
    joints3d_m: (K, 3) camera-frame metres or None; K_cam: (3, 3) intrinsics or None.
    box_xyxy: the person's box, or None to use the labelled 2D joints.
    subject: for 3D data sets (bone lengths per subject); group: a label for per-group metrics
    (MPI-INF-3DHP's scene type, H36M's action).
    """

    skeleton: str
    joints2d_px: np.ndarray
    visible2d: np.ndarray
    image_path: str | None = None
    image: np.ndarray | None = None
    joints3d_m: np.ndarray | None = None
    K_cam: np.ndarray | None = None
    box_xyxy: np.ndarray | None = None
    subject: str | None = None
    group: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def has3d(self) -> bool:
        return self.joints3d_m is not None

    def load_image(self) -> np.ndarray:
        """(H, W, 3) uint8 RGB."""
        if self.image is not None:
            return self.image
        img = cv2.imread(str(self.image_path), cv2.IMREAD_COLOR)
        if img is None:
            raise InputError(f"{self.image_path}: image missing or unreadable")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def person_box(self) -> np.ndarray:
        if self.box_xyxy is not None:
            return np.asarray(self.box_xyxy, dtype=np.float64)
        pts = self.joints2d_px[self.visible2d]
        if len(pts) == 0:
            pts = self.joints2d_px
        return np.concatenate([pts.min(axis=0), pts.max(axis=0)])


def _mid(a: str, b: str) -> tuple[str, str]:
    return (a, b)


# Per target skeleton: target joint -> candidates in order (a joint name, or a pair whose midpoint
# stands in). A joint with no candidate in a source skeleton is unlabelled for that data set.
TARGET_ALIASES: dict[str, dict[str, list]] = {
    "h36m_17": {
        "pelvis": ["pelvis", _mid("left_hip", "right_hip")],
        "thorax": ["thorax", "neck", _mid("left_shoulder", "right_shoulder")],
        "neck_nose": ["neck_nose", "upper_neck", "head", "nose"],
        "head_top": ["head_top"],
        "spine": ["spine"],
    },
    "monocap_body": {
        "pelvis": ["pelvis", _mid("left_hip", "right_hip")],
        "spine": ["spine"],
        "chest": ["chest", "spine3", "thorax"],
        "neck": ["neck", "thorax", _mid("left_shoulder", "right_shoulder")],
        "head": ["head", "neck_nose", "upper_neck"],
        "nose": ["nose"],
        "left_toe": ["left_toe", "left_foot"],
        "right_toe": ["right_toe", "right_foot"],
        "left_hand": ["left_hand"],
        "right_hand": ["right_hand"],
    },
}


class JointMap:
    """Maps joints of skeleton `source` onto skeleton `target` by name, aliases and midpoints."""

    def __init__(self, source: str, target: str):
        self.source = skeletons.get(source)
        self.target = skeletons.get(target)
        aliases = TARGET_ALIASES.get(target, {})
        src_names = self.source.joint_names
        self.rules: list[tuple[int, int] | None] = []
        for name in self.target.joint_names:
            rule = None
            for cand in aliases.get(name, [name]):
                if isinstance(cand, tuple):
                    if cand[0] in src_names and cand[1] in src_names:
                        rule = (src_names.index(cand[0]), src_names.index(cand[1]))
                        break
                elif cand in src_names:
                    i = src_names.index(cand)
                    rule = (i, i)
                    break
            self.rules.append(rule)
        self.labelled = np.array([r is not None for r in self.rules])

    def __call__(self, joints: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(K, C) source joints (+ (K,) validity) -> (J, C) target joints, (J,) validity."""
        if valid is None:
            valid = np.ones(len(joints), dtype=bool)
        out = np.zeros((self.target.num_joints, joints.shape[-1]))
        ok = np.zeros(self.target.num_joints, dtype=bool)
        for j, rule in enumerate(self.rules):
            if rule is None:
                continue
            a, b = rule
            out[j] = (joints[a] + joints[b]) / 2
            ok[j] = bool(valid[a] and valid[b])
        return out, ok


def subject_bone_lengths(samples: list[PoseSample], target: str) -> np.ndarray:
    """(S, B) mean bone lengths (metres) of the target skeleton, one row per 3D subject."""
    skel = skeletons.get(target)
    by_subject: dict[str, list[np.ndarray]] = {}
    maps: dict[str, JointMap] = {}
    for s in samples:
        if not s.has3d:
            continue
        m = maps.setdefault(s.skeleton, JointMap(s.skeleton, target))
        if not m.labelled.all():
            continue
        joints, _ = m(s.joints3d_m)
        by_subject.setdefault(s.subject or "?", []).append(skel.bone_lengths(joints))
    if not by_subject:
        return np.zeros((0, len(skel.bones)))
    return np.stack([np.mean(v, axis=0) for _, v in sorted(by_subject.items())])


def read_json(path: Path, dataset: str):
    """An annotation file of `dataset` -> its parsed JSON; a clear error when missing or broken."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: missing (see the {dataset} layout in docs/IMAGE_NETWORK.md)") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not readable JSON ({exc})") from None


def require_dir(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: {what} folder not found")
    return path
