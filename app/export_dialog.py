"""Export a take (or a frame range of it): formats, rig, units and frame rate; remembered."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from engine.core.take import Take

from .exporting import DEFAULT_FORMATS, UNITS, ExportRequest, available_formats, available_rigs
from .path_field import PathField
from .settings import recent_list


class ExportDialog(QDialog):
    def __init__(self, take: Take, name: str, qsettings: QSettings, default_folder: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Export {name}")
        self.take = take
        self.qsettings = qsettings
        form = QFormLayout(self)
        fmt_row = QWidget()
        fl = QHBoxLayout(fmt_row)
        fl.setContentsMargins(0, 0, 0, 0)
        saved = set(recent_list(qsettings, "export/formats")) or set(DEFAULT_FORMATS)
        self.format_boxes: dict[str, QCheckBox] = {}
        for fmt in available_formats():
            box = QCheckBox(fmt.upper())
            box.setChecked(fmt in saved)
            self.format_boxes[fmt] = box
            fl.addWidget(box)
        fl.addStretch(1)
        form.addRow("Formats", fmt_row)
        self.rig = QComboBox()
        self.rig.addItem("default", "")
        for r in available_rigs():
            self.rig.addItem(r, r)
        self._select(self.rig, qsettings.value("export/rig", ""))
        form.addRow("Rig", self.rig)
        self.units = QComboBox()
        self.units.addItem("format default", "")
        for u in UNITS:
            self.units.addItem(u, u)
        self._select(self.units, qsettings.value("export/units", ""))
        form.addRow("Units", self.units)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(0.0, 240.0)
        self.fps.setDecimals(3)
        self.fps.setSpecialValueText("take's rate")
        self.fps.setValue(float(qsettings.value("export/fps", 0.0) or 0.0))
        form.addRow("Frame rate", self.fps)
        rng = QWidget()
        rl = QHBoxLayout(rng)
        rl.setContentsMargins(0, 0, 0, 0)
        self.start = QSpinBox()
        self.stop = QSpinBox()
        for s in (self.start, self.stop):
            s.setRange(1, max(take.num_frames, 1))
        self.start.setValue(1)
        self.stop.setValue(take.num_frames)
        rl.addWidget(self.start)
        rl.addWidget(QLabel("to"))
        rl.addWidget(self.stop)
        form.addRow("Frames", rng)
        self.out_dir = PathField(str(qsettings.value("export/out_dir") or default_folder), "Export to")
        form.addRow("Folder", self.out_dir)
        self.stem = QLineEdit(name)
        form.addRow("File name", self.stem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #e06060")
        form.addRow(self.error_label)

    @staticmethod
    def _select(combo: QComboBox, value) -> None:
        i = combo.findData(value or "")
        combo.setCurrentIndex(max(i, 0))

    def set_formats(self, formats) -> None:
        wanted = {f.lower() for f in formats}
        for f, b in self.format_boxes.items():
            b.setChecked(f.lower() in wanted)

    def request(self) -> ExportRequest:
        formats = tuple(f for f, b in self.format_boxes.items() if b.isChecked())
        start, stop = self.start.value() - 1, self.stop.value()
        frame_range = None if (start, stop) == (0, self.take.num_frames) else (start, stop)
        return ExportRequest(self.out_dir.text(), self.stem.text().strip() or "take", formats, self.rig.currentData(),
                             self.units.currentData(), self.fps.value() or None, frame_range)

    def _accept(self) -> None:
        req = self.request()
        if not req.formats:
            self.error_label.setText("Choose at least one format.")
            return
        if req.frame_range is not None and req.frame_range[0] >= req.frame_range[1]:
            self.error_label.setText("The first frame must come before the last.")
            return
        qs = self.qsettings
        qs.setValue("export/formats", list(req.formats))
        qs.setValue("export/rig", req.rig)
        qs.setValue("export/units", req.units)
        qs.setValue("export/fps", req.fps or 0.0)
        qs.setValue("export/out_dir", req.out_dir)
        self.accept()
