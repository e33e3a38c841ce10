"""Takes and checks shared by the FBX and glTF export tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.animation.formats import ExportOptions, read_take, write_take
from engine.animation.rig import get_rig
from engine.core.skeletons import FINGERS, MONOCAP_BODY, MONOCAP_HANDS
from engine.core.take import Take
from engine.motion.smoothing import SmoothingConfig
from engine.motion.temporal import filter_and_lock
from tests.engine.synthetic_hands import hands_take
from tests.engine.take_samples import body_take

LIMBS = ("left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
         "left_hip", "left_knee", "left_ankle", "right_hip", "right_knee", "right_ankle")
FINGER_JOINTS = tuple(f"{s}_{f}{k}" for s in ("left", "right") for f in FINGERS for k in (1, 2, 3))
PLAIN = ExportOptions(ground=False, foot_contact=False)


def real_take(hands: bool = False) -> Take:
    """The sample clip's first 40 frames as the detector saw them (a real person) through the
    temporal stage, with fingers curling open to closed when asked."""
    take = body_take(40)
    pelvis = take.joints_m[:, MONOCAP_BODY.index("pelvis")]
    rel, root, _ = filter_and_lock(take.joints_m - pelvis[:, None], pelvis, take.valid, take.fps, MONOCAP_BODY,
                                   SmoothingConfig())
    take = take.with_joints(rel + root[:, None])  # as the temporal stage leaves it: smoothed, bones locked
    if hands:
        take = hands_take(take, np.linspace(5.0, 80.0, take.num_frames))
    return take


def options(rig: str, **kw) -> ExportOptions:
    return ExportOptions(rig=rig, ground=False, foot_contact=False, **kw)


def limb_errors_cm(take: Take, rig_name: str, positions: dict[str, np.ndarray], joints=LIMBS) -> np.ndarray:
    """(T, J) distance between the take's joints and the rig's bones at them, from a client's
    {bone name: (T, 3) metres}."""
    hands = take.skeleton is MONOCAP_HANDS
    rig = get_rig(rig_name, fingers=hands)
    skeleton = MONOCAP_HANDS if hands else MONOCAP_BODY
    errors = []
    for joint in joints:
        got = positions[rig.joints[rig.joint_at(joint)].name]
        assert got.shape[0] == take.num_frames, f"{joint}: {got.shape[0]} frames, the take has {take.num_frames}"
        errors.append(np.linalg.norm(got - take.joints_m[:, skeleton.index(joint)], axis=-1) * 100)
    return np.stack(errors, axis=1)


def bvh_positions(take: Take, rig: str, folder: Path, **kw) -> dict[str, np.ndarray]:
    """The same take written as BVH with the same options and read back: {joint: (T, 3) metres}."""
    path = write_take(take, folder / f"same_{rig}.bvh", options(rig, **kw))
    back = read_take(path)
    return {n: back.joints_m[:, i] for i, n in enumerate(back.skeleton.joint_names)}


def assert_same_motion(got: dict[str, np.ndarray], bvh: dict[str, np.ndarray], rig_name: str, hands: bool,
                       tol_cm: float = 0.05) -> None:
    """Every rig joint where the client put it is where the BVH of the same take puts it."""
    rig = get_rig(rig_name, fingers=hands)
    for j in rig.joints:
        diff = np.linalg.norm(got[j.name] - bvh[j.name], axis=-1).max() * 100
        assert diff < tol_cm, f"{j.name}: {diff:.3f} cm from the BVH's"
