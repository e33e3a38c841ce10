"""A dialog that runs work off the window's thread, stops it whenever it closes, and saves what the
work made with a problem said in one line."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog

from engine.core.errors import describe_error


class WorkDialog(QDialog):
    """Subclasses define `stop(timeout_s)`: cancel their work and wait for it (a bounded wait), and
    a `problem` label."""

    def stop(self, timeout_s: float = 5.0) -> None:
        raise NotImplementedError

    def done(self, result: int) -> None:
        self.stop()
        super().done(result)

    def closeEvent(self, event):
        self.stop()
        super().closeEvent(event)

    def _written(self, write, path: str) -> bool:
        """write(path); a problem is one line in `problem`."""
        try:
            write(path)
        except Exception as exc:  # noqa: BLE001 - said in the dialog, in one line
            self.problem.setText(describe_error(exc))
            return False
        self.problem.clear()
        return True
