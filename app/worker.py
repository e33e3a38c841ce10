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
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.core.errors import describe_error
from engine.session.batch import BatchJob, plan_items, run_batch, serial_executor
from engine.session.camera_rig import CameraRigSession
from engine.session.events import SessionEnd, SessionEvents, SessionInfo, TakeSaved, TrackedFrame
from engine.session.people_sink import PeopleSink
from engine.session.refine import RefineJob, Refiner
from engine.session.session import Session
from engine.session.sources import open_for_stream
from engine.session.views_redo import ViewsRedoer, ViewsRedoJob

from .messages import BatchProgress, BatchRequest, BatchResult, StreamRequest

__all__ = ["EngineController", "EngineWorker"]


class _JobCancel:
    """Cancel flag of one job: set when the GUI cancels this job or any later one."""

    def __init__(self, worker: "EngineWorker", job_id: int):
        self._worker = worker
        self._job_id = job_id

    def is_set(self) -> bool:
        return self._worker._cancel_upto >= self._job_id or self._worker._quitting.is_set()


class EngineWorker(QObject):
    sourceOpened = Signal(int, object)  # the job, its SessionInfo
    frameAvailable = Signal()  # a TrackedFrame waits in the mailbox: call take_latest()
    sourceEnded = Signal(int, object)  # the job, its SessionEnd
    recordingChanged = Signal(object)  # RecordingState
    takeSaved = Signal(object)  # TakeSaved
    takeRefining = Signal(str)  # a take's name: its offline pass has started; the live take stays until it ends
    takeRefined = Signal(object)  # engine.session.refine.RefineResult: the live take replaced, or why not
    batchProgress = Signal(object)  # BatchProgress
    batchFinished = Signal(object)  # BatchResult

    def __init__(self):
        super().__init__()
        self._cancel_upto = 0
        self._quitting = threading.Event()
        self._wake = threading.Event()
        self._record_wanted = False
        self.record_everyone = False  # recordings make one take per person (engine/session/people_sink.py)
        self._session: Session | CameraRigSession | None = None
        self._people: PeopleSink | None = None
        self._mailbox: TrackedFrame | None = None
        self._mail_lock = threading.Lock()
        self._notified = False
        self.busy = False
        self.pose_sink = None  # an engine PoseSink given every tracked frame of every stream (streaming out)
        self.refiner = Refiner()  # a take recorded live gets the offline pass of `monocap process`
        self.redoer = ViewsRedoer()  # and one fused from several cameras that of their videos

    # ---- called from the GUI thread (flags only, never blocking) ----
    def cancel_jobs_upto(self, job_id: int) -> None:
        self._cancel_upto = max(self._cancel_upto, job_id)
        self._wake.set()

    def quit(self) -> None:
        self._quitting.set()
        self._wake.set()

    def choose_person(self, person_id: int) -> None:
        """Follow this person (a tracker id from TrackedFrame.people) from the next frame on."""
        session = self._session
        if session is not None:
            session.choose_person(person_id)

    def set_recording(self, on: bool) -> None:
        self._record_wanted = on
        session, people = self._session, self._people
        everyone = self.record_everyone and people is not None
        if session is not None:
            session.set_recording(on and not everyone)
        if people is not None:
            people.set_recording(on and everyone)

    def set_record_everyone(self, on: bool) -> None:
        """The next recording makes one take per person (STEM_pN) instead of one take."""
        self.record_everyone = on

    def take_latest(self) -> TrackedFrame | None:
        with self._mail_lock:
            frame, self._mailbox = self._mailbox, None
            self._notified = False
            return frame

    # ---- run in the worker thread ----
    def _post(self, frame: TrackedFrame) -> None:
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
        """Relays one engine session's events as signals; the session runs the frames."""
        self._lower_priority()
        cancel = _JobCancel(self, job_id)
        if cancel.is_set():
            return
        self.busy = True
        self._record_wanted = request.record

        def on_opened(info: SessionInfo) -> None:
            if people is not None:
                people.opened(info)
            self.sourceOpened.emit(job_id, info)

        def on_ended(end: SessionEnd) -> None:
            self._session = None
            self._people = None
            self._record_wanted = False
            self.busy = False
            self.sourceEnded.emit(job_id, end)

        def on_take_saved(saved: TakeSaved) -> None:
            self.takeSaved.emit(saved)
            # a take fused from several cameras is redone from every view's keypoints, not one camera's images
            several = request.kind == "cameras"
            job = (ViewsRedoJob if several else RefineJob).for_saved(saved, request.config)
            if job is not None:
                self.takeRefining.emit(saved.name)
                (self.redoer if several else self.refiner).submit(job, self.takeRefined.emit)

        name = request.path if request.kind == "file" else f"camera {request.camera_index}"
        events = SessionEvents(opened=on_opened, pose=self._post, recording=self.recordingChanged.emit,
                               take_saved=on_take_saved, ended=on_ended)
        if request.kind == "cameras":  # several calibrated cameras, one fused pose a moment
            session, people = CameraRigSession(list(request.views), request.calibration, request.config, events,
                                               cancel=cancel, takes_dir=request.takes_dir), None
        else:
            session = Session(lambda: open_for_stream(request.kind, request.path, request.camera_index,
                                                      request.camera_size),
                              request.config, events, cancel=cancel, name=name, takes_dir=request.takes_dir)
            people = PeopleSink(request.config, request.takes_dir,
                                SessionEvents(recording=self.recordingChanged.emit, take_saved=self.takeSaved.emit))
            session.track_everyone(people)
        if self.pose_sink is not None:
            session.add_sink(self.pose_sink)
        self._session, self._people = session, people
        self.set_recording(self._record_wanted)
        if people is None:
            session.stream()  # a rig's video files always play at their own rate, as webcams
        else:
            session.stream(realtime=request.realtime)

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
            self.worker.cancel_jobs_upto(self._stream_job)

    def run_batch(self, request: BatchRequest) -> None:
        self.worker.cancel_jobs_upto(self._next_job)
        self._batch_job = self._job()
        self._startBatch.emit(self._batch_job, request)

    def cancel_batch(self) -> None:
        if self._batch_job:
            self.worker.cancel_jobs_upto(self._batch_job)

    def set_recording(self, on: bool) -> None:
        self.worker.set_recording(on)

    def take_latest(self) -> TrackedFrame | None:
        """The newest frame the engine finished (None: none since the last call); any thread."""
        return self.worker.take_latest()

    def set_record_everyone(self, on: bool) -> None:
        """The next recording makes one take per person (STEM_pN) instead of one take."""
        self.worker.set_record_everyone(on)

    def set_pose_sink(self, sink) -> None:
        """An engine PoseSink given every tracked frame of every stream from now on (streaming out)."""
        self.worker.pose_sink = sink

    def choose_person(self, person_id: int) -> None:
        """Live: follow this person (ImageView.personClicked gives the id) instead of the one locked on to."""
        self.worker.choose_person(person_id)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancels the work (a take being recorded is finished and saved) and ends the thread."""
        self.worker.set_recording(False)
        self.worker.quit()
        self.thread.quit()
        ended = self.thread.wait(timeout_ms)
        self.worker.refiner.close()  # a take still being refined keeps its live version
        self.worker.redoer.close()
        return ended
