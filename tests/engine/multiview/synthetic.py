"""A moving body's 33 keypoints seen by a ring of calibrated cameras, for the multi-view tests."""

from __future__ import annotations

import numpy as np

from engine.multiview.cameras import Camera, Rig

SIZE = (1280, 720)


def look_at(centre: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera (R, t) of a camera at `centre` looking at `target`, world y up."""
    z = target - centre
    z = z / np.linalg.norm(z)
    x = np.cross(z, [0.0, 1.0, 0.0])  # image x right with y down: x = z cross up
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])
    return R, -R @ centre


def ring_rig(count: int, radius: float = 3.5, height: float = 1.4, spread_deg: float = 360.0) -> Rig:
    cams = []
    for i in range(count):
        a = np.radians(spread_deg * i / count if spread_deg >= 360 else spread_deg * i / max(count - 1, 1) - spread_deg / 2)
        R, t = look_at(np.array([radius * np.sin(a), height, radius * np.cos(a)]), np.array([0.0, 1.0, 0.0]))
        cams.append(Camera(f"cam{i + 1}", SIZE, [[1000.0, 0, 640], [0, 1000.0, 360], [0, 0, 1]],
                           [-0.05, 0.02, 0, 0, 0], R, t))
    return Rig(tuple(cams))


def body_keypoints(frames: int, seed: int = 0) -> np.ndarray:
    """(T, 33, 3) world metres: a figure 1.7 m tall walking in a slow circle, arms swinging."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.03, (33, 3))
    base[:, 1] += 1.0
    heights = {0: 1.6, 11: 1.42, 12: 1.42, 13: 1.15, 14: 1.15, 15: 0.9, 16: 0.9, 23: 0.95, 24: 0.95,
               25: 0.5, 26: 0.5, 27: 0.08, 28: 0.08}
    for k, h in heights.items():
        base[k, 1] = h
    for k in range(33):
        if k not in heights:
            base[k, 1] = rng.uniform(0.05, 1.6)
    for left, right in ((11, 12), (13, 14), (15, 16), (23, 24), (25, 26), (27, 28)):
        base[left, 0], base[right, 0] = 0.18, -0.18
    t = np.arange(frames) / 30.0
    out = np.repeat(base[None], frames, axis=0)
    swing = 0.5 * np.sin(2 * np.pi * 0.8 * t)  # radians, limbs swung about the shoulders and hips (rigidly)
    for root, chain, sign in ((11, (13, 15, 17, 19, 21), 1), (12, (14, 16, 18, 20, 22), -1),
                              (23, (25, 27, 29, 31), -1), (24, (26, 28, 30, 32), 1)):
        a = sign * swing
        c, s_ = np.cos(a)[:, None], np.sin(a)[:, None]
        rel = base[list(chain)] - base[root]
        out[:, list(chain), 1] = base[root, 1] + c * rel[:, 1] - s_ * rel[:, 2]
        out[:, list(chain), 2] = base[root, 2] + s_ * rel[:, 1] + c * rel[:, 2]
    yaw = 0.6 * np.sin(2 * np.pi * 0.07 * t)
    x, z = out[..., 0].copy(), out[..., 2].copy()
    out[..., 0] = np.cos(yaw)[:, None] * x + np.sin(yaw)[:, None] * z
    out[..., 2] = -np.sin(yaw)[:, None] * x + np.cos(yaw)[:, None] * z
    out[:, :, 0] += 0.6 * np.sin(2 * np.pi * 0.1 * t)[:, None]
    out[:, :, 2] += 0.4 * np.sin(2 * np.pi * 0.13 * t)[:, None]
    return out


def observe(rig: Rig, points: np.ndarray, noise_px: float = 1.0, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(V, T, 33, 2) keypoints with noise, (V, T, 33) scores."""
    rng = np.random.default_rng(seed)
    kp = np.stack([cam.project(points) for cam in rig]) + rng.normal(0, noise_px, (len(rig),) + points.shape[:2] + (2,))
    return kp, np.full(kp.shape[:3], 0.95)
