"""The toolbar's cameras: the list of those connected and Start camera."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget


def list_cameras() -> list[tuple[int, str]]:
    """(OpenCV index, description) of each connected camera, by Qt Multimedia's order."""
    try:
        from PySide6.QtMultimedia import QMediaDevices

        return [(i, dev.description()) for i, dev in enumerate(QMediaDevices.videoInputs())]
    except Exception:  # noqa: BLE001 - no multimedia backend: no cameras to offer
        return []


class CameraPicker(QWidget):
    startRequested = Signal(object)  # the OpenCV index of the camera chosen, None when there is none

    def __init__(self, parent=None):
        super().__init__(parent)
        self.combo = QComboBox(toolTip="Cameras connected to this computer")
        self.combo.setMinimumWidth(160)
        self.button = QPushButton("Start camera")
        self.button.clicked.connect(lambda: self.startRequested.emit(self.combo.currentData()))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.combo)
        lay.addWidget(self.button)

    def set_cameras(self, cameras: list[tuple[int, str]]) -> None:
        self.combo.clear()
        for index, name in cameras:
            self.combo.addItem(name, index)
        if not cameras:
            self.combo.addItem("(no camera found)", None)
        self.combo.setEnabled(bool(cameras))
        self.button.setEnabled(bool(cameras))
