"""The engine's one long-lived worker: a QObject living in a QThread.

Jobs arrive as queued signals (`stream`, `batch`); while one runs, the GUI talks to it through
thread-safe flags only (cancel, record on/off), so it never waits for the worker. Results go back
as signals carrying the dataclasses of app.messages. Processed frames pass through a one-slot
mailbox: the GUI takes the newest when it is ready to draw, so a slow screen never queues images.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.capture.detector import PoseDetector
from engine.core.errors import MonocapError
from engine.capture.frames import CameraSource, VideoFileSource, open_source
from engine.lift.modes import make_lifter
from engine.session.live_stage import TrackingStage
from engine.session.pipeline import LiveTracker

from engine.capture.latest_frame import LatestFrameGrabber
from .messages import (BatchProgress, BatchRequest, BatchResult, LiveFrame, RecordingState, SourceEnded,
                       SourceInfo, StreamRequest, TakeSaved)
from engine.session.batch import BatchJob, plan_items, run_batch, serial_executor
from engine.session.recorder import TakeRecorder, next_take_name


def device_name(device: str) -> str:
    if device == "cpu":
        return "CPU"
    try:
        import torch

        if torch.cuda.is_available():
            return f"CUDA ({torch.cuda.get_device_name(0)})"
    except Exception:  # noqa: BLE001 - no torch, or a broken driver: the CPU it is
        pass
    return "CPU"


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, MonocapError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


class _LiveState:
    """What a live stream's tracking stage keeps between frames (touched by that thread only
    while the stream runs)."""

    def __init__(self):
        self.recorder: TakeRecorder | None = None
        self.frames = 0
        self.done_times: deque[float] = deque(maxlen=30)


class _JobCancel:
    """Cancel flag of one job: set when the GUI cancels this job or any later one."""

    def __init__(self, worker: "EngineWorker", job_id: int):
        self._worker = worker
        self._job_id = job_id

    def is_set(self) -> bool:
        return self._worker._cancel_upto >= self._job_id or self._worker._quitting.is_set()


class EngineWorker(QObject):
    sourceOpened = Signal(object)  # SourceInfo
    frameAvailable = Signal()  # a LiveFrame waits in the mailbox: call take_latest()
    sourceEnded = Signal(object)  # SourceEnded
    recordingChanged = Signal(object)  # RecordingState
    takeSaved = Signal(object)  # TakeSaved
    batchProgress = Signal(object)  # BatchProgress
    batchFinished = Signal(object)  # BatchResult
    error = Signal(str)

    def __init__(self):
        super().__init__()
        self._cancel_upto = 0
        self._quitting = threading.Event()
        self._wake = threading.Event()
        self._record_wanted = False
        self._mailbox: LiveFrame | None = None
        self._mail_lock = threading.Lock()
        self._notified = False
        self.busy = False

    # ---- called from the GUI thread (flags only, never blocking) ----
    def cancel_jobs_upto(self, job_id: int) -> None:
        self._cancel_upto = max(self._cancel_upto, job_id)
        self._wake.set()

    def quit(self) -> None:
        self._quitting.set()
        self._wake.set()

    def set_recording(self, on: bool) -> None:
        self._record_wanted = on

    def take_latest(self) -> LiveFrame | None:
        with self._mail_lock:
            frame, self._mailbox = self._mailbox, None
            self._notified = False
            return frame

    # ---- run in the worker thread ----
    def _post(self, frame: LiveFrame) -> None:
        with self._mail_lock:
            self._mailbox = frame
            notify = not self._notified
            self._notified = True
        if notify:
            self.frameAvailable.emit()

    def _lower_priority(self) -> None:
        """The engine thread (and the threads it starts) runs a little nicer than the GUI thread,
        so drawing and input keep their turn on a busy machine. Linux applies nice per thread."""
        if getattr(self, "_niced", False):
            return
        self._niced = True
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + 4, 19))
        except (AttributeError, OSError):
            pass

    @Slot(int, object)
    def stream(self, job_id: int, request: StreamRequest) -> None:
        self._lower_priority()
        cancel = _JobCancel(self, job_id)
        if cancel.is_set():
            return
        self.busy = True
        source = None
        grabber = None
        live = _LiveState()
        error = None
        name = request.path if request.kind == "file" else f"camera {request.camera_index}"
        try:
            if request.kind == "camera":
                w, h = request.camera_size or (None, None)
                source = CameraSource(request.camera_index, w, h)
            else:
                source = VideoFileSource(request.path) if Path(request.path).is_file() else open_source(request.path)
            name = source.name
            lifter = make_lifter(request.config.lift)
            tracker = LiveTracker(request.config, lifter)
            self.sourceOpened.emit(SourceInfo(source.name, source.fps, source.frame_count, source.is_live,
                                              device_name(request.config.lift.device), job_id))

            def on_pose(frame, det, pose, t0: float) -> None:  # on the tracking stage's thread, in order
                # recording: the GUI flips a flag; the tracking stage opens and closes the take here
                if self._record_wanted and live.recorder is None:
                    folder = Path(request.takes_dir)
                    folder.mkdir(parents=True, exist_ok=True)
                    live.recorder = TakeRecorder(folder, next_take_name(folder), tracker.skeleton, source.fps,
                                                 source.name, metadata={"config": request.config.to_dict()})
                    self.recordingChanged.emit(RecordingState(True, live.recorder.name, 0))
                if live.recorder is not None and not self._record_wanted:
                    recorder, live.recorder = live.recorder, None
                    self._finish_recording(recorder)
                if live.recorder is not None:
                    live.recorder.append(pose.timestamp_s, pose.joints_m, None if det is None else det.keypoints_px,
                                         None if det is None else det.scores, frame.image)
                now = time.perf_counter()
                live.done_times.append(now)
                done = live.done_times
                fps = (len(done) - 1) / (done[-1] - done[0]) if len(done) > 1 else 0.0
                live.frames += 1
                self._post(LiveFrame(frame.index, pose.timestamp_s, frame.image, det, pose.joints_m, tracker.skeleton,
                                     (now - t0) * 1e3, fps, grabber.dropped if grabber else 0,
                                     live.recorder is not None, source.frame_count))

            with PoseDetector(request.config.detector) as detector, TrackingStage(tracker, on_pose) as stage:
                if source.is_live:
                    grabber = LatestFrameGrabber(source).start()
                    frame_iter = None
                else:
                    frame_iter = iter(source)
                started = time.perf_counter()
                while not cancel.is_set():
                    if grabber is not None:
                        frame = grabber.take(0.1)
                        if frame is None:
                            continue
                    else:
                        frame = next(frame_iter, None)
                        if frame is None:
                            break
                        if request.realtime:
                            due = started + frame.timestamp_ns / 1e9
                            delay = due - time.perf_counter()
                            if delay > 0:
                                self._wake.clear()
                                if self._wake.wait(delay) and cancel.is_set():
                                    break
                    t0 = time.perf_counter()
                    det = detector.detect(frame.image, frame.timestamp_ns)
                    stage.submit(frame, det, t0)
        except Exception as exc:  # noqa: BLE001 - every problem ends as a message, never a crash
            error = describe_error(exc)
        finally:
            if grabber is not None:
                grabber.stop()
            if source is not None:
                try:
                    source.close()
                except Exception:  # noqa: BLE001
                    pass
            if live.recorder is not None:
                try:
                    self._finish_recording(live.recorder)
                except Exception as exc:  # noqa: BLE001
                    live.recorder.abort()
                    error = error or describe_error(exc)
            self._record_wanted = False
            self.busy = False
            self.sourceEnded.emit(SourceEnded(name, live.frames, error, cancel.is_set(), job_id))

    def _finish_recording(self, recorder: TakeRecorder) -> None:
        take, path = recorder.finish()
        self.recordingChanged.emit(RecordingState(False, recorder.name, take.num_frames))
        self.takeSaved.emit(TakeSaved(recorder.name, path, take, recorder.video_path))

    @Slot(int, object)
    def batch(self, job_id: int, request: BatchRequest) -> None:
        """The same runner, files and manifest as `monocap batch`, one file after another."""
        self._lower_priority()
        cancel = _JobCancel(self, job_id)
        self.busy = True
        count = len(request.files)
        items = plan_items(request.files)
        index = {item.input: i for i, item in enumerate(items)}
        current = [0, "", 0.0]  # file index, name, time of the last progress signal

        def on_start(item) -> None:
            current[:2] = index[item.input], Path(item.input).name
            self.batchProgress.emit(BatchProgress(current[0], count, current[1], 0, None))

        def progress(done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - current[2] > 0.1 or (total and done >= total):
                current[2] = now
                self.batchProgress.emit(BatchProgress(current[0], count, current[1], done, total))

        summary = None
        try:
            job = BatchJob(request.out_dir, request.config, request.formats,
                           settings={"source": "Monocap app batch"})
            summary = run_batch(items, job, executor=serial_executor(on_start, progress, cancel),
                                cancelled=cancel.is_set)
            self.batchProgress.emit(BatchProgress(count, count, "", 0, None))
        except Exception as exc:  # noqa: BLE001 - the folder itself failed; said in the summary
            failures = tuple((f, describe_error(exc)) for f in request.files)
            self.batchFinished.emit(BatchResult(request.out_dir, (), failures, False, count))
            return
        finally:
            self.busy = False
        self.batchFinished.emit(BatchResult(
            request.out_dir, tuple(r.input for r in summary.done + summary.skipped),
            tuple((r.input, r.error) for r in summary.failed), cancel.is_set(), count))


class EngineController(QObject):
    """Owns the worker thread. The GUI's API: every call returns at once."""

    _startStream = Signal(int, object)
    _startBatch = Signal(int, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        # torch's first import runs long stretches of native code that hold the GIL (about 1.5 s
        # on a cold start). Done here, on the GUI thread before the window shows, it cannot freeze
        # drawing later, when the engine thread loads the lifter (the default 3D mode).
        import torch  # noqa: F401

        self._next_job = 0
        self._stream_job = 0
        self._batch_job = 0
        self.thread = QThread()
        self.thread.setObjectName("monocap-engine")
        self.worker = EngineWorker()
        self.worker.moveToThread(self.thread)
        self._startStream.connect(self.worker.stream)
        self._startBatch.connect(self.worker.batch)

    def start(self) -> None:
        """Call after connecting to the worker's signals."""
        self.thread.start()

    def _job(self) -> int:
        self._next_job += 1
        return self._next_job

    def open_stream(self, request: StreamRequest) -> None:
        """Stops whatever runs (the stream, a batch) and opens `request`'s source."""
        self.worker.cancel_jobs_upto(self._next_job)
        self._stream_job = self._job()
        self._startStream.emit(self._stream_job, request)

    @property
    def stream_job(self) -> int:
        return self._stream_job

    def stop_stream(self) -> None:
        if self._stream_job:
            self.worker.cancel_jobs_upto(max(self._stream_job, self.worker._cancel_upto))

    def run_batch(self, request: BatchRequest) -> None:
        self.worker.cancel_jobs_upto(self._next_job)
        self._batch_job = self._job()
        self._startBatch.emit(self._batch_job, request)

    def cancel_batch(self) -> None:
        if self._batch_job:
            self.worker.cancel_jobs_upto(self._batch_job)

    def set_recording(self, on: bool) -> None:
        self.worker.set_recording(on)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancels the work (a take being recorded is finished and saved) and ends the thread."""
        self.worker.set_recording(False)
        self.worker.quit()
        self.thread.quit()
        return self.thread.wait(timeout_ms)
