"""The recorder keeps a take on disk as it grows; a cut-short recording is recovered."""

import numpy as np

from engine.capture.frames import Frame
from engine.capture.latest_frame import LatestFrameGrabber
from engine.core.skeletons import MONOCAP_BODY
from engine.session.recorder import TakeRecorder, list_takes, read_recording, recover_all


def _joints(i):
    return np.full((MONOCAP_BODY.num_joints, 3), float(i))


def test_records_survive_a_crash_and_are_recovered(tmp_path):
    rec = TakeRecorder(tmp_path, "take_001", MONOCAP_BODY, fps=30.0, flush_s=0.0, write_video=False)
    for i in range(5):
        rec.append(i / 30, _joints(i) if i != 2 else None, np.zeros((33, 2)), np.ones(33))
    # simulate a crash: a torn half record at the end, files never finished
    rec._fh.write(b"\x01\x02\x03")
    rec._fh.flush()
    partial = read_recording(tmp_path, "take_001")
    assert partial.num_frames == 5
    assert partial.valid.tolist() == [True, True, False, True, True]
    assert partial.joints_m[4, 0, 0] == 4.0
    rec.abort()
    recovered = recover_all(tmp_path)
    assert [n for n, _ in recovered] == ["take_001"]
    assert list_takes(tmp_path) == [tmp_path / "take_001.npz"]
    assert not (tmp_path / "take_001.rec").exists()


def test_finish_writes_npz_and_video(tmp_path):
    rec = TakeRecorder(tmp_path, "take_002", MONOCAP_BODY, fps=25.0)
    img = np.zeros((48, 64, 3), np.uint8)
    for i in range(3):
        rec.append(i / 25, _joints(i), None, None, image=img)
    take, path = rec.finish()
    assert path.exists() and take.num_frames == 3 and take.fps == 25.0
    assert (tmp_path / "take_002.avi").exists()
    assert not (tmp_path / "take_002.rec").exists()


class _FastSource:
    is_live = True
    name = "fake"
    fps = 1000.0

    def __iter__(self):
        for i in range(200):
            yield Frame(i, i * 1000, np.zeros((2, 2, 3), np.uint8))

    def close(self):
        pass


def test_grabber_keeps_only_the_newest_frame():
    grabber = LatestFrameGrabber(_FastSource()).start()
    grabber._thread.join(2.0)
    frame = grabber.take(0.1)
    assert frame.index == 199  # everything older was dropped, not queued
    assert grabber.dropped == 199
    try:
        grabber.take(0.01)
        raise AssertionError("expected StopIteration at the end of the source")
    except StopIteration:
        pass
