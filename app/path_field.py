"""A folder or file chosen with a Browse button, its full path shown elided in the middle."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton, QWidget

from .banner import ElidedLabel


def open_folder(folder: str | Path) -> bool:
    """Shows `folder` in the system's file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


class PathField(QWidget):
    changed = Signal(str)

    def __init__(self, path: str = "", title: str = "Choose a folder", file_filter: str | None = None,
                 placeholder: str = "(none)", parent=None):
        """file_filter: None for a folder; a Qt filter ("Checkpoints (*.pt)") for a file."""
        super().__init__(parent)
        self._path = ""
        self._title = title
        self._filter = file_filter
        self._placeholder = placeholder
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)
        self.label.setMinimumWidth(220)
        self.label.setFrameShape(ElidedLabel.Shape.StyledPanel)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.browse_button)
        self.setText(path)

    def text(self) -> str:
        return self._path

    def setText(self, path: str) -> None:
        self._path = str(path or "")
        self.label.setText(self._path or self._placeholder)
        self.label.setToolTip(self._path)
        self.changed.emit(self._path)

    def _browse(self) -> None:
        if self._filter is None:
            path = QFileDialog.getExistingDirectory(self, self._title, self._path)
        else:
            path, _ = QFileDialog.getOpenFileName(self, self._title, self._path, self._filter)
        if path:
            self.setText(path)
