"""A take from elsewhere (a BVH with no video) played after tracking a clip: the image pane lets the
clip's last frame go and says why it is empty, the status bar does not speak of a person found by
the detector, and the 3D view keeps a take that walks away in view."""

import numpy as np
from PySide6.QtCore import QRect

from app.window_state import Mode
from engine.animation.formats import ExportOptions, write_take
from tests.app.test_takes import _record_take
from tests.engine.animation.test_bvh_export import spin_take


def _walk(path, metres: float = 6.0):
    """A body moving `metres` along x over four seconds, written as a BVH as another tool would."""
    take = spin_take(frames=120, fps=30.0, turns=0.0)
    joints = take.joints_m + np.linspace(0.0, metres, take.num_frames)[:, None, None] * np.array([1.0, 0.0, 0.0])
    write_take(take.with_joints(joints), path, ExportOptions(foot_contact=False))
    return path


def test_a_bvh_from_elsewhere_clears_the_image_and_stays_in_the_3d_view(window, qtbot, tmp_path):
    _record_take(window, qtbot, frames=10)  # the image shows the clip's frame and its 2D skeleton
    assert window.image_view._image is not None
    bvh = _walk(tmp_path / "walk.bvh")
    window.open_take_file(bvh)
    assert window.mode is Mode.PLAYBACK and window.current_take_name == "walk.bvh"
    view = window.image_view
    assert view._image is None and view.placeholder == "walk.bvh has no video: its motion plays in the 3D view."
    assert "found" not in window.status_labels.person.text()
    view3d = window.view3d
    inside = QRect(0, 0, view3d.width(), view3d.height())
    for frame in (0, 60, window.current_take.num_frames - 1):
        window.timeline.slider.setValue(frame)
        (x, y), = view3d.project(window.current_take.joints_m[frame, :1])
        assert inside.contains(int(x), int(y)), f"frame {frame}: the walker is out of the 3D view at {x:.0f}, {y:.0f}"
    assert not window.commands.follow.isChecked()  # kept in view without the user's Follow
    window.back_to_live()
    assert not view3d.take_follow
