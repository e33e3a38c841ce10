"""Many videos -> take files: one runner for the CLI and the GUI, serial, on local worker
processes, or as tasks on a Ray cluster (engine/session/ray_batch.py).

A batch is a list of `BatchItem`s (an input and the stem its files get) run by `process_item`, a
plain function of picklable arguments, so any executor can run it. Each finished item is one
line in `OUT/batch_manifest.jsonl` (status, error, frames, time, outputs with their sizes); a
batch started again skips the items whose line says done and whose outputs are all there with
those sizes, and redoes the rest.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable

from engine.animation.formats import ExportOptions
from engine.core.errors import InputError, MonocapError
from engine.session.outputs import DEFAULT_FORMATS

MANIFEST_NAME = "batch_manifest.jsonl"
DEFAULT_RAY_RETRIES = 2  # retries of a Ray task whose worker died
# Peak memory of one pipeline process on a long clip (benchmarks/pipeline_memory.py: 1.18 GiB).
WORKER_MEMORY_BYTES = 1_300_000_000


@dataclass(frozen=True)
class BatchItem:
    input: str
    stem: str


@dataclass(frozen=True)
class BatchJob:
    """Everything a worker needs to turn one input into files (picklable)."""

    out_dir: str
    config: object  # engine.session.pipeline.PipelineConfig
    formats: tuple[str, ...] = DEFAULT_FORMATS
    options: ExportOptions = field(default_factory=ExportOptions)
    settings: dict = field(default_factory=dict)
    people: int | None = 1  # 1: one take following one person; N: the N best; None: everyone (docs/PEOPLE.md)


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


def plan_items(files: Iterable[Path | str]) -> list[BatchItem]:
    """Stems from the file names; a repeated name gets _2, _3 ... in input order."""
    items, seen = [], {}
    for path in files:
        stem = Path(path).stem
        seen[stem] = seen.get(stem, 0) + 1
        items.append(BatchItem(str(path), stem if seen[stem] == 1 else f"{stem}_{seen[stem]}"))
    return items


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
    try:
        import torch

        torch.set_num_threads(1)
    except Exception:  # noqa: BLE001 - torch is optional for the detector mode
        pass


def process_item(item: BatchItem, job: BatchJob, progress: Callable[[int, int | None], None] | None = None,
                 cancel=None) -> ItemResult:
    """One input -> its files in job.out_dir. Never raises for a bad input: the result says why.

    `progress(frames_done, frames_total)` and `cancel` (an object with is_set()) go to the pipeline."""
    from engine.capture.frames import open_source
    from engine.session.events import SessionEvents
    from engine.session.people_files import process_to_files
    from engine.session.session import Session

    started = time.perf_counter()
    notes: list[str] = []
    try:
        source = open_source(item.input)
        notes += getattr(source, "notes", ())
        session = Session(source, job.config, SessionEvents(progress=progress), cancel=cancel)
        files = process_to_files(session, job.people, job.out_dir, item.stem, job.formats,
                                 settings=job.settings | {"input": item.input}, options=job.options, notes=notes)
        take, written = files.takes[0], files.written
        if getattr(source, "decode_errors", 0):
            notes.append(f"only {source.frame_count - source.decode_errors} of {source.frame_count} frames "
                         "could be decoded (truncated or damaged file); the take covers those")
    except MonocapError as exc:
        return ItemResult(item.input, item.stem, "failed", error=str(exc), seconds=_since(started),
                          warnings=tuple(notes))
    except Exception as exc:  # noqa: BLE001 - one bad input never stops the batch; the manifest says why
        return ItemResult(item.input, item.stem, "failed", error=f"internal error: {type(exc).__name__}: {exc}",
                          seconds=_since(started), warnings=tuple(notes))
    return ItemResult(item.input, item.stem, "done", frames=take.num_frames, valid_frames=int(take.valid.sum()),
                      seconds=_since(started), outputs={p.name: p.stat().st_size for p in written},
                      warnings=tuple(notes))


def _since(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)


class Manifest:
    """OUT/batch_manifest.jsonl: one JSON line per finished item; the last line for an input wins."""

    def __init__(self, out_dir: str | Path):
        self.path = Path(out_dir) / MANIFEST_NAME

    def read(self) -> dict[str, dict]:
        entries: dict[str, dict] = {}
        if not self.path.exists():
            return entries
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                    entries[entry["input"]] = entry
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a crash
        return entries

    def append(self, result: ItemResult) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(result.to_json() + "\n")
            f.flush()
            os.fsync(f.fileno())

    def is_complete(self, entry: dict | None, item: BatchItem) -> bool:
        """Done before, with the same stem, and every file it wrote still there at its size."""
        if not entry or entry.get("status") != "done" or entry.get("stem") != item.stem or not entry.get("outputs"):
            return False
        out = self.path.parent
        return all((out / name).is_file() and (out / name).stat().st_size == size
                   for name, size in entry["outputs"].items())


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
    result in the manifest as it arrives, and returns them in input order."""
    if not items:
        raise InputError("batch: no inputs")
    Path(job.out_dir).mkdir(parents=True, exist_ok=True)
    manifest = Manifest(job.out_dir)
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
    """In this process, one input after another, with per-frame progress (the GUI's batch)."""

    def run(items: list[BatchItem], job: BatchJob, record: Callable[[ItemResult], None],
            cancelled: Callable[[], bool]) -> None:
        for item in items:
            if cancelled():
                return
            if on_start is not None:
                on_start(item)
            result = process_item(item, job, progress=progress, cancel=cancel)
            if cancelled() and result.status == "failed":
                return  # stopped in the middle of this input: not a failure of the input
            record(result)

    return run


def _worker_init() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl+C and stops the pool
    limit_threads()


def local_executor(jobs: int) -> Executor:
    """`jobs` worker processes (spawned: the detector's and torch's threads do not survive fork)."""

    def run(items: list[BatchItem], job: BatchJob, record: Callable[[ItemResult], None],
            cancelled: Callable[[], bool]) -> None:
        pending = list(reversed(items))
        with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=get_context("spawn"),
                                 initializer=_worker_init) as pool:
            running: dict[Future, BatchItem] = {}
            try:
                while pending or running:
                    while pending and len(running) < jobs and not cancelled():
                        item = pending.pop()
                        running[pool.submit(process_item, item, job)] = item
                    if not running:
                        return
                    finished, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        item = running.pop(fut)
                        try:
                            record(fut.result())
                        except Exception as exc:  # noqa: BLE001 - a worker that died is that input's failure
                            record(ItemResult(item.input, item.stem, "failed",
                                              error=f"worker process died: {type(exc).__name__}: {exc}"))
                    if cancelled():
                        for fut in running:
                            fut.cancel()
                        pending.clear()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise

    return run
