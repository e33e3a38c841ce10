"""The VMC stream through a real python-osc server on the loopback address: the pose rebuilt from
the received bone rotations, root and T-pose matches the take; messages follow the protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.animation.rig import UNITY_HUMANOID_RIG
from engine.capture.detection import Detection
from engine.core.rotations import axis_angle_matrix
from engine.core.skeletons import MONOCAP_BODY
from engine.lift.modes import LiftConfig
from engine.session.pipeline import LiveTracker, PipelineConfig, PoseFrame
from engine.streaming.sender import Channel
from engine.streaming.sender_process import ProcessPoseStreamer
from engine.streaming.targets import parse_target
from engine.streaming.vmc import VmcEncoder, to_unity_positions
from tests.engine.animation.test_bvh_export import spin_take
from tests.engine.streaming.receivers import OscReceiver, bundle_messages, rebuild_unity

LIMB_BONES = {  # Unity bone -> the MONOCAP_BODY joint it sits at: the 12 limb joints
    f"{side}{bone}": f"{s}_{joint}"
    for side, s in (("Left", "left"), ("Right", "right"))
    for bone, joint in (("UpperArm", "shoulder"), ("LowerArm", "elbow"), ("Hand", "wrist"),
                        ("UpperLeg", "hip"), ("LowerLeg", "knee"), ("Foot", "ankle"))
}
# Every name of Unity's HumanBodyBones enumeration (body, head and fingers).
HUMAN_BODY_BONES = {
    "Hips", "LeftUpperLeg", "RightUpperLeg", "LeftLowerLeg", "RightLowerLeg", "LeftFoot", "RightFoot",
    "Spine", "Chest", "UpperChest", "Neck", "Head", "LeftShoulder", "RightShoulder", "LeftUpperArm",
    "RightUpperArm", "LeftLowerArm", "RightLowerArm", "LeftHand", "RightHand", "LeftToes", "RightToes",
    "LeftEye", "RightEye", "Jaw",
    *(f"{side}{finger}{part}" for side in ("Left", "Right")
      for finger in ("Thumb", "Index", "Middle", "Ring", "Little")
      for part in ("Proximal", "Intermediate", "Distal")),
}
ARGUMENT_TYPES = {"/VMC/Ext/Root/Pos": "sfffffff", "/VMC/Ext/Bone/Pos": "sfffffff",
                  "/VMC/Ext/OK": "iiii", "/VMC/Ext/T": "f"}


def moving_take(frames: int = 150):
    """A body turning on the spot while its left elbow and right knee bend and straighten."""
    take = spin_take(frames=frames, turns=0.5)
    joints = take.joints_m.copy()
    j = MONOCAP_BODY.index
    bend = np.radians(60 + 50 * np.sin(np.linspace(0, 4 * np.pi, frames)))
    for pivot, moved, axis in (("left_elbow", ("left_wrist", "left_hand"), (0, 1, 0)),
                               ("right_knee", ("right_ankle", "right_toe"), (1, 0, 0))):
        r = axis_angle_matrix(np.broadcast_to(np.asarray(axis, float), (frames, 3)), bend)
        for k in moved:
            joints[:, j(k)] = joints[:, j(pivot)] + np.einsum("tij,tj->ti", r, joints[:, j(k)] - joints[:, j(pivot)])
    return [PoseFrame(i, float(take.timestamps_s[i]), None, joints[i], MONOCAP_BODY) for i in range(frames)]


def sample_clip_poses():
    """Real poses: 40 frames of the sample clip's detections through the live tracker."""
    d = np.load(Path(__file__).parents[1] / "data" / "taiji_detections_40.npz")
    size = tuple(int(v) for v in d["size"])
    tracker = LiveTracker(PipelineConfig(lift=LiftConfig(mode="detector"), live_calibration_s=0.5))
    poses = []
    for i in range(len(d["kp"])):
        det = Detection(d["kp"][i].astype(float), d["scores"][i].astype(float), d["world"][i].astype(float), size)
        poses.append(tracker.push(i, i / 24.0, det))
    assert all(p.joints_m is not None for p in poses)
    return poses


def stream(poses, warmup_s: float = 1.0):
    """Streams the poses to a python-osc server as the app and `monocap stream` do (from the
    streaming process) -> the datagrams it received, one per frame."""
    with OscReceiver() as receiver:
        channel = Channel(VmcEncoder(warmup_s), parse_target(f"127.0.0.1:{receiver.port}"))
        with ProcessPoseStreamer([channel], queue_frames=len(poses)) as streamer:
            for pose in poses:
                streamer.submit(pose)
            receiver.wait_for(len(poses))
        assert streamer.stats().dropped == 0
    assert len(receiver.datagrams) == len(poses)
    assert len(receiver.messages) == sum(len(bundle_messages(d)) for d in receiver.datagrams)
    return [bundle_messages(d) for d in receiver.datagrams]


@pytest.mark.parametrize("clip", [moving_take, sample_clip_poses], ids=["generated", "sample_clip"])
def test_pose_rebuilt_from_the_received_stream_matches_the_take(clip):
    poses = clip()
    frames = stream(poses, warmup_s=0.5)
    worst = 0.0
    for pose, messages in zip(poses, frames):
        times = [args[0] for address, _, args in messages if address == "/VMC/Ext/T"]
        assert times == [pytest.approx(pose.timestamp_s, abs=1e-6)]
        rebuilt = rebuild_unity(messages)
        for bone, joint in LIMB_BONES.items():
            got = to_unity_positions(rebuilt[bone])  # back to Monocap's world axes
            worst = max(worst, float(np.linalg.norm(got - pose.joints_m[MONOCAP_BODY.index(joint)])))
    assert worst < 0.01, f"a limb joint is {worst * 100:.2f} cm from the take"


def test_messages_and_argument_types_follow_the_protocol():
    frames = stream(moving_take(40), warmup_s=0.5)
    for i, messages in enumerate(frames):
        for address, tags, args in messages:
            assert tags == "," + ARGUMENT_TYPES[address], address
        addresses = [m[0] for m in messages]
        assert addresses[0] == "/VMC/Ext/Root/Pos" and addresses[-2:] == ["/VMC/Ext/OK", "/VMC/Ext/T"]
        bones = [args[0] for address, _, args in messages if address == "/VMC/Ext/Bone/Pos"]
        assert bones == list(UNITY_HUMANOID_RIG.joint_names)
        assert set(bones) <= HUMAN_BODY_BONES
        for address, _, args in messages:
            if address in ("/VMC/Ext/Root/Pos", "/VMC/Ext/Bone/Pos"):
                assert np.linalg.norm(args[4:8]) == pytest.approx(1.0, abs=1e-5)
        ok = [args for address, _, args in messages if address == "/VMC/Ext/OK"][0]
        assert ok[0] == 1 and ok[2] == 0 and ok[3] == 1  # loaded, normal calibration, tracking
        assert ok[1] == (3 if i >= 15 else 2)  # calibrating through the 0.5 s warm-up (15 frames), then calibrated


def test_nobody_in_view_sends_tracking_lost_and_no_bones():
    poses = moving_take(10)
    poses[5] = PoseFrame(5, poses[5].timestamp_s, None, None, MONOCAP_BODY)
    frames = stream(poses)
    assert [m[0] for m in frames[5]] == ["/VMC/Ext/OK", "/VMC/Ext/T"]
    assert frames[5][0][2][3] == 0
    assert rebuild_unity(frames[6]) is not None


def test_unity_axes_left_handed_and_feet_on_the_floor():
    """Facing the camera, the subject's left hand is on Unity's -X side (an avatar's own left),
    the head is up, the toes point to +Z, and the root stands on the floor under the hips."""
    poses = moving_take(30)
    frames = stream(poses, warmup_s=0.3)
    first = rebuild_unity(frames[0])
    assert first["LeftHand"][0] < -0.5 and first["RightHand"][0] > 0.5
    assert first["Head"][1] > first["Hips"][1] > first["LeftFoot"][1]
    root = [args[1:4] for address, _, args in frames[0] if address == "/VMC/Ext/Root/Pos"][0]
    assert abs(root[1]) < 0.05  # the soles, at the floor of the take (y = 0)
    assert root[0] == pytest.approx(-poses[0].joints_m[0, 0], abs=1e-5)
    # feet rest at the standing pitch: the left foot, flat on the floor while the body turns,
    # only turns about the vertical
    local = {args[0]: Rotation.from_quat(args[4:8]) for address, _, args in frames[-1] if address == "/VMC/Ext/Bone/Pos"}
    foot = local["Hips"] * local["LeftUpperLeg"] * local["LeftLowerLeg"] * local["LeftFoot"]
    assert foot.apply([0.0, 1.0, 0.0]) == pytest.approx([0.0, 1.0, 0.0], abs=0.02)
    assert foot.magnitude() > np.radians(10)  # the body has turned
