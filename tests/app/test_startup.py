"""Start-up: PySide6's own Qt plugins load even when OpenCV (which points Qt at cv2/qt) came first;
the engine never needs Qt."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_app_starts_on_xcb_after_cv2_import():
    code = (
        "import cv2, os\n"
        "assert 'cv2' in os.environ.get('QT_QPA_PLATFORM_PLUGIN_PATH', 'cv2')\n"
        "from app.main import create_application, dispose_window\n"
        "app = create_application(['x'])\n"
        "from app.main_window import MainWindow\n"
        "from PySide6.QtCore import QSettings\n"
        "import tempfile\n"
        "d = tempfile.mkdtemp()\n"
        "w = MainWindow(settings=QSettings(d + '/s.ini', QSettings.Format.IniFormat), takes_dir=d)\n"
        "w.show(); app.processEvents()\n"
        "print('platform', app.platformName())\n"
        "dispose_window(w)\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "platform xcb" in result.stdout


def test_engine_imports_without_qt():
    code = (
        "import sys\n"
        "for name in ('PySide6', 'pyqtgraph', 'app'):\n"
        "    sys.modules[name] = None\n"
        "import engine.session.pipeline, engine.cli, engine.session.outputs, engine.core.joint_angles, engine.core.take, "
        "engine.capture.frames\n"
        "print('ok')\n"
    )
    result = _run(code)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]
