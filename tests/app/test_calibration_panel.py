"""The guided calibration of one camera's lens: a video of a checkerboard moved about in front of a
known camera (rendered by tests/engine/multiview/boards.py, written and decoded as a real video),
played into the panel as a camera would film it; the corners drawn on the image, the views kept,
the coverage and the reprojection error shown, and the camera's file written; a ChArUco board too."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.engine.multiview.boards import board_pose_facing, render

ROOT = Path(__file__).resolve().parents[2]
SIZE = (640, 480)
K = np.array([[900.0, 0, 330.0], [0, 900.0, 245.0], [0, 0, 1]])
FPS = 12.0
HOLD = 4  # frames each pose of the board is held


def _board_video(path, board, poses: int = 9):
    """The board moved over a 3x3 grid of the image, 1 m from the camera, tilted a different way at
    each place."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, SIZE)
    z = 1.0
    tilts = [(0.25, 0.1, 0.0), (-0.2, 0.2, 0.05), (0.1, -0.25, 0.1), (-0.25, -0.1, -0.05), (0.2, 0.25, 0.0),
             (0.0, -0.2, 0.1), (0.25, -0.05, -0.1), (-0.1, 0.25, 0.05), (0.15, 0.15, 0.0)]
    places = [(u, v) for v in (150, 245, 340) for u in (190, 330, 470)]
    for (u, v), tilt in list(zip(places, tilts))[:poses]:
        centre = np.array([(u - K[0, 2]) / K[0, 0] * z, (v - K[1, 2]) / K[1, 1] * z, z])
        R, t = board_pose_facing(board, centre, tilt)
        image = render(board, K, R, t, SIZE)
        for _ in range(HOLD):
            writer.write(image)
    writer.release()
    return path


def _run(panel, qtbot, video, columns, rows, charuco: bool = False):
    panel.use_video(str(video))
    panel.kind.setCurrentIndex(1 if charuco else 0)
    panel.columns.setValue(columns)
    panel.rows.setValue(rows)
    panel.square.setValue(30.0)
    panel.marker.setValue(22.0 if charuco else 0.0)
    assert panel.start(), panel.problem.text()
    qtbot.waitUntil(lambda: not panel.running, timeout=20000)
    qtbot.wait(50)  # the end's queued report


def test_the_panel_shows_the_corners_and_writes_the_camera(window, qtbot, tmp_path):
    from engine.multiview.board import Board
    from engine.multiview.calibration_files import read_calibration

    board = Board.parse("6x5", 30)
    video = _board_video(tmp_path / "board.avi", board)
    panel = window.sources.ask_calibration()
    _run(panel, qtbot, video, 6, 5)
    guide = panel.guide
    assert panel.steps_drawn >= 5 and guide.views >= 6, (panel.steps_drawn, guide.views, guide.frames)
    assert guide.result.rms_px < 1.0
    assert re_number(panel.views_label.text()) == guide.views
    assert f"{guide.result.rms_px:.2f} px" in panel.error_label.text()
    coverage = panel.image.step.coverage
    assert coverage >= 0.5 and f"{coverage:.0%}" in panel.coverage_label.text()
    # the corners of the frame shown are drawn where they are (red dots over the board)
    step, r = panel.image.step, panel.image.image_rect()
    assert step.corners is not None and len(step.corners) == 30
    shot = panel.image.grab().toImage()
    scale = r.width() / SIZE[0]
    red = 0
    for x, y in step.corners:
        c = shot.pixelColor(int(r.left() + x * scale), int(r.top() + y * scale))
        red += c.red() > 200 and c.green() < 140 and c.blue() < 120
    assert red >= 25, red
    assert panel.save_button.isEnabled() and panel.save(str(tmp_path / "cam01.toml"))
    camera = read_calibration(tmp_path / "cam01.toml").camera("cam01")
    np.testing.assert_allclose(camera.K[[0, 1], [0, 1]], [900.0, 900.0], rtol=0.02)
    assert camera.image_size == SIZE
    panel.close()


def test_a_charuco_board_calibrates_the_camera_too(window, qtbot, tmp_path):
    from engine.multiview.calibration_files import read_calibration
    from engine.multiview.charuco import CharucoBoard

    video = _board_video(tmp_path / "charuco.avi", CharucoBoard.parse("7x5", 30, 22))
    panel = window.sources.ask_calibration()
    _run(panel, qtbot, video, 7, 5, charuco=True)
    assert panel.guide.views >= 6 and panel.guide.result.rms_px < 1.0, panel.problem.text()
    assert panel.save(str(tmp_path / "cam02.toml"))
    camera = read_calibration(tmp_path / "cam02.toml").cameras[0]
    np.testing.assert_allclose(camera.K[[0, 1], [0, 1]], [900.0, 900.0], rtol=0.02)
    panel.close()


def test_a_board_never_found_is_one_line(window, qtbot, tmp_path):
    from engine.multiview.board import Board

    video = _board_video(tmp_path / "board.avi", Board.parse("6x5", 30), poses=3)
    panel = window.sources.ask_calibration()
    _run(panel, qtbot, video, 8, 7)  # not the board filmed
    text = panel.problem.text()
    assert "8x7 board was found in 0 views" in text and "inner corners" in text and "\n" not in text, text
    assert not panel.save_button.isEnabled() and not panel.save(str(tmp_path / "cam.toml"))
    assert not (tmp_path / "cam.toml").exists()
    panel.use_video(str(tmp_path / "missing.mp4"))
    assert not panel.start() and "missing.mp4" in panel.problem.text()
    panel.close()


CLOSE_WHILE_LOOKING = """
import sys, time
from PySide6.QtCore import QCoreApplication, QSettings, Qt
QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.main import dispose_window
from app.main_window import MainWindow
folder, video = sys.argv[1], sys.argv[2]
win = MainWindow(settings=QSettings(folder + "/s.ini", QSettings.Format.IniFormat), takes_dir=folder + "/takes")
win.show()
panel = win.sources.ask_calibration()
panel.use_video(video)
panel.columns.setValue(6)
panel.rows.setValue(5)
assert panel.start()
t0 = time.time()
while panel.steps_drawn < 3 and time.time() - t0 < 20:
    app.processEvents()
    time.sleep(0.01)
assert panel.running, "the video ended before the window closed"
win.close()
dispose_window(win)
print("closed")
"""


def test_closing_the_window_while_the_panel_looks_ends_cleanly(tmp_path):
    """The panel's thread outlives neither its panel nor the program (once, it raised into a deleted
    panel and aborted the program at exit)."""
    import os
    import subprocess
    import sys

    from engine.multiview.board import Board

    video = _board_video(tmp_path / "board.avi", Board.parse("6x5", 30))  # 3 s at its own rate
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM_PLUGIN_PATH"}
    done = subprocess.run([sys.executable, "-c", CLOSE_WHILE_LOOKING, str(tmp_path), str(video)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "closed" in done.stdout, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "terminate called" not in done.stderr, done.stderr[-2000:]


def re_number(text: str) -> int:
    import re

    return int(re.search(r"\d+", text).group())

