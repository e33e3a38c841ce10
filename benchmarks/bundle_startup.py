"""Start-up of desktop bundles to their first window, and their size by component, side by side.

    xvfb-run -a -s "-screen 0 1920x1080x24" python benchmarks/bundle_startup.py \
        dist/monocap /path/to/another/bundle --repeats 5

Each bundle is started in turn (interleaved, after one warm-up run each, so disk caches and the
machine's load fall alike on all), with `--smoke-test 2` and a fresh HOME; the time is from the
process start to the moment X reports a viewable top-level window titled "Monocap" (polled with
xwininfo every 20 ms). Also the time of `monocap --version` (the command line's start). Prints
medians, the ratio of each bundle to the first, and `du -sm` of each bundle's top-level folders.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TITLE = "Monocap"


def _window_shown() -> bool:
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True).stdout
    for wid in re.findall(rf'^\s+(0x[0-9a-f]+) "{TITLE}"', tree, re.MULTILINE):
        info = subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True).stdout
        if "IsViewable" in info:
            return True
    return False


def time_to_window(exe: Path, timeout: float = 120.0) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, HOME=home, QT_QPA_PLATFORM="xcb")
        start = time.perf_counter()
        err = open(Path(home) / "stderr.txt", "w+")
        proc = subprocess.Popen([str(exe), "--smoke-test", "2"], env=env, cwd=home,
                                stdout=subprocess.DEVNULL, stderr=err)
        try:
            while time.perf_counter() - start < timeout:
                if _window_shown():
                    return time.perf_counter() - start
                if proc.poll() is not None:
                    err.seek(0)
                    tail = " | ".join(err.read().strip().splitlines()[-3:])
                    raise RuntimeError(f"{exe} ended with {proc.returncode} before a window showed: {tail}")
                time.sleep(0.02)
            raise RuntimeError(f"{exe}: no window in {timeout} s")
        finally:
            proc.wait(timeout=60)
            err.close()


def time_cli(exe: Path) -> float:
    with tempfile.TemporaryDirectory() as home:
        start = time.perf_counter()
        subprocess.run([str(exe), "--version"], env=dict(os.environ, HOME=home), cwd=home, check=True,
                       capture_output=True)
        return time.perf_counter() - start


def sizes(bundle: Path) -> dict[str, int]:
    out = subprocess.run(["du", "-sm", *sorted(str(p) for p in (bundle / "_internal").iterdir())],
                         capture_output=True, text=True, check=True).stdout
    return {Path(line.split("\t", 1)[1]).name: int(line.split("\t", 1)[0]) for line in out.splitlines()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bundles", nargs="+", type=Path, help="bundle folders (the first is the reference)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    exes = [b / "monocap" for b in args.bundles]
    gui: dict[Path, list[float]] = {e: [] for e in exes}
    cli: dict[Path, list[float]] = {e: [] for e in exes}
    failed: dict[Path, int] = {e: 0 for e in exes}
    for run in range(args.repeats + 1):  # run 0 warms the disk caches up and is not counted
        for exe in exes:
            try:
                seconds = time_to_window(exe)
            except RuntimeError as exc:  # reported and counted, not timed
                print(f"run {run}: {exc}", file=sys.stderr)
                failed[exe] += 1
                continue
            if run:
                gui[exe].append(seconds)
                cli[exe].append(time_cli(exe))
    ref_gui, ref_cli = statistics.median(gui[exes[0]]), statistics.median(cli[exes[0]])
    for bundle, exe in zip(args.bundles, exes):
        total = int(subprocess.run(["du", "-sm", str(bundle)], capture_output=True, text=True).stdout.split()[0])
        g, c = statistics.median(gui[exe]), statistics.median(cli[exe])
        print(f"{bundle}: {total} MiB; first window {g:.2f} s (runs {', '.join(f'{v:.2f}' for v in gui[exe])}), "
              f"ratio {g / ref_gui:.2f}; --version {c:.2f} s, ratio {c / ref_cli:.2f}; failed starts {failed[exe]}")
    for bundle in args.bundles:
        big = sorted(sizes(bundle).items(), key=lambda kv: -kv[1])
        print(f"{bundle} by component (MiB): " + ", ".join(f"{k} {v}" for k, v in big if v >= 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
