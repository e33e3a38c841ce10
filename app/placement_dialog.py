"""Place cameras: where the cameras stand, from videos of the person (their height or one measured
camera-to-camera distance sets the scale) or of a board seen by two cameras at once; one video (or,
for a board, one folder of photos) per camera and each camera's lens file. Place runs the command
line's maths (engine.session.camera_placement) on a thread of its own, with progress and Stop; the
result is each camera's reprojection error and the notes, or one line saying what could not be
placed; Save… writes the calibration file, which the Several cameras dialog then uses."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.core.errors import describe_error
from engine.core.video_files import VIDEO_SUFFIXES
from engine.session.camera_placement import (
    HEIGHT_RANGE_M,
    SUGGESTED_BOARD,
    BoardMethod,
    PersonMethod,
    Placement,
    PlacementRequest,
    lens_names,
    place_cameras,
)
from engine.session.pipeline import Cancelled

from .board_fields import BoardFields
from .record_row import RecordRow
from .work_dialog import WorkDialog

LENS_FILES = "Lens calibrations (*.toml *.qca.txt *.txt *.yml);;All files (*)"
VIDEO, LENS, CAMERA = range(3)  # the table's columns
PLACING = "placing the cameras…"  # the progress bar's text while the bundle adjustment runs


class PlacementDialog(WorkDialog):
    progressed = Signal()  # a progress report waits to be shown (from the placement's thread)
    finished_run = Signal(object)  # Placement, or the one line that ended the run
    saved = Signal(str)  # the calibration file written

    def __init__(self, qsettings: QSettings, videos: list[str] = (), parent=None, cameras: tuple = (),
                 camera_size: tuple[int, int] | None = None):
        """videos: video files to start the list with (the Several cameras dialog's); cameras: the
        RigViews its Record films (a camera asked for camera_size)."""
        super().__init__(parent)
        self.setWindowTitle("Place cameras")
        self._qsettings = qsettings
        self.placement: Placement | None = None
        self.detected: dict = {}  # Path -> the detections of a video looked at before: placing again skips them
        self._stats: dict = {}  # Path -> (size, mtime) of the video when it was detected
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._mail: tuple[int, int | None] | None = None
        self._lock = threading.Lock()
        self.method = QComboBox()
        self.method.addItem("The person (no board)", "person")
        self.method.addItem("A board seen by two cameras at once", "board")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Video (a board: or a folder of photos)", "Lens file", "Camera"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        add_videos, add_folder = QPushButton("Add videos…"), QPushButton("Add photo folder…")
        lens, remove = QPushButton("Lens file…", toolTip="The lens file of the selected cameras "
                                                          "(File > Calibrate a camera…)"), QPushButton("Remove")
        add_videos.clicked.connect(self._browse_videos)
        add_folder.clicked.connect(self._browse_folder)
        lens.clicked.connect(self._browse_lens)
        remove.clicked.connect(self._remove_selected)
        row = QHBoxLayout()
        for w in (add_videos, add_folder, lens, remove):
            row.addWidget(w)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._person_page())
        self.pages.addWidget(self._board_page())
        self.method.currentIndexChanged.connect(self.pages.setCurrentIndex)
        self.place_button, self.save_button = QPushButton("Place"), QPushButton("Save…", enabled=False)
        self.place_button.clicked.connect(self.toggle)
        self.save_button.clicked.connect(self._ask_save)
        self.progress = QProgressBar()
        self.progress.setFormat("")
        self.result = QPlainTextEdit(readOnly=True)
        self.result.setPlaceholderText("Each camera's reprojection error shows here once the cameras are placed")
        self.problem = QLabel(wordWrap=True, styleSheet="color: #c0392b;")
        buttons = QHBoxLayout()
        buttons.addWidget(self.place_button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.save_button)
        form = QFormLayout()
        form.addRow("From", self.method)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        self.recorder = RecordRow(cameras, camera_size, qsettings) if len(cameras) >= 2 else None
        if self.recorder is not None:
            self.recorder.recorded.connect(self.use_recorded)
            self.recorder.failed.connect(self.problem.setText)
            lay.addWidget(self.recorder)
        lay.addWidget(QLabel("One video per camera, filmed at the same time, and each camera's lens file:"))
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        lay.addWidget(self.pages)
        lay.addLayout(buttons)
        lay.addWidget(self.result, 1)
        lay.addWidget(self.problem)
        self.progressed.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)
        self.finished_run.connect(self._ended, Qt.ConnectionType.QueuedConnection)
        cancels: list[threading.Event] = []  # every run's, set when the dialog goes with its window
        self._cancels = cancels
        self.destroyed.connect(lambda *_: [c.set() for c in cancels])
        for video in videos:
            self.add_input(video)
        self.resize(760, 640)

    def _person_page(self) -> QWidget:
        page = QWidget()
        self.by_height, self.by_distance = QRadioButton("The person's height", checked=True), QRadioButton(
            "The distance between two cameras, measured")
        group = QButtonGroup(page)
        group.addButton(self.by_height)
        group.addButton(self.by_distance)
        self.height = QDoubleSpinBox(minimum=HEIGHT_RANGE_M[0], maximum=HEIGHT_RANGE_M[1], decimals=2, singleStep=0.01,
                                     suffix=" m", value=float(self._qsettings.value("place/height", 1.75)))
        self.camera_a, self.camera_b = QComboBox(), QComboBox()
        self.distance = QDoubleSpinBox(minimum=0.05, maximum=100.0, decimals=2, singleStep=0.01, suffix=" m", value=3.0)
        self.find_offsets = QCheckBox("The videos did not start together: find the offsets from the person's motion "
                                      "(they must wave, stop and turn)")
        distance = QHBoxLayout()
        for w in (self.camera_a, QLabel("to"), self.camera_b, self.distance):
            distance.addWidget(w)
        form = QFormLayout(page)
        form.addRow(self.by_height, self.height)
        form.addRow(self.by_distance, distance)
        form.addRow(self.find_offsets)
        return page

    def _board_page(self) -> QWidget:
        page = QWidget()
        # a ChArUco board counts where only part of it is seen
        self.board_fields = fields = BoardFields(*SUGGESTED_BOARD)
        self.kind, self.columns, self.rows, self.square, self.marker = (fields.kind, fields.columns, fields.rows,
                                                                         fields.square, fields.marker)
        fields.add_to(QFormLayout(page))
        return page

    # the cameras' list

    def inputs(self) -> list[str]:
        return [self.table.item(r, VIDEO).data(Qt.ItemDataRole.UserRole) for r in range(self.table.rowCount())]

    def lenses(self) -> list[str]:
        return [self.table.item(r, LENS).data(Qt.ItemDataRole.UserRole) or "" for r in range(self.table.rowCount())]

    def add_input(self, path: str, lens: str = "") -> None:
        """A camera's video (or folder of photos); its lens file is the one given, else a .toml of the
        same name beside it (cam01.mp4 -> cam01.toml)."""
        beside = Path(path).with_suffix(".toml")
        r = self.table.rowCount()
        self.table.insertRow(r)
        for column in (VIDEO, LENS, CAMERA):
            self.table.setItem(r, column, QTableWidgetItem())
        self._set(r, VIDEO, str(path))
        self.set_lens(r, lens or (str(beside) if not lens and beside.is_file() else ""))

    def set_lens(self, row: int, path: str) -> None:
        self._set(row, LENS, str(path))
        self._name_cameras()

    def _set(self, row: int, column: int, path: str) -> None:
        item = self.table.item(row, column)
        item.setData(Qt.ItemDataRole.UserRole, path)
        item.setText(Path(path).name if path else "(none)")
        item.setToolTip(path)

    def _name_cameras(self) -> None:
        """The Camera column and the distance's cameras: the names the lens files give each video."""
        try:
            names = lens_names(self.inputs(), self._lens_files()) if all(self.lenses()) else []
        except Exception:  # noqa: BLE001 - said when Place is pressed
            names = []
        for r in range(self.table.rowCount()):
            self.table.item(r, CAMERA).setText(names[r] if r < len(names) else "")
        for combo, pick in ((self.camera_a, 0), (self.camera_b, 1)):
            chosen = combo.currentText()
            combo.clear()
            combo.addItems(names)
            combo.setCurrentIndex(names.index(chosen) if chosen in names else min(pick, len(names) - 1))

    def _lens_files(self) -> list[str]:
        return list(dict.fromkeys(lens for lens in self.lenses() if lens))  # one file may hold every camera

    def _browse_videos(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES))
        paths, _ = QFileDialog.getOpenFileNames(self, "One video per camera", str(self._qsettings.value("recent/folder") or ""),
                                                f"Videos ({patterns});;All files (*)")
        for path in paths:
            self.add_input(path)

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A camera's photos of the board, one per moment")
        if folder:
            self.add_input(folder)

    def _browse_lens(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}) or \
            [r for r in range(self.table.rowCount()) if not self.lenses()[r]]
        path, _ = QFileDialog.getOpenFileName(self, "The camera's lens file", "", LENS_FILES)
        for r in rows if path else ():
            self.set_lens(r, path)

    def _remove_selected(self) -> None:
        for r in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(r)
        self._name_cameras()

    # placing

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def request(self) -> PlacementRequest:
        if self.method.currentData() == "board":
            method = BoardMethod(self.board_fields.board())
        elif self.by_height.isChecked():
            method = PersonMethod(height_m=self.height.value(), find_offsets=self.find_offsets.isChecked())
        else:
            method = PersonMethod(distance=(self.camera_a.currentText(), self.camera_b.currentText(),
                                            self.distance.value()), find_offsets=self.find_offsets.isChecked())
        return PlacementRequest(tuple(self.inputs()), tuple(self._lens_files()), method)

    @Slot()
    def toggle(self) -> None:
        if self.running:
            self._cancel.set()
        else:
            self.place()

    def place(self) -> bool:
        """Starts placing the cameras; a problem before it starts is one line here."""
        self.problem.clear()
        self.result.clear()
        try:
            if self.recorder is not None and self.recorder.running:
                raise ValueError("the cameras are being recorded: place them once the recording ends")
            if self.lenses() and not all(self.lenses()):
                missing = next(Path(v).name for v, lens in zip(self.inputs(), self.lenses()) if not lens)
                raise ValueError(f"{missing}: choose its lens file (Lens file…)")
            request = self.request()
        except Exception as exc:  # noqa: BLE001 - said in the dialog, in one line
            self.problem.setText(str(exc) if isinstance(exc, ValueError) else describe_error(exc))
            return False
        self._forget_changed_videos()
        self.placement = None
        self._cancel = threading.Event()
        self._cancels.append(self._cancel)
        self._thread = threading.Thread(target=self._run, args=(request, self._cancel), name="monocap-placement",
                                        daemon=True)
        self.place_button.setText("Stop")
        self.save_button.setEnabled(False)
        if self.recorder is not None:
            self.recorder.button.setEnabled(False)  # the videos stay as they are while they are looked at
        self.progress.setRange(0, 0)
        if isinstance(request.method, BoardMethod):
            self.progress.setFormat("looking for the board…")
        elif all(Path(p) in self.detected for p in request.inputs):
            self.progress.setFormat(PLACING)  # detected before: straight to the bundle adjustment
        else:
            self.progress.setFormat("detecting the person…")
        self._qsettings.setValue("place/height", self.height.value())
        self._thread.start()
        return True

    def use_recorded(self, videos: list[str]) -> None:
        """The cameras' videos just recorded replace the list; each row keeps its lens file."""
        lenses = self.lenses()
        self.problem.clear()
        self.table.setRowCount(0)
        for r, video in enumerate(videos):
            self.add_input(video, lenses[r] if r < len(lenses) else "")

    def use_detections(self, detected: dict) -> None:
        """Detections of these videos made before (path -> PeopleTracks): placing skips detecting them."""
        for path, tracks in detected.items():
            self.detected[Path(path)] = tracks
            self._stats[Path(path)] = _stat(path)

    def _forget_changed_videos(self) -> None:
        for path in list(self.detected):
            stat = _stat(path)
            if stat is None or stat != self._stats.get(path):
                self.detected.pop(path, None)

    def _run(self, request: PlacementRequest, cancel: threading.Event) -> None:
        try:
            outcome = place_cameras(request, self._post, cancel, detected=self.detected)
        except Cancelled:
            outcome = "Stopped: nothing was placed or written"
        except Exception as exc:  # noqa: BLE001 - said in the dialog, in one line
            outcome = describe_error(exc)
        for path in self.detected:
            self._stats.setdefault(path, _stat(path))
        try:
            self.finished_run.emit(outcome)
        except RuntimeError:  # the dialog went meanwhile
            pass

    def _post(self, done: int, total: int | None) -> None:
        with self._lock:
            notify, self._mail = self._mail is None, (done, total)
        if notify:
            self.progressed.emit()

    @Slot()
    def _show_progress(self) -> None:
        with self._lock:
            mail, self._mail = self._mail, None
        if mail is not None and self.running:
            done, total = mail
            if total and done >= total:  # every frame or moment looked at: the bundle adjustment runs
                self.progress.setRange(0, 0)
                self.progress.setFormat(PLACING)
                return
            self.progress.setRange(0, total or 0)
            self.progress.setValue(min(done, total or done))
            self.progress.setFormat(("frame" if self.method.currentData() == "person" else "moment") + f" {done}"
                                    + (f" of {total}" if total else ""))

    @Slot(object)
    def _ended(self, outcome) -> None:
        self.place_button.setText("Place")
        if self.recorder is not None:
            self.recorder.button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if isinstance(outcome, Placement) else 0)
        self.progress.setFormat("placed" if isinstance(outcome, Placement) else "")
        if not isinstance(outcome, Placement):
            self.problem.setText(outcome)
            return
        self.placement = outcome
        lines = [f"{name}: {px:.2f} px" + ("" if px < outcome.good_px else f" (over {outcome.good_px:g} px: "
                                                                           "check its lens file and its view)")
                 for name, px in outcome.camera_px.items()]
        lines += [f"note: {note}" for note in outcome.notes] + [outcome.summary]
        self.result.setPlainText("\n".join(lines))
        self.save_button.setEnabled(True)

    def save(self, path: str) -> bool:
        """Writes the calibration file (Monocap's TOML) and offers it to the Several cameras dialog."""
        if self.placement is None:
            self.problem.setText("Nothing placed yet: press Place")
            return False
        if not self._written(self.placement.save, path):
            return False
        self._qsettings.setValue("rig/calibration", str(path))
        self.result.appendPlainText(f"Saved {path}")
        self.saved.emit(str(path))
        return True

    def _ask_save(self) -> None:
        first = Path(self.inputs()[0]) if self.inputs() else Path.home() / "rig.toml"
        path, _ = QFileDialog.getSaveFileName(self, "Save the cameras' calibration", str(first.parent / "rig.toml"),
                                              "Calibration (*.toml)")
        if path:
            self.save(path)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self.recorder is not None:
            self.recorder.stop(timeout_s)



def _stat(path) -> tuple[int, int] | None:
    try:
        s = Path(path).stat()
    except OSError:
        return None
    return s.st_size, s.st_mtime_ns
