"""Live capture of several people (engine/session/live_people.py): one causal temporal stage per
person, the lock-on never handing over, state dropped with the people forgotten; a soak."""

import gc
import tracemalloc

import numpy as np
import pytest

from engine.capture.detection import Detection
from engine.capture.people import PeopleConfig
from engine.lift.modes import LiftConfig
from engine.session.live_people import LivePeople
from engine.session.pipeline import PipelineConfig
from tests.engine.capture.test_people_tracker import IMAGE, figure

CONFIG = PipelineConfig(lift=LiftConfig(mode="detector"), people=PeopleConfig(forget_s=2.0), live_calibration_s=0.5)
_WORLD = np.random.default_rng(1).normal(0, 0.3, (33, 3))


def person(x: float, height: float = 250.0) -> Detection:
    d = figure(x, height)
    return Detection(d.keypoints_px, d.scores, _WORLD.copy(), IMAGE)


def test_everyone_gets_their_own_stage_and_hidden_means_nobody():
    live = LivePeople(CONFIG, everyone=True)
    seen = {}
    for i in range(140):  # the second person is gone for 2.8 s at the end, longer than forget_s
        dets = [person(150)] + ([person(450, 220)] if 20 <= i < 70 else [])
        for p in live.push(i, i / 25, dets):
            seen.setdefault(p.id, []).append(p.pose.joints_m is not None)
    assert sorted(seen) == [1, 2]
    assert all(seen[1])
    assert sum(seen[2]) == 50  # a pose only while in view
    assert live.tracked_ids == [1]  # the second person was forgotten after forget_s, with their stage


def test_lock_on_follows_one_person_only():
    live = LivePeople(CONFIG)
    got = []
    for i in range(80):
        dets = [person(120, 180)] + ([person(320, 300)] if not 30 <= i < 50 else [])
        out = live.push(i, i / 25, dets)
        assert len(out) == 1
        got.append((out[0].id, out[0].pose.detection))
    assert {pid for pid, _ in got} == {2}  # the large, central one
    assert all(det is None for _, det in got[30:50])
    assert all(det is not None and abs(det.keypoints_px[23, 0] - 320) < 100 for _, det in got[50:])
    live.choose(1)
    assert live.push(80, 80 / 25, [person(120, 180), person(320, 300)])[0].id == 1


@pytest.mark.slow
def test_live_people_soak_memory_flat():
    live = LivePeople(CONFIG, everyone=True)

    def run(start, n):
        for i in range(start, start + n):
            k = (i // 150) % 3 + 1
            live.push(i, i / 25, [person(100 + 200 * j + 10 * np.sin(i / 7)) for j in range(k)])

    run(0, 450)
    gc.collect()
    tracemalloc.start()
    run(450, 300)
    before = tracemalloc.get_traced_memory()[0]
    run(750, 1500)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(live.tracked_ids) <= 3
    assert after - before < 300_000


def test_tracking_stage_restarts_the_tracker_for_another_person():
    from engine.capture.frames import Frame
    from engine.session.live_stage import TrackingStage
    from engine.session.pipeline import LiveTracker

    tracker = LiveTracker(CONFIG)
    image = np.zeros((4, 4, 3), np.uint8)
    calibrated = []
    with TrackingStage(tracker, lambda frame, det, pose, item: calibrated.append(tracker.calibrated)) as stage:
        for i in range(30):
            stage.submit(Frame(i, int(i * 4e7), image), person(200))
        stage.submit(Frame(30, int(30 * 4e7), image), person(420, 200), restart=True)
    assert calibrated[29] and not calibrated[30]  # bone lengths and floor are measured again


class _TwoPeople:
    """A detector that sees a small person at the left and a large one in the middle (hidden
    in frames 20-29), for the session's stream."""

    def __init__(self):
        self.i = 0

    def __call__(self, config):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def detect_people(self, image_bgr, timestamp_ns):
        self.i += 1
        return [person(120, 180)] + ([] if 20 <= self.i - 1 < 30 else [person(320, 300)])


class _Blank:
    is_live = False
    name = "blank"
    fps = 25.0
    frame_count = 60

    def __iter__(self):
        from engine.capture.frames import Frame

        return (Frame(i, int(i * 4e7), np.zeros((360, 640, 3), np.uint8)) for i in range(self.frame_count))

    def close(self):
        pass


def test_session_stream_locks_on_and_switches_on_request():
    from engine.session.events import SessionEvents
    from engine.session.session import Session

    got = []
    session = None

    def on_pose(t):
        got.append(t)
        if t.frame.index == 40:
            session.choose_person(1)

    session = Session(_Blank(), CONFIG, SessionEvents(pose=on_pose), detector=_TwoPeople(), overlap_tracking=False)
    end = session.stream()
    assert end.error is None and len(got) == 60
    assert all(len(t.people) == (1 if 20 <= t.frame.index < 30 else 2) for t in got)
    followed = [(t.person_id, t.pose.detection) for t in got]
    assert {pid for pid, _ in followed[:41]} == {2}  # the large, central one
    assert all(det is None for _, det in followed[20:30])  # hidden: nobody, not the other one
    assert all(pid == 1 and abs(det.keypoints_px[23, 0] - 120) < 50 for pid, det in followed[42:])
