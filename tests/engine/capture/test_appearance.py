"""What people's clothes look like (engine/capture/appearance.py) and how the tracker uses it:
someone new who comes in where someone left, with the same build, is someone else; the same
person coming back, first seen cut off by the border, is re-found."""

import numpy as np
import pytest

from engine.capture.appearance import appearance, appearance_distance
from engine.capture.detection import Detection
from engine.capture.people import PeopleTracker
from engine.capture.people_tracks import PeopleTracks
from tests.engine.capture.test_people_tracker import IMAGE, figure

GREY_WALL = (118, 118, 118)


def painted(detections: list[tuple[Detection, tuple[int, int, int], tuple[int, int, int]]],
            noise_seed: int = 0) -> np.ndarray:
    """A frame with each figure's torso (shoulders to hips) in one colour and its thighs (hips to
    knees) in another, BGR, over a grey wall with sensor noise."""
    import cv2

    rng = np.random.default_rng(noise_seed)
    image = np.clip(np.full((IMAGE[1], IMAGE[0], 3), GREY_WALL, np.float64) + rng.normal(0, 4, (IMAGE[1], IMAGE[0], 3)),
                    0, 255).astype(np.uint8)
    for det, shirt, trousers in detections:
        kp = det.keypoints_px
        torso = np.array([kp[11], kp[12], kp[24], kp[23]])
        thighs = np.array([kp[23] - [8, 0], kp[24] + [8, 0], kp[26] + [8, 0], kp[25] - [8, 0]])
        widen = np.array([[-14, 0], [14, 0], [10, 0], [-10, 0]])
        cv2.fillConvexPoly(image, np.round(torso + widen).astype(np.int32), shirt)
        cv2.fillConvexPoly(image, np.round(thighs).astype(np.int32), trousers)
    return image


RED, GREEN, BLUE, BLACK = (40, 40, 200), (40, 170, 40), (170, 60, 30), (20, 20, 20)


def test_the_same_clothes_look_alike_anywhere_and_other_clothes_do_not():
    a, b = figure(200), figure(430, height=200)
    one = appearance(painted([(a, RED, BLUE)]), a)
    same = appearance(painted([(b, RED, BLUE)], noise_seed=1), b)
    other_shirt = appearance(painted([(b, GREEN, BLUE)]), b)
    other_trousers = appearance(painted([(b, RED, BLACK)]), b)
    assert one.shape == (2, one.shape[1]) and np.allclose(one.sum(axis=1), 1.0)
    assert appearance_distance(one, same) < 0.2
    assert appearance_distance(one, other_shirt) > 0.7
    assert appearance_distance(one, other_trousers) > 0.7  # one region differing is enough


def test_no_look_without_a_torso_and_no_distance_without_a_region_in_common():
    a = figure(300)
    hidden = Detection(a.keypoints_px, np.where(np.arange(33) == 11, 0.1, a.scores), None, IMAGE)
    assert appearance(painted([(a, RED, BLUE)]), hidden) is None
    no_knees = Detection(a.keypoints_px, np.where(np.isin(np.arange(33), (25, 26)), 0.1, a.scores), None, IMAGE)
    torso_only = appearance(painted([(a, RED, BLUE)]), no_knees)
    assert np.isnan(torso_only[1]).all() and not np.isnan(torso_only[0]).any()
    assert appearance_distance(None, torso_only) is None
    thighs_only = np.full_like(torso_only, np.nan)
    thighs_only[1] = 1.0 / thighs_only.shape[1]
    assert appearance_distance(torso_only, thighs_only) is None


def cut_off(det: Detection) -> Detection:
    """The figure entering from the bottom edge: its hips and shoulders not yet seen confidently."""
    scores = det.scores.copy()
    scores[[11, 12, 23, 24, 25, 26]] = 0.2
    return Detection(det.keypoints_px, scores, None, IMAGE)


def _run(frames):
    """frames: lists of (detection, shirt, trousers) -> (tracks, merges seen)."""
    tracker, tracks, merges = PeopleTracker(), PeopleTracks(), []
    for i, people in enumerate(frames):
        t = i / 25
        tracks.append(t, tracker.update(t, [d for d, _, _ in people], painted(people, noise_seed=i)), IMAGE)
        for newcomer, person in tracker.take_merges():
            tracks.merge(newcomer, person)
            merges.append((newcomer, person))
    return tracks, merges


def _leaves_then(comes_in: tuple[tuple[int, int, int], tuple[int, int, int]], first_frames_cut_off: bool):
    """A person in red and blue stands at x = 320 for 2 s, is gone for 3 s, then someone of the
    same build comes in at the same place (cut off by the border at first, or not) for 2 s."""
    frames = [[(figure(320), RED, BLUE)] for _ in range(50)] + [[] for _ in range(75)]
    for i in range(50):
        det = figure(320)
        frames.append([(cut_off(det) if first_frames_cut_off and i < 5 else det, *comes_in)])
    return frames


@pytest.mark.parametrize("cut", [False, True], ids=["seen-at-once", "cut-off-at-first"])
def test_someone_else_who_comes_in_where_a_person_left_is_someone_else(cut):
    tracks, _ = _run(_leaves_then((GREEN, BLACK), cut))
    assert len(tracks.people()) == 2
    first, second = tracks.people()
    assert tracks.span(first) == (0, 50) and tracks.span(second) == (125, 175)


@pytest.mark.parametrize("cut", [False, True], ids=["seen-at-once", "cut-off-at-first"])
def test_the_same_person_coming_back_is_re_found(cut):
    tracks, merges = _run(_leaves_then((RED, BLUE), cut))
    assert len(tracks.people()) == 1
    assert tracks.frames_seen(tracks.people()[0]) == 100
    assert bool(merges) == cut  # cut off at first: a newcomer until the clothes are seen, then the same person


def test_without_images_the_tracker_keeps_re_finding_by_build_alone():
    tracker, tracks = PeopleTracker(), PeopleTracks()
    for i, people in enumerate(_leaves_then((GREEN, BLACK), False)):
        tracks.append(i / 25, tracker.update(i / 25, [d for d, _, _ in people]), IMAGE)
    assert len(tracks.people()) == 1
