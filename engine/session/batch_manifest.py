"""A batch's items and its record: `OUT/batch_manifest.jsonl`, one line per finished item (status,
error, frames, time, outputs with their sizes), read back past damaged lines, so that a batch
started again skips what is complete (engine/session/batch.py runs the items)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.core.errors import OutputError
from engine.core.interrupts import interrupts_held

MANIFEST_NAME = "batch_manifest.jsonl"


@dataclass(frozen=True)
class BatchItem:
    input: str
    stem: str


@dataclass(frozen=True)
class ItemResult:
    input: str
    stem: str
    status: str  # "done" | "failed" | "skipped"
    error: str = ""
    frames: int = 0
    valid_frames: int = 0
    seconds: float = 0.0
    outputs: dict = field(default_factory=dict)  # file name -> size in bytes
    warnings: tuple[str, ...] = ()
    attempts: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"warnings": list(self.warnings)}, sort_keys=True)


class Manifest:
    """OUT/batch_manifest.jsonl: one JSON line per finished item; the last well-formed line for an
    input wins. A line that is not one (cut short by a crash, damaged by hand) is passed over."""

    def __init__(self, out_dir: str | Path):
        self.path = Path(out_dir) / MANIFEST_NAME

    def prepare(self) -> None:
        """OutputError when the manifest cannot be kept here; a last line cut short is ended, so
        that the next line written starts a line of its own."""
        if self.path.is_dir():
            raise OutputError(f"{self.path}: is a folder, not a batch manifest; move it away or choose another "
                              "output folder")
        if not self.path.exists():
            return
        try:
            with open(self.path, "rb+") as f:
                if f.seek(0, os.SEEK_END):
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":
                        f.write(b"\n")
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write the batch manifest ({exc.strerror or exc})") from None

    def read(self) -> dict[str, dict]:
        entries: dict[str, dict] = {}
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    entry = _well_formed(line)
                    if entry is not None:
                        entries[entry["input"]] = entry
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot read the batch manifest ({exc.strerror or exc})") from None
        return entries

    def append(self, result: ItemResult) -> None:
        try:
            with interrupts_held(), open(self.path, "a", encoding="utf-8") as f:
                f.write(result.to_json() + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write the batch manifest ({exc.strerror or exc})") from None

    def is_complete(self, entry: dict | None, item: BatchItem) -> bool:
        """Done before, with the same stem, and every file it wrote still there at its size."""
        if not entry or entry.get("status") != "done" or entry.get("stem") != item.stem or not entry.get("outputs"):
            return False
        out = self.path.parent
        return all((out / name).is_file() and (out / name).stat().st_size == size
                   for name, size in entry["outputs"].items())


def _well_formed(line: str) -> dict | None:
    """A manifest line as an entry, or None when it is not one."""
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("input", "stem", "status")):
        return None
    outputs = entry.get("outputs", {})
    if not isinstance(outputs, dict) or not all(_is_file_name(name) and _is_count(size)
                                                for name, size in outputs.items()):
        return None
    if not all(_is_count(entry.get(k, 0)) for k in ("frames", "valid_frames")):
        return None
    return entry


def _is_file_name(name: object) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and os.sep not in name


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
