"""The app in long use: the sample clip tracked and recorded over and over, each take played back,
scrubbed and exported, while the GUI thread's stalls, the process's memory and the reference counts
of None/True/False are watched.

  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1080x24" python benchmarks/gui_soak.py --minutes 60

One cycle: open the sample clip (recorded from its first frame), track it to its end, select the
new take, scrub through every frame to the end and back, play it at 4x, export it (NPZ, CSV, BVH). The first cycle is
the warm-up; memory and reference counts are compared with their values after it. Prints a JSON
summary and exits 1 when a limit is broken (tests/app/test_soak.py runs it for 5,000 frames).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LIMITS = {"rss_growth_mb": 100.0, "worst_stall_ms": 100.0, "refcount_growth": 1000}

from benchmarks.thread_delays import ThreadDelays  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def singleton_refs() -> dict[str, int]:
    return {"None": sys.getrefcount(None), "True": sys.getrefcount(True), "False": sys.getrefcount(False)}


def none_holders() -> dict[str, int]:
    """References to None held by each type of object the collector tracks, by type name."""
    from collections import Counter

    held: Counter = Counter()
    untracked: dict[int, object] = {}
    for o in gc.get_objects():
        refs = gc.get_referents(o)
        n = sum(r is None for r in refs)
        if n:
            held[type(o).__module__ + "." + type(o).__qualname__] += n
        for r in refs:
            if isinstance(r, (tuple, dict)) and not gc.is_tracked(r):
                untracked[id(r)] = r
    for r in untracked.values():
        n = sum(v is None for v in (r.values() if isinstance(r, dict) else r))
        if n:
            held["untracked " + type(r).__qualname__] += n
    return held


def _watch_stalls(last_beat: list[float], s: dict) -> None:
    """A thread that prints the GUI thread's stack once during each stall over the limit."""
    import threading
    import traceback

    gui = threading.main_thread().ident

    def watch():
        seen = None
        while True:
            time.sleep(0.02)
            beat = last_beat[0]
            if time.monotonic() - beat > LIMITS["worst_stall_ms"] / 1e3 * 0.8 and beat != seen and s["cycles"] >= 1:
                seen = beat
                stack = "".join(traceback.format_stack(sys._current_frames()[gui])[-16:])
                into = beat - s.get("phase_t", beat)
                print(f"--- stall {into:.2f} s into {s['phase']}:\n{stack}", file=sys.stderr, flush=True)

    threading.Thread(target=watch, daemon=True).start()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=0, help="stop after this many frames in all (tracked + played)")
    ap.add_argument("--minutes", type=float, default=0.0, help="stop after this long (default: --frames decides)")
    ap.add_argument("--mode", default="detector", help="3D mode (default detector, the quickest)")
    ap.add_argument("--json", default="", help="also write the summary here")
    ap.add_argument("--clip", default="", help="a video to track instead of the sample clip")
    ap.add_argument("--types", action="store_true", help="print the Python object types that grew, per cycle")
    ap.add_argument("--none-holders", action="store_true",
                    help="print, per cycle, the types of the objects whose references to None grew")
    ap.add_argument("--stall-stacks", action="store_true", help="print where the GUI thread was during each stall")
    ap.add_argument("--inject-stall-ms", type=float, default=0.0,
                    help="proof that the limit bites: hold the GUI thread this long every 3 s after the warm-up")
    ap.add_argument("--inject-stall-kind", choices=("busy", "sleep"), default="busy",
                    help="the injected stall computes (busy) or waits (sleep)")
    ap.add_argument("--inject-leak-kb", type=int, default=0,
                    help="proof that the limit bites: keep this many KB for every frame shown")
    args = ap.parse_args()
    if not args.frames and not args.minutes:
        args.frames = 5000

    from app.main import create_application, dispose_window

    app = create_application([sys.argv[0]])
    from PySide6.QtCore import QObject, QSettings, QTimer, Slot

    from app.exporting import DEFAULT_FORMATS, ExportRequest
    from app.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix="monocap-soak-"))
    settings = QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)
    for key, value in (("mode", args.mode), ("realtime", False), ("record_files", True)):
        settings.setValue(f"settings/{key}", value)
    win = MainWindow(settings=settings, takes_dir=str(tmp / "takes"))
    win.resize(1400, 860)
    win.show()

    s = {"tracked": 0, "played": 0, "cycles": 0, "errors": [], "stalls": [], "worst_stall_ms": 0.0,
         "rss": [], "refs": [], "phase": "", "export_s": 0.0, "phase_rss": {}, "phase_refs": {}}
    t_start = time.perf_counter()
    last_beat = [time.monotonic()]
    delays = ThreadDelays()
    last_sample = [delays.sample()]
    last_disk = [delays.disk_bytes()]

    def beat():
        now = time.monotonic()
        sample, disk = delays.sample(), delays.disk_bytes()
        gap = now - last_beat[0]
        if s["cycles"] >= 1:  # after the warm-up cycle
            s["worst_stall_ms"] = max(s["worst_stall_ms"], gap * 1e3)
            if gap * 1e3 > LIMITS["worst_stall_ms"]:
                s["stalls"].append((delays.shares(last_sample[0], sample, gap, disk - last_disk[0]), s["phase"]))
        last_beat[0], last_sample[0], last_disk[0] = now, sample, disk

    def restart_beat():
        """What the benchmark itself does between beats is not the app's stall."""
        last_beat[0], last_sample[0], last_disk[0] = time.monotonic(), delays.sample(), delays.disk_bytes()

    if args.stall_stacks:
        _watch_stalls(last_beat, s)

    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(beat)
    heartbeat.start()

    mark = {"phase": "", "rss": 0.0, "refs": 0}

    def enter(phase: str) -> None:
        """Starts a phase; the memory and None references the last one added are booked to it."""
        if args.none_holders:
            gc.collect()  # what garbage held is not the phase's
            restart_beat()
        now_rss, now_refs = rss_mb(), sys.getrefcount(None)
        if mark["phase"] and s["cycles"] >= 1:
            s["phase_rss"][mark["phase"]] = round(s["phase_rss"].get(mark["phase"], 0.0) + now_rss - mark["rss"], 1)
            s["phase_refs"][mark["phase"]] = s["phase_refs"].get(mark["phase"], 0) + now_refs - mark["refs"]
        mark.update(phase=phase, rss=now_rss, refs=now_refs)
        s["phase"] = phase
        s["phase_t"] = time.monotonic()

    def done() -> bool:
        if args.frames and s["tracked"] + s["played"] >= args.frames:
            return True
        return bool(args.minutes) and time.perf_counter() - t_start >= args.minutes * 60

    class Driver(QObject):
        def __init__(self):
            super().__init__()
            self.take = ""
            self.scrub = QTimer()
            self.scrub.setInterval(2)
            self.scrub.timeout.connect(self.scrub_step)
            # the window's own state says when tracking ended (the driver stays in the GUI thread)
            self.poll = QTimer()
            self.poll.setInterval(20)
            self.poll.timeout.connect(self.check_tracking)
            win.exportFinished.connect(self.exported)
            win.timeline.frameChanged.connect(self.played)
            win.timeline.playingChanged.connect(self.playing_changed)
            self.known: set[str] = set()
            self.counts = {}
            self.holders = {}

        def start_cycle(self):
            if done():
                app.quit()
                return
            enter("tracking")
            self.known = set(win.takes)
            if args.clip:
                win.open_file(args.clip)
            else:
                win.open_sample()
            self.poll.start()

        def check_tracking(self):
            new = set(win.takes) - self.known
            if win.source_running or not new:
                return
            self.poll.stop()
            banner = win.state.banner
            if banner is not None and banner.level == "error":
                s["errors"].append(banner.text)
            self.take = sorted(new)[-1]
            enter("scrubbing")
            win.select_take(self.take)
            s["tracked"] += win.current_take.num_frames
            self.scrub_at = 0
            self.scrub.start()

        @Slot(int)
        def played(self, _):
            s["played"] += 1
            if args.inject_leak_kb and s["cycles"] >= 1:
                leaked.append(b"\x01" * (args.inject_leak_kb * 1024))

        def scrub_step(self):
            n = win.timeline._frames
            if self.scrub_at < 2 * n:  # to the end and back
                win.timeline.set_frame(self.scrub_at if self.scrub_at < n else 2 * n - 1 - self.scrub_at)
                self.scrub_at += 1
                return
            self.scrub.stop()
            enter("playback")
            win.timeline.speed.setCurrentIndex(win.timeline.speed.count() - 1)  # 4x
            win.timeline.set_frame(0)
            win.toggle_play()

        @Slot(bool)
        def playing_changed(self, on):
            if on or s["phase"] != "playback":
                return
            enter("export")
            self.export_t0 = time.perf_counter()
            win.start_export(win.current_take, ExportRequest(str(tmp / "exports"), self.take, DEFAULT_FORMATS))

        @Slot(object, object)
        def exported(self, paths, error):
            s["export_s"] += time.perf_counter() - self.export_t0
            if error:
                s["errors"].append(error)
            shutil.rmtree(tmp / "exports", ignore_errors=True)
            for old in (tmp / "takes").glob("*.avi"):  # the images of earlier takes: disk, not memory
                if old.stem != self.take:
                    old.unlink(missing_ok=True)
            enter("between cycles")
            s["cycles"] += 1
            if s["cycles"] == 1:
                s["warm_t"] = time.monotonic()
            t_gc = time.perf_counter()
            gc.collect()
            s.setdefault("collect_ms", []).append(round((time.perf_counter() - t_gc) * 1e3, 1))
            restart_beat()  # the benchmark's own collection
            s["rss"].append(round(rss_mb(), 1))
            s["refs"].append(singleton_refs())
            if args.types:
                from collections import Counter

                counts = Counter(type(o).__name__ for o in gc.get_objects())
                grew = {k: v - self.counts.get(k, 0) for k, v in counts.items() if v - self.counts.get(k, 0) > 20}
                self.counts = counts
                print("cycle", s["cycles"], "rss", s["rss"][-1], "refs", s["refs"][-1],
                      sorted(grew.items(), key=lambda kv: -kv[1])[:12],
                      file=sys.stderr, flush=True)
            if args.none_holders:
                holders = none_holders()
                grew = {k: v - self.holders.get(k, 0) for k, v in holders.items() if v - self.holders.get(k, 0) > 2}
                self.holders = holders
                print("cycle", s["cycles"], "None", s["refs"][-1]["None"], "held by",
                      sorted(grew.items(), key=lambda kv: -kv[1])[:15], file=sys.stderr, flush=True)
            QTimer.singleShot(0, self.start_cycle)

    def fail(exc_type, exc, tb):
        import traceback

        s["errors"].append("".join(traceback.format_exception(exc_type, exc, tb))[-1500:])
        app.quit()

    sys.excepthook = fail  # an exception in a slot ends the run as a failure, not a hang
    progress = {"frames": -1}

    def watchdog():
        frames = s["tracked"] + s["played"] + win.frames_rendered
        if frames == progress["frames"]:
            s["errors"].append(f"no progress for 120 s (phase {s['phase']})")
            import faulthandler

            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)  # where each thread waits
            app.quit()
        progress["frames"] = frames

    leaked: list[bytes] = []

    def injected_stall():
        if s["cycles"] < 1:
            return
        if args.inject_stall_kind == "sleep":
            time.sleep(args.inject_stall_ms / 1e3)
            return
        end = time.thread_time() + args.inject_stall_ms / 1e3
        while time.thread_time() < end:
            pass

    injector = QTimer()
    injector.timeout.connect(injected_stall)
    if args.inject_stall_ms:
        injector.start(3000)

    dog = QTimer()
    dog.timeout.connect(watchdog)
    dog.start(120_000)
    driver = Driver()
    QTimer.singleShot(0, driver.start_cycle)
    app.exec()
    heartbeat.stop()
    injector.stop()
    delays.close()
    seconds = time.perf_counter() - t_start
    app_stalls = [(shares.app_ms, shares, phase) for shares, phase in s["stalls"]]
    dispose_window(win)
    shutil.rmtree(tmp, ignore_errors=True)

    base_rss = s["rss"][0] if s["rss"] else 0.0
    base_refs = s["refs"][0] if s["refs"] else {}
    end_refs = s["refs"][-1] if s["refs"] else {}
    result = {
        "mode": args.mode,
        "seconds": round(seconds, 1),
        "cycles": s["cycles"],
        "frames_tracked": s["tracked"],
        "frames_played": s["played"],
        "frames": s["tracked"] + s["played"],
        "tracked_fps": round(s["tracked"] / seconds, 1),
        "export_s_per_cycle": round(s["export_s"] / max(s["cycles"], 1), 2),
        "worst_stall_ms": round(s["worst_stall_ms"], 1),
        "stalls_over_100ms": len(s["stalls"]),
        "worst_app_stall_ms": round(max((a for a, _, _ in app_stalls), default=0.0), 1),
        # each as [gap, GUI thread running, GUI thread waiting for a CPU, others waiting for a CPU] ms,
        # the bytes the GUI thread moved to or from the disk meanwhile, phase
        "app_stalls_over_100ms": [([round(v, 1) for v in (sh.gap_ms, sh.running_ms, sh.waiting_ms,
                                                          sh.others_waiting_ms)], sh.disk_bytes, ph)
                                  for a, sh, ph in app_stalls if a > LIMITS["worst_stall_ms"]][:20],
        "stalls_the_machine_explains": len([a for a, _, _ in app_stalls if a <= LIMITS["worst_stall_ms"]]),
        "full_collection_ms": s.get("collect_ms", []),
        "rss_after_warmup_mb": base_rss,
        "rss_end_mb": s["rss"][-1] if s["rss"] else 0.0,
        "rss_growth_mb": round(max(s["rss"][1:], default=base_rss) - base_rss, 1),
        "rss_per_cycle_mb": s["rss"],
        "refcount_growth": {k: end_refs[k] - base_refs[k] for k in base_refs},
        "rss_growth_by_phase_mb": s["phase_rss"],
        "none_refs_by_phase": s["phase_refs"],
        "errors": s["errors"],
    }
    broken = []
    if result["cycles"] < 2:
        broken.append("fewer than two cycles")
    if result["rss_growth_mb"] > LIMITS["rss_growth_mb"]:
        broken.append(f"memory grew {result['rss_growth_mb']} MB after warm-up")
    if result["worst_app_stall_ms"] > LIMITS["worst_stall_ms"]:
        broken.append(f"GUI stalled {result['worst_app_stall_ms']} ms beyond what the machine delayed")
    for name, growth in result["refcount_growth"].items():
        if abs(growth) > LIMITS["refcount_growth"]:
            broken.append(f"{name} references changed by {growth}")
    if result["errors"]:
        broken.append("errors: " + "; ".join(result["errors"][:3]))
    result["broken"] = broken
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
