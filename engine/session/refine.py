"""A take recorded live gets the same offline pass as `monocap process`, once recording stops.

Live tracking is causal (it cannot look ahead); `Session.process` sees the whole clip: it detects
every frame again (the offline detector, not the live one's tracking), undoes the detector's
front/back flips over the whole clip and filters with zero lag. A recorded take is refined by
running that pass on the frames it was recorded from: the part of the video file it came from, or,
from a camera, the video the recorder wrote beside the take. The refined take keeps exactly the
frames the live take has (a file played at its own rate may have skipped some), so it matches its
video frame for frame, and it replaces the live take's .npz in one rename: until then the live take
is there, whole.

    job = RefineJob.for_saved(saved, config)      # engine.session.events.TakeSaved
    with Refiner() as refiner:                   # one worker process, away from the live capture
        refiner.submit(job, on_done)             # on_done(RefineResult), on a thread of the refiner's
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from engine.capture.frames import Frame, FrameSource, open_source
from engine.core.errors import InputError, describe_error
from engine.core.take import Take, save_npz
from engine.session.events import TakeSaved
from engine.session.pipeline import PipelineConfig


@dataclass(frozen=True)
class RefineJob:
    take_path: str  # the live take's .npz, replaced by the refined take
    source: str  # the video the frames came from
    source_frames: tuple[int, ...]  # the source's frame indices the take holds, in order
    config: PipelineConfig

    @classmethod
    def for_saved(cls, saved: TakeSaved, config: PipelineConfig) -> "RefineJob | None":
        """The job for a take a session saved; None when there are no frames to go back to."""
        if saved.source_path is not None and saved.source_frames:
            return cls(str(saved.path), str(saved.source_path), tuple(saved.source_frames), config)
        if saved.video_path is not None and Path(saved.video_path).is_file() and saved.take.num_frames:
            return cls(str(saved.path), str(saved.video_path), tuple(range(saved.take.num_frames)), config)
        return None


@dataclass(frozen=True)
class RefineResult:
    take_path: str
    frames: int = 0
    seconds: float = 0.0
    error: str = ""  # one line when the live take was kept


class _FrameSpan:
    """The frames of a source from `first` up to, not including, `end`, indices and times as the source's."""

    is_live = False

    def __init__(self, source: FrameSource, first: int, end: int):
        self.source, self.first, self.end = source, first, end
        self.name, self.fps, self.notes = source.name, source.fps, getattr(source, "notes", ())

    @property
    def frame_count(self) -> int:
        return self.end - self.first

    def __iter__(self) -> Iterator[Frame]:
        for frame in self.source:
            if frame.index >= self.end:
                return
            if frame.index >= self.first:
                yield frame

    def close(self) -> None:
        self.source.close()


def _rows(take: Take, rows: np.ndarray) -> Take:
    def pick(a):
        return None if a is None else a[rows]

    return replace(take, joints_m=take.joints_m[rows], timestamps_s=take.timestamps_s[rows], valid=take.valid[rows],
                   keypoints_px=pick(take.keypoints_px), keypoint_scores=pick(take.keypoint_scores),
                   hand_keypoints_px=pick(take.hand_keypoints_px), joint_confidence=pick(take.joint_confidence))


def refined_take(job: RefineJob) -> Take:
    """The offline pass over the frames the take was recorded from (Session.process, as `monocap process`)."""
    from engine.session.session import Session

    frames = np.asarray(job.source_frames, dtype=np.int64)
    first, end = int(frames.min()), int(frames.max()) + 1
    take = Session(lambda: _FrameSpan(open_source(job.source), first, end), job.config).process()
    if take.num_frames != end - first:
        raise InputError(f"{job.source}: {take.num_frames} frames read where {end - first} were recorded")
    take = _rows(take, frames - first)
    return replace(take, metadata={**take.metadata, "refined": "the whole-clip pass of monocap process",
                                   "refined_from": Path(job.source).name})


def refine(job: RefineJob) -> RefineResult:
    """Replaces the live take with the refined one; on any problem the live take stays, and the
    result says why in one line."""
    started = time.perf_counter()
    try:
        take = refined_take(job)
        save_npz(take, job.take_path)
    except Exception as exc:  # noqa: BLE001 - the live take is kept; the front end says why
        return RefineResult(job.take_path, error=describe_error(exc))
    return RefineResult(job.take_path, take.num_frames, round(time.perf_counter() - started, 2))


class Refiner:
    """Refines takes one after another in a worker process of its own (spawned), so the live capture
    keeps its cores and its interpreter lock."""

    def __init__(self):
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[Future] = []

    def submit(self, job: RefineJob, on_done: Callable[[RefineResult], None]) -> None:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        future = self._pool.submit(refine, job)
        self._pending.append(future)

        def done(f: Future) -> None:
            self._pending = [p for p in self._pending if p is not f]
            if f.cancelled():
                return
            error = f.exception()
            on_done(f.result() if error is None else RefineResult(job.take_path, error=describe_error(error)))

        future.add_done_callback(done)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def close(self) -> None:
        """Drops what has not started; a take being refined keeps its live version."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "Refiner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
