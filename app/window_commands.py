"""The main window's commands, one QAction each (the window connects each to what it does), and
where they appear: the menus, the toolbar, the keys that step through a take."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QMenuBar, QToolBar, QWidget

from .window_values import WindowStatus

RECORDING_STYLE = "QToolButton:checked { background: #c0392b; color: white; }"


def _action(parent: QObject, text: str, shortcut: str | QKeySequence.StandardKey = "", tip: str = "",
            checkable: bool = False, checked: bool = False) -> QAction:
    action = QAction(text, parent, checkable=checkable, checked=checked)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setToolTip(tip)
    return action


class WindowCommands(QObject):
    recentChosen = Signal(str)  # a file picked in File > Open recent

    def __init__(self, record_files: bool, parent: QObject):
        super().__init__(parent)
        self.open_video = _action(self, "&Open video…", QKeySequence.StandardKey.Open)
        self.sample = _action(self, "&Sample clip")
        self.open_take = _action(self, "Open &take…", "Ctrl+Shift+O",
                                 "Play back a take file: BVH from anywhere, CSV, TRC or NPZ")
        self.record = _action(self, "● Record", "Ctrl+R", "Record a take (Ctrl+R)", checkable=True)
        self.record_everyone = _action(
            self, "Record everyone", tip="Recording makes one take per person in view (TAKE_p1, TAKE_p2, ... "
                                         "and TAKE_people.json); applies to the next recording", checkable=True)
        self.record_files = _action(self, "Record files from their start",
                                    tip="Opening a video file records it as a take from its first frame",
                                    checkable=True, checked=record_files)
        self.several_cameras = _action(self, "Several &cameras…", "Ctrl+Shift+K",
                                       "Two or more calibrated cameras (or video files standing in for them) "
                                       "fused into one pose")
        self.calibrate_camera = _action(self, "Ca&librate a camera…", tip="A camera's lens from a checkerboard, guided")
        self.place_cameras = _action(self, "&Place cameras…", tip="Where several cameras stand, from videos of the "
                                                                  "person or of a board")
        self.stop = _action(self, "■ Stop source", "Ctrl+.")
        self.export = _action(self, "&Export take…", "Ctrl+E")
        self.batch = _action(self, "&Batch…", "Ctrl+B")
        self.open_output = _action(self, "Open output &folder")
        self.settings = _action(self, "Se&ttings…", "Ctrl+,")
        self.quit = _action(self, "&Quit", QKeySequence.StandardKey.Quit)
        self.about = _action(self, "&About Monocap")
        self.reset_view = _action(self, "Reset view", "Home")
        self.follow = _action(self, "Follow", "F", "Keep the subject in the middle of the 3D view (F)", checkable=True)
        self.trails = _action(self, "Trails", checkable=True, checked=True)
        self.previous_frame = _action(self, "Previous frame", ",")
        self.next_frame = _action(self, "Next frame", ".")
        self.frame_steps = (self.previous_frame, self.next_frame)  # add them to the window: they are in no menu
        for step in self.frame_steps:
            step.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.recent_menu: QMenu | None = None  # File > Open recent, made with the menus

    def fill_menus(self, bar: QMenuBar, panels: tuple[QDockWidget, ...], more: tuple[QMenu, ...] = ()) -> None:
        """File, View (with a toggle for each panel), the menus of the toolbar's controls (`more`: Stream),
        Settings and Help."""
        file_menu = bar.addMenu("&File")
        self.recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addActions([self.open_video, self.open_take, self.sample, self.several_cameras, self.calibrate_camera,
                              self.place_cameras])
        file_menu.addSeparator()
        file_menu.addActions([self.record, self.record_everyone, self.record_files, self.stop, self.export,
                              self.batch, self.open_output])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        view_menu = bar.addMenu("&View")
        view_menu.addActions([self.reset_view, self.follow, self.trails])
        view_menu.addActions([panel.toggleViewAction() for panel in panels])
        for menu in more:
            bar.addMenu(menu)
        bar.addMenu("&Settings").addAction(self.settings)
        bar.addMenu("&Help").addAction(self.about)

    def fill_toolbar(self, toolbar: QToolBar, cameras: QWidget, stream: QWidget) -> None:
        """Sources, recording, streaming, export and batch, settings, then the 3D view's options (which
        have keys and the View menu: on a narrow window they are the ones left to the » overflow)."""
        toolbar.addActions([self.open_video, self.sample])
        toolbar.addWidget(cameras)
        toolbar.addAction(self.several_cameras)
        toolbar.addSeparator()
        toolbar.addActions([self.record, self.record_everyone, self.stop])
        toolbar.widgetForAction(self.record).setStyleSheet(RECORDING_STYLE)
        toolbar.addSeparator()
        toolbar.addWidget(stream)
        toolbar.addSeparator()
        toolbar.addActions([self.export, self.batch, self.settings])
        toolbar.addSeparator()
        toolbar.addActions([self.reset_view, self.follow, self.trails])

    def set_recent(self, files: list[str]) -> None:
        self.recent_menu.clear()
        for f in files:
            self.recent_menu.addAction(f, lambda f=f: self.recentChosen.emit(f))
        self.recent_menu.setEnabled(bool(files))

    @Slot(object)
    def show_status(self, status: WindowStatus) -> None:
        """The Record button follows the recording."""
        if self.record.isChecked() != status.recording:
            self.record.setChecked(status.recording)
        self.record.setText("■ Stop recording" if status.recording else "● Record")
