"""The head and neck turned as the face is: the face's head rotation (relative to the person's
neutral face, engine/motion/face_expressions.py) placed onto the body's head and nose points, so
every rig solved from the joints (BVH, FBX, glTF, the VMC stream's Neck and Head bones) turns its
head with the face instead of the body model's nose and ears.

The neck bone (neck -> head) points along the rotated up direction and the nose sits along the
rotated forward direction, each at the body's own bone length for that frame: the neck takes the
head's tilt, the head its turn about the neck (the solver's head aims at the nose, twisted by the
neck -> head line).
"""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import Skeleton
from engine.motion.face_expressions import head_rotation_world

UP = np.array([0.0, 1.0, 0.0])
# The nose seen from the centre of the head (between the ears) when the face looks straight ahead:
# forwards (+Z, towards the camera) and a little down.
NOSE_DIRECTION = np.array([0.0, -0.25, 1.0]) / np.hypot(0.25, 1.0)


class FaceHead:
    def __init__(self, skeleton: Skeleton):
        names = skeleton.joint_names
        self._idx = tuple(names.index(n) for n in ("neck", "head", "nose")) if {"neck", "head", "nose"} <= set(names) else None

    def apply(self, joints_m: np.ndarray, values: np.ndarray) -> np.ndarray:
        """(J, 3) world joints with the head and nose placed by the face's `values`; unchanged
        when the skeleton has no neck, head and nose or the values are not finite."""
        if self._idx is None or not np.isfinite(values).all():
            return joints_m
        neck, head, nose = self._idx
        rotation = head_rotation_world(values)
        out = np.array(joints_m, dtype=np.float64, copy=True)
        neck_len = np.linalg.norm(out[head] - out[neck])
        nose_len = np.linalg.norm(out[nose] - out[head])
        if not (np.isfinite(neck_len) and np.isfinite(nose_len)):
            return joints_m
        out[head] = out[neck] + neck_len * (rotation @ UP)
        out[nose] = out[head] + nose_len * (rotation @ NOSE_DIRECTION)
        return out.astype(joints_m.dtype, copy=False)
