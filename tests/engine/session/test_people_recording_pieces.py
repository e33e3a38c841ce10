"""Recording everyone live (engine/session/people_recorder.py): one person the live tracker gave a
new id after they were out of sight is one take, as offline (PeopleTracker.pieces), while someone
else who takes their place stays someone else. The ids are given here as a tracker that failed
to re-find them would give them, on real footage of two people (tests/engine/people_footage.py)."""

import json

import numpy as np
import pytest

from engine.capture.detector import DetectorConfig, PoseDetector
from engine.capture.frames import VideoFileSource
from engine.capture.people import TrackedPerson, hip_centre
from engine.lift.modes import LiftConfig
from engine.session.live_people import LivePeople
from engine.session.people_recorder import PeopleRecording
from engine.session.pipeline import PipelineConfig
from tests.engine.people_footage import make_footage

FPS = 24.0
CONFIG = PipelineConfig(lift=LiftConfig(mode="detector"))


GONE = 8  # frames: someone unseen this long comes back under a new id here
T = 72


def _back_again() -> np.ndarray:
    """The taiji man stands at the left throughout; the juggler stands at the right for 1 s, is
    gone for half a second (hidden) and stands there again."""
    lefts = np.full((T, 2), np.nan)
    lefts[:, 0] = 40.0
    lefts[:24, 1] = lefts[36:, 1] = 400.0
    return lefts


def _in_their_place() -> np.ndarray:
    """The juggler stands at the right for 1 s; half a second after he has gone, the taiji man
    stands there."""
    lefts = np.full((T, 2), np.nan)
    lefts[:24, 1] = lefts[36:, 0] = 400.0
    return lefts


@pytest.fixture(scope="module")
def detected(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pieces")
    out = {}
    for name, lefts in {"back_again": _back_again, "in_their_place": _in_their_place}.items():
        footage = make_footage(folder / f"{name}.mp4", lefts(), fps=FPS)
        frames = []
        source = VideoFileSource(footage.path)
        try:
            with PoseDetector(DetectorConfig(max_people=3)) as detector:
                for frame in source:
                    frames.append((frame.image, detector.detect_people(frame.image, frame.timestamp_ns)))
        finally:
            source.close()
        out[name] = footage, frames
    return out


def _record(footage, frames, folder):
    people = LivePeople(CONFIG, everyone=True)
    recording = PeopleRecording(folder, "take", people.lifter.skeleton, FPS, write_video=False)
    renamed: dict[int, int] = {}  # performer p is id p + 1, and 10 + p once back after GONE frames unseen
    last: dict[int, int] = {}
    for i, (image, detections) in enumerate(frames):
        found = []
        for det in detections:
            performer = footage.person_at(i, hip_centre(det))
            if performer < 0:
                continue
            if performer not in renamed:
                renamed[performer] = performer + 1
            elif i - last[performer] > GONE:
                renamed[performer] = 10 + performer
            last[performer] = i
            found.append(TrackedPerson(renamed[performer], det))
        recording.append(i / FPS, people.follow(i, i / FPS, found, image), image)
    return [written.take for written in recording.finish()], renamed


def test_someone_back_under_a_new_id_is_one_take(detected, tmp_path):
    footage, frames = detected["back_again"]
    written, renamed = _record(footage, frames, tmp_path)
    assert renamed[1] == 11  # the juggler came back under a new id
    numbers = sorted(p.take.metadata["person"]["number"] for p in written)
    assert numbers == [1, 2], numbers
    juggler = next(p for p in written if p.number == 2)
    assert juggler.take.metadata["person"]["pieces"] == [2, 11]
    in_view = np.isfinite(footage.boxes[:, 1, 0])
    valid = np.zeros(len(frames), bool)
    valid[juggler.first_frame:juggler.first_frame + juggler.take.num_frames] = juggler.take.valid
    assert valid[in_view].mean() > 0.8 and valid[len(frames) - 5:].all()  # both pieces
    listing = json.loads((tmp_path / "take_people.json").read_text())
    assert len(listing["people"]) == 2
    assert not (tmp_path / "take_p11.npz").exists() and not list(tmp_path.glob("*.rec"))
    confidence = juggler.take.joint_confidence
    assert confidence is not None and confidence.shape == juggler.take.joints_m.shape[:2]
    assert np.all(confidence[~juggler.take.valid] == 0) and confidence[juggler.take.valid].mean() > 0.5


def test_someone_else_taking_their_place_stays_someone_else(detected, tmp_path):
    footage, frames = detected["in_their_place"]
    written, _ = _record(footage, frames, tmp_path)
    assert sorted(p.number for p in written) == [1, 2]
    assert all("pieces" not in p.take.metadata["person"] for p in written)
