"""The versions the app's stability rests on: constraints.txt is what is installed, and the installed
Qt binding does not lose references on repaint (PySide6 6.12.0 with Python 3.11 loses one `None` per
QWidget.repaint(); the app then dies with "none_dealloc" after about a thousand live frames), nor
when a painter opens on a new picture, as pyqtgraph's axes do on each redraw (6.11.3 gains six
references to `None` there, which is harmless: a gain never frees it)."""

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

REPAINT_CHECK = """
import json, sys
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv)
w = QWidget(); w.show(); app.processEvents()
before = {k: sys.getrefcount(v) for k, v in (("None", None), ("True", True), ("False", False))}
for _ in range(500):
    w.repaint()
after = {k: sys.getrefcount(v) for k, v in (("None", None), ("True", True), ("False", False))}
print(json.dumps({k: before[k] - after[k] for k in before}))
"""

PAINTER_CHECK = """
import json, sys
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPicture
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
before = {k: sys.getrefcount(v) for k, v in (("None", None), ("True", True), ("False", False))}
for i in range(300):
    picture = QPicture()
    painter = QPainter(picture)
    painter.drawText(QRectF(0, 0, 60, 20), int(Qt.AlignmentFlag.AlignCenter), str(i))
    painter.end()
after = {k: sys.getrefcount(v) for k, v in (("None", None), ("True", True), ("False", False))}
print(json.dumps({k: before[k] - after[k] for k in before}))
"""


# Pinned for the desktop bundle's own virtualenv (desktop/bundle-requirements.txt), not the development one.
BUNDLE_ONLY = {"opencv-python-headless", "pyinstaller", "pyinstaller-hooks-contrib"}


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = re.split(r"\s*==\s*", line)
            pins[name] = version
    return pins


def test_installed_versions_are_the_pinned_ones():
    pins = _pins()
    assert {"PySide6-Essentials", "PySide6-Addons", "shiboken6", "pyqtgraph"} <= set(pins)
    wrong = {}
    for name, version in pins.items():
        try:
            installed = metadata.version(name).split("+")[0]  # torch's local label (+cpu) is not the version
        except metadata.PackageNotFoundError:
            if name in BUNDLE_ONLY:
                continue
            installed = "missing"
        if installed != version:
            wrong[name] = installed
    assert not wrong, f"installed versions differ from constraints.txt: {wrong} (run make env)"


def _lost_references(check: str) -> dict[str, int]:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
    result = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_repaint_loses_no_references():
    lost = _lost_references(REPAINT_CHECK)
    # PySide6 6.12.0 takes one from None on every repaint (500 here); a stray one or two is not that
    assert all(n <= 2 for n in lost.values()), f"QWidget.repaint() x500 lost references: {lost}"


def test_painting_new_pictures_loses_no_references():
    lost = _lost_references(PAINTER_CHECK)
    assert all(n <= 0 for n in lost.values()), f"QPainter on 300 new QPictures lost references: {lost}"
