"""Finds and undoes the detector's front/back flips of the whole body.

One camera cannot tell a body seen from behind from the same body seen from the front with left
and right exchanged and depth mirrored: both give the same 2D outline. The detector sometimes
jumps from one reading to the other for a few frames (mostly when the person is seen from the
back or the side). It names left and right from the person's own body in both readings, so
nothing here assumes the person faces the camera: each frame gets two states, as detected or
flipped (left/right labels exchanged in 2D and 3D, the 3D mirrored in depth about the hips), and
the path through them is the one along which the body moves least from frame to frame (3D joints
relative to the hips in body heights, 2D keypoints in person-box sizes, weighted by the scores),
plus a small price per flipped frame (the detector is usually right). A real turn is continuous;
a flip moves every joint at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.skeletons import MEDIAPIPE_33

_LEFT_HIP = MEDIAPIPE_33.index("left_hip")
_RIGHT_HIP = MEDIAPIPE_33.index("right_hip")
_LEFT_SHOULDER = MEDIAPIPE_33.index("left_shoulder")
_RIGHT_SHOULDER = MEDIAPIPE_33.index("right_shoulder")
MIRROR = MEDIAPIPE_33.mirror_permutation()


@dataclass(frozen=True)
class FlipFixConfig:
    flip_price: float = 0.02  # cost of one frame in the flipped state, in the units of a frame's motion
    body_scale_m: float = 0.5  # 3D motion is measured in units of this length
    min_score: float = 0.3  # keypoints that size the person's box
    max_turn_deg: float = 25.0  # the fastest a body turns in one frame (750 degrees a second at 30 fps)
    turn_price: float = 1.0  # cost of each further 90 degrees of turn in one frame


def _hip_relative(world_m: np.ndarray) -> np.ndarray:
    return world_m - 0.5 * (world_m[:, _LEFT_HIP] + world_m[:, _RIGHT_HIP])[:, None]


def flip_world(world_m: np.ndarray) -> np.ndarray:
    """(..., 33, 3) hip-relative 3D -> the other reading: labels exchanged, depth mirrored."""
    out = world_m[..., MIRROR, :].copy()
    out[..., 2] *= -1.0
    return out


def facing(world_rel: np.ndarray) -> np.ndarray:
    """(..., 33, 3) -> (..., 2) unit direction the torso faces, in the camera's horizontal (x, z) plane."""
    up = 0.5 * (world_rel[..., _LEFT_SHOULDER, :] + world_rel[..., _RIGHT_SHOULDER, :])
    across = (world_rel[..., _RIGHT_SHOULDER, :] - world_rel[..., _LEFT_SHOULDER, :]
              + world_rel[..., _RIGHT_HIP, :] - world_rel[..., _LEFT_HIP, :])
    ahead = np.cross(across, up)[..., [0, 2]]
    return ahead / np.maximum(np.linalg.norm(ahead, axis=-1, keepdims=True), 1e-9)


def _box_sizes(keypoints_px: np.ndarray, scores: np.ndarray, min_score: float) -> np.ndarray:
    sizes = np.full(len(keypoints_px), 16.0)
    for t in range(len(keypoints_px)):
        pts = keypoints_px[t][scores[t] > min_score]
        if len(pts) > 1:
            sizes[t] = max(float(np.ptp(pts, axis=0).max()), 16.0)
    return sizes


def find_flips(keypoints_px: np.ndarray, scores: np.ndarray, world_m: np.ndarray,
               config: FlipFixConfig = FlipFixConfig()) -> np.ndarray:
    """(T, 33, 2) keypoints, (T, 33) scores, (T, 33, 3) the detector's 3D -> (T,) True where flipped.

    The best path over the whole window (Viterbi); with a live window, its last frame's state."""
    t_count = len(keypoints_px)
    flips = np.zeros(t_count, bool)
    if t_count < 2:
        return flips
    rel = _hip_relative(np.asarray(world_m, np.float64))
    kp = np.asarray(keypoints_px, np.float64)
    sc = np.asarray(scores, np.float64)
    pose3 = np.stack([rel, flip_world(rel)], axis=1)  # (T, 2, 33, 3)
    pose2 = np.stack([kp, kp[:, MIRROR]], axis=1)
    weight = np.stack([sc, sc[:, MIRROR]], axis=1)
    size = _box_sizes(kp, sc, config.min_score)
    heading = facing(pose3)  # (T, 2, 2)
    max_turn = np.radians(config.max_turn_deg)
    unary = np.array([0.0, config.flip_price])
    cost = unary.copy()
    back = np.zeros((t_count, 2), np.int64)
    for t in range(1, t_count):
        # [a, b]: from state a at t-1 to state b at t
        d3 = np.linalg.norm(pose3[t][None] - pose3[t - 1][:, None], axis=-1) / config.body_scale_m
        d2 = np.linalg.norm(pose2[t][None] - pose2[t - 1][:, None], axis=-1) / size[t]
        w = np.minimum(weight[t][None], weight[t - 1][:, None])
        step = ((d3 + d2) * w).sum(-1) / np.maximum(w.sum(-1), 1e-6)
        turn = np.arccos(np.clip(heading[t - 1] @ heading[t].T, -1.0, 1.0))  # [a, b]
        step = step + config.turn_price * np.maximum(turn - max_turn, 0.0) / (np.pi / 2)
        total = cost[:, None] + step + unary[None]
        back[t] = total.argmin(axis=0)
        cost = total.min(axis=0)
    state = int(cost.argmin())
    for t in range(t_count - 1, -1, -1):
        flips[t] = bool(state)
        state = back[t, state]
    return flips


def unflip(keypoints_px: np.ndarray, scores: np.ndarray, world_m: np.ndarray,
           flips: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Copies of keypoints, scores and hip-relative 3D with the flipped frames read the other way."""
    kp, sc = np.array(keypoints_px, np.float64), np.array(scores, np.float64)
    world = _hip_relative(np.asarray(world_m, np.float64))
    kp[flips] = kp[flips][:, MIRROR]
    sc[flips] = sc[flips][:, MIRROR]
    world[flips] = flip_world(world[flips])
    return kp, sc, world
