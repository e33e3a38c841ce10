"""A person sitting down behind a table (tests/engine/occlusion_footage.py: a box of real pixels in
front of him hides him from about the hips down for over a second, while someone else stands in
clear view), through `--people all` (Session.process_people) and live Record everyone
(PeopleSink): his take is one take, of him alone; the joints the table hides carry a low
confidence; their 3D stays a body's (bone lengths held, hips to ankles a leg's length, no jumps)."""

from types import SimpleNamespace

import numpy as np
import pytest

from engine.capture.frames import VideoFileSource
from engine.session.events import SessionEvents
from engine.session.people_sink import PeopleSink
from engine.session.people_takes import detector_for
from engine.session.pipeline import PipelineConfig
from engine.session.session import Session
from tests.engine.occlusion_footage import behind_a_table, make_occlusion

FPS = 24.0
SITTER, STANDING = 0, 1
LEGS_33 = [25, 26, 27, 28]  # MediaPipe knees and ankles
LEGS = ("left_knee", "right_knee", "left_ankle", "right_ankle")
CONFIG = PipelineConfig(detector=detector_for(None))


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    placements, box = behind_a_table()
    return make_occlusion(tmp_path_factory.mktemp("table") / "behind_a_table.mp4", placements, fps=FPS, table=box)


@pytest.fixture(scope="module")
def offline(table):
    return Session(VideoFileSource(table.path), CONFIG).process_people()


@pytest.fixture(scope="module")
def live(table, tmp_path_factory):
    takes = tmp_path_factory.mktemp("table_live")
    saved = []
    sink = PeopleSink(CONFIG, takes, SessionEvents(take_saved=saved.append))
    session = Session(VideoFileSource(table.path), CONFIG, SessionEvents(opened=sink.opened), takes_dir=takes)
    session.add_sink(sink)
    sink.set_recording(True)
    end = session.stream(realtime=False)
    assert end.error is None
    return saved


def _whose(table, first_frame: int, take) -> np.ndarray:
    """(T,) the performer each frame of a take is (-1: not clearly anyone, or no one)."""
    out = np.full(take.num_frames, -1)
    for row in np.flatnonzero(take.valid):
        det = SimpleNamespace(keypoints_px=take.keypoints_px[row], scores=take.keypoint_scores[row])
        out[row] = table.person_of(first_frame + row, det)
    return out


def _one_take_each(table, takes: list[tuple[int, object]]) -> dict[int, tuple[int, object]]:
    """performer -> (first frame, take): exactly one take is each performer's, none holds the other."""
    owners = {}
    for first, take in takes:
        whose = _whose(table, first, take)
        mine = np.bincount(whose[whose >= 0], minlength=2)
        owner = int(np.argmax(mine))
        assert mine.sum() - mine[owner] <= 1, (first, mine)
        assert owner not in owners, "one person in two takes"
        owners[owner] = first, take
    assert sorted(owners) == [SITTER, STANDING], owners
    return owners


def _hidden_frames(table, first: int, take) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the take where the table hides all of his knees and ankles, and where none."""
    rows = np.arange(take.num_frames)
    hidden = np.array([table.behind_table(first + r, SITTER)[LEGS_33].all() for r in rows])
    clear = np.array([not table.behind_table(first + r, SITTER)[LEGS_33].any() for r in rows])
    return rows[hidden & take.valid], rows[clear & take.valid]


def _legs_low_confidence(table, first: int, take) -> None:
    hidden, clear = _hidden_frames(table, first, take)
    assert len(hidden) >= 20 and len(clear) >= 10
    legs = [take.skeleton.joint_names.index(n) for n in LEGS]
    confidence = take.per_joint_confidence()[:, legs]
    assert confidence[hidden].mean() < 0.5 < 0.9 < confidence[clear].mean(), (confidence[hidden].mean(),
                                                                               confidence[clear].mean())


def _legs_plausible(take, rows: np.ndarray, max_step_m: float) -> None:
    """Over `rows`: thighs and shins within 10 % of their length over the take, hips to ankles a
    leg's length, and no knee or ankle moving more than `max_step_m` relative to the hips from one
    frame to the next."""
    names = take.skeleton.joint_names
    j = {n: names.index(n) for n in names}
    joints = take.joints_m
    for side in ("left", "right"):
        hip, knee, ankle = (joints[:, j[f"{side}_{p}"]] for p in ("hip", "knee", "ankle"))
        for a, b in ((hip, knee), (knee, ankle)):
            bone = np.linalg.norm(a - b, axis=1)
            assert np.nanmax(np.abs(bone[rows] / np.nanmedian(bone[take.valid]) - 1)) < 0.1, side
        reach = np.linalg.norm(hip - ankle, axis=1)[rows]
        assert np.all((reach > 0.45) & (reach < 1.05)), reach
    legs = [j[n] for n in LEGS]
    rel = joints[:, legs] - joints[:, [j["pelvis"]]]
    steps = np.linalg.norm(np.diff(rel, axis=0), axis=-1)  # m per frame, relative to the hips
    pairs = rows[rows + 1 < take.num_frames]
    pairs = pairs[take.valid[pairs + 1]]
    assert np.nanmax(steps[pairs]) < max_step_m, np.nanmax(steps[pairs])


@pytest.mark.slow
def test_people_all_keeps_the_man_behind_the_table_in_one_plausible_take(table, offline):
    owners = _one_take_each(table, [(p.first_frame, p.take) for p in offline])
    first, take = owners[SITTER]
    assert take.valid.mean() > 0.9 and first == 0
    _legs_low_confidence(table, first, take)
    hidden, _ = _hidden_frames(table, first, take)
    _legs_plausible(take, hidden, 0.1)  # 2.4 m/s at 24 fps, from his own motion: no jumps


@pytest.mark.slow
def test_recording_everyone_live_keeps_the_man_behind_the_table_in_one_take(table, live):
    owners = _one_take_each(table, [(s.take.metadata["first_frame"], s.take) for s in live])
    first, take = owners[SITTER]
    assert take.valid.mean() > 0.9
    _legs_low_confidence(table, first, take)
    hidden, _ = _hidden_frames(table, first, take)
    # live, causal: bone lengths come from the legs seen well (LiveTemporal); where the detector is
    # sure (0.6-0.7) of legs it cannot see, as he gets up, they may swing by up to ~0.35 m in a frame
    _legs_plausible(take, hidden, 0.5)

