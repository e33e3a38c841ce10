"""Fingers over the streams, through real receivers on the loopback address: the finger joints
rebuilt from the received VMC rotations match the take; a hand lost for a moment holds its
fingers, then rests; the JSON stream carries the finger points."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.animation.live_solver import FINGER_HOLD_S
from engine.animation.rig import UNITY_HUMANOID_RIG, UNITY_HUMANOID_RIG_FINGERS
from engine.core.skeletons import FINGERS, MONOCAP_BODY, MONOCAP_HANDS, finger_joint_names
from engine.core.take import Take
from engine.session.pipeline import PoseFrame
from engine.streaming.joints_json import JsonEncoder
from engine.streaming.sender import Channel, PoseStreamer
from engine.streaming.targets import parse_target
from engine.streaming.vmc import to_unity_positions
from tests.engine.streaming.receivers import JsonReceiver, rebuild_unity
from tests.engine.streaming.test_vmc_stream import ARGUMENT_TYPES, HUMAN_BODY_BONES, moving_take, stream
from tests.engine.synthetic_hands import hands_take

FPS = 30.0
UNITY_FINGER = {"thumb": "Thumb", "index": "Index", "middle": "Middle", "ring": "Ring", "pinky": "Little"}
FINGER_BONES = {  # Unity finger bone -> the MONOCAP_HANDS joint it sits at
    f"{side.capitalize()}{UNITY_FINGER[f]}{part}": f"{side}_{f}{k}"
    for side in ("left", "right") for f in FINGERS
    for k, part in ((1, "Proximal"), (2, "Intermediate"), (3, "Distal"))
}
SHORT_GAP = range(100, 106)  # the right hand lost for 0.2 s: held
LONG_GAP = range(120, 150)  # lost for a second: rests after FINGER_HOLD_S


def finger_poses(frames: int = 160) -> tuple[list[PoseFrame], np.ndarray]:
    """moving_take's body with both hands' fingers curling and opening, the right hand lost
    twice: (poses, curl in degrees per frame)."""
    body = moving_take(frames)
    joints = np.array([p.joints_m for p in body])
    curl = 40.0 + 35.0 * np.sin(np.linspace(0.0, 3 * np.pi, frames))
    take = hands_take(Take(joints, MONOCAP_BODY, FPS, np.arange(frames) / FPS, np.ones(frames, bool)), curl)
    hands = take.joints_m.copy()
    right = [MONOCAP_HANDS.index(n) for n in finger_joint_names("right")]
    for t in (t for t in (*SHORT_GAP, *LONG_GAP) if t < frames):
        hands[t, right] = np.nan
    return [PoseFrame(p.index, p.timestamp_s, None, hands[p.index], MONOCAP_HANDS) for p in body], curl


def _bones(messages) -> dict[str, tuple]:
    return {args[0]: args[1:] for address, _, args in messages if address == "/VMC/Ext/Bone/Pos"}


@pytest.fixture(scope="module")
def streamed():
    poses, curl = finger_poses()
    return poses, curl, stream(poses, warmup_s=0.5)


def test_finger_joints_rebuilt_from_the_received_stream_match_the_take(streamed):
    poses, _, frames = streamed
    worst, checked = 0.0, 0
    for pose, messages in zip(poses, frames):
        rebuilt = rebuild_unity(messages)
        for bone, joint in FINGER_BONES.items():
            truth = pose.joints_m[MONOCAP_HANDS.index(joint)]
            if not np.isfinite(truth).all():
                continue
            got = to_unity_positions(rebuilt[bone])
            worst = max(worst, float(np.linalg.norm(got - truth)))
            checked += 1
        wrist = to_unity_positions(rebuilt["LeftHand"])
        assert np.linalg.norm(wrist - pose.joints_m[MONOCAP_HANDS.index("left_wrist")]) < 0.01
    assert checked > 0.8 * len(poses) * 30
    assert worst < 0.01, f"a finger joint is {worst * 100:.2f} cm from the take"


def test_the_received_finger_rotations_are_the_curl(streamed):
    """A curled finger's middle joint turns by the curl, about the axis across the palm."""
    poses, curl, frames = streamed
    for t in range(20, len(poses), 7):
        local = _bones(frames[t])
        for side in ("Left", "Right"):
            if side == "Right" and (t in SHORT_GAP or t in LONG_GAP):
                continue
            for finger in ("Index", "Middle", "Ring", "Little"):
                q = Rotation.from_quat(local[f"{side}{finger}Intermediate"][3:7])
                assert np.degrees(q.magnitude()) == pytest.approx(curl[t], abs=3.0), (t, side, finger)


def test_finger_bones_follow_the_protocol(streamed):
    _, _, frames = streamed
    for messages in frames:
        for address, tags, args in messages:
            assert tags == "," + ARGUMENT_TYPES[address], address
        bones = [args[0] for address, _, args in messages if address == "/VMC/Ext/Bone/Pos"]
        assert bones == list(UNITY_HUMANOID_RIG_FINGERS.joint_names)
        assert bones[:len(UNITY_HUMANOID_RIG.joints)] == list(UNITY_HUMANOID_RIG.joint_names)
        assert set(bones) <= HUMAN_BODY_BONES and set(FINGER_BONES) <= set(bones)
        assert len(bones) == 50


def test_a_lost_hand_holds_its_fingers_then_rests(streamed):
    _, _, frames = streamed
    right = [b for b in FINGER_BONES if b.startswith("Right")]
    left = [b for b in FINGER_BONES if b.startswith("Left")]

    def quats(t: int, names) -> np.ndarray:
        local = _bones(frames[t])
        return np.array([local[n][3:7] for n in names])

    before = quats(SHORT_GAP[0] - 1, right)
    for t in SHORT_GAP:
        np.testing.assert_allclose(quats(t, right), before, atol=1e-6)  # held
    assert not np.allclose(quats(SHORT_GAP[0], left), quats(SHORT_GAP[0] - 1, left), atol=1e-4)  # the other moves
    hold_frames = int(FINGER_HOLD_S * FPS)
    last = quats(LONG_GAP[0] - 1, right)
    np.testing.assert_allclose(quats(LONG_GAP[0] + hold_frames - 1, right), last, atol=1e-6)
    for t in range(LONG_GAP[0] + hold_frames + 1, LONG_GAP[-1] + 1):
        # the rest pose: straight fingers, every finger bone's local rotation the identity
        np.testing.assert_allclose(np.abs(quats(t, right)[:, 3]), 1.0, atol=1e-6)
    assert not np.allclose(np.abs(quats(LONG_GAP[-1] + 1, right)[:, 3]), 1.0, atol=1e-3)  # back


def test_hands_turned_on_between_sessions_change_the_bones_sent():
    body = moving_take(30)
    hands, _ = finger_poses(30)
    later = [PoseFrame(p.index, p.timestamp_s, None, p.joints_m, MONOCAP_HANDS) for p in hands[:10]]
    frames = stream(body + later, warmup_s=0.2)
    assert len(_bones(frames[29])) == 20 and len(_bones(frames[30])) == 50
    ok = [args for address, _, args in frames[30] if address == "/VMC/Ext/OK"][0]
    assert ok[1] == 2  # a new warm-up for the new skeleton


def test_the_json_stream_carries_the_finger_points():
    poses, _ = finger_poses(130)
    with JsonReceiver() as receiver:
        channel = Channel(JsonEncoder(), parse_target(f"127.0.0.1:{receiver.port}"))
        with PoseStreamer([channel], queue_frames=len(poses)) as streamer:
            for p in poses:
                streamer.submit(p)
            end = time.monotonic() + 30
            while len(receiver.datagrams) < len(poses) and time.monotonic() < end:
                time.sleep(0.01)
    got = {m["frame"]: m for m in map(json.loads, receiver.datagrams)}
    assert len(got) == len(poses)
    seen, lost = got[SHORT_GAP[0] - 1], got[SHORT_GAP[0]]
    assert seen["skeleton"] == "monocap_hands" and list(seen["joints"]) == list(MONOCAP_HANDS.joint_names)
    truth = poses[SHORT_GAP[0]].joints_m
    for name in ("left_index3", "left_thumb_tip", "left_wrist", "pelvis"):
        np.testing.assert_allclose(lost["joints"][name], truth[MONOCAP_HANDS.index(name)], atol=1e-5)
    assert all(lost["joints"][n] is None for n in finger_joint_names("right"))
    assert all(v is not None for v in seen["joints"].values())
