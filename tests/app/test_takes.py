"""Record a take from the GUI, play it back by scrubbing, export it."""

import json

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox


def _record_take(window, qtbot, frames=30):
    window.open_sample()
    qtbot.waitUntil(lambda: window.source_running and window.frames_rendered >= 2, timeout=30000)
    window.commands.record.trigger()  # the Record button / Ctrl+R
    qtbot.waitUntil(lambda: window.recording, timeout=10000)
    qtbot.waitUntil(lambda: window.last_frame is not None and window.last_frame.frame.index >= frames, timeout=30000)
    window.commands.record.trigger()
    qtbot.waitUntil(lambda: len(window.takes) == 1 and not window.recording, timeout=10000)
    window.stop_source()
    qtbot.waitUntil(lambda: not window.source_running, timeout=5000)
    return next(iter(window.takes))


def test_record_then_scrub_changes_the_pose(window, qtbot):
    name = _record_take(window, qtbot)
    path, video = window.takes[name]
    assert path.exists() and video is not None and video.exists()
    window.select_take(name)
    take = window.current_take
    assert take.num_frames >= 20 and take.valid.sum() >= 10
    good = np.flatnonzero(take.valid)
    a, b = int(good[0]), int(good[-1])
    window.timeline.slider.setValue(a)
    pose_a = window.view3d.last_joints_m.copy()
    label_a = window.timeline.label.text()
    window.timeline.slider.setValue(b)
    pose_b = window.view3d.last_joints_m.copy()
    assert np.abs(pose_a - pose_b).max() > 0.02, "scrubbing did not change the pose shown"
    np.testing.assert_allclose(pose_b, take.joints_m[b])
    assert window.timeline.label.text() != label_a
    # the angle plot's cursor follows the timeline
    assert window.angle_plot.cursor.value() == pytest.approx(take.timestamps_s[b])


def _fill_export_dialog(tmp_path, formats):
    dlg = QApplication.activeModalWidget()
    assert dlg is not None, "the export dialog did not open"
    dlg.set_formats(formats)
    dlg.out_dir.setText(str(tmp_path / "exports"))
    dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def _export_from_gui(window, qtbot, tmp_path, formats):
    name = _record_take(window, qtbot, frames=20)
    window.select_take(name)
    QTimer.singleShot(300, lambda: _fill_export_dialog(tmp_path, formats))
    with qtbot.waitSignal(window.exportFinished, timeout=30000) as blocker:
        window.commands.export.trigger()
    paths, error = blocker.args
    assert error is None, error
    return name, paths


def test_export_npz_and_csv_from_gui(window, qtbot, tmp_path):
    name, paths = _export_from_gui(window, qtbot, tmp_path, ("npz", "csv"))
    from engine.core.take import load_npz
    from engine.core.take_csv import read_csv

    csv = read_csv(tmp_path / "exports" / f"{name}.csv")
    npz = load_npz(tmp_path / "exports" / f"{name}.npz")
    assert csv.num_frames == npz.num_frames == window.current_take.num_frames
    np.testing.assert_allclose(csv.joints_m, npz.joints_m, atol=1e-4, equal_nan=True)


def test_export_bvh_and_csv_from_gui(window, qtbot, tmp_path):
    name, paths = _export_from_gui(window, qtbot, tmp_path, ("bvh", "csv"))
    from engine.animation.bvh_reader import read_bvh

    bvh = tmp_path / "exports" / f"{name}.bvh"
    csv = tmp_path / "exports" / f"{name}.csv"
    assert bvh.exists() and csv.exists()
    sidecar = json.loads((tmp_path / "exports" / f"{name}.json").read_text())  # as `monocap process` writes
    assert set(sidecar["files"]) == {f"{name}.bvh", f"{name}.csv"} and "mediapipe" in sidecar["versions"]
    motion = read_bvh(bvh)
    assert motion is not None
    rows = csv.read_text().strip().splitlines()
    assert len(rows) >= 2 and "," in rows[0]


def test_closing_while_recording_keeps_the_take(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from app.main import dispose_window
    from app.main_window import MainWindow
    from engine.session.recorder import list_takes

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("settings/realtime", True)
    win = MainWindow(settings=settings, takes_dir=str(tmp_path / "takes"))
    win.show()
    win.open_sample()
    qtbot.waitUntil(lambda: win.frames_rendered >= 2, timeout=30000)
    win.set_recording(True)
    qtbot.waitUntil(lambda: win.recording, timeout=10000)
    recs = lambda: list((tmp_path / "takes").glob("*.rec"))
    qtbot.waitUntil(lambda: recs() and recs()[0].stat().st_size > 0, timeout=3000)  # on disk while it grows
    win.close()  # the engine stops, the take is finished and saved, the thread ends
    assert win.engine.thread.isFinished()
    takes = list_takes(tmp_path / "takes")
    assert len(takes) == 1
    dispose_window(win)


def test_export_to_an_unwritable_place_is_a_message(window, qtbot, tmp_path):
    from app.exporting import ExportRequest
    from engine.core.skeletons import MONOCAP_BODY
    from engine.core.take import Take

    blocker_file = tmp_path / "not_a_folder"
    blocker_file.write_text("x")
    take = Take(np.zeros((3, MONOCAP_BODY.num_joints, 3)), MONOCAP_BODY, 30.0, np.arange(3) / 30, np.ones(3, bool))
    with qtbot.waitSignal(window.exportFinished, timeout=10000) as blocker:
        window.start_export(take, ExportRequest(str(blocker_file / "sub"), "t", ("csv",)))
    paths, error = blocker.args
    assert paths is None and "not_a_folder" in error
    assert "Export failed" in window.banner.text()


def test_playback_draws_the_hands_of_a_take_recorded_with_hands(window, qtbot):
    from PySide6.QtGui import QImage

    window.apply_settings(window.app_settings.with_(hands=True), quiet=True)
    name = _record_take(window, qtbot, frames=90)
    window.select_take(name)
    take = window.current_take
    assert take.hand_keypoints_px is not None and take.hand_keypoints_px.shape == (take.num_frames, 2, 21, 2)
    found = np.isfinite(take.hand_keypoints_px).all(axis=(2, 3))
    assert found.any() and not found.all(), "the hands were found in none or all of the recorded frames"

    def changed_by_the_hands(i: int, box_frame: int) -> int:
        """Pixels of frame i's playback that differ from the same frame drawn without hands, inside
        the box where frame box_frame's hands lie."""
        window.timeline.slider.setValue(i + 1 if window.timeline.slider.value() == i else i)
        window.timeline.slider.setValue(i)  # the playback's own path to the frame
        with_hands = window.image_view.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        image = window.player.take_video.read(i)
        window.image_view.set_frame(image, take.keypoints_px[i], take.keypoint_scores[i])
        without = window.image_view.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        a, b = (np.frombuffer(q.constBits(), np.uint8, q.sizeInBytes()).reshape(q.height(), q.bytesPerLine()).copy()
                for q in (with_hands, without))
        rect = window.image_view.image_rect()
        scale = rect.width() / image.shape[1]
        pts = take.hand_keypoints_px[box_frame].reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)] * scale + (rect.left(), rect.top())
        (x0, y0), (x1, y1) = np.floor(pts.min(axis=0)).astype(int) - 4, np.ceil(pts.max(axis=0)).astype(int) + 4
        x0, y0 = max(x0, 0), max(y0, 0)
        return int((a[y0:y1, 3 * x0:3 * x1] != b[y0:y1, 3 * x0:3 * x1]).sum())

    hand = int(np.flatnonzero(found.any(axis=1))[0])
    none = int(np.flatnonzero(~found.any(axis=1) & take.valid)[0])
    assert changed_by_the_hands(hand, hand) > 50
    assert changed_by_the_hands(none, hand) == 0
