"""The values the window's state is made of and hands out (app/window_state.py): the mode, the
source, the message banner, a listed take, and `WindowStatus`, what the views draw; and
`format_seconds`, how the window writes a length of time."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import NamedTuple


class Mode(Enum):
    IDLE = "idle"  # nothing runs
    LIVE = "live"  # a source (camera or file) is tracked
    PLAYBACK = "playback"  # a recorded take is shown on the timeline


class SourceKind(Enum):
    CAMERA = "camera"
    FILE = "file"
    SAMPLE = "sample"  # the bundled sample clip


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    label: str  # what the user calls it: a file name, a camera's description
    path: str = ""
    camera_index: int | None = None
    views: int = 1  # cameras fused into one pose (several calibrated ones: more than 1)

    @property
    def is_camera(self) -> bool:
        return self.kind is SourceKind.CAMERA


def source_for_path(path: str | Path, sample: Path) -> Source:
    path = Path(path)
    kind = SourceKind.SAMPLE if path.resolve() == Path(sample).resolve() else SourceKind.FILE
    return Source(kind, path.name, str(path))


class BannerScope(Enum):
    SOURCE = "source"  # about the source that plays: goes when another source or a take plays
    MESSAGE = "message"  # a result (an export, a batch): stays until closed, replaced, or another source opens
    NOTICE = "notice"  # found at start (a take recovered, a setting reset): stays until closed; what
    # comes about the source meanwhile waits beneath it (an error shows over it, and it comes back)


@dataclass(frozen=True)
class Banner:
    text: str
    level: str = "info"  # info | warning | error
    action: str = ""  # the button's text; empty: no button
    action_id: str = ""  # what the button does (the window maps it): "sample", "open_folder"
    scope: BannerScope = BannerScope.MESSAGE
    folder: str = ""  # for "open_folder"


class TakeFiles(NamedTuple):
    path: Path  # the take file
    video: Path | None  # its images, when it has them


@dataclass(frozen=True)
class ListedTake:
    """A take in the list: its name there, its files and its length."""

    name: str
    files: TakeFiles
    frames: int
    fps: float


@dataclass(frozen=True)
class WindowStatus:
    """What the window shows of its state, as `WindowState.changed` carries it to the views."""

    mode: Mode
    banner: Banner | None
    activity: str  # what runs now and how far a file is: the strip's line when no message is shown
    progress: tuple[int, int] | None  # (frames done, frames in all) while a file is tracked
    recording: bool
    recording_text: str
    fps_text: str
    latency_text: str
    device_text: str
    person_text: str
    take_name: str  # the take shown ("" outside playback)
    lift_text: str = ""  # the 3D mode that runs (and the one chosen for the next source, when they differ)
    lift_tip: str = ""  # the same in full words


def format_seconds(s: float) -> str:
    """7.2 s, 1:05.3, 1:02:03 (what a clock of a take shows)."""
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(s, 60)
    if m < 60:
        return f"{int(m)}:{sec:04.1f}"
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{int(sec):02d}"
