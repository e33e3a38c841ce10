"""The About box: version, and the licences of the bundled models and data."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from engine import __version__
from engine.core.resources import resource_path

NOTICES = ("models/NOTICE.md", "sample/NOTICE.md")


def about_text() -> str:
    parts = [f"<h2>Monocap {html.escape(__version__)}</h2>",
             "<p>Motion capture from one ordinary camera: live 3D skeleton, takes, animation export.</p>",
             "<p>Monocap is licensed under the Apache License 2.0. It runs on Qt for Python (PySide6, LGPLv3), "
             "pyqtgraph (MIT), MediaPipe (Apache 2.0), OpenCV (Apache 2.0), PyTorch (BSD), NumPy and SciPy (BSD).</p>",
             "<h3>Bundled models and data</h3>"]
    for rel in NOTICES:
        path = resource_path(rel)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = f"({rel} is missing from this installation)"
        parts.append(f"<pre style='white-space: pre-wrap'>{html.escape(text)}</pre>")
    return "\n".join(parts)


class AboutDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("About Monocap")
        self.resize(640, 520)
        lay = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setHtml(about_text())
        lay.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
