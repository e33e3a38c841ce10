"""GUI tests: pytest-qt under Xvfb with the xcb platform (GL needs a real X server)."""

import os

os.environ.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)  # cv2's Qt plugins must not shadow PySide6's

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, Qt

# before pytest-qt creates the QApplication: GL views share contexts (pyqtgraph shader cache)
QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)


@pytest.fixture
def window(qtbot, tmp_path):
    from app.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("settings/realtime", False)  # tests run frames as fast as the engine goes
    win = MainWindow(settings=settings, takes_dir=str(tmp_path / "takes"))
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    from app.main import dispose_window

    dispose_window(win)
