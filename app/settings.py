"""The user's settings, kept in QSettings (organisation "Monocap"), as one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

from engine.lift.modes import DEFAULT_MODE, LiftConfig
from engine.session.pipeline import PipelineConfig
from engine.motion.smoothing import SmoothingConfig

CAMERA_SIZES = ((640, 480), (1280, 720), (1920, 1080))
MAX_RECENT = 10


def default_takes_dir() -> str:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation) or str(Path.home() / ".monocap")
    return str(Path(base) / "takes")


@dataclass(frozen=True)
class AppSettings:
    mode: str = DEFAULT_MODE  # 3D mode (engine.lift.modes.available_modes())
    smoothing: float = SmoothingConfig().strength
    device: str = "auto"  # auto | cpu | cuda
    camera_width: int = 640
    camera_height: int = 480
    realtime: bool = True  # files play at their own rate (off: as fast as the engine goes)
    takes_dir: str = ""
    hands: bool = False  # track the fingers too (docs/HANDS.md)

    def pipeline_config(self) -> PipelineConfig:
        return PipelineConfig(lift=LiftConfig(mode=self.mode, device=self.device),
                              smoothing=SmoothingConfig(strength=min(max(self.smoothing, 0.0), 1.0)),
                              hands=self.hands)

    @property
    def takes_folder(self) -> str:
        return self.takes_dir or default_takes_dir()

    @classmethod
    def load(cls, qs: QSettings) -> "AppSettings":
        values = {}
        for f in fields(cls):
            raw = qs.value(f"settings/{f.name}")
            if raw is None:
                continue
            try:
                if f.type in ("bool", bool):
                    values[f.name] = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
                elif f.type in ("int", int):
                    values[f.name] = int(raw)
                elif f.type in ("float", float):
                    values[f.name] = float(raw)
                else:
                    values[f.name] = str(raw)
            except (TypeError, ValueError):
                continue
        return cls(**values)

    def save(self, qs: QSettings) -> None:
        for f in fields(self):
            qs.setValue(f"settings/{f.name}", getattr(self, f.name))
        qs.sync()

    def with_(self, **changes) -> "AppSettings":
        return replace(self, **changes)


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
