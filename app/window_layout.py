"""The main window's widgets: its views and docks (build_views) and its menus and toolbar
(build_actions), each made an attribute of the window, which connects them to what they do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDockWidget, QHBoxLayout, QLabel, QListWidget, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from .angle_plot import AnglePlot
from .banner import MessageBanner
from .image_view import ImageView
from .path_field import open_folder
from .stream_control import StreamControl
from .timeline import Timeline
from .view3d import SkeletonView

if TYPE_CHECKING:
    from .main_window import MainWindow


def build_views(window: "MainWindow") -> None:
    """The views, the timeline, the takes and batch docks and the status bar, as window attributes."""
    central = QWidget()
    lay = QVBoxLayout(central)
    lay.setContentsMargins(4, 4, 4, 4)
    window.banner = MessageBanner()
    window.banner.closed.connect(lambda: window._show(None))
    window.banner.acted.connect(window._banner_action)
    lay.addWidget(window.banner)
    window.view_split = QSplitter(Qt.Orientation.Horizontal)
    window.image_view = ImageView()
    window.view3d = SkeletonView()
    window.view_split.addWidget(window.image_view)
    window.view_split.addWidget(window.view3d.container())
    window.view_split.setSizes([640, 640])
    window.main_split = QSplitter(Qt.Orientation.Vertical)
    window.main_split.addWidget(window.view_split)
    window.angle_plot = AnglePlot()
    window.main_split.addWidget(window.angle_plot)
    window.main_split.setSizes([560, 200])
    lay.addWidget(window.main_split, 1)
    window.timeline = Timeline()
    window.timeline.frameChanged.connect(window.show_take_frame)
    window.timeline.playingChanged.connect(window._on_playing_changed)
    lay.addWidget(window.timeline)
    window.setCentralWidget(central)

    # takes dock
    window.takes_list = QListWidget()
    window.takes_list.itemActivated.connect(lambda item: window.select_take(item.data(Qt.ItemDataRole.UserRole)))
    window.takes_list.itemClicked.connect(lambda item: window.select_take(item.data(Qt.ItemDataRole.UserRole)))
    takes_box = QWidget()
    tl = QVBoxLayout(takes_box)
    tl.setContentsMargins(2, 2, 2, 2)
    tl.addWidget(window.takes_list)
    row = QHBoxLayout()
    window.live_button = QPushButton("Back to live")
    window.live_button.clicked.connect(window.back_to_live)
    window.export_button = QPushButton("Export…")
    window.export_button.clicked.connect(window.open_export_dialog)
    row.addWidget(window.live_button)
    row.addWidget(window.export_button)
    tl.addLayout(row)
    window.takes_dock = QDockWidget("Takes", window)
    window.takes_dock.setObjectName("takes_dock")
    window.takes_dock.setWidget(takes_box)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, window.takes_dock)

    from .batch_panel import BatchPanel

    window.batch_panel = BatchPanel(window.qsettings, window.app_settings.batch_folder)
    window.batch_panel.startRequested.connect(window.run_batch)
    window.batch_panel.cancelRequested.connect(lambda: window.engine.cancel_batch())
    window.batch_panel.finished.connect(window._on_batch_finished)
    window.batch_dock = QDockWidget("Batch", window)
    window.batch_dock.setObjectName("batch_dock")
    window.batch_dock.setWidget(window.batch_panel)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.batch_dock)
    window.batch_dock.hide()

    sb = window.statusBar()
    window.fps_label = QLabel()
    window.latency_label = QLabel()
    window.device_label = QLabel()
    window.person_label = QLabel()
    for lbl, width in ((window.fps_label, 150), (window.latency_label, 100), (window.device_label, 150),
                       (window.person_label, 110)):
        lbl.setMinimumWidth(width)
        sb.addPermanentWidget(lbl)

def build_actions(window: "MainWindow") -> None:
    """The menus, the toolbar and their actions, as window attributes."""
    tb = window.addToolBar("Main")
    tb.setObjectName("main_toolbar")
    m_file = window.menuBar().addMenu("&File")
    window.act_open = QAction("&Open video…", window, shortcut=QKeySequence.StandardKey.Open, triggered=window.open_dialog)
    window.act_sample = QAction("&Sample clip", window, triggered=window.open_sample)
    window.act_open_take = QAction("Open &take…", window, shortcut=QKeySequence("Ctrl+Shift+O"),
                                 triggered=window.open_take_dialog,
                                 toolTip="Play back a take file: BVH from anywhere, CSV, TRC or NPZ")
    window.recent_menu = m_file.addMenu("Open &recent")
    window.act_record = QAction("● Record", window, shortcut=QKeySequence("Ctrl+R"), checkable=True,
                              toolTip="Record a take (Ctrl+R)")
    window.act_record.triggered.connect(window.set_recording)
    window.act_record_files = QAction("Record files from their start", window, checkable=True,
                                    checked=window.app_settings.record_files,
                                    toolTip="Opening a video file records it as a take from its first frame")
    window.act_record_files.toggled.connect(
        lambda on: window.apply_settings(window.app_settings.with_(record_files=on), quiet=True))
    window.act_stop = QAction("■ Stop source", window, shortcut=QKeySequence("Ctrl+."), triggered=window.stop_source)
    window.act_export = QAction("&Export take…", window, shortcut=QKeySequence("Ctrl+E"), triggered=window.open_export_dialog)
    window.act_batch = QAction("&Batch…", window, shortcut=QKeySequence("Ctrl+B"), triggered=window.show_batch)
    window.act_open_output = QAction("Open output &folder", window,
                                   triggered=lambda: open_folder(window.app_settings.output_folder))
    window.act_settings = QAction("Se&ttings…", window, shortcut=QKeySequence("Ctrl+,"), triggered=window.open_settings)
    window.act_quit = QAction("&Quit", window, shortcut=QKeySequence.StandardKey.Quit, triggered=window.close)
    window.act_about = QAction("&About Monocap", window, triggered=window.show_about)
    window.act_reset_view = QAction("Reset view", window, shortcut=QKeySequence("Home"), triggered=window.view3d.reset_view)
    window.act_follow = QAction("Follow", window, checkable=True, shortcut=QKeySequence("F"),
                              toggled=window.view3d.set_follow, toolTip="Keep the subject in the middle of the 3D view (F)")
    window.act_trails = QAction("Trails", window, checkable=True, checked=True, toggled=window.view3d.set_trails_visible)
    window.act_prev = QAction("Previous frame", window, shortcut=QKeySequence(","), triggered=lambda: window.timeline.step(-1))
    window.act_next = QAction("Next frame", window, shortcut=QKeySequence("."), triggered=lambda: window.timeline.step(1))
    for a in (window.act_prev, window.act_next):
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        window.addAction(a)
    for a in (window.act_open, window.act_open_take, window.act_sample):
        m_file.addAction(a)
    m_file.addSeparator()
    for a in (window.act_record, window.act_record_files, window.act_stop, window.act_export, window.act_batch,
              window.act_open_output):
        m_file.addAction(a)
    m_file.addSeparator()
    m_file.addAction(window.act_quit)
    m_view = window.menuBar().addMenu("&View")
    for a in (window.act_reset_view, window.act_follow, window.act_trails):
        m_view.addAction(a)
    m_view.addAction(window.takes_dock.toggleViewAction())
    m_view.addAction(window.batch_dock.toggleViewAction())
    window.menuBar().addMenu("&Settings").addAction(window.act_settings)
    window.menuBar().addMenu("&Help").addAction(window.act_about)

    tb.addAction(window.act_open)
    tb.addAction(window.act_sample)
    window.camera_combo = QComboBox(toolTip="Cameras connected to this computer")
    window.camera_combo.setMinimumWidth(160)
    tb.addWidget(window.camera_combo)
    window.camera_button = QPushButton("Start camera")
    window.camera_button.clicked.connect(lambda: window.open_camera(window.camera_combo.currentData()))
    tb.addWidget(window.camera_button)
    tb.addSeparator()
    tb.addAction(window.act_record)
    tb.widgetForAction(window.act_record).setStyleSheet("QToolButton:checked { background: #c0392b; color: white; }")
    tb.addAction(window.act_stop)
    tb.addSeparator()
    tb.addAction(window.act_export)
    tb.addAction(window.act_batch)
    tb.addSeparator()
    tb.addAction(window.act_reset_view)
    tb.addAction(window.act_follow)
    tb.addAction(window.act_trails)
    tb.addSeparator()
    window.stream_control = StreamControl(window.qsettings, window)
    tb.addWidget(window.stream_control)
    tb.addSeparator()
    tb.addAction(window.act_settings)
    window._fill_recent()
