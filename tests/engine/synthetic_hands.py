"""Hands at known finger angles, as 3D keypoints, for the finger solver and export tests."""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import FINGERS, MONOCAP_BODY, MONOCAP_HANDS
from engine.core.take import Take

# Finger bases in a palm frame (x along the hand, y the back of the hand, z towards the thumb), metres.
_BASES = {"thumb": (0.02, -0.01, 0.025), "index": (0.09, 0.0, 0.025), "middle": (0.092, 0.0, 0.005),
          "ring": (0.086, 0.0, -0.015), "pinky": (0.078, 0.0, -0.033)}
_PHALANGES = {"thumb": (0.035, 0.03, 0.027), "index": (0.042, 0.025, 0.021), "middle": (0.046, 0.028, 0.023),
              "ring": (0.043, 0.026, 0.022), "pinky": (0.033, 0.019, 0.019)}


def hand_points(palm: np.ndarray, curl_deg: float) -> np.ndarray:
    """palm: (3, 3) columns x (along the hand), y (back of the hand), z (towards the thumb) in the
    target axes -> (20, 3) finger points relative to the wrist, in MONOCAP_HANDS finger order, every
    finger joint but the thumb's flexed by curl_deg towards the palm."""
    x, y, z = palm[:, 0], palm[:, 1], palm[:, 2]
    out = []
    c = np.radians(curl_deg)
    for finger in FINGERS:
        p = palm @ np.array(_BASES[finger])
        out.append(p)
        along = x if finger != "thumb" else (x + z) / np.sqrt(2.0)
        bend = -y
        angle = 0.0
        for length in _PHALANGES[finger]:
            angle += c if finger != "thumb" else 0.3 * c
            p = p + length * (np.cos(angle) * along + np.sin(angle) * bend)
            out.append(p)
    return np.array(out)


def palm_frame(body: np.ndarray, side: str) -> np.ndarray:
    """(22, 3) body joints -> the palm frame of that hand, the back of the hand facing up, thumb
    forwards (a T-pose's hands)."""
    along = body[MONOCAP_BODY.index(f"{side}_wrist")] - body[MONOCAP_BODY.index(f"{side}_elbow")]
    along /= np.linalg.norm(along)
    up = np.array([0.0, 1.0, 0.0])
    up = up - along * (up @ along)
    up /= np.linalg.norm(up)
    thumb = np.cross(along, up) if side == "left" else np.cross(up, along)
    return np.stack([along, up, thumb], axis=1)


def hands_take(body: Take, curl_deg: np.ndarray) -> Take:
    """A MONOCAP_BODY take with both hands' fingers added, curled by curl_deg (T,) at each frame."""
    t_count = body.num_frames
    joints = np.full((t_count, MONOCAP_HANDS.num_joints, 3), np.nan)
    joints[:, : MONOCAP_BODY.num_joints] = body.joints_m
    for side in ("left", "right"):
        wrist = MONOCAP_HANDS.index(f"{side}_wrist")
        idx = [MONOCAP_HANDS.index(n) for n in MONOCAP_HANDS.joint_names[22:] if n.startswith(side)]
        for t in range(t_count):
            palm = palm_frame(body.joints_m[t], side)
            joints[t, idx] = joints[t, wrist] + hand_points(palm, curl_deg[t])
            knuckles = joints[t, [MONOCAP_HANDS.index(f"{side}_index1"), MONOCAP_HANDS.index(f"{side}_pinky1")]]
            joints[t, MONOCAP_HANDS.index(f"{side}_hand")] = knuckles.mean(axis=0)
    return Take(joints, MONOCAP_HANDS, body.fps, body.timestamps_s, body.valid)
