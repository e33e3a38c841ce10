"""Settings: 3D mode, smoothing, hands, device, camera resolution, playback pacing, takes folder."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QSlider, QWidget)

from engine.lift.modes import MODE_LABELS, available_modes

from .settings import CAMERA_SIZES, AppSettings


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Monocap settings")
        self._settings = settings
        form = QFormLayout(self)
        self.mode = QComboBox()
        for m in available_modes():
            self.mode.addItem(MODE_LABELS.get(m, m), m)
        self.mode.setCurrentIndex(max(self.mode.findData(settings.mode), 0))
        form.addRow("3D mode", self.mode)
        sm = QWidget()
        sl = QHBoxLayout(sm)
        sl.setContentsMargins(0, 0, 0, 0)
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 100)
        self.smoothing.setValue(int(round(settings.smoothing * 100)))
        self.smoothing_label = QLabel()
        self.smoothing.valueChanged.connect(lambda v: self.smoothing_label.setText(f"{v / 100:.2f}"))
        self.smoothing_label.setText(f"{settings.smoothing:.2f}")
        sl.addWidget(self.smoothing, 1)
        sl.addWidget(self.smoothing_label)
        form.addRow("Smoothing", sm)
        self.device = QComboBox()
        self.device.addItem("automatic", "auto")
        self.device.addItem("CPU", "cpu")
        if cuda_available():
            self.device.addItem("CUDA", "cuda")
        self.device.setCurrentIndex(max(self.device.findData(settings.device), 0))
        form.addRow("Device", self.device)
        self.camera_size = QComboBox()
        for w, h in CAMERA_SIZES:
            self.camera_size.addItem(f"{w} × {h}", (w, h))
        self.camera_size.setCurrentIndex(max(self.camera_size.findData((settings.camera_width, settings.camera_height)), 0))
        form.addRow("Camera resolution", self.camera_size)
        self.hands = QCheckBox("Track hands and fingers (slower)")
        self.hands.setChecked(settings.hands)
        form.addRow("Hands", self.hands)
        self.realtime = QCheckBox("Play video files at their own speed")
        self.realtime.setChecked(settings.realtime)
        form.addRow("", self.realtime)
        self.takes_dir = QLineEdit(settings.takes_folder)
        form.addRow("Takes folder", self.takes_dir)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def result_settings(self) -> AppSettings:
        w, h = self.camera_size.currentData()
        return self._settings.with_(mode=self.mode.currentData(), smoothing=self.smoothing.value() / 100,
                                    device=self.device.currentData(), camera_width=w, camera_height=h,
                                    realtime=self.realtime.isChecked(), takes_dir=self.takes_dir.text().strip(),
                                    hands=self.hands.isChecked())
