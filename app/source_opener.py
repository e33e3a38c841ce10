"""Opening what the window tracks: a video file, the sample clip or a camera, each replacing the
one before (a take being recorded is saved first); at start-up the first camera, or the sample
clip when there is none."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QSettings, Signal

from engine.core.resources import sample_clip
from engine.session.camera_rig import RigView

from .calibration_panel import CalibrationPanel
from .messages import StreamRequest
from .placement_dialog import PlacementDialog
from .rig_dialog import RigDialog
from .settings import AppSettings, push_recent
from .window_state import WindowState
from .window_values import Banner, BannerScope, Source, SourceKind, source_for_path
from .worker import EngineController

NO_CAMERA_TEXT = ("No camera found, so Monocap is playing its sample clip. Open a video file, or connect a camera "
                  "and restart.")
CAMERA_MISSING_TEXT = "No camera found. Connect one and restart, open a video file, or play the sample clip."


class SourceOpener(QObject):
    opening = Signal(object)  # Source: it replaces what ran, the views start over

    def __init__(self, engine: EngineController, state: WindowState, qsettings: QSettings,
                 settings: Callable[[], AppSettings], parent: QObject | None = None):
        super().__init__(parent)
        self._engine = engine
        self._state = state
        self._qsettings = qsettings
        self._settings = settings
        self.cameras: list[tuple[int, str]] = []  # (OpenCV index, description) of each camera connected
        self.placement: PlacementDialog | None = None  # the Place cameras dialog opened last

    def tell_no_camera(self) -> None:
        """The banner says there is no camera and offers the sample clip."""
        self._state.show(Banner(CAMERA_MISSING_TEXT, "info", "Play sample clip", "sample", BannerScope.SOURCE))

    def open_default(self) -> None:
        if self.cameras:
            self.open_camera(self.cameras[0][0])
        else:
            self.open_sample()
            self._state.show(Banner(NO_CAMERA_TEXT, "info", "Play sample clip again", "sample", BannerScope.SOURCE))

    def open_file(self, path: str | Path) -> None:
        path = str(path)
        push_recent(self._qsettings, "recent/files", path)
        self._qsettings.setValue("recent/folder", str(Path(path).parent))
        self._open(source_for_path(path, sample_clip()),
                   self._request(kind="file", path=path, record=self._settings().record_files))

    def open_sample(self) -> None:
        path = sample_clip()
        self._open(Source(SourceKind.SAMPLE, path.name, str(path)),
                   self._request(kind="file", path=str(path), record=self._settings().record_files))

    def open_camera(self, index: int) -> None:
        s = self._settings()
        label = next((name for i, name in self.cameras if i == index), f"camera {index}")
        self._open(Source(SourceKind.CAMERA, label, camera_index=int(index)),
                   self._request(kind="camera", camera_index=int(index), camera_size=(s.camera_width, s.camera_height)))

    def open_cameras(self, views: tuple[RigView, ...], calibration: str) -> None:
        """Several calibrated cameras (or video files standing in for them) fused into one pose."""
        label = f"{len(views)} cameras: " + ", ".join(v.label for v in views)
        self._open(Source(SourceKind.CAMERA, label, views=len(views)),
                   self._request(kind="cameras", views=tuple(views), calibration=str(calibration)))

    def ask_cameras(self) -> RigDialog:
        """The Several cameras dialog (its Start opens them); returned for scripts and tests."""
        dialog = RigDialog(self.cameras, self._qsettings, self.parent())
        dialog.startRequested.connect(self.open_cameras)
        dialog.calibrateRequested.connect(self.ask_calibration)
        dialog.placeRequested.connect(lambda: self.ask_placement(dialog))
        dialog.show()
        return dialog

    def ask_calibration(self) -> CalibrationPanel:
        """The guided calibration of one camera's lens; returned for scripts and tests."""
        s = self._settings()
        panel = CalibrationPanel(self.cameras, self._qsettings, (s.camera_width, s.camera_height), self.parent())
        panel.show()
        return panel

    def ask_placement(self, rig_dialog: RigDialog | None = None) -> PlacementDialog:
        """The Place cameras dialog (its video files from the Several cameras dialog's list, and its
        cameras, or those connected, to record); the file it saves becomes that dialog's calibration
        (and the next one's); returned for scripts and tests."""
        s = self._settings()
        cameras = rig_dialog.views() if rig_dialog else tuple(RigView("camera", camera_index=i) for i, _ in self.cameras)
        self.placement = PlacementDialog(self._qsettings, rig_dialog.video_files() if rig_dialog else [], self.parent(),
                                         cameras, (s.camera_width, s.camera_height))
        if rig_dialog is not None:
            self.placement.saved.connect(rig_dialog.calibration.setText)
        if self.placement.recorder is not None and any(v.kind == "camera" for v in cameras):
            self.placement.recorder.starting.connect(self._let_go_of_cameras)
        self.placement.show()
        return self.placement

    def _let_go_of_cameras(self) -> None:
        """What runs stops (a take being recorded is saved), so a recording can open its camera."""
        self._engine.set_recording(False)
        self._engine.stop_stream()

    def _request(self, **kw) -> StreamRequest:
        s = self._settings()
        return StreamRequest(config=s.pipeline_config(), realtime=s.realtime, takes_dir=s.takes_folder, **kw)

    def _open(self, source: Source, request: StreamRequest) -> None:
        self._engine.set_recording(False)  # a take being recorded ends (and is saved) as its source goes
        self.opening.emit(source)
        self._state.open_source(source)
        self._engine.open_stream(request)
