"""Everyone a live session tracks, in 3D and recorded one take per person
(engine/session/people_sink.py, people_recorder.py), on footage of two real people."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from engine.capture.frames import VideoFileSource
from engine.core.take import load_npz
from engine.session.events import SessionEvents
from engine.session.people_sink import PeopleSink
from engine.session.people_takes import detector_for
from engine.session.pipeline import PipelineConfig
from engine.session.recorder import next_take_name, recover_all
from engine.session.session import Session
from tests.engine.people_footage import make_footage


def _late_and_early(t: int = 60) -> np.ndarray:
    """The juggler stands at the right from frame 15 to frame 44 only; the taiji man throughout."""
    lefts = np.empty((t, 2))
    lefts[:, 0] = 60.0
    lefts[:, 1] = np.nan
    lefts[15:45, 1] = 400.0
    return lefts


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    return make_footage(tmp_path_factory.mktemp("people") / "late_and_early.mp4", _late_and_early())


def _stream(path, takes, record=True, snapshot_at=None, snapshot=None):
    config = PipelineConfig(detector=detector_for(2))
    saved, states = [], []
    sink = PeopleSink(config, takes, SessionEvents(recording=states.append, take_saved=saved.append))
    poses = {}

    class Watch:
        def on_pose(self, frame):
            poses[frame.frame.index] = {p.id: p.pose.joints_m for p in sink.latest}
            if frame.frame.index == snapshot_at:  # what a crash here would leave on disk
                snapshot.mkdir()
                for f in takes.iterdir():
                    shutil.copy(f, snapshot / f.name)

        def close(self):
            pass

    session = Session(VideoFileSource(path), config, SessionEvents(opened=sink.opened), takes_dir=takes)
    session.add_sink(sink)
    session.add_sink(Watch())
    sink.set_recording(record)
    end = session.stream(realtime=False)
    return end, sink, poses, saved, states


def test_everyone_in_one_world_and_recorded_one_take_each(footage, tmp_path):
    takes = tmp_path / "takes"
    end, sink, poses, saved, states = _stream(footage.path, takes)
    assert end.error is None and end.frames == 60
    both = [i for i, p in poses.items() if sum(j is not None for j in p.values()) == 2]
    assert len(both) >= 20  # the juggler's frames
    # one world: the two stand about a third of the canvas apart, side by side, not on top of each other
    gap = [abs(poses[i][2][0, 0] - poses[i][1][0, 0]) for i in both]
    assert 0.5 < float(np.median(gap)) < 4.0
    assert [s.recording for s in states] == [True, False]
    stem = states[0].name
    assert sorted(s.name for s in saved) == [f"{stem}_p1", f"{stem}_p2"]
    listing = json.loads((takes / f"{stem}_people.json").read_text())
    spans = {p["number"]: (p["first_frame"], p["last_frame"]) for p in listing["people"]}
    assert spans[1][0] <= 1 and spans[1][1] >= 58
    assert 13 <= spans[2][0] <= 18 and 42 <= spans[2][1] <= 46  # the juggler's frames only
    juggler = load_npz(takes / f"{stem}_p2.npz")
    assert juggler.num_frames == spans[2][1] - spans[2][0] + 1
    assert juggler.timestamps_s[0] == pytest.approx(spans[2][0] / 24.0, abs=1e-3)  # the recording's clock
    assert (takes / f"{stem}.avi").is_file() and (takes / f"{stem}_p1.json").is_file()
    assert not list(takes.glob("*.rec*"))
    assert next_take_name(takes) != stem  # STEM_pN uses STEM


def test_a_crash_leaves_each_person_recoverable(footage, tmp_path):
    takes, crashed = tmp_path / "takes", tmp_path / "crashed"
    end, *_ = _stream(footage.path, takes, snapshot_at=40, snapshot=crashed)
    assert end.error is None
    assert sorted(p.name for p in crashed.glob("*.rec")) == ["take_001_p1.rec", "take_001_p2.rec"]
    recovered = dict(recover_all(crashed))
    assert sorted(recovered) == ["take_001_p1", "take_001_p2"]
    assert load_npz(recovered["take_001_p1"]).num_frames >= 30


def test_one_person_alone_costs_nothing_more_until_someone_else_comes(footage, tmp_path):
    end, sink, poses, _, states = _stream(footage.path, tmp_path / "takes", record=False)
    assert end.error is None and not states
    assert all(not poses[i] for i in range(0, 14))  # only the taiji man: the session's pose is his
    assert sum(len(poses[i]) == 2 for i in range(16, 44)) >= 20  # the juggler came: both in one world


def test_the_one_left_when_the_person_followed_walked_out_is_in_3d(tmp_path):
    """Long after the person followed walked out (past the people tracker's forget_s), the one left in
    view still has a 3D pose here: the session's own pose is not theirs."""
    lefts = np.empty((96, 2))
    lefts[:, 0] = np.concatenate([np.full(10, 230.0), np.linspace(230.0, -400.0, 20), np.full(66, np.nan)])
    lefts[:, 1] = 450.0  # the one in the middle is the one the lock-on follows
    clip = make_footage(tmp_path / "walk_away.mp4", lefts)
    config = PipelineConfig(detector=detector_for(2))
    config = replace(config, people=replace(config.people, forget_s=1.0))  # so that a short clip gets past it
    sink = PeopleSink(config, tmp_path / "takes")
    seen = {}

    class Watch:
        def on_pose(self, frame):
            seen[frame.frame.index] = (frame.person_id, {p.id for p in frame.people}, {p.id for p in sink.latest})

        def close(self):
            pass

    session = Session(VideoFileSource(clip.path), config, SessionEvents(opened=sink.opened))
    session.add_sink(sink)
    session.add_sink(Watch())
    assert session.stream(realtime=False).error is None
    followed = seen[5][0]
    late = [seen[i] for i in range(70, 96) if i in seen]
    assert len(late) >= 20 and all(pid == followed and followed not in ids for pid, ids, _ in late)
    assert all(ids and posed == ids for _, ids, posed in late), late
