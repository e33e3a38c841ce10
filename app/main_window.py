"""The main window: sources, the image and 3D views, takes, playback, angles, export, batch.

The window makes its parts and connects them; each part lives in a module of its own:
- what the window is doing, `self.state` (window_state.py): the window feeds it the worker's
  reports and the user's actions; each change emits `changed`, which the banner, the status bar,
  the Takes panel and the Record button draw;
- the views (arranged by views_area.py), the running source drawn in them (live_display.py) and
  the take shown (take_player.py);
- the commands in the menus and the toolbar (window_commands.py), the sources they open
  (source_opener.py), the Takes and Batch panels, exports (export_runner.py), several people
  (people_ui.py).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

from engine.core.errors import describe_error
from engine.core.take import Take
from engine.core.video_files import is_video_file

from . import heap
from .angle_plot import AnglePlot
from .banner import MessageBanner
from .batch_panel import BatchPanel
from .camera_picker import CameraPicker, list_cameras
from .export_runner import ExportRunner
from .exporting import ExportRequest
from .file_dialogs import ask_take, ask_video
from .image_view import ImageView
from .live_display import LiveDisplay
from .messages import BatchRequest, BatchResult, RecordingState, SessionEnd, SessionInfo
from .path_field import open_folder
from .people_ui import PeopleUi
from .settings import AppSettings, recent_list
from .source_opener import SourceOpener
from .space_to_pause import SpaceToPause
from .status_labels import StatusLabels
from .stream_control import StreamControl
from .take_player import TakePlayer
from .take_reports import TakeReports
from .takes_folder import list_takes_folder
from .takes_panel import TakesPanel
from .timeline import Timeline
from .view3d import SkeletonView
from .views_area import ViewsArea
from .window_commands import WindowCommands
from .window_state import WindowState
from .window_values import Banner, BannerScope
from .worker import EngineController

STATE_VERSION = 1  # of the toolbar and docks' layout kept in the settings


class MainWindow(QMainWindow):
    exportFinished = Signal(object, object)  # paths, error

    def __init__(self, settings: QSettings | None = None, autostart: bool = False, takes_dir: str | None = None):
        super().__init__()
        self.setWindowTitle("Monocap")
        self.setAcceptDrops(True)
        self.qsettings = settings or QSettings("Monocap", "Monocap")
        self.app_settings, settings_problems = AppSettings.load_checked(self.qsettings)
        if takes_dir:
            self.app_settings = self.app_settings.with_(takes_dir=takes_dir)
        self.state = WindowState(self.app_settings.device, self)
        self.state.set_lift_choice(self.app_settings.lift_mode, self.app_settings.hands)
        if settings_problems:  # each bad value kept its default
            self.state.show(Banner("; ".join(settings_problems), "warning", scope=BannerScope.NOTICE))
        self.engine = EngineController(self)
        self.sources = SourceOpener(self.engine, self.state, self.qsettings, lambda: self.app_settings, self)
        self._closing = False

        self._make_views()
        self._make_panels()
        self._make_commands()
        self._restore_layout()
        self._connect_engine()
        self.engine.start()
        list_takes_folder(self.state, self.app_settings.takes_folder)
        self._set_cameras(list_cameras())
        self._order_focus()
        heap.settle()
        if autostart:
            QTimer.singleShot(0, self.start_default_source)

    # ------------------------------------------------------------------ making the window
    def _make_views(self) -> None:
        self.banner = MessageBanner()
        self.image_view = ImageView()
        self.view3d = SkeletonView()
        self.angle_plot = AnglePlot()
        self.timeline = Timeline()
        self.views_area = ViewsArea(self.banner, self.image_view, self.view3d, self.angle_plot, self.timeline)
        self.setCentralWidget(self.views_area)
        self.live = LiveDisplay(self.engine.take_latest, self.state, self.image_view, self.view3d,
                                self.angle_plot, self)
        self.player = TakePlayer(self.state, self.timeline, self.image_view, self.view3d, self.angle_plot, self)
        self.sources.opening.connect(self.player.close)  # a new source: no take shown, the views start over
        self.sources.opening.connect(self.live.start)
        self.banner.closed.connect(self.state.close_banner)
        self.banner.acted.connect(self._banner_action)
        self.state.subscribe(self.banner.show_status)

    def _make_panels(self) -> None:
        self.takes_panel = TakesPanel()
        self.takes_panel.takeChosen.connect(self.select_take)
        self.takes_panel.backToLive.connect(self.back_to_live)
        self.takes_panel.exportRequested.connect(self.open_export_dialog)
        self.state.takeListed.connect(self.takes_panel.add_take)
        self.state.takesCleared.connect(self.takes_panel.clear)
        self.state.subscribe(self.takes_panel.show_status)
        self.takes_dock = self._dock("Takes", "takes_dock", self.takes_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.batch_panel = BatchPanel(self.qsettings, self.app_settings.batch_folder)
        self.batch_panel.startRequested.connect(self.run_batch)
        self.batch_panel.cancelRequested.connect(self.engine.cancel_batch)
        self.batch_panel.finished.connect(self._on_batch_finished)
        self.batch_dock = self._dock("Batch", "batch_dock", self.batch_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.batch_dock.hide()
        self.status_labels = StatusLabels(self.statusBar())
        self.state.subscribe(self.status_labels.show_status)
        self.exports = ExportRunner(self.qsettings, self.state, self.statusBar(), self)
        self.exports.finished.connect(lambda outcome: self.exportFinished.emit(outcome.paths, outcome.error))

    def _dock(self, title: str, name: str, panel: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(panel)
        self.addDockWidget(area, dock)
        return dock

    def _make_commands(self) -> None:
        c = self.commands = WindowCommands(self.app_settings.record_files, self)
        self.camera_picker = CameraPicker()
        self.camera_picker.startRequested.connect(self.open_camera)
        self.stream_control = StreamControl(self.qsettings, self)
        c.fill_menus(self.menuBar(), (self.takes_dock, self.batch_dock), (self.stream_control.menu,))
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        c.fill_toolbar(toolbar, self.camera_picker, self.stream_control)
        self.addActions(c.frame_steps)
        for action, slot in ((c.open_video, self.open_dialog), (c.sample, self.open_sample),
                             (c.open_take, self.open_take_dialog), (c.record, self.set_recording),
                             (c.stop, self.stop_source), (c.export, self.open_export_dialog), (c.batch, self.show_batch),
                             (c.open_output, lambda: open_folder(self.app_settings.output_folder)),
                             (c.settings, self.open_settings), (c.quit, self.close), (c.about, self.show_about),
                             (c.reset_view, self.view3d.reset_view), (c.place_cameras, lambda: self.sources.ask_placement()),
                             (c.several_cameras, self.sources.ask_cameras), (c.calibrate_camera, self.sources.ask_calibration),
                             (c.previous_frame, lambda: self.timeline.step(-1)), (c.next_frame, lambda: self.timeline.step(1))):
            action.triggered.connect(slot)
        c.record_files.toggled.connect(
            lambda on: self.apply_settings(self.app_settings.with_(record_files=on), quiet=True))
        c.follow.toggled.connect(self.view3d.set_follow)
        c.trails.toggled.connect(self.view3d.set_trails_visible)
        c.recentChosen.connect(self.open_file)
        self.state.subscribe(c.show_status)
        self._fill_recent()
        # several people: Record everyone, clicks on a person, a group's takes
        self.people_ui = PeopleUi(self.qsettings, c.record_everyone, self.engine, self.state, self.player.people, self)
        self.people_ui.personTakeChosen.connect(self.player.play_person)
        self.view3d.personClicked.connect(self.people_ui.person_clicked)
        self.image_view.personClicked.connect(self.people_ui.person_clicked)
        self.image_view.nobodyClicked.connect(self.people_ui.nobody_clicked)
        self.people_ui.said.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self._space = SpaceToPause(self, self.state)
        self._space.pressed.connect(self.toggle_play)
        QApplication.instance().installEventFilter(self._space)

    def _connect_engine(self) -> None:
        w = self.engine.worker
        self.engine.set_pose_sink(self.stream_control.switch)
        w.sourceOpened.connect(self._on_source_opened)
        w.frameAvailable.connect(self.live.frame_available)
        w.sourceEnded.connect(self._on_source_ended)
        w.recordingChanged.connect(self._on_recording_changed)
        reports = self.take_reports = TakeReports(self.state, self.player, self.statusBar().showMessage, self)
        w.takeSaved.connect(reports.saved)
        w.takeRefining.connect(reports.refining)
        w.takeRefined.connect(reports.refined)
        w.batchProgress.connect(self.batch_panel.on_progress)
        w.batchFinished.connect(self.batch_panel.on_finished)

    def _order_focus(self) -> None:
        """Keyboard use: the focus starts in the Takes list (Space plays, the arrows pick a take) and Tab
        goes through the takes' buttons, the 3D view, the angles, the timeline and Stream."""
        t = self.timeline
        chain = (self.takes_panel.takes_list, self.takes_panel.live_button, self.takes_panel.export_button,
                 self.view3d.container(), self.angle_plot.choose, t.step_back, t.play_button, t.step_fwd, t.slider,
                 t.speed, self.stream_control.button)
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)
        self.takes_panel.takes_list.setFocus()

    def _fill_recent(self) -> None:
        self.commands.set_recent(recent_list(self.qsettings, "recent/files"))

    def _set_cameras(self, cameras: list[tuple[int, str]]) -> None:
        self.sources.cameras = cameras
        self.camera_picker.set_cameras(cameras)

    def _restore_layout(self) -> None:
        geo = self.qsettings.value("window/geometry")
        state = self.qsettings.value("window/state")
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(1400, 900)
        if state is not None:
            self.restoreState(state, STATE_VERSION)
        self.views_area.restore_layout(self.qsettings)
        angles = recent_list(self.qsettings, "angles/selected")
        if angles:
            self.angle_plot.set_selected(angles)
        self.angle_plot.selectionChanged.connect(lambda names: self.qsettings.setValue("angles/selected", names))

    def _save_layout(self) -> None:
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        self.qsettings.setValue("window/state", self.saveState(STATE_VERSION))
        self.views_area.save_layout(self.qsettings)
        self.qsettings.sync()

    # ------------------------------------------------------------------ what it shows, for scripts and tests
    mode = property(lambda self: self.state.mode)
    source_running = property(lambda self: self.state.source_running)
    source_info = property(lambda self: self.state.source_info)
    recording = property(lambda self: self.state.recording)
    takes = property(lambda self: self.state.takes)  # name -> TakeFiles
    current_take = property(lambda self: self.state.current_take)
    current_take_name = property(lambda self: self.state.take_name)
    frames_rendered = property(lambda self: self.live.frames_rendered)
    last_frame = property(lambda self: self.live.last_frame)

    # ------------------------------------------------------------------ messages
    @Slot(str)
    def show_error(self, text: str) -> None:
        self.state.show(Banner(text, "error"))

    @Slot(object)
    def _banner_action(self, banner: Banner | None) -> None:
        if banner is None:
            return
        if banner.action_id == "sample":
            self.open_sample()
        elif banner.action_id == "open_folder":
            open_folder(banner.folder)

    # ------------------------------------------------------------------ sources
    def start_default_source(self) -> None:
        """At start-up: the first camera, or (no camera) say so and play the sample clip."""
        self.sources.open_default()

    def check_cameras(self) -> None:
        """Tells the user when there is no camera and offers the sample clip (no exception, no dialog)."""
        self._set_cameras(list_cameras())
        if not self.sources.cameras:
            self.sources.tell_no_camera()

    @Slot(str)
    def open_file(self, path: str | Path) -> None:
        self.sources.open_file(path)
        self._fill_recent()

    @Slot()
    def open_sample(self) -> None:
        self.sources.open_sample()

    @Slot(object)
    def open_camera(self, index: int | None) -> None:
        if index is None:
            self.check_cameras()
        else:
            self.sources.open_camera(index)

    @Slot()
    def open_dialog(self) -> None:
        path = ask_video(self, self.qsettings)
        if path:
            self.open_file(path)

    @Slot()
    def stop_source(self) -> None:
        self.set_recording(False)
        self.engine.stop_stream()

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event):
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        videos = [p for p in paths if is_video_file(p) or Path(p).is_dir()]
        if len(videos) > 1 or any(Path(p).is_dir() for p in videos):
            self.batch_panel.add_paths(videos)
            self.show_batch()
        elif videos:
            self.open_file(videos[0])
        elif paths:
            self.show_error(f"{Path(paths[0]).name}: not a video file Monocap can open")
        event.acceptProposedAction()

    # ------------------------------------------------------------------ the worker's reports
    @Slot(int, object)
    def _on_source_opened(self, job_id: int, info: SessionInfo) -> None:
        if job_id == self.engine.stream_job:  # else a source that was replaced by a newer one
            self.state.engine_opened(info)

    @Slot(int, object)
    def _on_source_ended(self, job_id: int, end: SessionEnd) -> None:
        if job_id == self.engine.stream_job:
            error = None if end.error is None else describe_error(end.error)
            self.state.source_ended(error, end.cancelled, end.frames)
            self.live.ended(error, end.cancelled)

    @Slot(object)
    def _on_recording_changed(self, rec: RecordingState) -> None:
        self.state.recording_changed(rec.recording, rec.name)

    # ------------------------------------------------------------------ recording
    @Slot(bool)
    def set_recording(self, on: bool) -> None:
        on = bool(on)
        if on and not self.state.source_running:
            self.commands.record.setChecked(False)
            self.show_error("Nothing to record: open a video, a camera or the sample clip first.")
            return
        self.commands.record.setChecked(on)
        self.engine.set_recording(on)

    # ------------------------------------------------------------------ takes and playback
    @Slot()
    def open_take_dialog(self) -> None:
        path = ask_take(self, self.qsettings, self.app_settings.takes_folder)
        if path:
            self.open_take_file(path)

    def open_take_file(self, path: str | Path) -> None:
        """Lists a take file (any BVH, CSV, TRC, NPZ) with the takes and plays it back."""
        opened = self.player.open_file(path)
        if opened is not None:
            self.qsettings.setValue("recent/take_folder", str(opened.parent))

    @Slot(str)
    def select_take(self, name: str) -> None:
        self.player.select(name)

    @Slot()
    def toggle_play(self) -> None:
        self.player.toggle_play()

    @Slot()
    def back_to_live(self) -> None:
        self.player.close()
        self.state.back_to_live()
        self.live.resume()

    # ------------------------------------------------------------------ export
    @Slot()
    def open_export_dialog(self) -> None:
        if self.current_take is None:
            chosen = self.takes_panel.selected_name()
            if chosen is None:
                self.show_error("Select a take to export (record one first).")
                return
            self.select_take(chosen)
        self.exports.ask(self.current_take, self.current_take_name, self.app_settings.exports_folder)

    def start_export(self, take: Take, request: ExportRequest) -> None:
        self.exports.start(take, request)

    # ------------------------------------------------------------------ batch, settings, about
    @Slot()
    def show_batch(self) -> None:
        self.batch_dock.show()
        self.batch_dock.raise_()

    @Slot(object)
    def run_batch(self, request: BatchRequest) -> None:
        if self.state.source_running:
            self.set_recording(False)
            self.statusBar().showMessage("The running source stops while the batch works.", 5000)
        request = BatchRequest(request.files, request.out_dir, request.formats, self.app_settings.pipeline_config())
        self.engine.run_batch(request)

    @Slot(object)
    def _on_batch_finished(self, result: BatchResult) -> None:
        level = "error" if result.failures else "info"
        self.state.show(Banner(result.summary().splitlines()[0]
                               + (f"; {len(result.failures)} failed" if result.failures else ""),
                               level, "Open folder", "open_folder", folder=result.out_dir))

    @Slot()
    def open_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.app_settings, self)
        if dlg.exec():
            self.apply_settings(dlg.result_settings())

    def apply_settings(self, settings: AppSettings, quiet: bool = False) -> None:
        changed_folder = settings.takes_folder != self.app_settings.takes_folder
        self.app_settings = settings
        settings.save(self.qsettings)
        self.batch_panel.set_default_folder(settings.batch_folder)
        if self.commands.record_files.isChecked() != settings.record_files:
            self.commands.record_files.setChecked(settings.record_files)
        if changed_folder:
            list_takes_folder(self.state, self.app_settings.takes_folder)
        self.state.set_device_choice(settings.device)
        self.state.set_lift_choice(settings.lift_mode, settings.hands)
        if not quiet:
            self.statusBar().showMessage("Settings saved; they apply to the next source you open.", 5000)

    @Slot()
    def show_about(self) -> None:
        from .about import AboutDialog

        AboutDialog(self).exec()

    def screenshot(self):
        """A QPixmap of the window including the 3D view (a native GL window that grab() leaves out)."""
        pixmap = self.grab()
        container = self.view3d.container()
        if container.isVisible():
            frame = self.view3d.grabFramebuffer()
            painter = QPainter(pixmap)
            painter.drawImage(container.mapTo(self, QPoint(0, 0)), frame)
            painter.end()
        return pixmap

    # ------------------------------------------------------------------ closing
    def shutdown(self) -> None:
        if self._closing:
            return
        self._closing = True
        QApplication.instance().removeEventFilter(self._space)
        self.live.stop()
        self.timeline.set_playing(False)
        self._save_layout()
        self.stream_control.shutdown()
        self.engine.shutdown()
        self.exports.shutdown()
        self.player.stop(keep_people=True)

    def closeEvent(self, event):
        self.shutdown()
        super().closeEvent(event)
