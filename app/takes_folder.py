"""The takes folder as the window lists it: the takes a crash left recovered first, then every
take there (a damaged one is left out), the banner naming those recovered."""

from __future__ import annotations

from pathlib import Path

from engine.core.take import DEFAULT_FPS
from engine.session.recorder import list_takes, recover_all, take_summary

from .window_state import WindowState
from .window_values import Banner, BannerScope, ListedTake, TakeFiles, format_seconds


def read_takes_folder(folder: str | Path) -> tuple[list[ListedTake], str]:
    """The takes in `folder`, and what to tell the user about the ones recovered ("" for none)."""
    recovered = recover_all(folder)
    listed = []
    for path in list_takes(folder):
        try:
            frames, fps = take_summary(path)
        except Exception:  # noqa: BLE001 - a damaged take is skipped, not fatal
            continue
        video = path.with_suffix(".avi")
        listed.append(ListedTake(path.stem, TakeFiles(path, video if video.exists() else None), frames, fps))
    if not recovered:
        return listed, ""
    lengths = {t.name: t.frames / (t.fps or DEFAULT_FPS) for t in listed}
    said = [f"{name} was recovered after a crash: {format_seconds(lengths.get(name, 0.0))}" for name, _ in recovered]
    return listed, "; ".join(said) + "."


def list_takes_folder(state: WindowState, folder: str | Path) -> None:
    """The takes in `folder` become the state's list of takes."""
    listed, recovered = read_takes_folder(folder)
    state.clear_takes()
    for take in listed:
        state.list_take(take)
    if recovered:
        state.show(Banner(recovered, "info", "Open folder", "open_folder", BannerScope.NOTICE, folder=str(folder)))

