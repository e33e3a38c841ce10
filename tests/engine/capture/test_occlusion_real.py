"""One person really hidden by another (tests/engine/occlusion_footage.py: the person in front's
own pixels pasted over the other, cut out by the pose model's segmentation mask): walking behind
someone who stands still, and two people crossing. Each person gets a take of their own, found
while at least half of them is in view, and no take holds both."""

from dataclasses import replace

import pytest

from engine.capture.detector import PoseDetector
from engine.capture.frames import VideoFileSource
from engine.capture.people import PeopleConfig
from engine.session.people_takes import detector_for
from engine.session.pipeline import detect_people_source
from tests.engine.occlusion_footage import crossing_paths, found_share, make_occlusion, takes_people, walking_behind
from tests.engine.people_footage import made_from_the_sample_clip

BEHIND, FRONT = 0, 1
SCENES = {"walking_behind": walking_behind, "crossing_paths": crossing_paths}
FPS = 24.0
# On the sample clip's footage (the shared clips absent), where the same man plays both people:
# as the two overlap most, the detector's one frame of the man behind lands in the take of the
# man in front (the two are a few pixels apart, and neither is seen clear to tell their clothes).
MIXES_ON_THE_SAMPLE = pytest.mark.xfail(
    made_from_the_sample_clip(), strict=False,
    reason="footage made from the sample clip: in the frame where they overlap most, the man in front's take "
           "holds one detection of the man behind")


def _tracks(path, peel: bool = True):
    source = VideoFileSource(path)
    try:
        with PoseDetector(replace(detector_for(None), peel=peel)) as detector:
            return detect_people_source(source, detector)
    finally:
        source.close()


@pytest.fixture(scope="module")
def occluded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("occlusion")
    out = {}
    for name, placements in SCENES.items():
        footage = make_occlusion(folder / f"{name}.mp4", placements(), fps=FPS)
        out[name] = (footage, _tracks(footage.path))
    return out


def _numbered(tracks):
    people = PeopleConfig()
    return tracks.people(people.min_frames(FPS), people.min_height_ratio)


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(name, marks=MIXES_ON_THE_SAMPLE) for name in SCENES])
def test_each_person_gets_one_take_that_holds_them_alone(occluded, name):
    footage, tracks = occluded[name]
    held = takes_people(footage, tracks, _numbered(tracks))
    owners = {pid: {p for p in counts if p >= 0} for pid, counts in held.items()}
    assert all(len(who) == 1 for who in owners.values()), held  # never two people in one take
    for performer in (BEHIND, FRONT):
        assert sum(performer in who for who in owners.values()) == 1, held  # one take each, not pieces


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENES))
def test_the_person_behind_is_found_while_half_of_them_is_in_view(occluded, name):
    footage, tracks = occluded[name]
    # frames where the two overlap are not clearly either's (tests/engine/occlusion_footage.py): under 1
    assert found_share(footage, tracks, _numbered(tracks), FRONT) >= 0.85
    assert found_share(footage, tracks, _numbered(tracks), BEHIND) >= 0.8


@pytest.mark.slow
def test_without_looking_behind_the_people_found_the_person_behind_is_lost_more(occluded):
    """What the second look behind the people found buys on this footage."""
    footage, tracks = occluded["walking_behind"]
    plain = _tracks(footage.path, peel=False)
    assert found_share(footage, plain, _numbered(plain), BEHIND) < found_share(footage, tracks, _numbered(tracks), BEHIND)
