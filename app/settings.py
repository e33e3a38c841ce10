"""The user's settings, kept in QSettings (organisation "Monocap"), as one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

from engine.core.errors import MonocapError
from engine.session.pipeline import PipelineConfig
from engine.session.settings import (
    DEFAULT_DEVICE,
    DEFAULT_MODE,
    DEFAULT_SMOOTHING,
    camera_size,
    check_device,
    check_mode,
    check_smoothing,
    pipeline_config,
)

CAMERA_SIZES = ((640, 480), (1280, 720), (1920, 1080))
MAX_RECENT = 10


IMAGE_MODE = "image"  # the 3D mode that needs a checkpoint file


def default_output_dir() -> str:
    """Monocap's one home for what it writes: Documents/Monocap (takes/, exports/, batch/ inside)."""
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return str(Path(docs or Path.home()) / "Monocap")


@dataclass(frozen=True)
class AppSettings:
    mode: str = DEFAULT_MODE  # 3D mode (engine.session.settings.mode_choices())
    checkpoint: str = ""  # the image mode's network file
    smoothing: float = DEFAULT_SMOOTHING
    device: str = DEFAULT_DEVICE  # engine.lift.device.DEVICES
    camera_width: int = 640
    camera_height: int = 480
    realtime: bool = True  # files play at their own rate (off: as fast as the engine goes)
    record_files: bool = False  # record a video file from its first frame when it is opened
    output_dir: str = ""  # empty: default_output_dir()
    takes_dir: str = ""  # empty: OUTPUT/takes
    hands: bool = False  # track the fingers too (docs/HANDS.md)
    face: bool = False  # track the face too: expressions and the head (docs/FACE.md)

    @property
    def lift_mode(self) -> str:
        """The 3D mode to run: the image mode only with its checkpoint chosen, else the default."""
        if self.mode == IMAGE_MODE and not self.checkpoint:
            return DEFAULT_MODE
        return self.mode

    def pipeline_config(self) -> PipelineConfig:
        """Through the command line's own checks (engine/session/settings.py): a bad value is its one line."""
        mode = self.lift_mode
        return pipeline_config(mode=mode, device=self.device, checkpoint=self.checkpoint if mode == IMAGE_MODE else "",
                               smoothing=self.smoothing, hands=self.hands, face=self.face)

    @property
    def output_folder(self) -> str:
        return self.output_dir or default_output_dir()

    @property
    def takes_folder(self) -> str:
        return self.takes_dir or str(Path(self.output_folder) / "takes")

    @property
    def exports_folder(self) -> str:
        return str(Path(self.output_folder) / "exports")

    @property
    def batch_folder(self) -> str:
        return str(Path(self.output_folder) / "batch")

    @classmethod
    def load(cls, qs: QSettings) -> "AppSettings":
        return cls.load_checked(qs)[0]

    @classmethod
    def load_checked(cls, qs: QSettings) -> tuple["AppSettings", list[str]]:
        """The settings file's values, each checked as the command line checks it; a bad one keeps its
        default and gives the command line's one-line message."""
        values, problems = {}, []
        for f in fields(cls):
            raw = qs.value(f"settings/{f.name}")
            if raw is None:
                continue
            if f.type in ("bool", bool):
                values[f.name] = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
            elif f.type in ("float", float, "int", int):
                values[f.name] = raw  # checked below, with the others of its kind
            else:
                values[f.name] = str(raw)
        for check, names in _CHECKS:
            given = [values[n] for n in names if n in values]
            if not given:
                continue
            try:
                checked = check(*[values.get(n, getattr(cls, n)) for n in names])
            except MonocapError as exc:
                problems.append(f"settings file: {exc}")
                for n in names:
                    values.pop(n, None)
                continue
            values.update(zip(names, checked if len(names) > 1 else (checked,)))
        return cls(**values), problems

    def save(self, qs: QSettings) -> None:
        for f in fields(self):
            qs.setValue(f"settings/{f.name}", getattr(self, f.name))
        qs.sync()

    def with_(self, **changes) -> "AppSettings":
        return replace(self, **changes)


_CHECKS = ((check_mode, ("mode",)), (check_device, ("device",)), (check_smoothing, ("smoothing",)),
           (camera_size, ("camera_width", "camera_height")))


def recent_list(qs: QSettings, key: str) -> list[str]:
    raw = qs.value(key) or []
    if isinstance(raw, str):
        raw = [raw]
    return [str(x) for x in raw]


def push_recent(qs: QSettings, key: str, item: str) -> list[str]:
    items = [item] + [x for x in recent_list(qs, key) if x != item]
    items = items[:MAX_RECENT]
    qs.setValue(key, items)
    return items
