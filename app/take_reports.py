"""What the status bar says about the takes the engine saves and refines (engine/session/refine.py):
a take is saved as recorded live, then replaced by the offline pass of `monocap process`."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Slot

from .messages import RefineResult, TakeSaved
from .take_player import TakePlayer
from .window_state import WindowState
from .window_values import ListedTake, TakeFiles, format_seconds

ShowMessage = Callable[[str, int], None]


class TakeReports(QObject):
    def __init__(self, state: WindowState, player: TakePlayer, show_message: ShowMessage, parent=None):
        super().__init__(parent)
        self._state, self._player, self._show = state, player, show_message

    @Slot(object)
    def saved(self, saved: TakeSaved) -> None:
        take = saved.take
        self._state.list_take(ListedTake(saved.name, TakeFiles(Path(saved.path), saved.video_path), take.num_frames,
                                         take.fps))
        self._show(f"Take {saved.name} saved: {format_seconds(take.num_frames / take.fps)} in {saved.path}", 8000)

    @Slot(str)
    def refining(self, name: str) -> None:
        self._show(f"Take {name} saved as recorded live; refining it with the whole-clip pass…", 15000)

    @Slot(object)
    def refined(self, result: RefineResult) -> None:
        name = Path(result.take_path).stem
        if result.error:
            self._show(f"Take {name} kept as recorded live: {result.error}", 15000)
            return
        self._player.reload(name)  # the same frames as the live take, so the list stays as it is
        self._show(f"Take {name} refined by the whole-clip pass ({result.seconds:.1f} s)", 8000)
