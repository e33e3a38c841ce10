"""Detector-like keypoints and Monocap's body skeleton from any rig's anchors.

`detector_points` places the 33 BlazePose keypoints on a rig: body points are anchors (joint
centres), face points are set out from the head along the face's own axes (from the eyes where
the rig has them, else from the shoulders), heels behind and below the ankles. These are
approximations of where the detector's keypoints sit; the 2D-only training on real video
teaches the network the rest.
"""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import MEDIAPIPE_33, MONOCAP_BODY, Skeleton
from training.common.rigs import Rig, anchor_matrix

_BODY = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist", "pinky", "index", "thumb")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


class RigSynth:
    """Maps (..., J, 3) rig joints to detector keypoints (..., 33, 3) and monocap_body (..., 22, 3)."""

    def __init__(self, rig: Rig, skeleton: Skeleton):
        self.rig = rig
        self.skeleton = skeleton
        self.anchor_names = tuple(sorted(rig.anchors))
        self.matrix = anchor_matrix(rig, skeleton, self.anchor_names).astype(np.float32)
        self._a = {n: i for i, n in enumerate(self.anchor_names)}

    def anchors(self, joints: np.ndarray) -> dict[str, np.ndarray]:
        a = np.einsum("aj,...jd->...ad", self.matrix, joints)
        return {n: a[..., i, :] for n, i in self._a.items()}

    def both(self, joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = self.anchors(joints)
        up = _unit(a["head"] - a["neck"])
        if self.rig.has_eyes:
            left = a["left_eye"] - a["right_eye"]
            eye_mid = 0.5 * (a["left_eye"] + a["right_eye"])
            fwd = eye_mid - a["head"]
        else:
            left = a["left_shoulder"] - a["right_shoulder"]
            up = _unit(a["head_top"] - a["head"])
            fwd = np.cross(left, up)
        left = _unit(left - (left * up).sum(-1, keepdims=True) * up)
        fwd = _unit(fwd - (fwd * up).sum(-1, keepdims=True) * up - (fwd * left).sum(-1, keepdims=True) * left)
        if self.rig.has_eyes:
            eye_level = eye_mid - 0.08 * fwd
        else:
            eye_level = a["head"] + 0.45 * (a["head_top"] - a["head"])
        e = eye_level

        def face(f: float, u: float, lft: float) -> np.ndarray:
            return e + f * fwd + u * up + lft * left

        pts: dict[str, np.ndarray] = {
            "nose": face(0.10, -0.03, 0.0),
            "left_eye_inner": face(0.085, 0.0, 0.015), "left_eye": face(0.085, 0.0, 0.032),
            "left_eye_outer": face(0.08, 0.0, 0.048),
            "right_eye_inner": face(0.085, 0.0, -0.015), "right_eye": face(0.085, 0.0, -0.032),
            "right_eye_outer": face(0.08, 0.0, -0.048),
            "left_ear": face(-0.01, -0.01, 0.075), "right_ear": face(-0.01, -0.01, -0.075),
            "mouth_left": face(0.09, -0.065, 0.025), "mouth_right": face(0.09, -0.065, -0.025),
        }
        for side in ("left", "right"):
            for b in _BODY:
                pts[f"{side}_{b}"] = a[f"{side}_{b}"]
            ankle, toe, knee = a[f"{side}_ankle"], a[f"{side}_toe"], a[f"{side}_knee"]
            pts[f"{side}_heel"] = ankle - 0.22 * (toe - ankle) + 0.045 * _unit(ankle - knee)
            pts[f"{side}_foot_index"] = toe
        mp = np.stack([pts[n] for n in MEDIAPIPE_33.joint_names], axis=-2)
        body = {
            "pelvis": a["pelvis"], "spine": a["spine"], "chest": a["chest"], "neck": a["neck"],
            "head": e, "nose": pts["nose"],
        }
        for side in ("left", "right"):
            for b in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"):
                body[f"{side}_{b}"] = a[f"{side}_{b}"]
            body[f"{side}_toe"] = a[f"{side}_toe"]
            body[f"{side}_hand"] = 0.5 * (a[f"{side}_index"] + a[f"{side}_pinky"])
        mono = np.stack([body[n] for n in MONOCAP_BODY.joint_names], axis=-2)
        return mp, mono

    def pelvis(self, joints: np.ndarray) -> np.ndarray:
        return np.einsum("j,...jd->...d", self.matrix[self._a["pelvis"]], joints)
