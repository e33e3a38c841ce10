"""What a command shows while it runs: a progress bar on a terminal, and lines unless --quiet."""

from __future__ import annotations

import argparse


class ProgressBar:
    """A tqdm bar on a terminal; nothing when quiet or not a terminal."""

    def __init__(self, quiet: bool, total: int | None, desc: str):
        self._bar = None
        if not quiet:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="frame", disable=None, leave=True, dynamic_ncols=True)

    def update_to(self, done: int, total: int | None = None) -> None:
        if self._bar is not None:
            if total is not None and self._bar.total != total:
                self._bar.total = total
            self._bar.update(done - self._bar.n)

    def set_description(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_description(text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text)
