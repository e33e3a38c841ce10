"""File > Open take: a BVH from elsewhere (or a CSV, TRC, NPZ) plays back in the 3D view, on the
timeline and in the joint-angle plots, on Monocap's body so it compares with a capture."""

import numpy as np
from PySide6.QtWidgets import QFileDialog

from app.window_state import Mode
from engine.animation.formats import write_take
from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS, finger_joint_names
from tests.engine.animation.test_bvh_export import spin_take
from tests.engine.animation.test_bvh_fingers_convert import CONVENTIONS, rename, write_curled
from tests.engine.humanoid_rigs import families, synthetic_motion, write_family


def _check_playback(window, frames: int, knee_bends: bool = True) -> None:
    take = window.current_take
    assert window.mode is Mode.PLAYBACK and take.num_frames == frames
    assert take.skeleton is MONOCAP_BODY
    assert window.timeline.slider.maximum() == frames - 1
    window.timeline.slider.setValue(frames - 1)
    np.testing.assert_allclose(window.view3d.last_joints_m, take.joints_m[frames - 1])
    window.timeline.slider.setValue(0)
    np.testing.assert_allclose(window.view3d.last_joints_m, take.joints_m[0])
    knee = window.angle_plot.curves["left_knee"].getData()[1]
    assert knee is not None and len(knee) == frames and np.isfinite(knee).all()
    assert np.ptp(knee) > 1.0 or not knee_bends


def test_open_take_plays_a_bvh_from_elsewhere(window, qtbot, tmp_path, monkeypatch):
    rig = {f.name: f for f in families()}["daz_genesis"]
    written = write_family(rig, synthetic_motion(frames=48), tmp_path / "genesis.bvh")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(written.path), ""))
    window.commands.open_take.trigger()
    assert window.current_take_name == "genesis.bvh" and "genesis.bvh" in window.takes
    _check_playback(window, 48)
    # where the source has the joint, the pose shown is the source's own
    shown = window.current_take.joints_m[:, MONOCAP_BODY.index("left_knee")]
    np.testing.assert_allclose(shown, written.truth_m["lShin"], atol=1e-5)


def test_open_take_reads_csv_trc_npz_and_reports_bad_files(window, qtbot, tmp_path):
    take = spin_take(frames=20)
    for ext in ("csv", "trc", "npz"):
        path = write_take(take, tmp_path / f"spin.{ext}")
        window.open_take_file(path)
        assert window.current_take_name == f"spin.{ext}"
        _check_playback(window, 20, knee_bends=False)  # a turning body, knees straight
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT x\n{\n OFFSET 0 0\n")
    window.open_take_file(bad)
    assert "broken.bvh" in window.banner.text() and "broken.bvh" not in window.takes


def test_open_take_draws_the_fingers_of_a_take_that_has_them(window, qtbot, tmp_path):
    """A BVH from elsewhere with three joints a finger (here Unreal's names) plays back with its
    fingers in the 3D view, as NPZ and CSV takes with hands do."""
    take, _, mixamo = write_curled(tmp_path / "mixamo.bvh", frames=24)
    unreal = rename(mixamo, CONVENTIONS["unreal"], tmp_path / "unreal.bvh")
    fingers = [MONOCAP_HANDS.index(n) for side in ("left", "right") for n in finger_joint_names(side)]
    for path in (mixamo, unreal, write_take(take, tmp_path / "hands.npz"), write_take(take, tmp_path / "hands.csv")):
        window.open_take_file(path)
        shown = window.current_take
        assert window.current_take_name == path.name and shown.skeleton is MONOCAP_HANDS, path.name
        for i in (23, 5):
            window.timeline.slider.setValue(i)
            np.testing.assert_allclose(window.view3d.last_joints_m[fingers], take.joints_m[i, fingers], atol=0.01,
                                       err_msg=f"{path.name}, frame {i}")
        assert len(window.view3d.bones.pos) == 2 * len(MONOCAP_HANDS.edges), f"{path.name}: the fingers' bones"
