"""Fingers on the body: the hand model's 3D attached to the body's wrists, smoothed and locked.

The hand tracker (engine/capture/hands.py) gives each hand's 21 keypoints in metres with the wrist at the
origin, in camera axes. Here they become world offsets from the body's wrist (the same rotation
that takes the body from the camera to the world), are smoothed with a cutoff suited to fingers
(fast, small motions) and get their bone lengths locked per subject (left and right shared), and
are added to the body's world wrists: a MONOCAP_HANDS pose whose fingers move with the arm.
"""

from __future__ import annotations

import numpy as np

from engine.capture.hands import SIDES
from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS, finger_joint_names
from engine.motion.gaps import bridge_gaps
from engine.motion.smoothing import OneEuroFilter, SmoothingConfig, zero_phase_lowpass

# Fingers move faster than the body and their keypoints jitter less in metres: they get this
# multiple of the body's cutoff.
FINGER_CUTOFF_FACTOR = 2.0
LIVE_FINGER_BETA = 40.0

FINGER_INDEX = {side: np.array([MONOCAP_HANDS.index(n) for n in finger_joint_names(side)]) for side in SIDES}
WRIST_INDEX = {side: MONOCAP_HANDS.index(f"{side}_wrist") for side in SIDES}
HAND_INDEX = {side: MONOCAP_HANDS.index(f"{side}_hand") for side in SIDES}
# Within a hand's 20 finger points: the finger bones as (parent, child), -1 being the wrist.
_FINGER_BONES = tuple((-1 if k % 4 == 0 else k - 1, k) for k in range(20))
_KNUCKLES = (4, 16)  # index and pinky bases, whose midpoint is the body's `hand` point


def finger_offsets_world(world_m: np.ndarray, camera_to_world: np.ndarray) -> np.ndarray:
    """world_m: (..., 21, 3) the hand model's 3D (wrist at the origin, camera axes) -> (..., 20, 3)
    finger points relative to the wrist in world axes."""
    return world_m[..., 1:, :] @ camera_to_world.T


def finger_bone_lengths(offsets: np.ndarray) -> np.ndarray:
    """offsets: (T, 2, 20, 3) with NaN where a hand is missing -> (20,) per-bone median, left and
    right shared (NaN for a bone never seen)."""
    lengths = np.full(20, np.nan)
    for parent, child in _FINGER_BONES:
        d = offsets[:, :, child] - (0.0 if parent < 0 else offsets[:, :, parent])
        n = np.linalg.norm(d, axis=-1).ravel()
        n = n[np.isfinite(n)]
        if len(n):
            lengths[child] = float(np.median(n))
    return lengths


def impose_finger_lengths(offsets: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(..., 20, 3) offsets from the wrist -> the same directions with every bone at its length."""
    out = offsets.copy()
    for parent, child in _FINGER_BONES:
        base = 0.0 if parent < 0 else offsets[..., parent, :]
        d = offsets[..., child, :] - base
        norm = np.linalg.norm(d, axis=-1, keepdims=True)
        direction = np.divide(d, norm, out=np.where(np.isfinite(d), 0.0, np.nan), where=norm > 1e-9)
        out[..., child, :] = (0.0 if parent < 0 else out[..., parent, :]) + direction * lengths[child]
    return out


def attach(body_m: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """body_m: (..., 22, 3) MONOCAP_BODY world joints; offsets: (..., 2, 20, 3) world finger offsets
    from each wrist (NaN where a hand is missing) -> (..., 62, 3) MONOCAP_HANDS joints. Where a hand
    is there, the body's `hand` point moves to the midpoint of its index and pinky bases."""
    out = np.full(body_m.shape[:-2] + (MONOCAP_HANDS.num_joints, 3), np.nan)
    out[..., : MONOCAP_BODY.num_joints, :] = body_m
    for k, side in enumerate(SIDES):
        wrist = body_m[..., WRIST_INDEX[side], :]
        out[..., FINGER_INDEX[side], :] = wrist[..., None, :] + offsets[..., k, :, :]
        knuckles = out[..., FINGER_INDEX[side][list(_KNUCKLES)], :].mean(axis=-2)
        have = np.isfinite(knuckles).all(axis=-1, keepdims=True)
        out[..., HAND_INDEX[side], :] = np.where(have, knuckles, body_m[..., HAND_INDEX[side], :])
    return out


def offline_fingers(body_m: np.ndarray, hands_world_m: np.ndarray, found: np.ndarray, camera_to_world: np.ndarray,
                    fps: float, smoothing: SmoothingConfig) -> tuple[np.ndarray, dict]:
    """A whole clip: body_m (T, 22, 3) world joints, hands_world_m (T, 2, 21, 3) the hand model's 3D,
    found (T, 2) -> ((T, 62, 3) MONOCAP_HANDS joints, info). Short gaps in a hand are bridged;
    fingers are NaN where a hand stays missing longer than smoothing.max_gap_s."""
    offsets = finger_offsets_world(hands_world_m, camera_to_world)
    offsets = np.where(found[:, :, None, None], offsets, np.nan)
    cutoff = smoothing.cutoff_hz() * FINGER_CUTOFF_FACTOR
    max_gap = max(int(round(smoothing.max_gap_s * fps)), 0)
    for k in range(2):
        side = offsets[:, k]
        have = found[:, k] & np.isfinite(side).all(axis=(1, 2))
        if not have.any():
            continue
        side, missing = bridge_gaps(np.nan_to_num(side), ~have, max_gap)
        if smoothing.strength > 0:
            side = zero_phase_lowpass(side, ~missing, fps, cutoff, smoothing.max_gap_s)
        side[missing] = np.nan
        offsets[:, k] = side
    lengths = finger_bone_lengths(offsets)
    offsets = impose_finger_lengths(offsets, np.nan_to_num(lengths))
    info = {"finger_frames": [int(np.isfinite(offsets[:, k]).all(axis=(1, 2)).sum()) for k in range(2)],
            "finger_bone_lengths_m": dict(zip(finger_joint_names("left"), np.round(lengths, 4).tolist())),
            "finger_cutoff_hz": cutoff}
    return attach(body_m, offsets), info


class LiveFingers:
    """The causal counterpart for live sources: One Euro filters per hand, bone lengths from the
    first `calibration_frames` frames each hand is seen in, then held."""

    def __init__(self, smoothing: SmoothingConfig, calibration_frames: int = 60):
        cutoff = smoothing.cutoff_hz() * FINGER_CUTOFF_FACTOR if smoothing.strength > 0 else 1e3
        self._filters = [OneEuroFilter(cutoff, beta=LIVE_FINGER_BETA) for _ in SIDES]
        self._seen: list[np.ndarray] = []
        self._lengths: np.ndarray | None = None
        self._calibration_frames = calibration_frames

    def push(self, body_m: np.ndarray, hands_world_m: np.ndarray, found: np.ndarray, camera_to_world: np.ndarray,
             timestamp_s: float) -> np.ndarray:
        """One frame: body_m (22, 3) world joints -> (62, 3) MONOCAP_HANDS joints."""
        offsets = finger_offsets_world(hands_world_m, camera_to_world)
        for k in range(2):
            if found[k] and np.isfinite(offsets[k]).all():
                offsets[k] = self._filters[k](offsets[k], timestamp_s)
            else:
                offsets[k] = np.nan
                self._filters[k].reset()
        if self._lengths is None or len(self._seen) < self._calibration_frames:
            if found.any():
                self._seen.append(offsets.copy())
                self._lengths = np.nan_to_num(finger_bone_lengths(np.array(self._seen)))
        if self._lengths is not None:
            offsets = impose_finger_lengths(offsets, self._lengths)
        return attach(body_m, offsets)
