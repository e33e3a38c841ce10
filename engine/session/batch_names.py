"""The names a batch's takes get: each input's stem, made unique across the batch (and stable from one
run to the next) where two inputs share one, never one that another take's files could carry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator

from engine.session.batch_manifest import BatchItem

_PEOPLE_SUFFIX = re.compile(r"^(?P<base>.+)_(?:p\d+|people)$")


class _Names:
    """Stems claimed so far, compared as a case-insensitive file system would: a stem clashes with
    one claimed when they are equal or when one is a name the other's people files take
    (STEM_pN, STEM_people)."""

    def __init__(self, stems: Iterable[str] = ()):
        self._stems: set[str] = set()
        self._bases: set[str] = set()
        for stem in stems:
            self.claim(stem)

    def claim(self, stem: str) -> None:
        key = stem.casefold()
        self._stems.add(key)
        people = _PEOPLE_SUFFIX.match(key)
        if people:
            self._bases.add(people["base"])

    def clashes(self, stem: str) -> bool:
        key = stem.casefold()
        people = _PEOPLE_SUFFIX.match(key)
        return key in self._stems or key in self._bases or bool(people and people["base"] in self._stems)


def plan_items(files: Iterable[Path | str], folders: bool = False) -> list[BatchItem]:
    """Each input's stem is its file's name (`folders`: the inputs are folders, each one take of
    several cameras, and a folder's stem is its whole name), unless an earlier input has it (or a name that
    clashes, see `_Names`): then the names of the folders above the file go in front, the nearest
    first (`sub/a.mp4` -> `sub_a`), and where those do not tell it apart _2, _3 ... after the name.
    A stem made so never clashes with any input's own name. The same inputs in the same order
    always get the same stems, so a batch started again finds its files."""
    paths = [Path(f) for f in files]
    names = [p.name if folders else p.stem for p in paths]
    reserved = _Names(names)
    taken = _Names()
    items = []
    for path, name in zip(paths, names):
        stem = name if not taken.clashes(name) else _free_stem(path, name, taken, reserved)
        taken.claim(stem)
        items.append(BatchItem(str(path), stem))
    return items


def _free_stem(path: Path, name: str, taken: _Names, reserved: _Names) -> str:
    for stem in _stem_candidates(path, name):
        if not taken.clashes(stem) and not reserved.clashes(stem):
            return stem
    raise AssertionError("unreachable: the numbered candidates never end")


def _stem_candidates(path: Path, name: str) -> Iterator[str]:
    folders = [p.name for p in path.absolute().parents if p.name not in ("", ".", "..")]
    for depth in range(1, len(folders) + 1):
        yield "_".join(reversed(folders[:depth])) + "_" + name
    number = 2
    while True:
        yield f"{name}_{number}"
        number += 1
