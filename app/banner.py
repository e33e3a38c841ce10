"""The strip above the views that says what is happening: a message with an optional action, or,
with none, what runs now (with a progress bar for files) and the recording indicator.

It keeps one height whatever it shows, so the views below never jump when a message appears.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QToolButton

from .window_values import Banner, WindowStatus

COLOURS = {"info": "#23415a", "warning": "#5a4a1a", "error": "#5a2323", "idle": "#26282e"}
HEIGHT_PX = 34
PROGRESS_INTERVAL_S = 0.25  # how often the progress bar follows a running file


class ElidedLabel(QLabel):
    """A one-line label that elides its text (in the middle for paths) and shows it all as a tooltip."""

    def __init__(self, text: str = "", mode=Qt.TextElideMode.ElideRight, parent=None):
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        return self._full

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = QFontMetrics(self.font()).elidedText(self._full, self._mode, max(self.width(), 40))
        super().setText(shown)


class MessageBanner(QFrame):
    closed = Signal()
    acted = Signal(object)  # the Banner whose button was pressed

    def __init__(self, parent=None):
        super().__init__(parent)
        self._progress_shown = 0.0
        self.setObjectName("banner")
        self.setFixedHeight(HEIGHT_PX)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 8, 2)
        self.label = ElidedLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(240)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.rec_label = QLabel()
        self.rec_label.setStyleSheet("QLabel { background: #c0392b; color: white; font-weight: bold; "
                                     "border-radius: 4px; padding: 2px 8px; }")
        self.rec_label.hide()
        self.action_button = QPushButton()
        self.action_button.hide()
        self.close_button = QToolButton(text="✕", toolTip="Close this message")
        self.close_button.hide()
        lay.addWidget(self.label, 1)
        lay.addWidget(self.progress)
        lay.addWidget(self.rec_label)
        lay.addWidget(self.action_button)
        lay.addWidget(self.close_button)
        self._banner: Banner | None = None
        self._activity = ""
        self.close_button.clicked.connect(self.closed.emit)
        self.action_button.clicked.connect(lambda: self.acted.emit(self._banner))
        self._paint()

    @Slot(object)
    def show_status(self, status: WindowStatus) -> None:
        """The window's state (app/window_state.py): its message, or what runs, and the recording."""
        self.show_banner(status.banner)
        self.set_activity(status.activity)
        self.set_progress(*(status.progress or (None, None)))
        self.set_recording(status.recording_text)

    def show_banner(self, banner: Banner | None) -> None:
        if banner == self._banner:
            return
        self._banner = banner
        self._paint()

    def set_activity(self, text: str) -> None:
        """What runs now; shown when there is no message."""
        if text != self._activity:
            self._activity = text
            if self._banner is None:
                self.label.setText(text)

    def set_progress(self, done: int | None, total: int | None) -> None:
        if done is None or not total:
            self.progress.hide()
            return
        # QProgressBar.setValue repaints at once (not at the next paint): a few times a second is enough
        now = time.monotonic()
        if self.progress.maximum() != total:
            self.progress.setRange(0, total)
        elif done < total and now - self._progress_shown < PROGRESS_INTERVAL_S and self.progress.isVisible():
            return
        self._progress_shown = now
        self.progress.setValue(done)
        self.progress.show()

    def set_recording(self, text: str) -> None:
        self.rec_label.setText(text)
        self.rec_label.setVisible(bool(text))

    def text(self) -> str:
        """The message shown ("" when none)."""
        return self._banner.text if self._banner is not None else ""

    def _paint(self) -> None:
        b = self._banner
        level = b.level if b is not None else "idle"
        self.setStyleSheet(f"#banner {{ background: {COLOURS.get(level, COLOURS['info'])}; border-radius: 4px; }} "
                           "#banner QLabel { color: white; }")
        self.label.setText(b.text if b is not None else self._activity)
        self.action_button.setVisible(bool(b is not None and b.action))
        self.action_button.setText(b.action if b is not None else "")
        self.close_button.setVisible(b is not None)
