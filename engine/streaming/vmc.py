"""Poses as the VMC protocol: OSC messages a VMC receiver (an avatar app, a Unity or Unreal scene)
applies to a humanoid avatar. docs/STREAMING.md describes every message.

Each tracked frame is one OSC bundle:
  /VMC/Ext/Root/Pos  "root", position, rotation      where the avatar stands
  /VMC/Ext/Bone/Pos  bone name, position, rotation    for each bone of UNITY_HUMANOID_RIG
  /VMC/Ext/OK        loaded, calibration state, calibration mode, tracking status
  /VMC/Ext/T         the frame's time in seconds
A frame with nobody in view sends OK (tracking status 0) and T only, so the avatar holds its pose.
Poses with fingers (MONOCAP_HANDS, captured with hands) add Unity's 30 finger bones
(UNITY_HUMANOID_RIG_FINGERS) after the body's; a hand not seen holds its last finger rotations for
a moment, then rests (engine/animation/live_solver.py).
With the face tracked (engine/streaming/face_blend.py), every frame also carries
  /VMC/Ext/Blend/Val  expression name, value 0-1   VRM 0.x, VRM 1.0 and ARKit names
  /VMC/Ext/Blend/Apply                             once, after them
all zero (the neutral face) in a frame where the face is not seen, and the Neck and Head bones
turn with the face (engine/motion/face_head.py).

Unity's axes: left-handed, Y up, the avatar facing +Z with its left hand towards -X. Monocap's world
(engine/core/coords.py) is right-handed, Y up, the subject in the rest pose facing +Z with the left
hand towards +X, so a point maps as (x, y, z) -> (-x, y, z) and a rotation R as S R S with
S = diag(-1, 1, 1). Rotations are local to the parent bone and relative to the T-pose (every bone
rotation the identity), the rest of Unity's normalised humanoid; positions are the T-pose's bone
offsets in metres. The root stands on the floor below the hips: Root/Pos + the Hips' local
position = the hips.
"""

from __future__ import annotations

import numpy as np
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from scipy.spatial.transform import Rotation

from engine.animation.live_solver import LivePose, LiveSolver
from engine.animation.rig import UNITY_HUMANOID_RIG, UNITY_HUMANOID_RIG_FINGERS, Rig
from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS
from engine.streaming.face_blend import add_blend_messages

ROOT_ADDRESS = "/VMC/Ext/Root/Pos"
BONE_ADDRESS = "/VMC/Ext/Bone/Pos"
OK_ADDRESS = "/VMC/Ext/OK"
TIME_ADDRESS = "/VMC/Ext/T"
ROOT_NAME = "root"

# /VMC/Ext/OK values
LOADED = 1
CALIBRATING, CALIBRATED = 2, 3
CALIBRATION_MODE_NORMAL = 0
TRACKING_LOST, TRACKING_OK = 0, 1

UNITY_MIRROR = np.array([-1.0, 1.0, 1.0])  # S: Monocap world <-> Unity axes (its own inverse)


def to_unity_positions(p: np.ndarray) -> np.ndarray:
    """(..., 3) Monocap world -> Unity; also Unity -> Monocap world."""
    return np.asarray(p) * UNITY_MIRROR


def to_unity_quaternions(rotations: np.ndarray) -> np.ndarray:
    """(N, 3, 3) Monocap rotations -> (N, 4) Unity quaternions (x, y, z, w)."""
    s = np.diag(UNITY_MIRROR)
    return Rotation.from_matrix(s @ rotations @ s).as_quat()


def _transform(address: str, name: str, position: np.ndarray, quaternion: np.ndarray) -> OscMessageBuilder:
    msg = OscMessageBuilder(address)
    msg.add_arg(name, OscMessageBuilder.ARG_TYPE_STRING)
    for value in (*position, *quaternion):
        msg.add_arg(float(value), OscMessageBuilder.ARG_TYPE_FLOAT)
    return msg


def _ints(address: str, *values: int) -> OscMessageBuilder:
    msg = OscMessageBuilder(address)
    for v in values:
        msg.add_arg(int(v), OscMessageBuilder.ARG_TYPE_INT)
    return msg


def bundle_for_pose(pose: LivePose | None, time_s: float, rig: Rig = UNITY_HUMANOID_RIG,
                    face: np.ndarray | None = None) -> bytes:
    """One frame as one OSC bundle (its bytes). pose None: nobody in view. face: the face's values
    when the face is tracked (NaN where it is not seen: the neutral face is sent), else None."""
    bundle = OscBundleBuilder(IMMEDIATELY)
    if pose is not None:
        hips_local = np.array([0.0, pose.floor_to_root_m, 0.0])
        root = to_unity_positions(pose.root_m - hips_local)
        bundle.add_content(_transform(ROOT_ADDRESS, ROOT_NAME, root, (0.0, 0.0, 0.0, 1.0)).build())
        quats = to_unity_quaternions(pose.local_rotations)
        offsets = to_unity_positions(pose.offsets_m)
        offsets[0] = hips_local
        for i, name in enumerate(rig.joint_names):
            bundle.add_content(_transform(BONE_ADDRESS, name, offsets[i], quats[i]).build())
    if face is not None:
        add_blend_messages(bundle, face)
    calibration = CALIBRATED if pose is not None and pose.calibrated else CALIBRATING
    tracking = TRACKING_OK if pose is not None else TRACKING_LOST
    bundle.add_content(_ints(OK_ADDRESS, LOADED, calibration, CALIBRATION_MODE_NORMAL, tracking).build())
    time_msg = OscMessageBuilder(TIME_ADDRESS)
    time_msg.add_arg(float(time_s), OscMessageBuilder.ARG_TYPE_FLOAT)
    bundle.add_content(time_msg.build())
    return bundle.build().dgram


RIG_FOR_SKELETON = {MONOCAP_BODY.name: UNITY_HUMANOID_RIG, MONOCAP_HANDS.name: UNITY_HUMANOID_RIG_FINGERS}


class VmcEncoder:
    """PoseFrames -> VMC bundles. Keeps the live solver's state: feed it the frames in order. The
    poses' skeleton picks the bones (fingers with MONOCAP_HANDS); poses of another skeleton than
    the last (hands turned on or off between sessions) start a new warm-up."""

    name = "VMC"

    def __init__(self, warmup_s: float = 3.0):
        self.warmup_s = warmup_s
        self.solver = LiveSolver(UNITY_HUMANOID_RIG, warmup_s)

    @property
    def rig(self) -> Rig:
        return self.solver.rig

    def encode(self, pose_frame) -> bytes:
        joints = pose_frame.joints_m
        pose = None
        if joints is not None:
            skeleton = pose_frame.skeleton
            if skeleton.name not in RIG_FOR_SKELETON:
                raise ValueError(f"VMC streams need {MONOCAP_BODY.name} or {MONOCAP_HANDS.name} poses, "
                                 f"got {skeleton.name}")
            if skeleton.joint_names != self.solver.skeleton.joint_names:
                self.solver = LiveSolver(RIG_FOR_SKELETON[skeleton.name], self.warmup_s, skeleton)
            pose = self.solver.solve(joints, pose_frame.timestamp_s)
        return bundle_for_pose(pose, pose_frame.timestamp_s, self.rig, getattr(pose_frame, "face", None))
