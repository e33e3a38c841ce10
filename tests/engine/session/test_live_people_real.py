"""Live capture (Session.stream) on real footage with two people (tests/engine/people_footage.py):
the watchful detector (engine/capture/live_detector.py) tracks one person cheaply while nobody
else is in view, and still no identity ever switches and the person followed is never swapped."""

import numpy as np
import pytest

from engine.capture.frames import VideoFileSource
from engine.capture.live_detector import WatchfulDetector, live_detector
from engine.capture.people import hip_centre
from engine.capture.people_tracks import PeopleTracks
from engine.lift.modes import LiftConfig
from engine.session.events import SessionEvents
from engine.session.pipeline import PipelineConfig
from engine.session.session import Session
from tests.engine.people_footage import CROSSING_FAILS_ON_THE_SAMPLE, crossing, identity_switches, leave_and_return, make_footage

TAIJI, JUGGLER = 0, 1
CONFIG = PipelineConfig(lift=LiftConfig(mode="detector"))


def walks_in(t: int = 96) -> np.ndarray:
    """The taiji man alone at the left for 1 s; then the juggler walks in from beyond the right
    edge and stops beside him."""
    lefts = np.full((t, 2), np.nan)
    lefts[:, 0] = 40.0
    lefts[24:60, 1] = np.linspace(640.0, 400.0, 36)
    lefts[60:, 1] = 400.0
    return lefts


def alone(t: int = 60) -> np.ndarray:
    lefts = np.full((t, 2), np.nan)
    lefts[:, 0] = 230.0
    return lefts


SCENARIOS = {"walks_in": walks_in, "crossing": crossing, "leave_and_return": leave_and_return, "alone": alone}


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live_people")
    out = {}
    for name, lefts in SCENARIOS.items():
        footage = make_footage(folder / f"{name}.mp4", lefts())
        frames, made = [], []

        def detector(config):
            made.append(live_detector(config))
            return made[-1]

        end = Session(VideoFileSource(footage.path), CONFIG, SessionEvents(pose=frames.append),
                      detector=detector).stream()
        assert end.error is None and len(frames) == len(lefts())
        out[name] = footage, frames, made[0]
    return out


@pytest.mark.parametrize("name", ["walks_in", pytest.param("crossing", marks=CROSSING_FAILS_ON_THE_SAMPLE),
                                  "leave_and_return"])
def test_live_no_identity_switch_and_the_person_followed_is_never_swapped(streamed, name):
    footage, frames, detector = streamed[name]
    tracks = PeopleTracks()
    for t in frames:
        tracks.append(t.pose.timestamp_s, list(t.people))
        for newcomer, person in t.merges:
            tracks.merge(newcomer, person)
    switches, given = identity_switches(footage, tracks)
    assert switches == 0, given
    assert all(len(ids) == 1 for ids in given.values()) and given[TAIJI] != given[JUGGLER], given
    followed = {t.person_id for t in frames}
    assert len(followed) == 1
    owners = {footage.person_at(t.frame.index, hip_centre(t.pose.detection)) for t in frames
              if t.pose.detection is not None}
    assert len(owners - {-1}) == 1, owners
    assert sum(t.pose.detection is not None for t in frames) > 15


def test_the_one_person_landmarker_runs_while_nobody_else_is_in_view(streamed):
    _, frames, detector = streamed["alone"]
    assert isinstance(detector, WatchfulDetector)
    assert detector.frames == len(frames)
    assert detector.looks <= len(frames) / detector.config.look_every + 3  # one in five, and a few doubts
    assert all(t.pose.detection is not None for t in frames[1:])


def test_someone_walking_in_is_seen_about_as_soon_as_by_looking_every_frame(streamed):
    from engine.capture.detector import PoseDetector

    footage, frames, detector = streamed["walks_in"]
    assert detector.looks < len(frames)  # the first second: mostly the one-person landmarker
    assert all(len(t.people) == 1 for t in frames[:24])

    def juggler(i, detection):
        return footage.person_at(i, hip_centre(detection)) == JUGGLER

    seen_live = min(t.frame.index for t in frames for p in t.people if juggler(t.frame.index, p.detection))
    with PoseDetector() as plain:  # looking for two people on every frame
        seen_plain = next(f.index for f in VideoFileSource(footage.path)
                          if any(juggler(f.index, d) for d in plain.detect_people(f.image, f.timestamp_ns)))
    assert seen_live <= seen_plain + detector.config.look_every, (seen_live, seen_plain)


def test_live_detector_choice_and_bad_settings():
    from engine.capture.detector import DetectorConfig, PoseDetector

    with live_detector(DetectorConfig(max_people=1)) as one, live_detector(DetectorConfig(look_every=1)) as every:
        assert type(one) is PoseDetector and type(every) is PoseDetector
    for bad in ({"look_every": 0}, {"crowded_frames": -1}, {"keep_iou": 1.5}):
        with pytest.raises(ValueError, match="look_every"):
            DetectorConfig(**bad)
