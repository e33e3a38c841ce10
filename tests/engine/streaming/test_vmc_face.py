"""The face over VMC through a real python-osc server: blend shape values for every frame the
face is seen, each within 0-1, one Apply per frame, the neutral face (every value 0) when the face
is lost, never the last values; and the JSON stream's face object."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.capture.detector import PoseDetector
from engine.capture.frames import Frame, open_source
from engine.motion.face_expressions import FACE_INDEX
from engine.session.live_stage import InlineStage
from engine.session.pipeline import LiveTracker
from engine.session.settings import pipeline_config
from engine.streaming.face_blend import BLEND_APPLY_ADDRESS, BLEND_VALUE_ADDRESS
from engine.streaming.joints_json import JsonEncoder
from engine.streaming.sender import Channel
from engine.streaming.sender_process import ProcessPoseStreamer
from engine.streaming.targets import parse_target
from engine.streaming.vmc import VmcEncoder
from tests.conftest import shared_clip_or_sample
from tests.engine.face_footage import face_clip
from tests.engine.streaming.receivers import OscReceiver, bundle_messages

VRM0 = {"Blink_L", "Blink_R", "A", "I", "U", "E", "O"}
VRM1 = {"blinkLeft", "blinkRight", "aa", "ih", "ou", "ee", "oh"}
BLANK_FROM = 50  # the last frames: the camera sees nothing, so the face is lost


def _poses(clip: Path, frames: int = 70):
    """Live poses with the face on: the clip's first frames, then blank frames (nobody)."""
    poses = []
    with PoseDetector() as detector, \
            InlineStage(LiveTracker(pipeline_config(face=True)), lambda f, d, p, x: poses.append(p)) as stage:
        for frame in open_source(clip):
            if frame.index >= frames:
                break
            image = frame.image if frame.index < BLANK_FROM else np.zeros_like(frame.image)
            frame = Frame(frame.index, frame.timestamp_ns, image)
            stage.submit(frame, detector.detect(frame.image, frame.timestamp_ns))
    return poses


@pytest.fixture(scope="module")
def face_poses(tmp_path_factory):
    clip = face_clip(tmp_path_factory.mktemp("face"), "vtuber") or shared_clip_or_sample("taiji_720p.mp4")
    return _poses(clip)


def test_a_real_osc_receiver_gets_the_face_every_frame_and_the_neutral_face_when_it_is_lost(face_poses):
    poses = face_poses
    seen = [p.face is not None and np.isfinite(p.face).all() for p in poses]
    assert sum(seen[:BLANK_FROM]) >= 0.8 * BLANK_FROM and not any(seen[BLANK_FROM + 2:])
    with OscReceiver() as receiver:
        channel = Channel(VmcEncoder(0.5), parse_target(f"127.0.0.1:{receiver.port}"))
        with ProcessPoseStreamer([channel], queue_frames=len(poses)) as streamer:
            for pose in poses:
                streamer.submit(pose)
            receiver.wait_for(len(poses))
    assert len(receiver.datagrams) == len(poses)
    last_seen = None
    for pose, datagram, was_seen in zip(poses, receiver.datagrams, seen):
        messages = bundle_messages(datagram)
        values = {args[0]: args[1] for address, _, args in messages if address == BLEND_VALUE_ADDRESS}
        for address, tags, _ in messages:
            if address == BLEND_VALUE_ADDRESS:
                assert tags == ",sf"
        assert [m[0] for m in messages].count(BLEND_APPLY_ADDRESS) == 1
        apply_at = [m[0] for m in messages].index(BLEND_APPLY_ADDRESS)
        assert all(m[0] != BLEND_VALUE_ADDRESS for m in messages[apply_at:]), "Apply comes after the values"
        assert VRM0 | VRM1 <= set(values)
        assert all(0.0 <= v <= 1.0 for v in values.values())
        if was_seen:
            assert values["Blink_L"] == pytest.approx(float(np.clip(pose.face[FACE_INDEX["blink_left"]], 0, 1)), abs=1e-6)
            assert values["aa"] == pytest.approx(float(pose.face[FACE_INDEX["mouth_a"]]), abs=1e-6)
            last_seen = values
        else:
            assert all(v == 0.0 for v in values.values()), "a lost face is the neutral face, never the last values"
    assert last_seen is not None and any(v > 0.0 for v in last_seen.values())


def test_the_json_stream_names_the_face_values_and_nulls_a_lost_face(face_poses):
    encoder = JsonEncoder()
    seen = next(p for p in face_poses if p.face is not None and np.isfinite(p.face).all())
    message = json.loads(encoder.encode(seen))
    assert set(message["face"]) == set(FACE_INDEX) and message["face"]["blink_left"] == pytest.approx(
        seen.face[FACE_INDEX["blink_left"]], abs=1e-4)
    assert json.loads(encoder.encode(face_poses[-1]))["face"] is None


def test_without_the_face_no_blend_messages_are_sent():
    from engine.core.skeletons import MONOCAP_BODY
    from engine.session.pipeline import PoseFrame

    datagram = VmcEncoder().encode(PoseFrame(0, 0.0, None, None, MONOCAP_BODY))
    assert all(m[0] not in (BLEND_VALUE_ADDRESS, BLEND_APPLY_ADDRESS) for m in bundle_messages(datagram))
    assert "face" not in json.loads(JsonEncoder().encode(PoseFrame(0, 0.0, None, None, MONOCAP_BODY)))
