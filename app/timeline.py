"""Playback controls for a take: slider to scrub, play/pause, speed, frame step."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProxyStyle, QSlider, QStyle, QToolButton, QWidget

from engine.core.take import DEFAULT_FPS

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
PLAY, PAUSE = "▶", "❚❚"


class JumpToClick(QProxyStyle):
    """A click on a slider's groove puts the handle there (the platform's style may step a page instead)."""

    def styleHint(self, hint, option=None, widget=None, returnData=None):
        if hint == QStyle.StyleHint.SH_Slider_AbsoluteSetButtons:
            return Qt.MouseButton.LeftButton.value
        return super().styleHint(hint, option, widget, returnData)


class Timeline(QWidget):
    frameChanged = Signal(int)
    playingChanged = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._frames = 0
        self._fps = DEFAULT_FPS
        self._play_start: tuple[float, int] | None = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        self.step_back = QToolButton(text="◀|", toolTip="Previous frame (,)")
        self.play_button = QToolButton(text=PLAY, toolTip="Play / pause (Space)")
        self.play_button.setCheckable(True)
        widest = 0
        for text in (PAUSE, PLAY):  # one width for both, so the slider beside it never shifts
            self.play_button.setText(text)
            widest = max(widest, self.play_button.sizeHint().width())
        self.play_button.setFixedWidth(widest)
        self.step_fwd = QToolButton(text="|▶", toolTip="Next frame (.)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self._slider_style = JumpToClick()  # kept: the slider does not own its style
        self.slider.setStyle(self._slider_style)
        self.slider.setRange(0, 0)
        self.speed = QComboBox(toolTip="Playback speed")
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.label = QLabel("no take")
        self.label.setMinimumWidth(230)
        for w in (self.step_back, self.play_button, self.step_fwd):
            lay.addWidget(w)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.speed)
        lay.addWidget(self.label)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.slider.valueChanged.connect(self._on_value)
        self.play_button.toggled.connect(self.set_playing)
        self.step_back.clicked.connect(lambda: self.step(-1))
        self.step_fwd.clicked.connect(lambda: self.step(1))
        self.speed.currentIndexChanged.connect(lambda _: self._restart_clock())
        self.setEnabled(False)

    @property
    def frame(self) -> int:
        return self.slider.value()

    def set_take(self, frames: int, fps: float) -> None:
        self.set_playing(False)
        self._frames = frames
        self._fps = fps or DEFAULT_FPS
        self.setEnabled(frames > 0)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(frames - 1, 0))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._on_value(0)

    def clear(self) -> None:
        self.set_playing(False)
        self._frames = 0
        self.slider.setRange(0, 0)
        self.label.setText("no take")
        self.setEnabled(False)

    def set_frame(self, i: int) -> None:
        self.slider.setValue(max(0, min(i, self._frames - 1)))

    def step(self, delta: int) -> None:
        self.set_playing(False)
        self.set_frame(self.frame + delta)

    @Slot(bool)
    def set_playing(self, on: bool) -> None:
        if self.play_button.isChecked() != on:
            self.play_button.blockSignals(True)
            self.play_button.setChecked(on)
            self.play_button.blockSignals(False)
        self.play_button.setText(PAUSE if on else PLAY)
        was = self.timer.isActive()
        if on and self._frames:
            if self.frame >= self._frames - 1:
                self.set_frame(0)  # at the end, play starts again from the beginning
            self._restart_clock()
            self.timer.start(10)
        else:
            self.timer.stop()
            self._play_start = None
        if self.timer.isActive() != was:
            self.playingChanged.emit(self.timer.isActive())

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def toggle_play(self) -> None:
        self.set_playing(not self.timer.isActive())

    def _restart_clock(self) -> None:
        self._play_start = (time.perf_counter(), self.frame)

    def _tick(self) -> None:
        if self._play_start is None:
            return
        t0, f0 = self._play_start
        target = f0 + int((time.perf_counter() - t0) * self._fps * self.speed.currentData())
        if target >= self._frames - 1:
            self.set_frame(self._frames - 1)
            self.set_playing(False)
        elif target != self.frame:
            self.set_frame(target)

    def _on_value(self, i: int) -> None:
        self.label.setText(f"{i + 1} / {self._frames}  ({i / self._fps:.2f} s of {self._frames / self._fps:.2f} s)")
        self.frameChanged.emit(i)
