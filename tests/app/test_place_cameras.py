"""Place cameras in the app: from the Several cameras dialog's button (its video files listed), the
lens file per camera, the person's method with a measured distance, a run that cannot place a camera
said in one line, then the placed cameras' errors, Save, and the Several cameras dialog using the
file; from the File menu, a board seen by two cameras (rendered board videos, found by the real
board detector). The person's detections are handed in (the dialog's seam for videos looked at
before): a synthetic figure seen by a ring of known cameras, as in tests/engine/session."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.multiview.calibration_files import read_calibration, write_calibration
from engine.multiview.cameras import Rig
from tests.engine.multiview import test_board_rig as board_case
from tests.engine.multiview.synthetic import body_keypoints, observe, ring_rig
from tests.engine.multiview.test_self_calibration import pose_errors
from tests.engine.session.test_camera_placement import person_tracks, rig_videos


def _placed(qtbot, dialog) -> None:
    assert dialog.place(), dialog.problem.text()
    qtbot.waitUntil(lambda: not dialog.running, timeout=20000)
    qtbot.waitUntil(lambda: dialog.place_button.text() == "Place", timeout=5000)  # the end's queued report


def test_cameras_placed_from_the_person_go_to_the_several_cameras_dialog(window, qtbot, tmp_path):
    from engine.session.camera_rig import rig_for_views

    truth = ring_rig(3, spread_deg=150)
    kp, sc = observe(truth, body_keypoints(45), noise_px=1.0)
    videos, lenses, detected = rig_videos(tmp_path, truth, kp, sc)
    last_week = tmp_path / "last_week.toml"
    write_calibration(truth, last_week)
    rig = window.sources.ask_cameras()
    for video in videos:
        rig.add_file(str(video))
    rig.calibration.setText(str(last_week))
    rig.place_button.click()
    dialog = window.sources.placement
    assert dialog is not None and dialog.isVisible() and dialog.inputs() == [str(v) for v in videos]
    for row, lens in enumerate(lenses):
        dialog.set_lens(row, str(lens))
    assert [dialog.table.item(r, 2).text() for r in range(3)] == ["cam1", "cam2", "cam3"]  # named by the lens files
    # the third camera sees the person, never surely enough to be placed: one line, nothing to save
    weak = dict(detected)
    weak[videos[2]] = person_tracks(kp[2], np.full_like(sc[2], 0.5), truth[2].image_size)
    dialog.use_detections(weak)
    _placed(qtbot, dialog)
    problem = dialog.problem.text()
    assert problem.startswith("cam3: could not be placed from the person") and "every camera sees them" in problem
    assert "\n" not in problem and not dialog.save_button.isEnabled() and not dialog.save(str(tmp_path / "x.toml"))
    assert rig.calibration.text() == str(last_week) and not (tmp_path / "x.toml").exists()
    # the person seen well by every camera, the scale from the tape between cam1 and cam2
    dialog.use_detections(detected)
    distance = float(np.linalg.norm(truth[0].centre_m - truth[1].centre_m))
    dialog.by_distance.setChecked(True)
    dialog.camera_a.setCurrentText("cam1")
    dialog.camera_b.setCurrentText("cam2")
    dialog.distance.setValue(round(distance, 2))
    _placed(qtbot, dialog)
    assert dialog.problem.text() == "" and dialog.save_button.isEnabled()
    lines = dialog.result.toPlainText().splitlines()
    for name in ("cam1", "cam2", "cam3"):
        px = dialog.placement.camera_px[name]
        assert f"{name}: {px:.2f} px" in lines and 0.1 < px < 2.0
    assert "3 cameras placed" in lines[-1]
    out = tmp_path / "placed.toml"
    assert dialog.save(str(out))
    assert rig.calibration.text() == str(out)  # the Several cameras dialog uses it
    views = rig.views()
    placed = rig_for_views(list(views), rig.calibration.text())  # what its Start checks, on the file saved
    assert placed is not None
    degrees, metres = pose_errors(read_calibration(out), truth)
    assert degrees.max() < 0.5 and metres.max() < 0.02, (degrees, metres)
    dialog.close()
    rig.close()
    again = window.sources.ask_cameras()  # and the next time it opens
    assert again.calibration.text() == str(out)
    again.close()


def test_cameras_placed_from_a_board_from_the_file_menu(window, qtbot, tmp_path):
    truth = board_case._cameras(2)
    videos = board_case.board_videos(tmp_path, truth, ".avi")
    lenses = tmp_path / "lenses.toml"  # one lens file with both cameras, in the other order: taken by name
    write_calibration(Rig(tuple(c.with_pose(np.eye(3), np.zeros(3)) for c in truth[::-1])), lenses)
    window.commands.place_cameras.trigger()
    dialog = window.sources.placement
    assert dialog is not None and dialog.isVisible()
    dialog.method.setCurrentIndex(dialog.method.findData("board"))
    for video in videos:
        dialog.add_input(str(video), str(lenses))
    dialog.kind.setCurrentIndex(dialog.kind.findData("charuco"))
    dialog.columns.setValue(7)
    dialog.rows.setValue(5)
    dialog.square.setValue(60.0)
    dialog.marker.setValue(45.0)
    _placed(qtbot, dialog)
    assert dialog.problem.text() == "", dialog.problem.text()
    assert dialog.progress.value() == dialog.progress.maximum() and dialog.progress.format() == "placed"
    for name in ("cam1", "cam2"):
        px = dialog.placement.camera_px[name]
        assert px < 1.0 and f"{name}: {px:.2f} px" in dialog.result.toPlainText()
    out = tmp_path / "rig.toml"
    assert dialog.save(str(out))
    board_case.assert_rig_close(read_calibration(out).cameras, truth)
    assert Path(str(window.qsettings.value("rig/calibration"))) == out  # the Several cameras dialog opens with it
    # a board the videos do not show: one line naming the camera, nothing written over the file saved
    dialog.columns.setValue(6)
    _placed(qtbot, dialog)
    assert "board was found in none of" in dialog.problem.text() and "\n" not in dialog.problem.text()
    board_case.assert_rig_close(read_calibration(out).cameras, truth)
    dialog.close()


def test_place_shows_the_detection_running_and_stop_places_nothing(window, qtbot, tmp_path):
    """Real detection off the window's thread: the sample clip as two cameras (tests/app/rig_footage.py)."""
    from tests.app.rig_footage import write_pair

    cam1, cam2, rig_file = write_pair(tmp_path, frames=120)
    dialog = window.sources.ask_placement()
    for video in (cam1, cam2):
        dialog.add_input(str(video), str(rig_file))
    assert dialog.place() and dialog.place_button.text() == "Stop"
    qtbot.waitUntil(lambda: dialog.progress.format().startswith("frame "), timeout=20000)
    assert dialog.progress.format().endswith(" of 240") and dialog.progress.maximum() == 240
    dialog.place_button.click()  # Stop
    qtbot.waitUntil(lambda: dialog.place_button.text() == "Place", timeout=20000)
    assert dialog.problem.text() == "Stopped: nothing was placed or written"
    assert dialog.progress.value() < 240 and not dialog.save_button.isEnabled() and dialog.placement is None
    dialog.close()


def test_the_cameras_recorded_from_the_dialog_become_its_videos(window, qtbot, tmp_path):
    """Record films the Several cameras dialog's cameras at once (two video files standing in for
    webcams, played at their own rate), a video each, and lists them with their lens files."""
    from engine.multiview.calibration_files import read_calibration as read
    from tests.app.rig_footage import write_pair

    cam1, cam2, rig_file = write_pair(tmp_path, frames=60)
    folder = tmp_path / "calibration"
    folder.mkdir()
    for camera, name in zip(read(rig_file), ("cam01", "cam02")):  # lens files as Calibrate a camera names them
        write_calibration(Rig((camera.with_pose(np.eye(3), np.zeros(3)),)), folder / f"{name}.toml")
    rig = window.sources.ask_cameras()
    rig.add_file(str(cam1))
    rig.add_file(str(cam2))
    rig.place_button.click()
    dialog = window.sources.placement
    recorder = dialog.recorder
    assert recorder is not None and "cam1.mp4, cam2.mp4" in recorder.status.text()
    recorder.seconds.setValue(1.0)
    recorder.record(str(folder))
    assert recorder.button.text() == "Stop recording"
    assert not dialog.place() and dialog.problem.text().startswith("the cameras are being recorded")
    videos = [str(folder / "cam01.avi"), str(folder / "cam02.avi")]
    qtbot.waitUntil(lambda: dialog.inputs() == videos, timeout=20000)
    assert dialog.lenses() == [str(folder / "cam01.toml"), str(folder / "cam02.toml")] and dialog.problem.text() == ""
    assert [dialog.table.item(r, 2).text() for r in range(2)] == ["cam1", "cam2"]  # the cameras the lens files name
    counts = [int(cv2.VideoCapture(v).get(cv2.CAP_PROP_FRAME_COUNT)) for v in videos]
    assert counts[0] == counts[1] and 20 <= counts[0] <= 26  # 1 s of a 23.976 fps clip
    assert recorder.status.text().startswith(f"recorded 2 videos, {counts[0]} frames each (")
    dialog.close()


def test_recording_a_camera_stops_the_live_view_and_a_missing_camera_is_one_line(window, qtbot, tmp_path):
    from tests.app.rig_footage import write_pair

    cam1, cam2, _ = write_pair(tmp_path, loops=3)
    window.sources.open_file(str(cam2))  # the live view holds its source (a long one), as it holds a camera
    qtbot.waitUntil(lambda: window.source_running and window.frames_rendered >= 5, timeout=20000)
    rig = window.sources.ask_cameras()
    rig.add_file(str(cam1))
    rig.add_camera(7)  # listed, not connected
    rig.place_button.click()
    dialog = window.sources.placement
    dialog.recorder.record(str(tmp_path / "calibration"))
    qtbot.waitUntil(lambda: not window.source_running, timeout=3000)  # let go, so the camera can be opened
    qtbot.waitUntil(lambda: not dialog.recorder.running and dialog.problem.text() != "", timeout=20000)
    assert dialog.problem.text().startswith("camera 7: not found or already in use") and dialog.inputs() == [str(cam1)]
    assert dialog.recorder.button.text() == "Record from the cameras…"
    dialog.close()
