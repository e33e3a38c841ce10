"""A batch on a Ray cluster: each input is one Ray task (`monocap batch --ray ADDRESS`).

Ray is an optional extra (`pip install monocap[cluster]`). The model files are put in Ray's
object store once; each node writes them to a local cache the first time one of its tasks runs,
so a node fetches them once however many videos it processes. Inputs and the output folder must
be paths every node can read and write (a shared file system). A task whose worker dies is
retried up to `retries` times; a bad input is not retried (its result says why).
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Callable

from engine.core.errors import InputError
from engine.core.interrupts import interrupt_pending, interrupts_recorded
from engine.core.resources import resource_path
from engine.session.batch import DEFAULT_RAY_RETRIES, BatchItem, BatchJob, Executor, ItemResult, limit_threads, process_item

MODEL_SUFFIXES = (".task", ".pt", ".tflite")


def model_files() -> dict[str, bytes]:
    """The shipped model files by name (resources/models)."""
    folder = resource_path("models")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in MODEL_SUFFIXES}


def materialise_models(models: dict[str, bytes], cache_root: str | Path | None = None) -> Path:
    """Writes `models` into this node's cache (once per content) and returns the folder."""
    digest = hashlib.sha256()
    for name in sorted(models):
        digest.update(name.encode())
        digest.update(hashlib.sha256(models[name]).digest())
    root = Path(cache_root) if cache_root else Path(tempfile.gettempdir()) / "monocap-models"
    folder = root / digest.hexdigest()[:16]
    for name, data in models.items():
        target = folder / name
        if target.is_file() and target.stat().st_size == len(data):
            continue
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)  # tasks on one node may race: each rename is whole
    return folder


def job_on_node(job: BatchJob, folder: Path) -> BatchJob:
    """The job with its bundled-model paths pointed at this node's copies."""
    config = job.config
    detector = config.detector
    if not detector.model_path and (folder / "pose_landmarker_full.task").is_file():
        detector = replace(detector, model_path=str(folder / "pose_landmarker_full.task"))
    lift = config.lift
    if not lift.checkpoint and lift.mode == "lifter" and (folder / "lifter.pt").is_file():
        lift = replace(lift, checkpoint=str(folder / "lifter.pt"))
    return replace(job, config=replace(config, detector=detector, lift=lift))


def process_on_node(item: BatchItem, job: BatchJob, models: dict[str, bytes]) -> ItemResult:
    limit_threads()
    return process_item(item, job_on_node(job, materialise_models(models)))


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """A HOST:PORT that nothing answers on is an error now, not a long wait inside Ray."""
    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1]
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise InputError(f"--ray {address}: give HOST:PORT of the cluster's head, 'auto' or 'local'")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise InputError(f"--ray {address}: no Ray cluster answers there ({exc.strerror or exc})") from None


def connect(address: str):
    """Joins the Ray cluster at `address` ("auto": the one this machine belongs to; "local": a
    cluster of this machine alone, started for this batch)."""
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray, an optional extra: pip install 'monocap[cluster]'") from None
    if ray.is_initialized():
        return ray, False
    _check_reachable(address)
    try:
        ray.init(address=None if address == "local" else address, include_dashboard=False, ignore_reinit_error=True,
                 log_to_driver=False, logging_level="ERROR",
                 configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"--ray {address}: cannot join a Ray cluster there ({first})") from None
    return ray, True


def ray_executor(address: str = "auto", retries: int = DEFAULT_RAY_RETRIES) -> Executor:
    def run(items: list[BatchItem], job: BatchJob, record: Callable[[ItemResult], None],
            cancelled: Callable[[], bool]) -> None:
        ray, started_here = connect(address)
        try:
            with interrupts_recorded(at_once=False):
                _run_tasks(ray, items, job, record, lambda: cancelled() or interrupt_pending(), retries)
        finally:
            if started_here:
                ray.shutdown()

    return run


def _run_tasks(ray, items: list[BatchItem], job: BatchJob, record: Callable[[ItemResult], None],
               stop_asked: Callable[[], bool], retries: int) -> None:
    """Each input one task; the tasks left are cancelled when `stop_asked()` (the user stopped the
    batch, or the caller recorded Ctrl+C or SIGTERM rather than raise it inside Ray's calls)."""
    models = ray.put(model_files())
    task = ray.remote(num_cpus=1, max_retries=retries)(process_on_node)
    refs = {task.remote(item, job, models): item for item in items}
    while refs:
        if stop_asked():
            for ref in refs:
                ray.cancel(ref, force=True)
            return
        finished, _ = ray.wait(list(refs), num_returns=1, timeout=0.5)
        for ref in finished:
            item = refs.pop(ref)
            try:
                result = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - the task's worker died more times than retried
                result = ItemResult(item.input, item.stem, "failed", attempts=retries + 1,
                                    error=f"Ray task failed {retries + 1} times: {type(exc).__name__}")
            record(result)
