"""The toolbar's Stream control: a toggle and the status, with the target (HOST:PORT) and the rate
in its menu (the arrow beside the toggle, and the menu bar's Stream menu, whose first entry,
Ctrl+Shift+S, is the same toggle); it stays narrow, so a 1400-pixel window shows it whole.

While the toggle is on, every pose the worker tracks goes to a VMC stream (docs/STREAMING.md)
through `switch` (engine/streaming/switch.py), encoded and sent by a process of its own
(engine/streaming/sender_process.py) so that the window keeps its frame rate; this widget only starts
and stops the stream and shows its packets per second. UDP has no connection, so "no receiver"
is a state shown in grey, not an error. Target, rate and toggle are kept in the settings.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from engine.core.errors import MonocapError
from engine.session.pipeline import PipelineConfig
from engine.streaming.channels import channels_from_targets
from engine.streaming.sender_process import ProcessPoseStreamer
from engine.streaming.switch import StreamSwitch
from engine.streaming.targets import VMC_DEFAULT_TARGET

from .banner import ElidedLabel
from .user_errors import one_line

RATES = (("every frame", 0.0), ("60 fps", 60.0), ("30 fps", 30.0), ("15 fps", 15.0))
STATUS_EVERY_MS = 500
SHORTCUT = "Ctrl+Shift+S"
STATUS_WIDTH_PX = 150  # the status is elided to this width (its tooltip has it all)


class StreamControl(QWidget):
    streamingChanged = Signal(bool)

    def __init__(self, qsettings: QSettings, parent=None):
        super().__init__(parent)
        self.qsettings = qsettings
        self.switch = StreamSwitch()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.button = QToolButton(text="Stream", checkable=True,
                                  toolTip=f"Send the live pose to an avatar or a game engine (VMC protocol over UDP), "
                                          f"{SHORTCUT}; the arrow sets where to and how often")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.target = QLineEdit(str(qsettings.value("stream/target") or VMC_DEFAULT_TARGET),
                                toolTip="Where the VMC receiver listens: HOST:PORT")
        self.target.setMinimumWidth(170)
        self.rate = QComboBox(toolTip="Frames sent per second at most")
        for label, fps in RATES:
            self.rate.addItem(label, fps)
        saved = self.rate.findText(str(qsettings.value("stream/rate") or RATES[0][0]))
        self.rate.setCurrentIndex(max(saved, 0))
        self.status = ElidedLabel("off")
        self.status.setFixedWidth(STATUS_WIDTH_PX)
        lay.addWidget(self.button)
        lay.addWidget(self.status)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.menu, self.action = self._make_menu()
        self.button.setMenu(self.menu)
        self._timer = QTimer(self, interval=STATUS_EVERY_MS)
        self._timer.timeout.connect(self._show_status)
        self.button.toggled.connect(self._on_toggled)
        self.target.editingFinished.connect(self._on_options_changed)
        self.rate.currentIndexChanged.connect(self._on_options_changed)
        if str(qsettings.value("stream/on")).lower() in ("1", "true"):
            QTimer.singleShot(0, lambda: self.button.setChecked(True))

    def _make_menu(self) -> tuple[QMenu, QAction]:
        """The Stream menu: the toggle (SHORTCUT), then the target and the rate."""
        menu = QMenu("St&ream", self)
        action = QAction("Stream to avatar apps (VMC)", menu, checkable=True)
        action.setShortcut(QKeySequence(SHORTCUT))
        action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.toggled.connect(self.button.setChecked)
        self.button.toggled.connect(action.setChecked)
        menu.addAction(action)
        menu.addSeparator()
        options = QWidget()
        form = QFormLayout(options)
        form.setContentsMargins(12, 4, 12, 4)
        form.addRow("Send to", self.target)
        form.addRow("Rate", self.rate)
        holder = QWidgetAction(menu)
        holder.setDefaultWidget(options)
        menu.addAction(holder)
        return menu, action

    @property
    def streaming(self) -> bool:
        return self.switch.streamer is not None

    def _start(self) -> bool:
        try:
            channels = channels_from_targets(vmc=self.target.text(), warmup_s=PipelineConfig().live_calibration_s)
            streamer = ProcessPoseStreamer(channels, max_fps=float(self.rate.currentData()))
        except MonocapError as exc:
            self._set_status(str(exc), "error")
            return False
        self.switch.attach(streamer)
        self._set_status("waiting for poses", "idle")
        self._timer.start()
        return True

    def _stop(self) -> None:
        self._timer.stop()
        self.switch.detach()

    @Slot(bool)
    def _on_toggled(self, on: bool) -> None:
        if on and not self._start():
            self.button.setChecked(False)  # comes back here with on=False
            return
        if not on:
            self._stop()
            if not self.status.property("level") == "error":
                self._set_status("off", "idle")
        self._save()
        self.streamingChanged.emit(self.streaming)

    @Slot()
    def _on_options_changed(self) -> None:
        self._save()
        if self.button.isChecked():
            self._stop()
            if not self._start():
                self.button.setChecked(False)

    def _show_status(self) -> None:
        streamer = self.switch.streamer
        if streamer is None:
            if self.switch.failure:
                self._set_status(self.switch.failure, "error")
                self.button.setChecked(False)
            return
        stats = streamer.stats()
        if stats.receiver == "no receiver":
            self._set_status(f"no receiver at {self.target.text()}", "idle")
        elif stats.receiver in ("sending", "waiting"):
            self._set_status(f"{stats.packets_per_s:.0f} packets/s" if stats.packets_sent else "waiting for poses", "ok")
        else:
            self._set_status(stats.receiver, "error")

    def _set_status(self, text: str, level: str) -> None:
        text = one_line(text)
        self.status.setText(text)
        self.status.setToolTip(text)
        self.status.setProperty("level", level)
        colour = {"error": "#c0392b", "ok": "", "idle": "#808080"}[level]
        self.status.setStyleSheet(f"color: {colour}" if colour else "")

    def _save(self) -> None:
        self.qsettings.setValue("stream/target", self.target.text().strip())
        self.qsettings.setValue("stream/rate", self.rate.currentText())
        self.qsettings.setValue("stream/on", self.button.isChecked())

    def shutdown(self) -> None:
        self._save()
        self._stop()
