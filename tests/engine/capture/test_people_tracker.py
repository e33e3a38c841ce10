"""The people tracker and the lock-on rule on generated detections: identities kept through
swapped detector order, crossings, occlusions and leaving; never a hand-over to someone else."""

import gc
import tracemalloc

import numpy as np
import pytest

from engine.capture.detection import Detection
from engine.capture.lock_on import LockOn, choose_person, presence_score
from engine.capture.people import PeopleConfig, PeopleTracker, body_descriptor, hip_centre
from engine.capture.people_tracks import PeopleTracks

IMAGE = (640, 360)
# a standing figure, one unit tall, feet at y = 1: (BlazePose index, x, y)
_FIGURE = {0: (0.0, 0.06), 11: (-0.12, 0.2), 12: (0.12, 0.2), 13: (-0.16, 0.36), 14: (0.16, 0.36),
           15: (-0.18, 0.5), 16: (0.18, 0.5), 23: (-0.08, 0.52), 24: (0.08, 0.52), 25: (-0.09, 0.75),
           26: (0.09, 0.75), 27: (-0.1, 0.97), 28: (0.1, 0.97)}


def figure(x: float, height: float = 250.0, arm: float = 1.0, leg: float = 1.0, y_feet: float = 340.0) -> Detection:
    """A person standing with the hip centre at image x; `arm`, `leg` scale those limbs."""
    kp = np.zeros((33, 2))
    sc = np.full(33, 0.9)
    for i in range(33):
        fx, fy = _FIGURE.get(i, (0.0, 0.05))
        if i in (13, 14, 15, 16):
            fx, fy = fx * arm, 0.2 + (fy - 0.2) * arm
        if i in (25, 26, 27, 28):
            fy = 0.52 + (fy - 0.52) * leg
        kp[i] = (x + fx * height, y_feet - (1.0 - fy) * height)
    return Detection(kp, sc, None, IMAGE)


def run(tracker, frames, fps=25.0):
    tracks = PeopleTracks()
    for i, dets in enumerate(frames):
        tracks.append(i / fps, tracker.update(i / fps, dets), IMAGE)
    return tracks


def ids_by_truth(tracks, truth_of):
    """truth_of(frame, detection) -> truth label; returns {label: set of ids}."""
    out = {}
    for pid in tracks.people():
        track = tracks.track(pid)
        for i in range(len(track)):
            det = track.detection(i)
            if det is not None:
                out.setdefault(truth_of(i, det), set()).add(pid)
    return out


def test_detector_order_does_not_matter():
    frames = []
    for i in range(60):
        a, b = figure(150 + i), figure(450 - i, height=230)
        frames.append([a, b] if i % 3 else [b, a])
    tracks = run(PeopleTracker(), frames)
    assert ids_by_truth(tracks, lambda i, d: "a" if hip_centre(d)[0] < 300 else "b") == {"a": {1}, "b": {2}}


def test_crossing_behind_keeps_both_identities():
    """b walks left to right past a; while they overlap only the one in front (b) is detected."""
    frames = []
    for i in range(80):
        xb = 100 + 6 * i
        a, b = figure(320), figure(xb, height=260)
        hidden = abs(xb - 320) < 120
        frames.append([b] if hidden else [a, b])
    tracks = run(PeopleTracker(), frames)
    got = ids_by_truth(tracks, lambda i, d: "a" if abs(hip_centre(d)[0] - 320) < 1 and not abs(100 + 6 * i - 320) < 1 else "b")
    assert len(got["a"]) == 1 and len(got["b"]) == 1 and got["a"] != got["b"]


def test_leaving_and_coming_back_is_the_same_person():
    frames = []
    for i in range(150):
        a = figure(120)
        if i < 30:
            frames.append([a, figure(400 + 8 * i, arm=0.8, leg=1.2)])
        elif i < 100:  # b is out of view for 2.8 s
            frames.append([a])
        else:
            frames.append([a, figure(640 - 5 * (i - 100), arm=0.8, leg=1.2)])
    tracks = run(PeopleTracker(), frames)
    got = ids_by_truth(tracks, lambda i, d: "a" if abs(hip_centre(d)[0] - 120) < 1 else "b")
    assert got == {"a": {1}, "b": {2}}


def test_someone_else_far_away_after_a_long_absence_is_new():
    """Body proportions unlike the lost person's: a new identity, not a re-found one."""
    frames = [[figure(500, height=220, arm=0.7, leg=1.3, y_feet=290)] for _ in range(20)] + [[] for _ in range(20)]
    frames += [[figure(120, height=220, arm=1.3, leg=0.8, y_feet=290)] for _ in range(20)]
    tracks = run(PeopleTracker(), frames)
    assert tracks.people() == [1, 2]
    assert tracks.span(1) == (0, 20) and tracks.span(2) == (40, 60)


def test_forgotten_after_forget_s():
    config = PeopleConfig(forget_s=1.0)
    frames = [[figure(300)] for _ in range(10)] + [[] for _ in range(50)] + [[figure(300)] for _ in range(10)]
    tracks = run(PeopleTracker(config), frames)
    assert tracks.people() == [1, 2]


def test_duplicates_of_one_person_are_dropped():
    a = figure(300)
    twin = Detection(a.keypoints_px + 3.0, a.scores * 0.9, None, IMAGE)
    tracker = PeopleTracker()
    assert len(tracker.update(0.0, [a, twin])) == 1
    assert len(tracker.update(0.04, [figure(300), figure(520)])) == 2


def test_descriptor_ignores_bodies_cut_by_the_border():
    assert body_descriptor(figure(320)) is not None
    assert body_descriptor(figure(5)) is None  # half out of the image


def test_lock_on_rule_prefers_large_and_central_over_the_clip():
    big_centre = presence_score(figure(320, height=300))
    small_side = presence_score(figure(60, height=150))
    assert big_centre > 3 * small_side
    assert choose_person({1: 2.0, 2: 5.0, 3: 5.0}) == 2
    frames = [[figure(60, height=200), figure(330, height=300)] for _ in range(30)]
    assert run(PeopleTracker(), frames).chosen() == 2


def test_live_lock_on_never_hands_over():
    tracker, lock = PeopleTracker(), LockOn()
    picked = []
    for i in range(120):
        t = i / 25
        dets = [figure(200, height=200)]
        if i < 40 or i >= 80:  # the locked-on person (large, central) is hidden between
            dets.append(figure(330, height=300))
        picked.append(lock.pick(tracker.update(t, dets)))
    assert lock.person_id is not None
    xs = [None if d is None else hip_centre(d)[0] for d in picked]
    assert all(x is None for x in xs[40:80])  # hidden: nobody, never the other person
    assert all(abs(x - 330) < 1 for x in xs[:40] + xs[80:])
    lock.choose(1)
    assert abs(hip_centre(lock.pick(tracker.update(5.0, [figure(200, height=200), figure(330, height=300)])))[0] - 200) < 1


def test_tracker_soak_memory_flat():
    """Thousands of frames, people coming and going: state stays bounded and memory flat."""
    tracker = PeopleTracker(PeopleConfig(forget_s=2.0))
    rng = np.random.default_rng(0)

    def frames(n, start):
        for i in range(start, start + n):
            k = (i // 200) % 3 + 1  # one to three people, changing every 8 s
            dets = [figure(100 + 200 * j + 20 * np.sin(i / 10 + j) + rng.normal(0, 1)) for j in range(k)]
            tracker.update(i / 25, dets)

    frames(600, 0)
    gc.collect()
    tracemalloc.start()
    frames(400, 600)
    before = tracemalloc.get_traced_memory()[0]
    frames(2400, 1000)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(tracker.known_ids) <= 6
    assert after - before < 200_000


def test_bad_config_is_refused():
    with pytest.raises(ValueError):
        PeopleConfig(coast_s=0)


def test_someone_far_smaller_than_the_tallest_gets_no_number():
    """A quarter of the tallest one's height at least (a piece of furniture the detector takes for
    a person, someone far in the background: no take)."""
    frames = [[figure(200, height=250), figure(520, height=50)] for _ in range(40)]
    frames += [[figure(200, height=250), figure(440, height=120)] for _ in range(40)]
    tracks = run(PeopleTracker(), frames)
    assert len(tracks.people(10)) == 3
    kept = tracks.people(10, PeopleConfig().min_height_ratio)
    assert len(kept) == 2 and tracks.track(kept[1]).median_height_px() > 100
