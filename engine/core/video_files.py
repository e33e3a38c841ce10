"""Which files are videos, by their suffix: the one list the sources, the batch and the GUI's dialogs share."""

from __future__ import annotations

from pathlib import Path

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".mts", ".m2ts"}


def is_video_file(path: str | Path) -> bool:
    """Whether the name ends in a video suffix, in any case (the file itself is not opened)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES
