"""The About box: version, and the licences of the bundled models and data (their NOTICE.md files,
rendered as formatted text)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from engine import __version__
from engine.core.resources import resource_path

NOTICES = ("models/NOTICE.md", "sample/NOTICE.md")


def about_markdown() -> str:
    parts = [f"# Monocap {__version__}",
             "Motion capture from one ordinary camera: live 3D skeleton, takes, animation export.",
             "Monocap is licensed under the Apache License 2.0. It runs on Qt for Python (PySide6, LGPLv3), "
             "pyqtgraph (MIT), MediaPipe (Apache 2.0), OpenCV (Apache 2.0), PyTorch (BSD), NumPy and SciPy (BSD).",
             "---"]
    for rel in NOTICES:
        try:
            text = resource_path(rel).read_text(encoding="utf-8")
        except OSError:
            text = f"*({rel} is missing from this installation)*"
        # the notices' own headings sit one level below the box's title
        parts.append("\n".join("#" + line if line.startswith("#") else line for line in text.splitlines()))
    return "\n\n".join(parts)


def about_text() -> str:
    """The About box as the user reads it (plain text, no Markdown marks)."""
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setMarkdown(about_markdown())
    return doc.toPlainText()


class AboutDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("About Monocap")
        self.resize(680, 560)
        lay = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(about_markdown())
        lay.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
