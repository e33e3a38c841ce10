"""The Takes panel: the takes recorded and opened, Back to live and Export. It lists what the
window's state lists (`WindowState.takeListed`) and marks the take shown."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from engine.core.take import DEFAULT_FPS

from .window_values import ListedTake, WindowStatus, format_seconds

NAME = Qt.ItemDataRole.UserRole  # an item's take name


class TakesPanel(QWidget):
    takeChosen = Signal(str)  # the name of the take clicked
    backToLive = Signal()
    exportRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.takes_list = QListWidget()
        self.takes_list.itemActivated.connect(lambda item: self.takeChosen.emit(item.data(NAME)))
        self.takes_list.itemClicked.connect(lambda item: self.takeChosen.emit(item.data(NAME)))
        self.live_button = QPushButton("Back to live")
        self.live_button.clicked.connect(self.backToLive)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.exportRequested)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.takes_list)
        row = QHBoxLayout()
        row.addWidget(self.live_button)
        row.addWidget(self.export_button)
        lay.addLayout(row)

    def selected_name(self) -> str | None:
        item = self.takes_list.currentItem()
        return None if item is None else item.data(NAME)

    @Slot(object)
    def add_take(self, listed: ListedTake) -> None:
        """At the end of the list, replacing a take of the same name."""
        row = self._row_of(listed.name)
        if row is not None:
            self.takes_list.takeItem(row)
        length = format_seconds(listed.frames / (listed.fps or DEFAULT_FPS))
        item = QListWidgetItem(f"{listed.name}  —  {listed.frames} frames, {length}")
        item.setData(NAME, listed.name)
        self.takes_list.addItem(item)

    @Slot()
    def clear(self) -> None:
        self.takes_list.clear()

    @Slot(object)
    def show_status(self, status: WindowStatus) -> None:
        if status.take_name and self.selected_name() != status.take_name:
            row = self._row_of(status.take_name)
            if row is not None:
                self.takes_list.setCurrentRow(row)

    def _row_of(self, name: str) -> int | None:
        return next((i for i in range(self.takes_list.count()) if self.takes_list.item(i).data(NAME) == name), None)
