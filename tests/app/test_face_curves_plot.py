"""The angle plot's choices offer the face's values as curves while the face is tracked (live) or
when the take shown has them (playback), and not otherwise: angles in degrees on the same axis,
0-1 values as percent."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QFileDialog

from engine.core.take import save_npz
from engine.session.pipeline import FACE_CURVES
from tests.engine.animation.test_bvh_export import spin_take


def _open(window, monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.commands.open_take.trigger()


def test_a_take_with_face_curves_offers_and_plots_them(window, tmp_path, monkeypatch):
    plot = window.angle_plot
    take = spin_take(frames=30)
    curves = np.random.default_rng(2).uniform(0, 1, (30, len(FACE_CURVES)))
    yaw = FACE_CURVES.index("head_yaw_deg")
    curves[:, yaw] = np.linspace(-40, 40, 30)
    curves[7] = np.nan  # the face not seen
    with_face = take.with_joints(take.joints_m, face_curves=curves, face_curve_names=FACE_CURVES)
    _open(window, monkeypatch, save_npz(with_face, tmp_path / "face.npz"))
    assert window.current_take_name == "face.npz"
    offered = plot.offered()
    assert set(FACE_CURVES) <= set(offered) and "left_knee" in offered
    assert plot.actions["blink_left"].text() == "face: blink left (%)"
    plot.actions["blink_left"].setChecked(True)
    plot.actions["head_yaw_deg"].setChecked(True)
    assert "left_knee" in plot.curves  # the joints' curves stay
    blink = plot.curves["blink_left"].getData()[1]
    np.testing.assert_allclose(blink, curves[:, FACE_CURVES.index("blink_left")] * 100, atol=1e-3)
    np.testing.assert_allclose(plot.curves["head_yaw_deg"].getData()[1], curves[:, yaw], atol=1e-3)
    assert plot.plot.getAxis("left").labelText == "angle (°) · face (%)"
    low, high = plot.plot.getViewBox().viewRange()[1]
    assert low <= -40 and high >= 180  # the signed head angles fit
    # a take without the face: its curves are not offered (nor drawn), though still ticked
    _open(window, monkeypatch, save_npz(take, tmp_path / "body.npz"))
    assert window.current_take_name == "body.npz"
    assert not set(FACE_CURVES) & set(plot.offered()) and not set(FACE_CURVES) & set(plot.curves)
    assert plot.plot.getAxis("left").labelText == "angle (°)"


def test_live_face_curves_are_offered_only_with_the_face_on(window, qtbot):
    plot = window.angle_plot
    window.open_sample()  # the face off
    qtbot.waitUntil(lambda: window.state.frame_index > 20, timeout=60000)
    assert "left_knee" in plot.offered() and not set(FACE_CURVES) & set(plot.offered())
    window.stop_source()
    window.apply_settings(window.app_settings.with_(face=True), quiet=True)
    window.open_sample()
    qtbot.waitUntil(lambda: set(FACE_CURVES) <= set(plot.offered()), timeout=60000)
    plot.actions["mouth_open"].setChecked(True)
    plot.actions["head_roll_deg"].setChecked(True)

    def drawn() -> bool:
        mouth, roll = plot.curves["mouth_open"].getData()[1], plot.curves["head_roll_deg"].getData()[1]
        return mouth is not None and roll is not None and np.isfinite(mouth).sum() > 10 and np.isfinite(roll).sum() > 10

    qtbot.waitUntil(drawn, timeout=90000)
    mouth = plot.curves["mouth_open"].getData()[1]
    assert np.nanmin(mouth) >= 0 and np.nanmax(mouth) <= 100  # percent
    window.stop_source()
