"""Makes docs/screenshot.png: the sample clip recorded as a take and shown in playback, and
docs/screenshot_recording.png: the window while it records.

  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1080x24" python benchmarks/gui_screenshot.py [OUT.png [REC.png]]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "docs" / "screenshot.png")
    rec_out = sys.argv[2] if len(sys.argv) > 2 else str(ROOT / "docs" / "screenshot_recording.png")
    from app.main import create_application, dispose_window

    app = create_application([sys.argv[0]])
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    tmp = tempfile.mkdtemp(prefix="monocap-shot-")
    settings = QSettings(f"{tmp}/s.ini", QSettings.Format.IniFormat)
    settings.setValue("settings/realtime", False)
    win = MainWindow(settings=settings, takes_dir=f"{tmp}/takes")
    win.resize(1400, 860)
    win.show()

    def pump(cond, timeout=60.0):
        end = time.time() + timeout
        while not cond() and time.time() < end:
            app.processEvents()
            time.sleep(0.005)

    win.open_sample()
    pump(lambda: win.frames_rendered > 2)
    win.set_recording(True)
    pump(lambda: win.last_frame is not None and win.last_frame.frame.index > 150)
    pump(lambda: False, 0.3)
    win.screenshot().save(rec_out)
    pump(lambda: win.last_frame is not None and win.last_frame.frame.index > 200)
    win.set_recording(False)
    pump(lambda: len(win.takes) == 1)
    win.select_take(next(iter(win.takes)))
    win.angle_plot.set_selected(["left_knee", "right_knee", "left_elbow", "right_hip"])
    win.commands.follow.setChecked(True)
    win.timeline.set_frame(150)
    pump(lambda: False, 1.0)
    win.screenshot().save(out)
    dispose_window(win)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
