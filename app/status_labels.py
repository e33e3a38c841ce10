"""The status bar's standing fields: the display rate, the latency, the 3D mode that runs (and
hands), the device and whether a person is in view, drawn from the window's state."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QLabel, QStatusBar

from .window_values import WindowStatus


class StatusLabels(QObject):
    def __init__(self, bar: QStatusBar):
        super().__init__(bar)
        self.fps, self.latency, self.device, self.person = QLabel(), QLabel(), QLabel(), QLabel()
        self.lift = QLabel()
        for label, width in ((self.fps, 150), (self.latency, 100), (self.lift, 110), (self.device, 150),
                             (self.person, 110)):
            label.setMinimumWidth(width)
            bar.addPermanentWidget(label)

    @Slot(object)
    def show_status(self, status: WindowStatus) -> None:
        self.fps.setText(status.fps_text)
        self.latency.setText(status.latency_text)
        self.device.setText(status.device_text)
        self.lift.setText(status.lift_text)
        self.lift.setToolTip(status.lift_tip)
        self.person.setText(status.person_text)
