import numpy as np
import pytest

from engine.core.errors import InputError, OutputError
from engine.core.skeletons import MEDIAPIPE_33, MONOCAP_BODY
from engine.core.take import Take, load_npz, save_npz
from engine.core.take_csv import read_csv, write_csv


def _take(t=10):
    rng = np.random.default_rng(0)
    joints = rng.normal(size=(t, MONOCAP_BODY.num_joints, 3))
    valid = np.ones(t, bool)
    valid[3] = False
    joints[3] = np.nan
    return Take(joints, MONOCAP_BODY, 30.0, np.arange(t) / 30.0, valid,
                keypoints_px=rng.uniform(0, 640, size=(t, 33, 2)), keypoint_scores=rng.uniform(size=(t, 33)),
                keypoint_skeleton=MEDIAPIPE_33, image_size=(640, 360), metadata={"source": "x.mp4"})


def test_npz_round_trip(tmp_path):
    take = _take()
    back = load_npz(save_npz(take, tmp_path / "a.npz"))
    assert back.skeleton is MONOCAP_BODY
    assert np.allclose(back.joints_m, take.joints_m, equal_nan=True, atol=1e-6)
    assert back.valid.tolist() == take.valid.tolist()
    assert back.image_size == (640, 360) and back.metadata["source"] == "x.mp4"
    assert back.keypoints_px.shape == (10, 33, 2)


def test_csv_round_trip_and_header(tmp_path):
    take = _take()
    path = write_csv(take, tmp_path / "a.csv")
    header = path.read_text().splitlines()[0].split(",")
    assert header[:5] == ["frame", "time_s", "pelvis_x_m", "pelvis_y_m", "pelvis_z_m"]
    assert len(header) == 2 + 3 * MONOCAP_BODY.num_joints
    back = read_csv(path)
    assert back.fps == pytest.approx(30.0, rel=1e-5)
    assert not back.valid[3] and back.valid[4]
    assert np.allclose(back.joints_m[4], take.joints_m[4], atol=1e-5)


def test_unwritable_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the output folder should be")
    with pytest.raises(OutputError, match="not_a_folder"):
        save_npz(_take(), blocker / "a.npz")


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", explode)
    with pytest.raises(OutputError, match="No space left"):
        save_npz(_take(), tmp_path / "a.npz")
    assert list(tmp_path.iterdir()) == []


def test_not_a_take(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"junk")
    with pytest.raises(InputError, match="x.npz"):
        load_npz(tmp_path / "x.npz")
