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

import json
import os
import re
import signal
import sys
import threading
import time
import types
from collections import deque
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import wait as wait_for_any
from pathlib import Path
from typing import Callable, Iterable, Iterator

from engine.animation.formats import ExportOptions
from engine.core.atomic import (
    abandon_writes,
    check_interrupt,
    interrupt_pending,
    interrupts_held,
    interrupts_recorded,
    remove_stale_temporaries,
    settle_folder,
)
from engine.core.errors import InputError, MonocapError, OutputError
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


def plan_items(files: Iterable[Path | str]) -> list[BatchItem]:
    """Each input's stem is its file's name, unless an earlier input has it (or a name that
    clashes, see `_Names`): then the names of the folders above the file go in front, the nearest
    first (`sub/a.mp4` -> `sub_a`), and where those do not tell it apart _2, _3 ... after the name.
    A stem made so never clashes with any input's own name. The same inputs in the same order
    always get the same stems, so a batch started again finds its files."""
    paths = [Path(f) for f in files]
    reserved = _Names(p.stem for p in paths)
    taken = _Names()
    items = []
    for path in paths:
        stem = path.stem if not taken.clashes(path.stem) else _free_stem(path, taken, reserved)
        taken.claim(stem)
        items.append(BatchItem(str(path), stem))
    return items


def _free_stem(path: Path, taken: _Names, reserved: _Names) -> str:
    for stem in _stem_candidates(path):
        if not taken.clashes(stem) and not reserved.clashes(stem):
            return stem
    raise AssertionError("unreachable: the numbered candidates never end")


def _stem_candidates(path: Path) -> Iterator[str]:
    folders = [p.name for p in path.absolute().parents if p.name not in ("", ".", "..")]
    for depth in range(1, len(folders) + 1):
        yield "_".join(reversed(folders[:depth])) + "_" + path.stem
    number = 2
    while True:
        yield f"{path.stem}_{number}"
        number += 1


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
