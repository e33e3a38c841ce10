"""The versions the app's stability rests on: constraints.txt is what is installed, and the installed
Qt binding does not lose references on repaint (PySide6 6.12.0 with Python 3.11 loses one `None` per
QWidget.repaint(); the app then dies with "none_dealloc" after about a thousand live frames)."""

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
        installed = metadata.version(name).split("+")[0]  # torch's local label (+cpu) is not the version
        if installed != version:
            wrong[name] = installed
    assert not wrong, f"installed versions differ from constraints.txt: {wrong} (run make env)"


def test_repaint_loses_no_references():
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
    result = subprocess.run([sys.executable, "-c", REPAINT_CHECK], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    lost = json.loads(result.stdout.strip().splitlines()[-1])
    assert lost == {"None": 0, "True": 0, "False": 0}, f"QWidget.repaint() x500 lost references: {lost}"
