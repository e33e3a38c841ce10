"""Poses as plain JSON over UDP, one datagram per frame, for people writing their own receivers:

  {"frame": 12, "time_s": 0.4, "skeleton": "monocap_body",
   "joints": {"pelvis": [x, y, z], ...}}      metres, Monocap's world (right-handed, Y up)

"joints" is null when nobody is in view. docs/STREAMING.md describes the fields.
"""

from __future__ import annotations

import json

import numpy as np


class JsonEncoder:
    name = "JSON"

    def encode(self, pose_frame) -> bytes:
        joints = pose_frame.joints_m
        named = None
        if joints is not None and np.isfinite(joints).all():
            values = np.round(np.asarray(joints, dtype=np.float64), 5).tolist()
            named = dict(zip(pose_frame.skeleton.joint_names, values))
        message = {"frame": int(pose_frame.index), "time_s": round(float(pose_frame.timestamp_s), 6),
                   "skeleton": pose_frame.skeleton.name, "joints": named}
        return json.dumps(message, separators=(",", ":")).encode("utf-8")
