"""Several cameras: the list of cameras (and video files standing in for webcams, played at their own
rate) fused into one pose, their calibration file, and Start. The first in the list is the one the
image view shows; they take the calibration's cameras in order (video files named after the
calibration's cameras, cam01.mp4 for cam01, take theirs by name). What cannot run is said in one
line in the dialog before anything starts (engine.session.camera_rig.rig_for_views)."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from engine.core.errors import describe_error
from engine.core.video_files import VIDEO_SUFFIXES
from engine.session.camera_rig import RigView, rig_for_views

from .path_field import PathField

CALIBRATION_FILES = "Calibrations (*.toml *.qca.txt *.txt *.yml);;All files (*)"


class RigDialog(QDialog):
    startRequested = Signal(object, str)  # tuple[RigView, ...], the calibration file
    calibrateRequested = Signal()  # the user asked for the guided calibration of one camera
    placeRequested = Signal()  # the user asked to place the cameras (Place cameras…)

    def __init__(self, cameras: list[tuple[int, str]], qsettings: QSettings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Several cameras")
        self._qsettings = qsettings
        self.views_list = QListWidget()
        self.camera_combo = QComboBox()
        for index, name in cameras:
            self.camera_combo.addItem(f"{name} (camera {index})", index)
        if not cameras:
            self.camera_combo.addItem("(no camera found)", None)
        add_camera = QPushButton("Add camera", enabled=bool(cameras))
        add_camera.clicked.connect(lambda: self.add_camera(self.camera_combo.currentData()))
        add_file = QPushButton("Add video file…", toolTip="A video file stands in for a webcam, played at its own rate")
        add_file.clicked.connect(self._browse_file)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self.views_list.takeItem(self.views_list.currentRow()))
        row = QHBoxLayout()
        for w in (self.camera_combo, add_camera, add_file, remove):
            row.addWidget(w)
        self.calibration = PathField(str(qsettings.value("rig/calibration") or ""), "Choose the cameras' calibration",
                                     CALIBRATION_FILES, "(no calibration file)")
        calibrate = QPushButton("Calibrate a camera…", toolTip="A camera's lens from a checkerboard, guided")
        calibrate.clicked.connect(self.calibrateRequested.emit)
        self.place_button = QPushButton("Place cameras…", toolTip="Where the cameras stand, from videos of the person "
                                                                   "or of a board: writes the calibration file")
        self.place_button.clicked.connect(self.placeRequested.emit)
        calibration_row = QHBoxLayout()
        calibration_row.addWidget(self.calibration, 1)
        calibration_row.addWidget(self.place_button)
        self.problem = QLabel(wordWrap=True, styleSheet="color: #c0392b;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Calibration", calibration_row)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Cameras, first shown in the image view, in the calibration's order:"))
        lay.addWidget(self.views_list)
        lay.addLayout(row)
        lay.addLayout(form)
        lay.addWidget(calibrate)
        lay.addWidget(self.problem)
        lay.addWidget(self.buttons)
        self.resize(620, 380)
        for view in _stored_views(qsettings.value("rig/views")):  # the cameras of the last run
            if view.kind == "file" or view.camera_index in {i for i, _ in cameras}:
                self._add(view, _describe(view, dict(cameras)))

    def views(self) -> tuple[RigView, ...]:
        return tuple(self.views_list.item(i).data(0x0100) for i in range(self.views_list.count()))

    def add_camera(self, index: int | None) -> None:
        if index is not None:
            names = {self.camera_combo.itemData(i): self.camera_combo.itemText(i) for i in range(self.camera_combo.count())}
            view = RigView("camera", camera_index=int(index))
            self._add(view, _describe(view, names))

    def video_files(self) -> list[str]:
        return [v.path for v in self.views() if v.kind == "file"]

    def add_file(self, path: str) -> None:
        view = RigView("file", path=str(path))
        self._add(view, _describe(view, {}))

    def _add(self, view: RigView, text: str) -> None:
        item = QListWidgetItem(text)
        item.setData(0x0100, view)  # Qt.UserRole
        self.views_list.addItem(item)
        self.problem.clear()

    def _browse_file(self) -> None:
        folder = self._qsettings.value("recent/folder") or ""
        patterns = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES))
        paths, _ = QFileDialog.getOpenFileNames(self, "Video files standing in for cameras", str(folder),
                                                f"Videos ({patterns});;All files (*)")
        for path in paths:
            self.add_file(path)

    def start(self) -> bool:
        """Checks the cameras against the calibration (one line here when they cannot run) and starts them."""
        views, calibration = self.views(), self.calibration.text()
        try:
            rig_for_views(list(views), calibration)
        except Exception as exc:  # noqa: BLE001 - said in the dialog, in one line
            self.problem.setText(describe_error(exc))
            return False
        self._qsettings.setValue("rig/calibration", calibration)
        self._qsettings.setValue("rig/views", [f"{v.kind}:{v.camera_index if v.kind == 'camera' else v.path}"
                                               for v in views])
        self.startRequested.emit(views, calibration)
        self.accept()
        return True


def _describe(view: RigView, names: dict) -> str:
    if view.kind == "camera":
        return f"camera {view.camera_index}: {names.get(view.camera_index, 'not connected')}"
    return f"video file: {view.path}"


def _stored_views(value) -> list[RigView]:
    """The views kept in the settings ("camera:0", "file:/path/cam01.mp4"); what no longer reads is left out."""
    values = [value] if isinstance(value, str) else list(value or [])
    views = []
    for text in values:
        kind, _, rest = str(text).partition(":")
        if kind == "camera" and rest.isdigit():
            views.append(RigView("camera", camera_index=int(rest)))
        elif kind == "file" and rest:
            views.append(RigView("file", path=rest))
    return views
