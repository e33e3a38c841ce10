"""Settings: 3D mode (the image mode with its checkpoint file), smoothing, hands, device, camera resolution,
playback pacing, recording files from their start, the output folder and the takes folder.

OK checks the 3D mode before anything changes: a mode that cannot start (a checkpoint that does not
load) says why in the dialog, and the mode that runs stays as it is.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QSlider, QWidget

from engine.core.errors import MonocapError
from engine.session.settings import mode_choices, mode_problem

from .path_field import PathField
from .settings import CAMERA_SIZES, IMAGE_MODE, AppSettings
from .user_errors import one_line
from .window_state import DEVICE_CHOICES

CHECKPOINT_FILTER = "Networks (*.npz *.pt *.pth *.ckpt);;All files (*)"  # .npz: exported (engine/lift/nets/exported.py)


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


def check_mode(settings: AppSettings) -> str:
    """'' when the settings' 3D mode starts; else one line saying why not."""
    if settings.mode == IMAGE_MODE and not settings.checkpoint:
        return "The image 3D mode needs a checkpoint: choose its file."
    if settings.mode == IMAGE_MODE and not Path(settings.checkpoint).is_file():
        return f"{settings.checkpoint}: no such checkpoint file."
    try:
        config = settings.pipeline_config()
    except MonocapError as exc:
        return one_line(str(exc))
    problem = mode_problem(config)
    if settings.mode == IMAGE_MODE and problem and one_line(problem) != problem:  # a library's paragraph: logged
        return (f"{Path(settings.checkpoint).name} is not a checkpoint the image network can load: choose the "
                "file its training wrote (the details are in the log).")
    return one_line(problem)


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Monocap settings")
        self._settings = settings
        form = QFormLayout(self)
        self.mode = QComboBox()
        for mode, label in mode_choices():
            self.mode.addItem(label, mode)
        form.addRow("3D mode", self.mode)
        self.checkpoint = PathField(settings.checkpoint, "Image network checkpoint", CHECKPOINT_FILTER,
                                    placeholder="(choose a checkpoint file for the image mode)")
        form.addRow("Image network", self.checkpoint)
        self.checkpoint.changed.connect(lambda _: self._offer_image_mode())
        self._offer_image_mode()
        self.mode.setCurrentIndex(max(self.mode.findData(settings.lift_mode), 0))
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
        self.hands = QCheckBox("Track hands and fingers (slower)")
        self.hands.setChecked(settings.hands)
        form.addRow("Hands", self.hands)
        self.face = QCheckBox("Track the face: blink, mouth, brows, gaze, head (for avatars)")
        self.face.setChecked(settings.face)
        form.addRow("Face", self.face)
        self.device = QComboBox()
        for device, label in DEVICE_CHOICES.items():
            if device != "cuda" or cuda_available():
                self.device.addItem(label, device)
        self.device.setCurrentIndex(max(self.device.findData(settings.device), 0))
        form.addRow("Device", self.device)
        self.camera_size = QComboBox()
        for w, h in CAMERA_SIZES:
            self.camera_size.addItem(f"{w} × {h}", (w, h))
        self.camera_size.setCurrentIndex(max(self.camera_size.findData((settings.camera_width, settings.camera_height)), 0))
        form.addRow("Camera resolution", self.camera_size)
        self.realtime = QCheckBox("Play video files at their own speed")
        self.realtime.setChecked(settings.realtime)
        form.addRow("", self.realtime)
        self.record_files = QCheckBox("Record a video file from its start when it is opened")
        self.record_files.setChecked(settings.record_files)
        form.addRow("", self.record_files)
        self.output_dir = PathField(settings.output_folder, "Output folder")
        form.addRow("Output folder", self.output_dir)
        self.takes_dir = PathField(settings.takes_folder, "Takes folder")
        form.addRow("Takes folder", self.takes_dir)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setMaximumWidth(560)  # a line that wraps stays inside the dialog
        self.error_label.setStyleSheet("color: #e06060")
        form.addRow(self.error_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _offer_image_mode(self) -> None:
        """The image mode can be chosen only once its checkpoint file is."""
        i = self.mode.findData(IMAGE_MODE)
        if i < 0:
            return
        item = self.mode.model().item(i)
        item.setEnabled(bool(self.checkpoint.text()))
        if not self.checkpoint.text() and self.mode.currentIndex() == i:
            self.mode.setCurrentIndex(max(self.mode.findData(self._settings.lift_mode), 0))

    def result_settings(self) -> AppSettings:
        w, h = self.camera_size.currentData()
        takes = self.takes_dir.text().strip()
        output = self.output_dir.text().strip()
        # a takes folder left where it was (inside the output folder) moves with the output folder
        if takes == self._settings.takes_folder and not self._settings.takes_dir:
            takes = ""
        return self._settings.with_(mode=self.mode.currentData(), checkpoint=self.checkpoint.text().strip(),
                                    smoothing=self.smoothing.value() / 100, device=self.device.currentData(),
                                    camera_width=w, camera_height=h, realtime=self.realtime.isChecked(),
                                    record_files=self.record_files.isChecked(),
                                    hands=self.hands.isChecked(), face=self.face.isChecked(),
                                    output_dir="" if output == self._settings.output_folder and not self._settings.output_dir
                                    else output, takes_dir=takes)

    def _accept(self) -> None:
        new = self.result_settings()
        old = self._settings
        if (new.mode, new.checkpoint, new.device) != (old.mode, old.checkpoint, old.device):
            why = check_mode(new)
            if why:
                self.error_label.setText(why)
                return
        self.accept()
