"""The guided calibration of one camera's lens: the camera's image (or a video file's) with the
board's corners (a checkerboard's, or a ChArUco board's) drawn as they are found, the image's cells the views kept cover shaded,
and beside it the views kept, the coverage and the reprojection error as the user moves the board;
Save writes the camera's calibration file (Monocap's TOML). The work runs on a thread of its own
(engine.session.guided_calibration); only the newest step waits to be drawn."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from engine.core.errors import describe_error
from engine.session.guided_calibration import MIN_VIEWS, BoardStep, GuidedIntrinsics
from engine.session.sources import open_for_stream

from .board_fields import BoardFields
from .image_view import ImageView
from .path_field import PathField
from .work_dialog import WorkDialog

GOOD_RMS_PX = 1.0
GOOD_COVERAGE = 0.5


class BoardImage(ImageView):
    """The frame with the board's corners (green when the view was kept, yellow when only seen) and
    the grid cells covered so far."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.placeholder = "Pick the camera (or a video of the board) and press Start"
        self.clicks_follow = False
        self.step: BoardStep | None = None

    def show_step(self, step: BoardStep) -> None:
        self.step = step
        self.set_frame(step.image)

    def paintEvent(self, event):
        super().paintEvent(event)
        step, r = self.step, self.image_rect()
        if step is None or r.isEmpty():
            return
        p = QPainter(self)
        n = step.cells.shape[0]
        cw, ch = r.width() / n, r.height() / n
        for (gy, gx), on in np.ndenumerate(step.cells):
            if on:
                p.fillRect(QRectF(r.left() + gx * cw, r.top() + gy * ch, cw, ch), QColor(40, 200, 90, 45))
        if step.corners is not None:
            s = r.width() / step.image.shape[1]
            pts = [QPointF(r.left() + x * s, r.top() + y * s) for x, y in step.corners]
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(QPen(QColor(40, 220, 90) if step.kept else QColor(255, 220, 40), 1.5))
            p.drawPolyline(pts)
            p.setPen(QPen(QColor(255, 80, 60), 5.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.drawPoints(pts)
        p.end()


class CalibrationPanel(WorkDialog):
    stepped = Signal()  # a step waits to be drawn (from the calibration's thread)
    finished_run = Signal(str)  # the run ended: "" or the one line that ended it

    def __init__(self, cameras: list[tuple[int, str]], qsettings: QSettings,
                 camera_size: tuple[int, int] | None = None, parent=None):
        """camera_size: the size a camera is asked for (the settings' camera size, which a
        camera's calibration must match)."""
        super().__init__(parent)
        self.setWindowTitle("Calibrate a camera")
        self._qsettings = qsettings
        self._camera_size = camera_size
        self.guide: GuidedIntrinsics | None = None
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        runs: list[tuple[threading.Thread, threading.Event]] = []  # stopped when the panel goes with its window
        self._runs = runs
        self.destroyed.connect(lambda *_: _stop_all(runs))
        self._mail: BoardStep | None = None
        self._lock = threading.Lock()
        self.steps_drawn = 0
        self.source = QComboBox()
        for index, name in cameras:
            self.source.addItem(f"{name} (camera {index})", index)
        self.source.addItem("A video of the board", None)
        self.video = PathField("", "A video of the board", "Videos (*.mp4 *.avi *.mov *.mkv);;All files (*)",
                               "(no video chosen)")
        self.board_fields = fields = BoardFields()
        self.kind, self.columns, self.rows, self.square, self.marker = (fields.kind, fields.columns, fields.rows,
                                                                         fields.square, fields.marker)
        self.name = QLineEdit("cam01")
        self.start_button, self.save_button = QPushButton("Start"), QPushButton("Save calibration…", enabled=False)
        self.start_button.clicked.connect(self.toggle)
        self.save_button.clicked.connect(self._ask_save)
        self.image = BoardImage()
        self.image.setMinimumSize(480, 300)
        self.views_label, self.coverage_label, self.error_label = QLabel(), QLabel(), QLabel()
        self.hint = QLabel(wordWrap=True)
        self.problem = QLabel(wordWrap=True, styleSheet="color: #c0392b;")
        form = QFormLayout()
        form.addRow("Camera", self.source)
        form.addRow("Video", self.video)
        fields.add_to(form)
        form.addRow("Name", self.name)
        for label in (self.views_label, self.coverage_label, self.error_label, self.hint):
            form.addRow(label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.save_button)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.problem)
        side.addStretch(1)
        side.addLayout(buttons)
        lay = QHBoxLayout(self)
        lay.addWidget(self.image, 1)
        lay.addLayout(side)
        self.stepped.connect(self._draw, Qt.ConnectionType.QueuedConnection)
        self.finished_run.connect(self._ended, Qt.ConnectionType.QueuedConnection)
        self._show_figures(None)
        self.resize(1000, 520)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def use_video(self, path: str) -> None:
        self.source.setCurrentIndex(self.source.count() - 1)
        self.video.setText(path)

    @Slot()
    def toggle(self) -> None:
        if self.running:
            self._cancel.set()
        else:
            self.start()

    def start(self) -> bool:
        """Opens the camera or video and starts looking for the board; a problem is one line here."""
        self.problem.clear()
        index = self.source.currentData()
        try:
            board = self.board_fields.board()
            source = open_for_stream("camera" if index is not None else "file", self.video.text(), index or 0,
                                     self._camera_size)
        except Exception as exc:  # noqa: BLE001 - said in the panel, in one line
            self.problem.setText(describe_error(exc))
            return False
        self.guide = GuidedIntrinsics(board, self.name.text().strip() or "camera")
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self.guide, source, self._cancel),
                                        name="monocap-calibration", daemon=True)
        self.start_button.setText("Stop")
        self.save_button.setEnabled(False)
        self._runs.append((self._thread, self._cancel))
        self._thread.start()
        return True

    def _run(self, guide: GuidedIntrinsics, source, cancel: threading.Event) -> None:
        error = ""
        try:
            guide.run(source, self._post, cancel)
        except Exception as exc:  # noqa: BLE001 - said in the panel, in one line
            error = describe_error(exc)
        try:
            self.finished_run.emit(error)
        except RuntimeError:  # the panel went with its window meanwhile
            pass

    def _post(self, step: BoardStep) -> None:
        with self._lock:
            notify, self._mail = self._mail is None, step
        if notify:
            self.stepped.emit()  # RuntimeError once the panel is gone: it ends the run

    @Slot()
    def _draw(self) -> None:
        with self._lock:
            step, self._mail = self._mail, None
        if step is not None:
            self.steps_drawn += 1
            self.image.show_step(step)
            self._show_figures(step)

    def _show_figures(self, step: BoardStep | None) -> None:
        views = 0 if step is None else step.views
        self.views_label.setText(f"Views kept: {views}" + (f" of {step.frames} frames" if step else ""))
        self.coverage_label.setText(f"Coverage: {0 if step is None else step.coverage:.0%} of the image")
        rms = None if step is None else step.rms_px
        self.error_label.setText("Reprojection error: " + ("—" if rms is None else f"{rms:.2f} px"))
        if step is None or views < MIN_VIEWS:
            hint = f"Show the whole board, flat and sharp; {MIN_VIEWS} views at least"
        elif step.coverage < GOOD_COVERAGE:
            hint = "Move the board near the edges and corners of the image (the unshaded cells)"
        elif rms is not None and rms > GOOD_RMS_PX:
            hint = "The error is high: hold the board still and flat, in good light"
        else:
            hint = "Good: tilt the board a few more ways, or save"
        self.hint.setText(hint)
        self.save_button.setEnabled(self.guide is not None and self.guide.result is not None)

    @Slot(str)
    def _ended(self, error: str) -> None:
        self._draw()
        self.start_button.setText("Start")
        guide = self.guide
        if error or (guide is not None and guide.result is None):  # a failure, or the board not found enough
            self.problem.setText(error or guide.problem())
        self.save_button.setEnabled(guide is not None and guide.result is not None)

    def save(self, path: str) -> bool:
        """Writes the camera's calibration; a problem is one line here."""
        if self.guide is None:
            self.problem.setText("Nothing calibrated yet: press Start and show the board")
            return False
        if not self._written(self.guide.save, path):
            return False
        self.hint.setText(f"Saved {path}")
        return True

    def _ask_save(self) -> None:
        start = f"{self.name.text().strip() or 'camera'}.toml"
        path, _ = QFileDialog.getSaveFileName(self, "Save the camera's calibration", start, "Calibration (*.toml)")
        if path:
            self.save(path)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout_s)



def _stop_all(runs: list[tuple[threading.Thread, threading.Event]], timeout_s: float = 5.0) -> None:
    for thread, cancel in runs:
        cancel.set()
    for thread, _ in runs:
        thread.join(timeout_s)
