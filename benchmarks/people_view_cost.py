"""What drawing several people in the 3D view costs per frame (app/people3d.py), as ratios to
drawing one person (the view's own skeleton), measured in the same run.

    xvfb-run -a python benchmarks/people_view_cost.py [--frames 300]

Per frame: `set_people` (the arrays built and handed to the GL items) and a whole render of the
view (`paintGL` to glFinish: grid, bones, joints, trails, number tags), for 1, 2, 4 and 6 people walking on
the spot; interleaved by round so the machine's ups and downs weigh on all alike. Rendering here
is software GL under Xvfb, so the milliseconds are the slow end of what a desktop sees.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _poses(count: int, frame: int, skeleton) -> dict[int, np.ndarray]:
    base = np.zeros((skeleton.num_joints, 3))
    base[:, 1] = np.linspace(0.1, 1.7, skeleton.num_joints)
    sway = 0.05 * np.sin(frame / 5.0)
    return {pid: base + [(pid - (count + 1) / 2) * 0.9 + sway, 0.0, -0.3 * pid] for pid in range(1, count + 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300)
    args = ap.parse_args()
    os.environ.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication([])
    from app.view3d import SkeletonView
    from engine.core.skeletons import MONOCAP_BODY

    view = SkeletonView()
    box = view.container()
    box.resize(640, 480)
    box.show()
    deadline = time.time() + 10
    while not view.isExposed() and time.time() < deadline:
        app.processEvents()
    counts = (1, 2, 4, 6)
    set_ms = {n: [] for n in counts}
    render_ms = {n: [] for n in counts}
    for frame in range(args.frames):
        for n in counts:
            poses = _poses(n, frame, MONOCAP_BODY)
            t0 = time.perf_counter()
            view.set_pose(poses[1], MONOCAP_BODY, trail=False)
            view.set_people(poses if n > 1 else {}, MONOCAP_BODY, 1)
            view.makeCurrent()
            t1 = time.perf_counter()
            view.paintGL()
            view.context().functions().glFinish()
            t2 = time.perf_counter()
            view.doneCurrent()
            set_ms[n].append((t1 - t0) * 1e3)
            render_ms[n].append((t2 - t1) * 1e3)
        app.processEvents()
    ref = statistics.median(set_ms[1]) + statistics.median(render_ms[1])
    print(f"load average {os.getloadavg()[0]:.1f}; {args.frames} frames each; median ms per frame")
    print(f"{'people':>6} {'set_people':>11} {'render':>8} {'total':>8} {'ratio':>6}")
    for n in counts:
        s, r = statistics.median(set_ms[n]), statistics.median(render_ms[n])
        print(f"{n:>6} {s:>11.3f} {r:>8.2f} {s + r:>8.2f} {(s + r) / ref:>6.2f}")
    sys.stdout.flush()
    os._exit(0)  # a GL window torn down after the QApplication crashes PySide6 on exit


if __name__ == "__main__":
    main()
