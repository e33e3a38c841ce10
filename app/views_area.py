"""The middle of the main window: the message strip on top, the image beside the 3D view over the
angle plot, the timeline at the bottom. The window makes the views; this arranges them and keeps
where the user put the splitters."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from .angle_plot import AnglePlot
from .banner import MessageBanner
from .image_view import ImageView
from .timeline import Timeline
from .view3d import SkeletonView

SPLITTER_KEYS = ("window/views", "window/main_split")


class ViewsArea(QWidget):
    def __init__(self, banner: MessageBanner, image_view: ImageView, view3d: SkeletonView, angle_plot: AnglePlot,
                 timeline: Timeline, parent=None):
        super().__init__(parent)
        self.view_split = QSplitter(Qt.Orientation.Horizontal)
        self.view_split.addWidget(image_view)
        self.view_split.addWidget(view3d.container())
        self.view_split.setSizes([640, 640])
        self.main_split = QSplitter(Qt.Orientation.Vertical)
        self.main_split.addWidget(self.view_split)
        self.main_split.addWidget(angle_plot)
        self.main_split.setSizes([560, 200])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(banner)
        lay.addWidget(self.main_split, 1)
        lay.addWidget(timeline)

    def restore_layout(self, qsettings: QSettings) -> None:
        for key, split in zip(SPLITTER_KEYS, (self.view_split, self.main_split)):
            value = qsettings.value(key)
            if value is not None:
                split.restoreState(value)

    def save_layout(self, qsettings: QSettings) -> None:
        for key, split in zip(SPLITTER_KEYS, (self.view_split, self.main_split)):
            qsettings.setValue(key, split.saveState())
