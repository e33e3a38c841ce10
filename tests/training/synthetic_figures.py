"""Stick figures of known 3D pose drawn through a known camera: the tests' tiny image set."""

import cv2
import numpy as np

from engine.core import skeletons
from engine.lift.image_crop import intrinsics
from training.image_net.datasets.image_samples import PoseSample

H36M = skeletons.get("h36m_17")
FRAME = 96
FOCAL = 140.0
K = intrinsics(FOCAL, (FRAME, FRAME))

# Rest pose, camera axes (x right, y down, z forward), person facing the camera, metres.
REST = {
    "pelvis": (0, 0, 0), "right_hip": (-0.12, 0, 0), "right_knee": (-0.12, 0.42, 0), "right_ankle": (-0.12, 0.84, 0),
    "left_hip": (0.12, 0, 0), "left_knee": (0.12, 0.42, 0), "left_ankle": (0.12, 0.84, 0),
    "spine": (0, -0.25, 0), "thorax": (0, -0.5, 0), "neck_nose": (0, -0.62, 0), "head_top": (0, -0.78, 0),
    "left_shoulder": (0.18, -0.48, 0), "left_elbow": (0.18, -0.2, 0), "left_wrist": (0.18, 0.05, 0),
    "right_shoulder": (-0.18, -0.48, 0), "right_elbow": (-0.18, -0.2, 0), "right_wrist": (-0.18, 0.05, 0),
}
REST_ARR = np.array([REST[n] for n in H36M.joint_names], dtype=np.float64)


def _rot(axis, angle):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    kx = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx


def random_pose(rng):
    """Root-relative pose: each bone turned by a random rotation, then the whole body yawed."""
    local = np.zeros_like(REST_ARR)
    for child, parent in enumerate(H36M.parents):
        if parent < 0:
            continue
        offset = REST_ARR[child] - REST_ARR[parent]
        limit = 0.9 if H36M.joint_names[child].endswith(("elbow", "wrist", "knee", "ankle")) else 0.25
        local[child] = local[parent] + _rot(rng.normal(size=3), rng.uniform(-limit, limit)) @ offset
    return local @ _rot([0, 1, 0], rng.uniform(-0.8, 0.8)).T


def _colour(i):
    name = H36M.joint_names[i]
    hue = (i * 37) % 180
    base = np.array(cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2RGB)[0, 0], dtype=int)
    return tuple(int(v) for v in base) if not name.startswith("left") else tuple(int(v) for v in base[::-1])


def render(pose_cam):
    """(17, 3) camera-frame metres -> (FRAME, FRAME, 3) uint8 RGB and the (17, 2) pixel joints."""
    uvw = pose_cam @ K.T
    px = uvw[:, :2] / uvw[:, 2:]
    img = np.full((FRAME, FRAME, 3), 40, np.uint8)
    order = sorted(H36M.bones, key=lambda b: -(pose_cam[b[0], 2] + pose_cam[b[1], 2]))  # far first
    for p, c in order:
        cv2.line(img, tuple(np.round(px[p] * 4).astype(int)), tuple(np.round(px[c] * 4).astype(int)),
                 _colour(c), 2, cv2.LINE_AA, shift=2)
    for i in range(17):
        cv2.circle(img, tuple(np.round(px[i] * 4).astype(int)), 4, _colour(i), -1, cv2.LINE_AA, shift=2)
    return img, px


def make_samples(n, seed, with3d=True):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        root = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.2, 0.1), rng.uniform(3.6, 4.4)])
        pose = random_pose(rng) + root
        img, px = render(pose)
        out.append(PoseSample("h36m_17", px, np.ones(17, bool), image=img, joints3d_m=pose if with3d else None,
                              K_cam=K, subject="synthetic", group="near" if root[2] < 4 else "far",
                              meta={"pose_cam": pose}))
    return out
