"""Place cameras' recording row: the cameras of the Several cameras dialog (or those connected; video
files stand in for cameras, played at their own rate) filmed at once into one video each, in a
folder the user picks, for a number of seconds or until Stop (engine.session.views_recording, on a
thread of its own)."""

from __future__ import annotations

import threading

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from engine.core.errors import describe_error
from engine.session.camera_rig import RigView
from engine.session.views_recording import DEFAULT_SECONDS, MAX_SECONDS, record_views


class RecordRow(QWidget):
    recorded = Signal(object)  # list[str]: the videos written, in the cameras' order
    starting = Signal()  # the cameras are about to be opened: whatever holds one lets go of it
    failed = Signal(str)  # the one line that ended the recording
    _ended = Signal(object)  # Recording or str, from the recording's thread
    _progressed = Signal(int, int)

    def __init__(self, views: tuple[RigView, ...], camera_size: tuple[int, int] | None, qsettings: QSettings,
                 parent=None):
        super().__init__(parent)
        self.views, self._camera_size, self._qsettings = tuple(views), camera_size, qsettings
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        cancels: list[threading.Event] = []  # every recording's, set when the row goes with its dialog
        self._cancels = cancels
        self.destroyed.connect(lambda *_: [c.set() for c in cancels])
        names = ", ".join(v.label for v in self.views)
        self.button = QPushButton("Record from the cameras…", toolTip=f"Film {names} at once, a video each, then "
                                                                        "place the cameras from those videos")
        self.seconds = QDoubleSpinBox(minimum=1.0, maximum=MAX_SECONDS, decimals=0, suffix=" s",
                                      value=float(qsettings.value("place/record_s", DEFAULT_SECONDS)))
        self.status = QLabel(f"{len(self.views)} cameras: {names}")
        self.button.clicked.connect(self._clicked)
        self._ended.connect(self._finish, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._show, Qt.ConnectionType.QueuedConnection)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.button)
        lay.addWidget(self.seconds)
        lay.addWidget(self.status, 1)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _clicked(self) -> None:
        if self.running:
            self._cancel.set()
            return
        folder = QFileDialog.getExistingDirectory(self, "The folder for the cameras' videos",
                                                  str(self._qsettings.value("place/record_folder") or ""))
        if folder:
            self.record(folder)

    def record(self, folder: str) -> None:
        """Starts filming every camera into FOLDER/cam01.avi, cam02.avi, ... (Stop keeps what was filmed)."""
        self._qsettings.setValue("place/record_folder", folder)
        self._qsettings.setValue("place/record_s", self.seconds.value())
        self._cancel = threading.Event()
        self._cancels.append(self._cancel)
        self._shown_s = -1
        self._thread = threading.Thread(target=self._run, args=(folder, self.seconds.value(), self._cancel),
                                        name="monocap-record-views", daemon=True)
        self.button.setText("Stop recording")
        self.status.setText("opening the cameras…")
        self.starting.emit()
        self._thread.start()

    def _run(self, folder: str, seconds: float, cancel: threading.Event) -> None:
        try:
            outcome = record_views(list(self.views), folder, seconds, self._camera_size, self._progress, cancel)
        except Exception as exc:  # noqa: BLE001 - said in the dialog, in one line
            outcome = describe_error(exc)
        try:
            self._ended.emit(outcome)
        except RuntimeError:  # the dialog went meanwhile
            pass

    def _progress(self, done: int, total: int | None) -> None:
        if done != self._shown_s:
            self._shown_s = done
            self._progressed.emit(done, total or 0)

    @Slot(int, int)
    def _show(self, done: int, total: int) -> None:
        if self.running:
            self.status.setText(f"recording: {done} of {total} s")

    @Slot(object)
    def _finish(self, outcome) -> None:
        self.button.setText("Record from the cameras…")
        if isinstance(outcome, str):
            self.status.setText("not recorded")
            self.failed.emit(outcome)
        else:
            self.status.setText(f"recorded {len(outcome.paths)} videos, {outcome.frames} frames each "
                                f"({outcome.rate:.1f} a second)")
            self.recorded.emit([str(p) for p in outcome.paths])

    def stop(self, timeout_s: float = 5.0) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
