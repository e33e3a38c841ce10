"""The window's Open dialogs: where they start and what they offer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from engine.core.video_files import VIDEO_SUFFIXES

TAKE_FILES = "Takes (*.bvh *.fbx *.glb *.gltf *.vrma *.npz *.csv *.trc *_people.json);;All files (*)"


def ask_video(parent: QWidget, qsettings: QSettings) -> str:
    """A video file to open ("" when cancelled), from the folder of the last one."""
    folder = qsettings.value("recent/folder") or str(Path.home())
    patterns = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES))
    path, _ = QFileDialog.getOpenFileName(parent, "Open a video", str(folder), f"Videos ({patterns});;All files (*)")
    return path


def ask_take(parent: QWidget, qsettings: QSettings, takes_folder: str) -> str:
    """A take file to play back ("" when cancelled), from the folder of the last one or the takes folder."""
    folder = qsettings.value("recent/take_folder") or str(takes_folder)
    path, _ = QFileDialog.getOpenFileName(parent, "Open a take", str(folder), TAKE_FILES)
    return path
