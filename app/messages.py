"""The dataclasses the worker's signals carry to the GUI thread (and the requests going the other way)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.capture.detection import Detection
from engine.core.skeletons import Skeleton
from engine.session.events import RecordingState, TakeSaved  # the engine session's own, relayed as they are
from engine.session.pipeline import PipelineConfig
from engine.session.refine import RefineResult  # the engine's own, relayed as it is

__all__ = ["StreamRequest", "SourceInfo", "LiveFrame", "SourceEnded", "RecordingState", "TakeSaved", "BatchRequest",
           "BatchProgress", "BatchResult", "RefineResult"]


@dataclass(frozen=True)
class StreamRequest:
    """Open a source and run it through the engine. kind: "file" or "camera"."""

    kind: str
    path: str = ""
    camera_index: int = 0
    camera_size: tuple[int, int] | None = None
    config: PipelineConfig = field(default_factory=PipelineConfig)
    realtime: bool = True  # files: pace frames at the file's rate (False: as fast as the engine goes)
    takes_dir: str = ""
    record: bool = False  # record a take from the source's first frame


@dataclass(frozen=True)
class SourceInfo:
    name: str
    fps: float
    frame_count: int | None
    is_live: bool
    device: str
    job_id: int = 0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class LiveFrame:
    """One processed frame. image: (H, W, 3) uint8 BGR. joints_m: (J, 3) world metres or None."""

    index: int
    timestamp_s: float
    image: np.ndarray
    detection: Detection | None
    joints_m: np.ndarray | None
    skeleton: Skeleton
    latency_ms: float  # frame read -> result, in the worker
    engine_fps: float  # frames the engine finished per second, recent average
    dropped: int  # live: frames skipped because a newer one had arrived
    recording: bool
    frame_count: int | None = None
    hands_px: np.ndarray | None = None  # (2, 21, 2) both hands' keypoints when hands are tracked
    people: tuple = ()  # app.people_overlay.PersonMark of everyone tracked in the frame
    person_id: int | None = None  # the person followed (their tracker id), None before anyone was seen
    people_joints: dict = field(default_factory=dict)  # tracker id -> (J, 3) world metres of everyone, one world
    people_skeleton: Skeleton | None = None  # the skeleton of people_joints


@dataclass(frozen=True)
class SourceEnded:
    name: str
    frames: int
    error: str | None = None  # one-line message when it ended because of a problem
    cancelled: bool = False
    job_id: int = 0


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
