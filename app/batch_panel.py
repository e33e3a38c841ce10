"""Batch: many videos -> take files, with per-file and overall progress, cancel and a summary."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.core.video_files import VIDEO_SUFFIXES, is_video_file

from .exporting import DEFAULT_FORMATS, available_formats
from .messages import BatchProgress, BatchRequest, BatchResult
from .path_field import PathField, open_folder
from .settings import push_recent, recent_list


class BatchPanel(QWidget):
    startRequested = Signal(object)  # BatchRequest (the window adds the pipeline settings)
    cancelRequested = Signal()
    finished = Signal(object)  # BatchResult

    def __init__(self, qsettings: QSettings, default_folder: str, parent=None):
        """default_folder: where outputs go unless the user picked another folder (remembered)."""
        super().__init__(parent)
        self.qsettings = qsettings
        self.running = False
        self.last_result: BatchResult | None = None
        lay = QVBoxLayout(self)
        self.files = QListWidget()
        lay.addWidget(QLabel("Videos"))
        lay.addWidget(self.files, 1)
        row = QHBoxLayout()
        self.add_files_button = QPushButton("Add files…")
        self.add_folder_button = QPushButton("Add folder…")
        self.clear_button = QPushButton("Clear")
        for b in (self.add_files_button, self.add_folder_button, self.clear_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.out_dir = PathField(str(qsettings.value("batch/out_dir") or default_folder), "Output folder")
        lay.addWidget(QLabel("Output folder"))
        lay.addWidget(self.out_dir)
        fmt_row = QHBoxLayout()
        saved = set(recent_list(qsettings, "batch/formats")) or set(DEFAULT_FORMATS)
        self.format_boxes: dict[str, QCheckBox] = {}
        for fmt in available_formats():
            box = QCheckBox(fmt.upper())
            box.setChecked(fmt in saved)
            self.format_boxes[fmt] = box
            fmt_row.addWidget(box)
        fmt_row.addStretch(1)
        lay.addWidget(QLabel("Formats"))
        lay.addLayout(fmt_row)
        self.file_label = QLabel("")
        self.file_progress = QProgressBar()
        self.overall_progress = QProgressBar()
        lay.addWidget(self.file_label)
        lay.addWidget(self.file_progress)
        lay.addWidget(QLabel("Overall"))
        lay.addWidget(self.overall_progress)
        run_row = QHBoxLayout()
        self.start_button = QPushButton("Start batch")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.open_button = QPushButton("Open folder")
        self.open_button.setEnabled(False)
        run_row.addWidget(self.start_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.open_button)
        lay.addLayout(run_row)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setMaximumHeight(140)
        lay.addWidget(self.summary)
        self.add_files_button.clicked.connect(self._pick_files)
        self.add_folder_button.clicked.connect(self._pick_folder)
        self.clear_button.clicked.connect(self.files.clear)
        self.open_button.clicked.connect(self._open_out)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)

    def paths(self) -> list[str]:
        return [self.files.item(i).text() for i in range(self.files.count())]

    def add_paths(self, paths) -> None:
        have = set(self.paths())
        for p in paths:
            p = Path(p)
            items = sorted(q for q in p.rglob("*") if q.is_file() and is_video_file(q)) if p.is_dir() else [p]
            for q in items:
                if str(q) not in have:
                    self.files.addItem(str(q))
                    have.add(str(q))

    def _folder(self) -> str:
        return str(self.qsettings.value("recent/folder") or Path.home())

    def _pick_files(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES))
        files, _ = QFileDialog.getOpenFileNames(self, "Add videos", self._folder(), f"Videos ({patterns});;All files (*)")
        if files:
            self.qsettings.setValue("recent/folder", str(Path(files[0]).parent))
            self.add_paths(files)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of videos", self._folder())
        if folder:
            push_recent(self.qsettings, "recent/folders", folder)
            self.add_paths([folder])

    def set_default_folder(self, folder: str) -> None:
        if not self.qsettings.value("batch/out_dir"):
            self.out_dir.setText(folder)

    def _open_out(self) -> None:
        open_folder(self.last_result.out_dir if self.last_result else self.out_dir.text())

    def formats(self) -> tuple[str, ...]:
        return tuple(f for f, b in self.format_boxes.items() if b.isChecked())

    def start(self) -> None:
        files = self.paths()
        if not files:
            self.summary.setPlainText("Add some videos first.")
            return
        if not self.formats():
            self.summary.setPlainText("Choose at least one format.")
            return
        self.qsettings.setValue("batch/out_dir", self.out_dir.text())
        self.qsettings.setValue("batch/formats", list(self.formats()))
        self.running = True
        self.last_result = None
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.summary.setPlainText(f"Processing {len(files)} files…")
        self.overall_progress.setRange(0, len(files))
        self.overall_progress.setValue(0)
        self.startRequested.emit(BatchRequest(tuple(files), self.out_dir.text(), self.formats()))

    def cancel(self) -> None:
        self.summary.appendPlainText("Cancelling…")
        self.cancelRequested.emit()

    @Slot(object)
    def on_progress(self, p: BatchProgress) -> None:
        self.overall_progress.setRange(0, p.file_count)
        self.overall_progress.setValue(p.file_index)
        if p.file_name:
            self.file_label.setText(f"[{p.file_index + 1}/{p.file_count}] {p.file_name}")
        if p.frames_total:
            self.file_progress.setRange(0, p.frames_total)
            self.file_progress.setValue(min(p.frames_done, p.frames_total))
        else:
            self.file_progress.setRange(0, 0 if p.file_name else 1)

    @Slot(object)
    def on_finished(self, result: BatchResult) -> None:
        self.running = False
        self.last_result = result
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.file_progress.setRange(0, 1)
        self.file_progress.setValue(1 if not result.cancelled else 0)
        self.overall_progress.setValue(len(result.succeeded) + len(result.failures))
        self.summary.setPlainText(result.summary())
        self.open_button.setEnabled(bool(result.succeeded))
        self.finished.emit(result)
