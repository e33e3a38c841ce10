"""Joint angles over time (engine.motion.joint_angles), with a cursor that follows the timeline."""

from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QMenu, QToolButton, QVBoxLayout, QWidget

from engine.motion.joint_angles import ANGLES, joint_angles
from engine.core.skeletons import Skeleton

PALETTE = ["#ff8c00", "#00c8ff", "#ffd700", "#7cfc00", "#ff69b4", "#b19cd9", "#f08080", "#20b2aa"]
DEFAULT_ANGLES = ("left_knee", "right_knee")
LIVE_WINDOW_S = 10.0


class AnglePlot(QWidget):
    selectionChanged = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.choose = QToolButton(text="Joints ▾", toolTip="Which joint angles to plot")
        self.choose.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.choose)
        self.actions: dict[str, QAction] = {}
        for name in ANGLES:
            act = QAction(name.replace("_", " "), menu, checkable=True)
            act.setChecked(name in DEFAULT_ANGLES)
            act.toggled.connect(self._selection_changed)
            menu.addAction(act)
            self.actions[name] = act
        self.choose.setMenu(menu)
        bar.addWidget(self.choose)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.plot = pg.PlotWidget(background=(28, 30, 36))
        self.plot.setLabel("left", "angle", units="°")
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.addLegend(offset=(5, 5))
        self.plot.setMinimumHeight(120)
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#ffffff", width=1))
        self.plot.addItem(self.cursor)
        lay.addWidget(self.plot)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._take_times: np.ndarray | None = None
        self._take_angles: dict[str, np.ndarray] = {}
        self._joints = None
        self._skeleton: Skeleton | None = None
        self._live_t: deque = deque()
        self._live: dict[str, deque] = {}

    def selected(self) -> list[str]:
        return [n for n, a in self.actions.items() if a.isChecked()]

    def set_selected(self, names) -> None:
        for n, a in self.actions.items():
            a.blockSignals(True)
            a.setChecked(n in names)
            a.blockSignals(False)
        self._selection_changed()

    def _selection_changed(self, *_):
        if self._joints is not None:
            self.set_take(self._take_times, self._joints, self._skeleton)
        else:
            self._rebuild_curves()
        self.selectionChanged.emit(self.selected())

    def _rebuild_curves(self) -> None:
        for c in self.curves.values():
            self.plot.removeItem(c)
        self.curves.clear()
        names = [n for n in self.selected() if self._skeleton is None or self._has(n)]
        for i, name in enumerate(names):
            self.curves[name] = self.plot.plot(pen=pg.mkPen(PALETTE[i % len(PALETTE)], width=2), name=name.replace("_", " "))

    def _has(self, name: str) -> bool:
        d = ANGLES[name]
        return d.joints <= set(self._skeleton.joint_names)

    def set_take(self, times_s: np.ndarray, joints_m: np.ndarray, skeleton: Skeleton) -> None:
        """Playback: the whole take's curves."""
        self._take_times, self._joints, self._skeleton = times_s, joints_m, skeleton
        self._rebuild_curves()
        angles = joint_angles(joints_m, skeleton, list(self.curves))
        self._take_angles = angles
        for name, curve in self.curves.items():
            curve.setData(times_s, angles[name], connect="finite")
        self.plot.enableAutoRange()

    def set_cursor(self, t: float) -> None:
        self.cursor.setValue(t)

    def start_live(self, skeleton: Skeleton | None = None) -> None:
        self._joints = None
        self._take_times = None
        self._skeleton = skeleton
        self._live_t = deque()
        self._live = {}
        self._rebuild_curves()

    def add_live(self, t: float, joints_m: np.ndarray | None, skeleton: Skeleton, redraw: bool = True) -> None:
        if self._skeleton is not skeleton:
            self.start_live(skeleton)
        if self._joints is not None:
            return
        self._live_t.append(t)
        values = joint_angles(joints_m, skeleton, list(self.curves)) if joints_m is not None else {}
        for name in self.curves:
            self._live.setdefault(name, deque()).append(float(values.get(name, np.nan)))
        while self._live_t and self._live_t[0] < t - LIVE_WINDOW_S:
            self._live_t.popleft()
            for d in self._live.values():
                if len(d) > len(self._live_t):
                    d.popleft()
        if redraw:
            tt = np.fromiter(self._live_t, float)
            for name, curve in self.curves.items():
                v = np.fromiter(self._live.get(name, ()), float)
                n = min(len(tt), len(v))
                curve.setData(tt[-n:], v[-n:], connect="finite")
            self.cursor.setValue(t)
