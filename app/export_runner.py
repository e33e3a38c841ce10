"""Export…: the dialog, the export on a thread of its own (one at a time, so writing files never
holds up the window), and what the window says when it is done."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtWidgets import QStatusBar, QWidget

from engine.core.errors import describe_error
from engine.core.take import Take

from .exporting import ExportRequest, export
from .window_state import WindowState
from .window_values import Banner


@dataclass(frozen=True)
class ExportOutcome:
    paths: list[Path] | None  # the files written; None when it failed
    error: str | None  # one line saying why it failed


class ExportRunner(QObject):
    finished = Signal(object)  # ExportOutcome, once the window has said it
    _written = Signal(object)  # ExportOutcome, from the export's thread

    def __init__(self, qsettings: QSettings, state: WindowState, status_bar: QStatusBar, parent: QWidget):
        super().__init__(parent)
        self._qsettings = qsettings
        self._state = state
        self._status_bar = status_bar
        self._dialog_parent = parent
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monocap-export")
        self._written.connect(self._on_written)

    def ask(self, take: Take, name: str, folder: str) -> None:
        """The export dialog for `take` (called `name`), starting in `folder`; OK starts the export."""
        from .export_dialog import ExportDialog

        dialog = ExportDialog(take, name, self._qsettings, folder, self._dialog_parent)
        if dialog.exec():
            self.start(take, dialog.request())

    def start(self, take: Take, request: ExportRequest) -> None:
        self._status_bar.showMessage(f"Exporting {request.stem}…")

        def job():
            try:
                self._written.emit(ExportOutcome(export(take, request), None))
            except Exception as exc:  # noqa: BLE001 - a full disk, a bad path: one clear line
                self._written.emit(ExportOutcome(None, describe_error(exc)))

        self._pool.submit(job)

    def shutdown(self) -> None:
        """Waits for the export that runs."""
        self._pool.shutdown(wait=True)

    @Slot(object)
    def _on_written(self, outcome: ExportOutcome) -> None:
        if outcome.error:
            self._state.show(Banner(f"Export failed: {outcome.error}", "error"))
        else:
            folder = str(Path(outcome.paths[0]).parent) if outcome.paths else ""
            self._status_bar.clearMessage()
            self._state.show(Banner(f"Exported {', '.join(Path(p).name for p in outcome.paths)} to {folder}", "info",
                                    "Open folder", "open_folder", folder=folder))
        self.finished.emit(outcome)
