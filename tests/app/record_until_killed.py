"""The app recording the sample clip from its start until it is killed (tests/app/test_crash_recovery.py).

    python tests/app/record_until_killed.py SETTINGS.ini TAKES_DIR

Prints "frame INDEX" for every frame the window showed while recording; each was in the take's
file before it was shown.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    settings_path, takes_dir = sys.argv[1], sys.argv[2]
    from app.main import create_application

    app = create_application([sys.argv[0]])
    from PySide6.QtCore import QSettings, QTimer

    from app.main_window import MainWindow

    settings = QSettings(settings_path, QSettings.Format.IniFormat)
    for key, value in (("mode", "detector"), ("realtime", True), ("record_files", True)):
        settings.setValue(f"settings/{key}", value)
    win = MainWindow(settings=settings, takes_dir=takes_dir)
    win.show()
    last = [-1]

    def report():
        frame = win.last_frame
        if frame is not None and frame.recording and frame.frame.index != last[0]:
            last[0] = frame.frame.index
            print(f"frame {frame.frame.index}", flush=True)

    poll = QTimer()
    poll.timeout.connect(report)
    poll.start(5)
    win.open_sample()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
