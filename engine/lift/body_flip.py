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

from engine.core.skeletons import KEYPOINT_SCORE_MIN, MEDIAPIPE_33, MP_L_HIP, MP_L_SHOULDER, MP_R_HIP, MP_R_SHOULDER

MIRROR = MEDIAPIPE_33.mirror_permutation()


@dataclass(frozen=True)
class FlipFixConfig:
    flip_price: float = 0.02  # cost of one frame in the flipped state, in the units of a frame's motion
    body_scale_m: float = 0.5  # 3D motion is measured in units of this length
    min_score: float = KEYPOINT_SCORE_MIN  # keypoints that size the person's box
    max_turn_deg: float = 25.0  # the fastest a body turns in one frame (750 degrees a second at 30 fps)
    turn_price: float = 1.0  # cost of each further 90 degrees of turn in one frame


def _hip_relative(world_m: np.ndarray) -> np.ndarray:
    return world_m - 0.5 * (world_m[:, MP_L_HIP] + world_m[:, MP_R_HIP])[:, None]


def flip_world(world_m: np.ndarray) -> np.ndarray:
    """(..., 33, 3) hip-relative 3D -> the other reading: labels exchanged, depth mirrored."""
    out = world_m[..., MIRROR, :].copy()
    out[..., 2] *= -1.0
    return out


def facing(world_rel: np.ndarray) -> np.ndarray:
    """(..., 33, 3) -> (..., 2) unit direction the torso faces, in the camera's horizontal (x, z) plane."""
    up = 0.5 * (world_rel[..., MP_L_SHOULDER, :] + world_rel[..., MP_R_SHOULDER, :])
    across = (world_rel[..., MP_R_SHOULDER, :] - world_rel[..., MP_L_SHOULDER, :]
              + world_rel[..., MP_R_HIP, :] - world_rel[..., MP_L_HIP, :])
    ahead = np.cross(across, up)[..., [0, 2]]
    return ahead / np.maximum(np.linalg.norm(ahead, axis=-1, keepdims=True), 1e-9)


def _box_sizes(keypoints_px: np.ndarray, scores: np.ndarray, min_score: float) -> np.ndarray:
    sizes = np.full(len(keypoints_px), 16.0)
    for t in range(len(keypoints_px)):
        pts = keypoints_px[t][scores[t] > min_score]
        if len(pts) > 1:
            sizes[t] = max(float(np.ptp(pts, axis=0).max()), 16.0)
    return sizes


@dataclass(frozen=True)
class _Readings:
    """Both readings of frames: pose3 (T, 2, 33, 3), pose2 (T, 2, 33, 2), weight (T, 2, 33),
    heading (T, 2, 2), size (T,)."""

    pose3: np.ndarray
    pose2: np.ndarray
    weight: np.ndarray
    heading: np.ndarray
    size: np.ndarray


def _readings(keypoints_px: np.ndarray, scores: np.ndarray, world_m: np.ndarray, config: FlipFixConfig) -> _Readings:
    rel = _hip_relative(np.asarray(world_m, np.float64))
    kp = np.asarray(keypoints_px, np.float64)
    sc = np.asarray(scores, np.float64)
    pose3 = np.stack([rel, flip_world(rel)], axis=1)
    return _Readings(pose3, np.stack([kp, kp[:, MIRROR]], axis=1), np.stack([sc, sc[:, MIRROR]], axis=1),
                     facing(pose3), _box_sizes(kp, sc, config.min_score))


def _step(r: _Readings, prev: int, cur: int, config: FlipFixConfig) -> np.ndarray:
    """(2, 2) cost of going from each reading of frame `prev` [a] to each reading of frame `cur` [b]."""
    d3 = np.linalg.norm(r.pose3[cur][None] - r.pose3[prev][:, None], axis=-1) / config.body_scale_m
    d2 = np.linalg.norm(r.pose2[cur][None] - r.pose2[prev][:, None], axis=-1) / r.size[cur]
    w = np.minimum(r.weight[cur][None], r.weight[prev][:, None])
    step = ((d3 + d2) * w).sum(-1) / np.maximum(w.sum(-1), 1e-6)
    turn = np.arccos(np.clip(r.heading[prev] @ r.heading[cur].T, -1.0, 1.0))
    return step + config.turn_price * np.maximum(turn - np.radians(config.max_turn_deg), 0.0) / (np.pi / 2)


def find_flips(keypoints_px: np.ndarray, scores: np.ndarray, world_m: np.ndarray,
               config: FlipFixConfig = FlipFixConfig()) -> np.ndarray:
    """(T, 33, 2) keypoints, (T, 33) scores, (T, 33, 3) the detector's 3D -> (T,) True where flipped.

    The best path over the whole sequence (Viterbi)."""
    t_count = len(keypoints_px)
    flips = np.zeros(t_count, bool)
    if t_count < 2:
        return flips
    r = _readings(keypoints_px, scores, world_m, config)
    unary = np.array([0.0, config.flip_price])
    cost = unary.copy()
    back = np.zeros((t_count, 2), np.int64)
    for t in range(1, t_count):
        total = cost[:, None] + _step(r, t - 1, t, config) + unary[None]
        back[t] = total.argmin(axis=0)
        cost = total.min(axis=0)
    state = int(cost.argmin())
    for t in range(t_count - 1, -1, -1):
        flips[t] = bool(state)
        state = back[t, state]
    return flips


class LiveFlipFixer:
    """The causal fixer, one frame at a time: each frame's reading is the best given the frames so
    far (the same chain as find_flips, its costs fading by `memory` per frame so that a wrong call
    is undone after a while)."""

    def __init__(self, config: FlipFixConfig = FlipFixConfig(), memory: float = 0.99):
        self.config = config
        self.memory = memory
        self._prev: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._cost = np.zeros(2)

    def push(self, keypoints_px: np.ndarray, scores: np.ndarray, world_m: np.ndarray) -> bool:
        """One frame's (33, 2) keypoints, (33,) scores, (33, 3) 3D -> True when it is flipped."""
        unary = np.array([0.0, self.config.flip_price])
        if self._prev is None:
            self._cost = unary.copy()
        else:
            r = _readings(np.stack([self._prev[0], keypoints_px]), np.stack([self._prev[1], scores]),
                          np.stack([self._prev[2], world_m]), self.config)
            total = self.memory * self._cost[:, None] + _step(r, 0, 1, self.config) + unary[None]
            self._cost = total.min(axis=0)
        self._prev = (np.asarray(keypoints_px, np.float64), np.asarray(scores, np.float64),
                      np.asarray(world_m, np.float64))
        return bool(self._cost.argmin() == 1)


def unflip(keypoints_px: np.ndarray, scores: np.ndarray, world_m: np.ndarray,
           flips: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Copies of keypoints, scores and hip-relative 3D with the flipped frames read the other way."""
    kp, sc = np.array(keypoints_px, np.float64), np.array(scores, np.float64)
    world = _hip_relative(np.asarray(world_m, np.float64))
    kp[flips] = kp[flips][:, MIRROR]
    sc[flips] = sc[flips][:, MIRROR]
    world[flips] = flip_world(world[flips])
    return kp, sc, world
