"""Many videos -> take files: one runner for the CLI and the GUI, serial, on local worker
processes, or as tasks on a Ray cluster (engine/session/ray_batch.py).

A batch is a list of `BatchItem`s (an input and the stem its files get) run by `process_item`, a
plain function of picklable arguments, so any executor can run it. Each finished item is one
line in `OUT/batch_manifest.jsonl` (status, error, frames, time, outputs with their sizes); a
batch started again skips the items whose line says done and whose outputs are all there with
those sizes, and redoes the rest.

Ctrl+C or SIGTERM stops a batch at once: the items in progress are abandoned (a worker never
starts its renames after the stop, and finishes those already started), every item that finished
is in the manifest, and no worker outlives the batch, nor the batch's process if that is killed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import types
from collections import deque
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import wait as wait_for_any
from pathlib import Path
from typing import Callable, Iterator

from engine.animation.formats import ExportOptions
from engine.core.atomic import abandon_writes, remove_stale_temporaries, settle_folder
from engine.core.errors import InputError, MonocapError
from engine.core.interrupts import check_interrupt, interrupt_pending, interrupts_recorded
from engine.core.stem_lock import remove_stale_locks
from engine.session.batch_manifest import MANIFEST_NAME, BatchItem, ItemResult, Manifest
from engine.session.batch_names import plan_items
from engine.session.outputs import DEFAULT_FORMATS

__all__ = ["DEFAULT_RAY_RETRIES", "MANIFEST_NAME", "BatchItem", "BatchJob", "BatchSummary", "Executor", "ItemResult", "Manifest",
           "default_jobs", "limit_threads", "local_executor", "plan_items", "process_item", "run_batch",
           "serial_executor"]

DEFAULT_RAY_RETRIES = 2  # retries of a Ray task whose worker died
# Peak memory of one pipeline process on a long clip (benchmarks/pipeline_memory.py: 1.18 GiB).
WORKER_MEMORY_BYTES = 1_300_000_000


@dataclass(frozen=True)
class BatchJob:
    """Everything a worker needs to turn one input into files (picklable)."""

    out_dir: str
    config: object  # engine.session.pipeline.PipelineConfig
    formats: tuple[str, ...] = DEFAULT_FORMATS
    options: ExportOptions = field(default_factory=ExportOptions)
    settings: dict = field(default_factory=dict)
    people: int | None = 1  # 1: one take following one person; N: the N best; None: everyone (docs/PEOPLE.md)
    # Multi-camera takes (engine/session/batch_views.py): each input is a take's folder of calibrated
    # cameras' videos; `calibration` is the file for those whose folder holds none ("" for none).
    multi_camera: bool = False
    calibration: str = ""


def default_jobs(cpu_count: int | None = None, available_bytes: int | None = None) -> int:
    """Worker processes this machine can take: one a core (each worker runs its detector and
    network on one thread), no more than fit in the memory that is free now."""
    cores = cpu_count if cpu_count is not None else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                                     else (os.cpu_count() or 1))
    free = available_bytes if available_bytes is not None else _available_memory()
    by_memory = free // WORKER_MEMORY_BYTES if free else cores
    return max(1, min(cores, int(by_memory)))


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def limit_threads() -> None:
    """One compute thread per worker process, so N workers use N cores."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    torch = sys.modules.get("torch")  # the 3D modes run in numpy; torch only where something loaded it
    if torch is not None:
        torch.set_num_threads(1)


def process_item(item: BatchItem, job: BatchJob, progress: Callable[[int, int | None], None] | None = None,
                 cancel=None) -> ItemResult:
    """One input -> its files in job.out_dir. Never raises for a bad input: the result says why.

    `progress(frames_done, frames_total)` and `cancel` (an object with is_set()) go to the pipeline.
    A multi-camera job's item is a take's folder (engine/session/batch_views.py)."""
    started = time.perf_counter()
    notes: list[str] = []
    try:
        if job.multi_camera:
            from engine.session.batch_views import process_take

            take, written = process_take(item, job, notes, progress=progress, cancel=cancel)
        else:
            take, written = _process_video(item, job, notes, progress, cancel)
    except MonocapError as exc:
        return ItemResult(item.input, item.stem, "failed", error=str(exc), seconds=_since(started),
                          warnings=tuple(notes))
    except Exception as exc:  # noqa: BLE001 - one bad input never stops the batch; the manifest says why
        return ItemResult(item.input, item.stem, "failed", error=f"internal error: {type(exc).__name__}: {exc}",
                          seconds=_since(started), warnings=tuple(notes))
    return ItemResult(item.input, item.stem, "done", frames=take.num_frames, valid_frames=int(take.valid.sum()),
                      seconds=_since(started), outputs={p.name: p.stat().st_size for p in written},
                      warnings=tuple(notes))


def _process_video(item: BatchItem, job: BatchJob, notes: list[str], progress, cancel) -> tuple[object, list[Path]]:
    """One video's (or image folder's) take and the files written; what the user should know goes to notes."""
    from engine.capture.frames import open_source
    from engine.session.events import SessionEvents
    from engine.session.people_files import process_to_files
    from engine.session.session import Session

    source = open_source(item.input)
    notes += getattr(source, "notes", ())
    session = Session(source, job.config, SessionEvents(progress=progress), cancel=cancel)
    files = process_to_files(session, job.people, job.out_dir, item.stem, job.formats,
                             settings=job.settings | {"input": item.input}, options=job.options, notes=notes)
    if getattr(source, "decode_errors", 0):
        notes.append(f"only {source.frame_count - source.decode_errors} of {source.frame_count} frames "
                     "could be decoded (truncated or damaged file); the take covers those")
    return files.takes[0], files.written


def _since(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)


@dataclass
class BatchSummary:
    results: list[ItemResult]
    out_dir: Path
    cancelled: bool = False

    @property
    def done(self) -> list[ItemResult]:
        return [r for r in self.results if r.status == "done"]

    @property
    def skipped(self) -> list[ItemResult]:
        return [r for r in self.results if r.status == "skipped"]

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.results if r.status == "failed"]


Executor = Callable[[list[BatchItem], BatchJob, Callable[[ItemResult], None], Callable[[], bool]], None]


def run_batch(items: list[BatchItem], job: BatchJob, jobs: int = 1, executor: Executor | None = None,
              on_result: Callable[[ItemResult, int, int], None] | None = None,
              cancelled: Callable[[], bool] = lambda: False, resume: bool = True) -> BatchSummary:
    """Runs `items` (skipping those the manifest says are complete when `resume`), records each
    result in the manifest as it arrives, and returns them in input order. Commits that a killed
    run left half way are finished first and its temporaries removed."""
    if not items:
        raise InputError("batch: no inputs")
    Path(job.out_dir).mkdir(parents=True, exist_ok=True)
    manifest = Manifest(job.out_dir)
    manifest.prepare()
    settle_folder(job.out_dir)
    remove_stale_temporaries(job.out_dir)
    remove_stale_locks(job.out_dir)
    previous = manifest.read() if resume else {}
    results: dict[str, ItemResult] = {}
    total = len(items)

    def record(result: ItemResult) -> None:
        if result.status != "skipped":
            manifest.append(result)
        results[result.input] = result
        if on_result is not None:
            on_result(result, len(results), total)

    todo = []
    for item in items:
        entry = previous.get(item.input)
        if manifest.is_complete(entry, item):
            record(ItemResult(item.input, item.stem, "skipped", frames=entry.get("frames", 0),
                              valid_frames=entry.get("valid_frames", 0), outputs=entry["outputs"]))
        else:
            todo.append(item)
    if todo:
        run = executor or (run_serial if jobs <= 1 else local_executor(jobs))
        run(todo, job, record, cancelled)
    ordered = [results[i.input] for i in items if i.input in results]
    return BatchSummary(ordered, Path(job.out_dir), cancelled=len(ordered) < total and cancelled())


def run_serial(items: list[BatchItem], job: BatchJob, record: Callable[[ItemResult], None],
               cancelled: Callable[[], bool]) -> None:
    serial_executor()(items, job, record, cancelled)


def serial_executor(on_start: Callable[[BatchItem], None] | None = None,
                    progress: Callable[[int, int | None], None] | None = None, cancel=None) -> Executor:
    """In this process, one input after another, with per-frame progress (the GUI's batch).
    Ctrl+C stops it at once; one that library code swallowed stops it before the next commit."""

    def run(items: list[BatchItem], job: BatchJob, record: Callable[[ItemResult], None],
            cancelled: Callable[[], bool]) -> None:
        with interrupts_recorded():
            for item in items:
                check_interrupt()
                if cancelled():
                    return
                if on_start is not None:
                    on_start(item)
                result = process_item(item, job, progress=progress, cancel=cancel)
                if cancelled() and result.status == "failed":
                    return  # stopped in the middle of this input: not a failure of the input
                record(result)

    return run


# ---- worker processes -------------------------------------------------------------------------

STOP_WAIT_S = 1.0  # how long stopped workers get to end themselves before they are killed
_WATCH_S = 0.2  # how often a worker looks whether its batch's process is still there
_ABANDONED = 3  # a worker's exit status when it ended itself, abandoning its item


def local_executor(jobs: int) -> Executor:
    """`jobs` worker processes (spawned: the detector's and torch's threads do not survive fork).
    Ctrl+C and SIGTERM are recorded while it runs and stop it at the next look (every 0.1 s)."""

    def run(items: list[BatchItem], job: BatchJob, record: Callable[[ItemResult], None],
            cancelled: Callable[[], bool]) -> None:
        with interrupts_recorded(at_once=False):
            _run_on_workers(items, job, record, lambda: cancelled() or interrupt_pending(), min(jobs, len(items)))

    return run


def _run_on_workers(items: list[BatchItem], job: BatchJob, record: Callable[[ItemResult], None],
                    stop_asked: Callable[[], bool], count: int) -> None:
    pending = deque(items)
    workers: list[_Worker] = []
    try:
        while (pending or any(w.item is not None for w in workers)) and not stop_asked():
            _hand_out(pending, workers, count, job)
            for worker in _answered(workers, timeout=0.1):
                record(worker.take_result())
    except BaseException:
        _stop_workers(workers, job.out_dir)
        raise
    for result in _stop_workers(workers, job.out_dir):
        record(result)


def _hand_out(pending: deque, workers: list["_Worker"], count: int, job: BatchJob) -> None:
    for worker in [w for w in workers if w.item is None and not w.process.is_alive()]:
        worker.close()
        workers.remove(worker)
    for worker in workers:
        if pending and worker.item is None:
            worker.give(pending.popleft())
    while pending and len(workers) < count:
        worker = _Worker(job)
        workers.append(worker)
        worker.give(pending.popleft())


def _answered(workers: list["_Worker"], timeout: float) -> list["_Worker"]:
    """The busy workers with a result to collect, or that ended without one."""
    busy = {w.conn: w for w in workers if w.item is not None}
    busy |= {w.process.sentinel: w for w in busy.values()}
    if not busy:
        return []
    ready = wait_for_any(list(busy), timeout)
    return list({id(busy[r]): busy[r] for r in ready}.values())


def _stop_workers(workers: list["_Worker"], out_dir: str) -> list[ItemResult]:
    """Ends every worker (an item in progress is abandoned) and returns the results that were
    sent before the end."""
    for worker in workers:
        worker.stop()
    deadline = time.monotonic() + STOP_WAIT_S
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join()
    finished = [worker.result_sent() for worker in workers if worker.item is not None]
    for worker in workers:
        worker.close()
    remove_stale_temporaries(out_dir)  # a killed worker's
    remove_stale_locks(out_dir)
    return [r for r in finished if r is not None]


class _Worker:
    """A worker process, the pipe that carries its items and results, and its lifeline: a pipe on
    which the worker says once that it is watching, and whose end (closed by the batch, or by the
    system when the batch's process dies) tells it to stop."""

    def __init__(self, job: BatchJob):
        ctx = get_context("spawn")
        self.conn, child_conn = ctx.Pipe()
        self._lifeline, child_lifeline = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child_conn, child_lifeline, job, os.getpid()),
                                   name="monocap batch worker")
        with _start_of_a_worker():
            self.process.start()
        child_conn.close()
        child_lifeline.close()
        self.item: BatchItem | None = None

    def give(self, item: BatchItem) -> None:
        self.item = item
        with suppress(OSError):  # it died: _answered sees its end
            self.conn.send(item)

    def take_result(self) -> ItemResult:
        item, self.item = self.item, None
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.process.join(STOP_WAIT_S)
            return ItemResult(item.input, item.stem, "failed",
                              error=f"worker process died (exit code {self.process.exitcode})")

    def result_sent(self) -> ItemResult | None:
        try:
            return self.conn.recv() if self.conn.poll() else None
        except (EOFError, OSError):
            return None

    def stop(self) -> None:
        """Asks it to end; one still starting (not watching yet) has nothing in hand and is killed."""
        if self.item is None:
            with suppress(OSError):
                self.conn.send(None)
        watching = self._lifeline.poll()
        self._lifeline.close()
        if not watching:
            self.process.kill()

    def close(self) -> None:
        self.conn.close()
        self.process.close()


@contextmanager
def _start_of_a_worker() -> Iterator[None]:
    """A worker starts with Ctrl+C and SIGTERM ignored (dispositions that survive exec), so that
    one sent to the whole process group (a terminal's Ctrl+C, `kill -TERM -PGID`) reaches the
    batch alone, from the worker's first instruction; and without this program's main module,
    whose start-up would handle them. Blocked meanwhile here, they reach this process after."""
    main_module = sys.modules["__main__"]
    held = threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
    signals = {signal.SIGINT, signal.SIGTERM}
    if held:
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        handlers = {s: signal.signal(s, signal.SIG_IGN) for s in signals}
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main_module
        if held:
            for signum, handler in handlers.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _worker_main(conn, lifeline, job: BatchJob, batch_pid: int) -> None:
    """A worker process: items from `conn` until None. It ends itself, abandoning the item in
    hand, when its batch stops it or its batch's process is gone."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    threading.Thread(target=_watch_batch, args=(lifeline, batch_pid), name="monocap batch watch",
                     daemon=True).start()
    limit_threads()
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            _abandon()
        if item is None:
            return
        result = process_item(item, job)
        try:
            conn.send(result)
        except OSError:
            _abandon()


def _watch_batch(lifeline, batch_pid: int) -> None:
    with suppress(OSError):
        lifeline.send(True)
        while not lifeline.poll(_WATCH_S) and os.getppid() == batch_pid:
            pass
    _abandon()


def _abandon() -> None:
    abandon_writes()
    os._exit(_ABANDONED)
