"""Keeps Python's cycle collector out of the frame loop.

A full collection walks every object the process holds: with Qt, pyqtgraph, torch and MediaPipe
loaded that is over a million, and it stops whichever thread triggered it (the GUI's, or the
engine's while holding the interpreter) for a few hundred milliseconds. Objects that live as long
as the app are moved out of the collector's reach once they exist, so later collections walk only
what the frames create.
"""

from __future__ import annotations

import gc


def settle(collect: bool = True) -> None:
    """Freezes what exists now (collecting first where a pause is harmless: before the window shows)."""
    if collect:
        gc.collect()
    gc.freeze()
