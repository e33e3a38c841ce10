"""A dialog that runs work off the window's thread and stops it whenever it closes."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog


class WorkDialog(QDialog):
    """Subclasses define `stop(timeout_s)`: cancel their work and wait for it (a bounded wait)."""

    def stop(self, timeout_s: float = 5.0) -> None:
        raise NotImplementedError

    def done(self, result: int) -> None:
        self.stop()
        super().done(result)

    def closeEvent(self, event):
        self.stop()
        super().closeEvent(event)
