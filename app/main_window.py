"""The main window: sources, the image and 3D views, takes, playback, angles, export, batch.

What the window is doing lives in `app.window_state.WindowState` (no widgets); this class feeds it
the worker's reports and the user's actions, and draws what it says.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QFileDialog, QLineEdit, QListWidgetItem, QMainWindow, QWidget

from engine.capture.frames import VIDEO_SUFFIXES
from engine.core.resources import sample_clip
from engine.core.take import Take
from engine.session.recorder import list_takes, load_take, recover_all, take_summary

from . import heap
from .exporting import ExportRequest, export
from .path_field import open_folder
from .people_ui import PeopleUi
from .messages import BatchRequest, BatchResult, LiveFrame, RecordingState, SourceEnded, SourceInfo, StreamRequest, TakeSaved
from .playback import TakeVideo
from .settings import AppSettings, push_recent, recent_list
from .window_layout import build_actions, build_views
from .window_state import Banner, BannerScope, Mode, Source, SourceKind, WindowState, format_seconds, source_for_path
from .worker import EngineController, describe_error

STATE_VERSION = 1
NO_CAMERA_TEXT = ("No camera found, so Monocap is playing its sample clip. Open a video file, or connect a camera "
                  "and restart.")


def list_cameras() -> list[tuple[int, str]]:
    """(OpenCV index, description) of each connected camera, by Qt Multimedia's order."""
    try:
        from PySide6.QtMultimedia import QMediaDevices

        return [(i, dev.description()) for i, dev in enumerate(QMediaDevices.videoInputs())]
    except Exception:  # noqa: BLE001 - no multimedia backend: no cameras to offer
        return []


class _ExportBridge(QObject):
    finished = Signal(object, object)  # (list of paths | None, error message | None)


class _SpaceToPause(QObject):
    """Space plays and pauses a take wherever the focus is (a focused list or button would otherwise
    take the key for itself), except in text and number fields."""

    def __init__(self, window: "MainWindow"):
        super().__init__(window)
        self._window = window

    def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) or event.key() != Qt.Key.Key_Space \
                or event.modifiers() != Qt.KeyboardModifier.NoModifier or self._window.state.mode is not Mode.PLAYBACK:
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self._window or isinstance(obj, (QLineEdit, QAbstractSpinBox)):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # no shortcut takes it: it arrives as a key press, here
        elif not event.isAutoRepeat():
            self._window.toggle_play()
        return True


class MainWindow(QMainWindow):
    exportFinished = Signal(object, object)  # paths, error

    def __init__(self, settings: QSettings | None = None, autostart: bool = False, takes_dir: str | None = None):
        super().__init__()
        self.setWindowTitle("Monocap")
        self.setAcceptDrops(True)
        self.qsettings = settings or QSettings("Monocap", "Monocap")
        self.app_settings = AppSettings.load(self.qsettings)
        if takes_dir:
            self.app_settings = self.app_settings.with_(takes_dir=takes_dir)
        self.state = WindowState(self.app_settings.device)
        self.source_info: SourceInfo | None = None
        self.takes: dict[str, tuple[Path, Path | None]] = {}
        self.current_take: Take | None = None
        self._take_video: TakeVideo | None = None
        self._last_render = 0.0
        self._last_plot = 0.0
        self.frames_rendered = 0
        self.last_frame: LiveFrame | None = None
        self._closing = False
        self._export_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monocap-export")
        self._export_bridge = _ExportBridge()
        self._export_bridge.finished.connect(self._on_export_finished)

        build_views(self)
        build_actions(self)
        self._restore_layout()
        self._space = _SpaceToPause(self)
        QApplication.instance().installEventFilter(self._space)

        self.engine = EngineController(self)
        w = self.engine.worker
        w.pose_sink = self.stream_control.switch
        w.sourceOpened.connect(self._on_source_opened)
        w.frameAvailable.connect(self._on_frame_available)
        w.sourceEnded.connect(self._on_source_ended)
        w.recordingChanged.connect(self._on_recording_changed)
        w.takeSaved.connect(self._on_take_saved)
        w.batchProgress.connect(self.batch_panel.on_progress)
        w.batchFinished.connect(self.batch_panel.on_finished)
        self.image_view.personClicked.connect(self.engine.choose_person)
        self.people_ui = PeopleUi(self)  # Record everyone, clicks in the 3D view, groups of people's takes
        self.engine.start()

        refresh = QGuiApplication.primaryScreen().refreshRate() if QGuiApplication.primaryScreen() else 60.0
        self._min_interval = 1.0 / max(min(refresh or 60.0, 120.0), 20.0)
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.timeout.connect(self._render_latest)

        self._recover_and_list_takes()
        self.cameras = list_cameras()
        self._fill_cameras()
        self._sync()
        heap.settle()
        self._heap_settled = False  # again once the engine's libraries are loaded (the first frame)
        if autostart:
            QTimer.singleShot(0, self.start_default_source)

    # ------------------------------------------------------------------ state, as the window shows it
    @property
    def mode(self) -> Mode:
        return self.state.mode

    @property
    def source_running(self) -> bool:
        return self.state.source_running

    @property
    def recording(self) -> bool:
        return self.state.recording

    @property
    def current_take_name(self) -> str:
        return self.state.take_name

    def _sync(self) -> None:
        """Draws the state: the strip above the views, the status bar, the Record button."""
        st = self.state
        self.banner.show_banner(st.banner)
        self.banner.set_activity(" — ".join(t for t in (st.activity_text(), st.progress_text()) if t))
        done = st.progress()
        self.banner.set_progress(*(done or (None, None)))
        self.banner.set_recording(st.recording_text())
        self.fps_label.setText(st.fps_text())
        self.latency_label.setText(st.latency_text())
        self.device_label.setText(st.device_text())
        self.person_label.setText(st.person_text())
        if self.act_record.isChecked() != st.recording:
            self.act_record.setChecked(st.recording)
        self.act_record.setText("■ Stop recording" if st.recording else "● Record")

    def _show(self, banner: Banner | None) -> None:
        self.state.show(banner)
        self._sync()

    # ------------------------------------------------------------------ UI
    def _fill_cameras(self) -> None:
        self.camera_combo.clear()
        for index, name in self.cameras:
            self.camera_combo.addItem(name, index)
        if not self.cameras:
            self.camera_combo.addItem("(no camera found)", None)
        self.camera_combo.setEnabled(bool(self.cameras))
        self.camera_button.setEnabled(bool(self.cameras))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = recent_list(self.qsettings, "recent/files")
        for f in files:
            self.recent_menu.addAction(f, lambda f=f: self.open_file(f))
        self.recent_menu.setEnabled(bool(files))

    def _restore_layout(self) -> None:
        geo = self.qsettings.value("window/geometry")
        state = self.qsettings.value("window/state")
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(1400, 900)
        if state is not None:
            self.restoreState(state, STATE_VERSION)
        for key, split in (("window/views", self.view_split), ("window/main_split", self.main_split)):
            value = self.qsettings.value(key)
            if value is not None:
                split.restoreState(value)
        angles = recent_list(self.qsettings, "angles/selected")
        if angles:
            self.angle_plot.set_selected(angles)
        self.angle_plot.selectionChanged.connect(lambda names: self.qsettings.setValue("angles/selected", names))

    def _save_layout(self) -> None:
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        self.qsettings.setValue("window/state", self.saveState(STATE_VERSION))
        self.qsettings.setValue("window/views", self.view_split.saveState())
        self.qsettings.setValue("window/main_split", self.main_split.saveState())
        self.qsettings.sync()

    # ------------------------------------------------------------------ messages
    @Slot(str)
    def show_error(self, text: str) -> None:
        self._show(Banner(text, "error"))

    def show_info(self, text: str, action: str = "", action_id: str = "", folder: str = "") -> None:
        self._show(Banner(text, "info", action, action_id, folder=folder))

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
        if self.cameras:
            self.open_camera(self.cameras[0][0])
        else:
            self.open_sample()
            self._show(Banner(NO_CAMERA_TEXT, "info", "Play sample clip again", "sample", BannerScope.SOURCE))

    def check_cameras(self) -> None:
        """Tells the user when there is no camera and offers the sample clip (no exception, no dialog)."""
        self.cameras = list_cameras()
        self._fill_cameras()
        if not self.cameras:
            self._show(Banner("No camera found. Connect one and restart, open a video file, or play the sample clip.",
                              "info", "Play sample clip", "sample", BannerScope.SOURCE))

    def _stream(self, source: Source, request: StreamRequest) -> None:
        # a take being recorded ends (and is saved) when another source replaces its own
        self.engine.set_recording(False)
        self._leave_playback()
        self.timeline.clear()
        self.current_take = None
        self.state.open_source(source)
        self.view3d.clear_trails()
        self.view3d.clear_pose()
        self.view3d.set_people({}, None, None)
        self.image_view.clear("Opening " + source.label + "…")
        self.angle_plot.start_live()
        self._sync()
        self.engine.open_stream(request)

    def _request(self, **kw) -> StreamRequest:
        s = self.app_settings
        return StreamRequest(config=s.pipeline_config(), realtime=s.realtime, takes_dir=s.takes_folder, **kw)

    def open_file(self, path: str | Path) -> None:
        path = str(path)
        self._remember("recent/files", path)
        self.qsettings.setValue("recent/folder", str(Path(path).parent))
        self._fill_recent()
        self._stream(source_for_path(path, sample_clip()),
                     self._request(kind="file", path=path, record=self.app_settings.record_files))

    def open_sample(self) -> None:
        path = sample_clip()
        self._stream(Source(SourceKind.SAMPLE, path.name, str(path)),
                     self._request(kind="file", path=str(path), record=self.app_settings.record_files))

    def open_camera(self, index: int | None) -> None:
        if index is None:
            self.check_cameras()
            return
        s = self.app_settings
        label = next((name for i, name in self.cameras if i == index), f"camera {index}")
        self._stream(Source(SourceKind.CAMERA, label, camera_index=int(index)),
                     self._request(kind="camera", camera_index=int(index), camera_size=(s.camera_width, s.camera_height)))

    def open_dialog(self) -> None:
        folder = self.qsettings.value("recent/folder") or str(Path.home())
        patterns = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, "Open a video", str(folder), f"Videos ({patterns});;All files (*)")
        if path:
            self.open_file(path)

    def open_take_dialog(self) -> None:
        folder = self.qsettings.value("recent/take_folder") or str(self.app_settings.takes_folder)
        path, _ = QFileDialog.getOpenFileName(self, "Open a take", str(folder),
                                              "Takes (*.bvh *.npz *.csv *.trc *_people.json);;All files (*)")
        if path:
            self.open_take_file(path)

    def open_take_file(self, path: str | Path) -> None:
        """Lists a take file (any BVH, CSV, TRC, NPZ) with the takes and plays it back."""
        try:
            path = self.people_ui.playback.take_path(path)  # a listing of people's takes: its first person's
            take, video = load_take(path)
        except Exception as exc:  # noqa: BLE001 - a file Monocap cannot read: one clear line
            self.show_error(describe_error(exc))
            return
        self.qsettings.setValue("recent/take_folder", str(path.parent))
        self._add_take_item(path.name, path, video, take.num_frames, take.fps)
        self.select_take(path.name)

    def stop_source(self) -> None:
        self.set_recording(False)
        self.engine.stop_stream()

    def _remember(self, key: str, item: str) -> None:
        push_recent(self.qsettings, key, item)

    # drag and drop
    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event):
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        videos = [p for p in paths if Path(p).suffix.lower() in VIDEO_SUFFIXES or Path(p).is_dir()]
        if len(videos) > 1 or any(Path(p).is_dir() for p in videos):
            self.batch_panel.add_paths(videos)
            self.show_batch()
        elif videos:
            self.open_file(videos[0])
        elif paths:
            self.show_error(f"{Path(paths[0]).name}: not a video file Monocap can open")
        event.acceptProposedAction()

    # ------------------------------------------------------------------ worker signals
    @Slot(object)
    def _on_source_opened(self, info: SourceInfo) -> None:
        if info.job_id != self.engine.stream_job:
            return
        self.source_info = info
        self.state.source_opened(info.device, info.fps, info.frame_count)
        if info.notes:
            self._show(Banner(f"{info.name}: " + "; ".join(info.notes), "warning", scope=BannerScope.SOURCE))
        else:
            self._sync()

    @Slot()
    def _on_frame_available(self) -> None:
        if self._render_timer.isActive():
            return
        wait = self._min_interval - (time.perf_counter() - self._last_render)
        if wait > 0:
            self._render_timer.start(int(wait * 1000) + 1)
        else:
            self._render_latest()

    def _render_latest(self) -> None:
        frame = self.engine.worker.take_latest()
        if frame is None or not self.state.source_running:
            return
        self.last_frame = frame
        if not self._heap_settled:
            self._heap_settled = True
            heap.settle(collect=False)
        now = time.perf_counter()
        self._last_render = now
        self.frames_rendered += 1
        det = frame.detection
        self.state.frame_shown(now, frame.index, frame.timestamp_s, frame.engine_fps, frame.latency_ms, det is not None,
                               frame.recording, frame.frame_count)
        if self.state.mode is Mode.PLAYBACK:
            self._sync()
            return
        self.image_view.set_frame(frame.image, None if det is None else det.keypoints_px, None if det is None else det.scores,
                                  hands_px=frame.hands_px)
        self.image_view.set_people(frame.people, frame.person_id)
        self.view3d.set_pose(frame.joints_m, frame.skeleton)
        self.view3d.set_people(frame.people_joints, frame.people_skeleton, frame.person_id)
        redraw = now - self._last_plot >= 0.1  # the plot redraws at most 10 times a second
        if redraw:
            self._last_plot = now
        self.angle_plot.add_live(frame.timestamp_s, frame.joints_m, frame.skeleton, redraw=redraw)
        self._sync()

    @Slot(object)
    def _on_source_ended(self, ended: SourceEnded) -> None:
        if ended.job_id != self.engine.stream_job:
            return  # a source that was replaced by a newer one
        self.state.source_ended(ended.error, ended.cancelled, ended.frames)
        self._sync()

    @Slot(object)
    def _on_recording_changed(self, rec: RecordingState) -> None:
        self.state.recording_changed(rec.recording, rec.name)
        self._sync()

    @Slot(object)
    def _on_take_saved(self, saved: TakeSaved) -> None:
        self._add_take_item(saved.name, saved.path, saved.video_path, saved.take.num_frames, saved.take.fps)
        self.statusBar().showMessage(f"Take {saved.name} saved: {format_seconds(saved.take.num_frames / (saved.take.fps or 30))}"
                                     f" in {saved.path}", 8000)

    # ------------------------------------------------------------------ recording
    def set_recording(self, on: bool) -> None:
        on = bool(on)
        if on and not self.state.source_running:
            self.act_record.setChecked(False)
            self.show_error("Nothing to record: open a video, a camera or the sample clip first.")
            return
        self.act_record.setChecked(on)
        self.engine.set_recording(on)

    def toggle_record(self) -> None:
        self.set_recording(not self.act_record.isChecked())

    # ------------------------------------------------------------------ takes and playback
    def _recover_and_list_takes(self) -> None:
        folder = self.app_settings.takes_folder
        recovered = recover_all(folder)
        self.takes_list.clear()
        self.takes.clear()
        lengths = {}
        for path in list_takes(folder):
            try:
                frames, fps = take_summary(path)
            except Exception:  # noqa: BLE001 - a damaged take is skipped, not fatal
                continue
            lengths[path.stem] = frames / (fps or 30)
            video = path.with_suffix(".avi")
            self._add_take_item(path.stem, path, video if video.exists() else None, frames, fps)
        if recovered:
            said = [f"{name} was recovered after a crash: {format_seconds(lengths.get(name, 0.0))}" for name, _ in recovered]
            self.show_info("; ".join(said) + ".", "Open folder", "open_folder", folder)

    def _add_take_item(self, name: str, path: Path, video: Path | None, frames: int, fps: float) -> None:
        self.takes[name] = (Path(path), video)
        for i in range(self.takes_list.count()):
            if self.takes_list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.takes_list.takeItem(i)
                break
        item = QListWidgetItem(f"{name}  —  {frames} frames, {format_seconds(frames / (fps or 30))}")
        item.setData(Qt.ItemDataRole.UserRole, name)
        self.takes_list.addItem(item)

    def select_take(self, name: str) -> None:
        if self.state.mode is Mode.PLAYBACK and name == self.state.take_name and self.current_take is not None:
            return  # clicking the take that plays keeps its place
        path, video = self.takes[name]
        try:
            take, video = load_take(path)
            take, video = self.people_ui.playback.open(path, take, video)  # several people's takes play together
        except Exception as exc:  # noqa: BLE001
            self.show_error(describe_error(exc))
            return
        self._leave_playback(keep_people=True)
        self.current_take = take
        self._take_video = TakeVideo(video) if video else None
        self.state.select_take(name)
        for i in range(self.takes_list.count()):
            if self.takes_list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.takes_list.setCurrentRow(i)
        self.angle_plot.set_take(take.timestamps_s, take.joints_m, take.skeleton)
        self.view3d.clear_trails()
        self.timeline.set_take(take.num_frames, take.fps)
        self._sync()

    def toggle_play(self) -> None:
        if self.state.mode is Mode.PLAYBACK:
            self.timeline.toggle_play()

    @Slot(bool)
    def _on_playing_changed(self, on: bool) -> None:
        self.state.set_playing(on)
        self._sync()

    def _leave_playback(self, keep_people: bool = False) -> None:
        if not keep_people:
            self.people_ui.playback.close()
        self.timeline.set_playing(False)
        if self._take_video is not None:
            self._take_video.close()
            self._take_video = None

    def back_to_live(self) -> None:
        self._leave_playback()
        self.timeline.clear()
        self.current_take = None
        self.state.back_to_live()
        self.angle_plot.start_live()
        self.view3d.clear_trails()
        self._sync()

    @Slot(int)
    def show_take_frame(self, i: int) -> None:
        take = self.current_take
        if take is None or self.state.mode is not Mode.PLAYBACK or not 0 <= i < take.num_frames:
            return
        joints = take.joints_m[i]
        if take.valid[i]:
            self.view3d.set_pose(joints, take.skeleton, trail=False)
        else:
            self.view3d.clear_pose()
        self.view3d.set_trail_history(take.joints_m[max(0, i - 90): i + 1], take.skeleton)
        self.people_ui.playback.show(i)
        image = self._take_video.read(i) if self._take_video is not None else None
        kp = take.keypoints_px[i] if take.keypoints_px is not None else None
        sc = take.keypoint_scores[i] if take.keypoint_scores is not None else None
        hands = take.hand_keypoints_px[i] if take.hand_keypoints_px is not None else None
        if image is not None:
            self.image_view.set_frame(image, kp, sc, hands_px=hands)
        self.angle_plot.set_cursor(float(take.timestamps_s[i]))
        self.person_label.setText("person found" if take.valid[i] else "nobody in view")

    # ------------------------------------------------------------------ export
    def open_export_dialog(self) -> None:
        if self.current_take is None:
            if self.takes_list.currentItem() is not None:
                self.select_take(self.takes_list.currentItem().data(Qt.ItemDataRole.UserRole))
            else:
                self.show_error("Select a take to export (record one first).")
                return
        from .export_dialog import ExportDialog

        dlg = ExportDialog(self.current_take, self.current_take_name, self.qsettings, self.app_settings.exports_folder,
                           self)
        if dlg.exec():
            self.start_export(self.current_take, dlg.request())

    def start_export(self, take: Take, request: ExportRequest) -> None:
        self.statusBar().showMessage(f"Exporting {request.stem}…")

        def job():
            try:
                self._export_bridge.finished.emit(export(take, request), None)
            except Exception as exc:  # noqa: BLE001 - a full disk, a bad path: one clear line
                self._export_bridge.finished.emit(None, describe_error(exc))

        self._export_pool.submit(job)

    @Slot(object, object)
    def _on_export_finished(self, paths, error) -> None:
        if error:
            self.show_error(f"Export failed: {error}")
        else:
            folder = str(Path(paths[0]).parent) if paths else ""
            self.statusBar().clearMessage()
            self.show_info(f"Exported {', '.join(Path(p).name for p in paths)} to {folder}", "Open folder",
                           "open_folder", folder)
        self.exportFinished.emit(paths, error)

    # ------------------------------------------------------------------ batch, settings, about
    def show_batch(self) -> None:
        self.batch_dock.show()
        self.batch_dock.raise_()

    def run_batch(self, request: BatchRequest) -> None:
        if self.state.source_running:
            self.set_recording(False)
            self.statusBar().showMessage("The running source stops while the batch works.", 5000)
        request = BatchRequest(request.files, request.out_dir, request.formats, self.app_settings.pipeline_config())
        self.engine.run_batch(request)

    @Slot(object)
    def _on_batch_finished(self, result: BatchResult) -> None:
        level = "error" if result.failures else "info"
        self._show(Banner(result.summary().splitlines()[0] + (f"; {len(result.failures)} failed" if result.failures else ""),
                          level, "Open folder", "open_folder", folder=result.out_dir))

    def open_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.app_settings, self)
        if dlg.exec():
            self.apply_settings(dlg.result_settings())

    def apply_settings(self, settings: AppSettings, quiet: bool = False) -> None:
        changed_folder = settings.takes_folder != self.app_settings.takes_folder
        self.app_settings = settings
        settings.save(self.qsettings)
        self.state.device_choice = settings.device
        self.batch_panel.set_default_folder(settings.batch_folder)
        if self.act_record_files.isChecked() != settings.record_files:
            self.act_record_files.setChecked(settings.record_files)
        if changed_folder:
            self._recover_and_list_takes()
        self._sync()
        if not quiet:
            self.statusBar().showMessage("Settings saved; they apply to the next source you open.", 5000)

    def show_about(self) -> None:
        from .about import AboutDialog

        AboutDialog(self).exec()

    def screenshot(self):
        """A QPixmap of the window including the 3D view (a native GL window that grab() leaves out)."""
        from PySide6.QtCore import QPoint
        from PySide6.QtGui import QPainter

        pixmap = self.grab()
        container = self.view3d.container()
        if container.isVisible():
            frame = self.view3d.grabFramebuffer()
            top_left = container.mapTo(self, QPoint(0, 0))
            painter = QPainter(pixmap)
            painter.drawImage(top_left, frame)
            painter.end()
        return pixmap

    # ------------------------------------------------------------------ closing
    def shutdown(self) -> None:
        if self._closing:
            return
        self._closing = True
        QApplication.instance().removeEventFilter(self._space)
        self._render_timer.stop()
        self.timeline.set_playing(False)
        self._save_layout()
        self.stream_control.shutdown()
        self.engine.shutdown()
        self._export_pool.shutdown(wait=True)
        if self._take_video is not None:
            self._take_video.close()

    def closeEvent(self, event):
        self.shutdown()
        super().closeEvent(event)
