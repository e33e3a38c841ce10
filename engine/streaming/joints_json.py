"""Poses as plain JSON over UDP, one datagram per frame, for people writing their own receivers:

  {"frame": 12, "time_s": 0.4, "skeleton": "monocap_body",
   "joints": {"pelvis": [x, y, z], ...}}      metres, Monocap's world (right-handed, Y up)

"joints" is null when nobody is in view. Poses with fingers (skeleton "monocap_hands") carry the
40 finger points too; those of a hand not seen in the frame are null. docs/STREAMING.md describes
the fields.
"""

from __future__ import annotations

import json

import numpy as np

from engine.core.skeletons import frame_joints
from engine.motion.face_expressions import FACE_CURVES


class JsonEncoder:
    name = "JSON"

    def encode(self, pose_frame) -> bytes:
        joints = pose_frame.joints_m
        named = None
        if joints is not None and np.isfinite(joints[frame_joints(pose_frame.skeleton)]).all():
            values = np.round(np.asarray(joints, dtype=np.float64), 5)
            seen = np.isfinite(values).all(axis=1)
            named = {name: (v.tolist() if ok else None)
                     for name, v, ok in zip(pose_frame.skeleton.joint_names, values, seen)}
        message = {"frame": int(pose_frame.index), "time_s": round(float(pose_frame.timestamp_s), 6),
                   "skeleton": pose_frame.skeleton.name, "joints": named}
        face = getattr(pose_frame, "face", None)
        if face is not None:  # the face is tracked: NaN values when it is not seen in this frame
            message["face"] = None if not np.isfinite(face).all() else {
                name: round(float(v), 4) for name, v in zip(FACE_CURVES, face)}
        return json.dumps(message, separators=(",", ":")).encode("utf-8")
