"""Space plays and pauses a take wherever the focus is in the window (a focused list or button
would otherwise take the key for itself), the 3D view's native window included, except in text and
number fields."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QWidget

from .window_state import WindowState
from .window_values import Mode


class SpaceToPause(QObject):
    """An application event filter (install it on the QApplication) for one window's keys."""

    pressed = Signal()  # Space, while a take is shown

    def __init__(self, window: QWidget, state: WindowState):
        super().__init__(window)
        self._window = window
        self._state = state

    def eventFilter(self, obj, event):
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) or event.key() != Qt.Key.Key_Space \
                or event.modifiers() != Qt.KeyboardModifier.NoModifier or self._state.mode is not Mode.PLAYBACK:
            return False
        if isinstance(obj, QWindow):  # a native window inside this one (the 3D view) has the keys
            if not self._inside(obj):
                return False
        elif not isinstance(obj, QWidget) or obj.window() is not self._window \
                or isinstance(obj, (QLineEdit, QAbstractSpinBox)):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # no shortcut takes it: it arrives as a key press, here
        elif not event.isAutoRepeat():
            self.pressed.emit()
        return True

    def _inside(self, window: QWindow) -> bool:
        top = self._window.windowHandle()
        while window is not None:
            if window is top:
                return True
            window = window.parent()
        return False
