"""Makes docs/screenshot_people.png: a clip where people walk away one by one, at the moment the
person followed has left and the next one is in view: drawn and marked in both views, the hint that
a click follows them, and the status bar saying who left.

  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1080x24" \\
      python benchmarks/gui_screenshot_people.py VIDEO [OUT.png]

VIDEO: e.g. ../shared/data/video/intel_people_walk_away_back_view_one_by_one.mp4
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    video = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else str(ROOT / "docs" / "screenshot_people.png")
    from app.main import create_application, dispose_window

    app = create_application([sys.argv[0]])
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    tmp = tempfile.mkdtemp(prefix="monocap-shot-")
    settings = QSettings(f"{tmp}/s.ini", QSettings.Format.IniFormat)
    settings.setValue("settings/realtime", False)
    win = MainWindow(settings=settings, takes_dir=f"{tmp}/takes")
    win.resize(1400, 900)
    win.show()

    def pump(cond, timeout=600.0) -> bool:
        end = time.time() + timeout
        while not cond() and time.time() < end:
            app.processEvents()
            time.sleep(0.005)
        return cond()

    left_since = []

    def the_one_followed_left() -> bool:
        f = win.last_frame
        if f is None or f.person_id is None:
            return False
        tall = 0.4 * f.frame.image.shape[0]  # someone standing in view, not a glimpse or a chair's legs
        others = [p for p in f.people if p.id != f.person_id and p.detection.box_xyxy[3] - p.detection.box_xyxy[1] > tall]
        gone = f.pose.joints_m is None and len(others) >= 1 and bool(win.view3d.people.poses)
        if gone:
            left_since.append(f.frame.index)
        else:
            left_since.clear()
        return len(left_since) >= 20 and win.image_view.people_marked

    win.open_file(video)
    found = pump(the_one_followed_left)
    win.screenshot().save(out)
    print(out, "frame", win.last_frame.frame.index if win.last_frame else None, "found" if found else "NOT FOUND",
          win.status_labels.person.text())
    win.stop_source()
    dispose_window(win)
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
