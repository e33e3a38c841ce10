"""Joint angles over time (engine.core.joint_angles), with a cursor that follows the timeline."""

from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from engine.core.joint_angles import ANGLES, joint_angles
from engine.core.skeletons import Skeleton
from engine.session.pipeline import FACE_CURVES

PALETTE = ["#ff8c00", "#00c8ff", "#ffd700", "#7cfc00", "#ff69b4", "#b19cd9", "#f08080", "#20b2aa"]
DEFAULT_ANGLES = ("left_knee", "right_knee")
LIVE_WINDOW_S = 10.0
ANGLE_RANGE_DEG = (0.0, 180.0)  # every angle plotted lies in it (flexion, elevation)
# Live, the axes never move: time runs from -10 s to now (0) and the curves scroll through it.
# (A range that changes on every redraw regenerates the axis ticks each time, and that drawing path
# in PySide6 6.11 takes references from None that it never gives back.)
# The face's values (docs/FACE.md) share the axis: its angles (*_deg) in degrees, signed, so the axis
# then reaches down to FACE_ANGLE_LOW_DEG; its 0-1 values (blink, mouth, brows) as percent (x 100).
FACE_ANGLE_LOW_DEG = -90.0
FACE_PERCENT = 100.0


def face_label(name: str) -> str:
    """'blink_left' -> 'face: blink left (%)', 'head_yaw_deg' -> 'face: head yaw (°)'."""
    if name.endswith("_deg"):
        return "face: " + name[:-4].replace("_", " ") + " (°)"
    return "face: " + name.replace("_", " ") + " (%)"


class StayOpenMenu(QMenu):
    """A menu of check boxes that stays open while they are ticked (Qt closes it after each one)."""

    def mouseReleaseEvent(self, event):
        action = self.actionAt(event.position().toPoint())
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event):
        action = self.activeAction()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and action is not None \
                and action.isCheckable() and action.isEnabled():
            action.trigger()
            return
        super().keyPressEvent(event)


class AnglePlot(QWidget):
    selectionChanged = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.choose = QToolButton(text="Joints ▾", toolTip="Which joint angles to plot")
        self.choose.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = StayOpenMenu(self.choose)
        self.actions: dict[str, QAction] = {}
        for name in ANGLES:
            act = QAction(name.replace("_", " "), menu, checkable=True)
            act.setChecked(name in DEFAULT_ANGLES)
            act.toggled.connect(self._selection_changed)
            menu.addAction(act)
            self.actions[name] = act
        # the face's curves: offered only while the face is tracked (live) or the take has them
        self._face_section = menu.addSection("Face")
        self._face_section.setVisible(False)
        for name in FACE_CURVES:
            act = QAction(face_label(name), menu, checkable=True, visible=False)
            act.toggled.connect(self._selection_changed)
            menu.addAction(act)
            self.actions[name] = act
        self._face_names: tuple[str, ...] = ()  # the face's curves available now
        self._take_face: dict[str, np.ndarray] = {}
        self._live_face: deque = deque()  # (C,) face values of each live time kept, or None
        self.choose.setMenu(menu)
        self.menu = menu
        bar.addWidget(self.choose)
        # the legend sits beside the button, never over the curves
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        bar.addWidget(self.legend)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.plot = pg.PlotWidget(background=(28, 30, 36))
        # fixed units: pyqtgraph would switch between ms and s (and ° and k°) as the range changes
        for axis, label in (("left", "angle (°)"), ("bottom", "time (s)")):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
            self.plot.setLabel(axis, label)
        self.plot.setMinimumHeight(120)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a picture: Tab passes it by
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#ffffff", width=1))
        self.plot.addItem(self.cursor)
        self._live_axes()
        self.plot.setYRange(*ANGLE_RANGE_DEG, padding=0)
        lay.addWidget(self.plot)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._take_times: np.ndarray | None = None
        self._take_angles: dict[str, np.ndarray] = {}
        self._joints = None
        self._skeleton: Skeleton | None = None
        self._live_t: deque = deque()
        self._live_joints: deque = deque()  # (J, 3) world metres of each live time kept, or None

    def selected(self) -> list[str]:
        return [n for n, a in self.actions.items() if a.isChecked()]

    def set_selected(self, names) -> None:
        for n, a in self.actions.items():
            a.blockSignals(True)
            a.setChecked(n in names)
            a.blockSignals(False)
        self._selection_changed()

    def offered(self) -> list[str]:
        """The curves the menu offers now (the face's only when it has values)."""
        return [n for n, a in self.actions.items() if a.isVisible()]

    def _offer_face(self, names) -> None:
        names = tuple(n for n in names if n in FACE_CURVES)
        if names == self._face_names:
            return
        self._face_names = names
        self._face_section.setVisible(bool(names))
        for name in FACE_CURVES:
            self.actions[name].setVisible(name in names)

    def _selection_changed(self, *_):
        if self._joints is not None:
            self._draw_take()
        else:
            self._rebuild_curves()
            self._draw_live()  # the last seconds again, with the angles now ticked (also once the source ended)
        self.selectionChanged.emit(self.selected())

    def _rebuild_curves(self) -> None:
        for c in self.curves.values():
            self.plot.removeItem(c)
        self.curves.clear()
        names = [n for n in self.selected() if n in self._face_names
                 or (n in ANGLES and (self._skeleton is None or self._has(n)))]
        legend = []
        for i, name in enumerate(names):
            colour = PALETTE[i % len(PALETTE)]
            self.curves[name] = self.plot.plot(pen=pg.mkPen(colour, width=2))
            legend.append(f"<span style='color:{colour}'>━ {name.replace('_', ' ')}</span>")
        self.legend.setText("&nbsp;&nbsp;".join(legend))
        face = [n for n in names if n in FACE_CURVES]
        self.plot.setLabel("left", "angle (°) · face (%)" if face else "angle (°)")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        low = FACE_ANGLE_LOW_DEG if any(n.endswith("_deg") for n in face) else ANGLE_RANGE_DEG[0]
        self.plot.setYRange(low, ANGLE_RANGE_DEG[1], padding=0)

    @staticmethod
    def _face_values(name: str, values: np.ndarray) -> np.ndarray:
        return values if name.endswith("_deg") else values * FACE_PERCENT

    def _has(self, name: str) -> bool:
        d = ANGLES[name]
        return d.joints <= set(self._skeleton.joint_names)

    def set_take(self, times_s: np.ndarray, joints_m: np.ndarray, skeleton: Skeleton,
                 face_curves: np.ndarray | None = None, face_names=()) -> None:
        """Playback: the whole take's curves (face_curves (T, C) named face_names, when it has them)."""
        self._take_times, self._joints, self._skeleton = times_s, joints_m, skeleton
        names = tuple(face_names) if face_curves is not None else ()
        self._take_face = {n: np.asarray(face_curves[:, i], float) for i, n in enumerate(names)}
        self._offer_face(names)
        self._draw_take()

    def _draw_take(self) -> None:
        times_s = self._take_times
        self._rebuild_curves()
        angles = joint_angles(self._joints, self._skeleton, [n for n in self.curves if n in ANGLES])
        self._take_angles = angles
        for name, curve in self.curves.items():
            values = angles[name] if name in ANGLES else self._face_values(name, self._take_face[name])
            curve.setData(times_s, values, connect="finite")
        end = float(times_s[-1]) if len(times_s) else LIVE_WINDOW_S
        self._time_label("time (s)")
        self.plot.setXRange(0.0, max(end, 1.0), padding=0.01)

    def set_cursor(self, t: float) -> None:
        self.cursor.setValue(t)

    def start_live(self, skeleton: Skeleton | None = None) -> None:
        self._joints = None
        self._take_times = None
        self._skeleton = skeleton
        self._live_t = deque()
        self._live_joints = deque()
        self._live_face = deque()
        self._offer_face(())  # until a pose says the face is tracked
        self._rebuild_curves()
        self._live_axes()

    def _time_label(self, text: str) -> None:
        self.plot.setLabel("bottom", text)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)

    def _live_axes(self) -> None:
        self._time_label("time (s, 0 = now)")
        self.plot.setXRange(-LIVE_WINDOW_S, 0.0, padding=0)
        self.cursor.setValue(0.0)

    def add_live(self, t: float, joints_m: np.ndarray | None, skeleton: Skeleton, redraw: bool = True,
                 face: np.ndarray | None = None) -> None:
        """face: the face's values (FACE_CURVES) when the face is tracked (NaN where not seen), else None."""
        if self._skeleton is not skeleton:
            self.start_live(skeleton)
        if self._joints is not None:
            return
        if face is not None and not self._face_names:
            self._offer_face(FACE_CURVES)
            self._rebuild_curves()
        self._live_t.append(t)
        self._live_joints.append(None if joints_m is None else np.asarray(joints_m, dtype=np.float32))
        self._live_face.append(None if face is None else np.asarray(face, dtype=np.float32))
        while self._live_t and self._live_t[0] < t - LIVE_WINDOW_S:
            self._live_t.popleft()
            self._live_joints.popleft()
            self._live_face.popleft()
        if redraw:
            self._draw_live()

    def _draw_live(self) -> None:
        """The curves of the angles ticked over the live seconds kept (the joints are kept, not the
        angles, so an angle ticked later has its past too)."""
        if not self._live_t or self._skeleton is None or not self.curves:
            return
        tt = np.fromiter(self._live_t, float)
        nan = np.full((self._skeleton.num_joints, 3), np.nan, np.float32)
        joints = np.stack([nan if j is None else j for j in self._live_joints])
        angles = joint_angles(joints, self._skeleton, [n for n in self.curves if n in ANGLES])
        if any(n in FACE_CURVES for n in self.curves):
            gone = np.full(len(FACE_CURVES), np.nan, np.float32)
            face = np.stack([gone if f is None else f for f in self._live_face])
            for i, name in enumerate(FACE_CURVES):
                angles[name] = self._face_values(name, face[:, i].astype(float))
        for name, curve in self.curves.items():
            curve.setData(tt - tt[-1], angles[name], connect="finite")
