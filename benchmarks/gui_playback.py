"""Plays the sample clip through the app and measures the display rate and the worst GUI stall.

Run under Xvfb with the xcb platform (software OpenGL):
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1080x24" python benchmarks/gui_playback.py

Reports: frames shown per second, the longest gap of a 5 ms QTimer heartbeat in the GUI thread
(the worst stall), and as an in-run reference the engine alone (detector + live tracker) on the
same frames. --realtime paces the clip at its own rate (what a user sees); the default runs it as
fast as the engine goes. --screenshot PATH grabs the window half-way through. --stream turns the
toolbar's Stream on, to a UDP receiver on the loopback address (compare display_fps with a run
without it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def engine_alone(frames: int) -> float:
    """The engine session the GUI drives, with nothing drawn: frames tracked per second."""
    from engine.capture.frames import VideoFileSource
    from engine.core.resources import sample_clip
    from engine.session.events import SessionEvents
    from engine.session.session import Session

    done = []

    def on_pose(tracked) -> None:
        done.append(time.perf_counter())
        if len(done) >= frames:
            session.cancel()

    session = Session(VideoFileSource(sample_clip()), events=SessionEvents(pose=on_pose))
    t0 = time.perf_counter()
    session.stream()
    return len(done) / (done[-1] - t0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--realtime", action="store_true", help="pace the clip at its own frame rate")
    ap.add_argument("--screenshot", default="", help="save a PNG of the window here")
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--stream", action="store_true", help="stream VMC to a loopback receiver while playing")
    args = ap.parse_args()

    from app.main import create_application

    app = create_application([sys.argv[0]])
    from PySide6.QtCore import QObject, QSettings, QTimer, Slot

    from app.main_window import MainWindow

    tmp = tempfile.mkdtemp(prefix="monocap-bench-")
    settings = QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("settings/realtime", args.realtime)
    sink = None
    if args.stream:
        import socket

        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        settings.setValue("stream/target", f"127.0.0.1:{sink.getsockname()[1]}")
        settings.setValue("stream/on", True)
    win = MainWindow(settings=settings, takes_dir=os.path.join(tmp, "takes"))
    win.resize(1400, 860)
    win.show()
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)

    state = {"last": None, "gaps": [], "first_frame": None, "end": None, "shot": False}

    def beat():
        now = time.perf_counter()
        if state["last"] is not None and state["first_frame"] is not None and state["end"] is None:
            state["gaps"].append(now - state["last"])
        state["last"] = now

    heartbeat = QTimer()
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(beat)
    heartbeat.start()

    def on_frame():
        if state["first_frame"] is None:
            state["first_frame"] = (time.perf_counter(), win.frames_rendered)
        if args.screenshot and not state["shot"] and win.last_frame is not None and win.last_frame.frame.index >= 120:
            state["shot"] = True
            win.screenshot().save(args.screenshot)

    def ended(_):
        state["end"] = (time.perf_counter(), win.frames_rendered)
        streamer = win.stream_control.switch.streamer  # the app closes the stream as it quits
        state["stream"] = streamer.stats() if streamer else None
        QTimer.singleShot(100, app.quit)

    class Receiver(QObject):  # a QObject in the GUI thread, so the worker's signals arrive queued
        @Slot()
        def frame(self):
            on_frame()

        @Slot(int, object)
        def ended(self, job_id, end):
            ended(end)

    if args.stream:  # the streaming process starts once, when Stream is pressed: not a cost per frame
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not getattr(win.stream_control.switch.streamer, "running", False):
            app.processEvents()
            time.sleep(0.02)
    receiver = Receiver()
    win.engine.worker.frameAvailable.connect(receiver.frame)
    win.engine.worker.sourceEnded.connect(receiver.ended)
    win.open_sample()
    app.exec()
    heartbeat.stop()
    t0, n0 = state["first_frame"]
    t1, n1 = state["end"]
    shown = n1 - n0 + 1
    gaps = sorted(state["gaps"])
    result = {
        "mode": "realtime" if args.realtime else "as fast as the engine goes",
        "frames_shown": shown,
        "display_fps": round(shown / (t1 - t0), 1),
        "worst_gui_stall_ms": round(gaps[-1] * 1e3, 1) if gaps else None,
        "p99_gui_gap_ms": round(gaps[int(0.99 * (len(gaps) - 1))] * 1e3, 1) if gaps else None,
        "heartbeats": len(gaps),
        "streaming": args.stream,
    }
    if sink is not None:
        stats = state.get("stream")
        result["stream_frames_sent"] = stats.frames if stats else 0
        result["stream_status"] = win.stream_control.switch.failure or win.stream_control.status.text()
    from app.main import dispose_window

    dispose_window(win)
    result["engine_alone_fps"] = round(engine_alone(args.frames), 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
