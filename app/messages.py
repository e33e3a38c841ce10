"""The dataclasses the worker's signals carry to the GUI thread (and the requests going the other way):
a live frame is the engine session's TrackedFrame itself, built once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# the engine session's own, relayed as they are (a source's reports come with the job they belong to)
from engine.session.events import RecordingState, SessionEnd, SessionInfo, TakeSaved, TrackedFrame
from engine.session.pipeline import PipelineConfig
from engine.session.refine import RefineResult  # the engine's own, relayed as it is

__all__ = ["StreamRequest", "SessionInfo", "SessionEnd", "TrackedFrame", "RecordingState", "TakeSaved",
           "BatchRequest", "BatchProgress", "BatchResult", "RefineResult"]


@dataclass(frozen=True)
class StreamRequest:
    """Open a source and run it through the engine. kind: "file", "camera" or "cameras" (several
    calibrated ones: `views`, engine.session.camera_rig.RigView each, and the `calibration` file)."""

    kind: str
    path: str = ""
    camera_index: int = 0
    camera_size: tuple[int, int] | None = None
    config: PipelineConfig = field(default_factory=PipelineConfig)
    realtime: bool = True  # files: pace frames at the file's rate (False: as fast as the engine goes)
    takes_dir: str = ""
    record: bool = False  # record a take from the source's first frame
    views: tuple = ()
    calibration: str = ""


@dataclass(frozen=True)
class BatchRequest:
    files: tuple[str, ...]
    out_dir: str
    formats: tuple[str, ...]
    config: PipelineConfig = field(default_factory=PipelineConfig)


@dataclass(frozen=True)
class BatchProgress:
    file_index: int  # 0-based index of the file being processed
    file_count: int
    file_name: str
    frames_done: int
    frames_total: int | None


@dataclass(frozen=True)
class BatchResult:
    out_dir: str
    succeeded: tuple[str, ...]
    failures: tuple[tuple[str, str], ...]  # (file, why)
    cancelled: bool
    file_count: int

    def summary(self) -> str:
        head = f"{len(self.succeeded)} of {self.file_count} files processed into {self.out_dir}"
        if self.cancelled:
            head += " (cancelled)"
        lines = [head]
        for path, why in self.failures:
            lines.append(f"FAILED {Path(path).name}: {why}")
        return "\n".join(lines)
