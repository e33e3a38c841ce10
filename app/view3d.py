"""The 3D view: floor grid on the ground, bones, joints, foot and root trails, follow mode, and
everyone tracked when several people are (app/people3d.py; a click on one emits `personClicked`).
Points go into the scene through `app.gl_axes.to_gl` (the world is Y up, the GL scene Z up).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph.opengl as gl
from pyqtgraph.opengl.GLViewWidget import GLViewMixin
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QOpenGLContext, QPainter, QVector3D
from PySide6.QtOpenGL import QOpenGLWindow
from PySide6.QtWidgets import QSizePolicy, QWidget

from engine.core.skeletons import Skeleton, frame_joints

from .gl_axes import to_gl
from .people3d import PeopleLayer

LEFT_RGBA = (1.0, 0.55, 0.0, 1.0)  # orange
RIGHT_RGBA = (0.0, 0.78, 1.0, 1.0)  # cyan
CENTRE_RGBA = (0.92, 0.92, 0.92, 1.0)  # near white
JOINT_RGBA = (1.0, 0.92, 0.2, 1.0)  # yellow
BACKGROUND = (28, 30, 36)
TRAIL_JOINTS = {"left_ankle": (1.0, 0.55, 0.0, 0.55), "right_ankle": (0.0, 0.78, 1.0, 0.55), "pelvis": (0.7, 0.7, 0.7, 0.55)}
TRAIL_LENGTH = 90  # frames
CLICK_SLOP_PX = 4.0  # a press and release this close together is a click, not a turn of the view
KEEP_IN_VIEW_M = 1.5  # a take whose root travels further than this is followed while it plays
FIT_MARGIN = 0.08  # everyone drawn stays this part of the view's size inside its edges ...
FIT_MAX_DISTANCE_M = 40.0  # ... as long as the camera need not go further back than this


def bone_colours(skeleton: Skeleton) -> np.ndarray:
    """(2 * E, 4) RGBA per line vertex: left bones orange, right cyan, the rest white."""
    out = []
    for a, b in skeleton.edges:
        child = skeleton.joint_names[b]
        parent = skeleton.joint_names[a]
        if child.startswith("left_") or (parent.startswith("left_") and not child.startswith("right_")):
            c = LEFT_RGBA
        elif child.startswith("right_") or parent.startswith("right_"):
            c = RIGHT_RGBA
        else:
            c = CENTRE_RGBA
        out += [c, c]
    return np.array(out, dtype=np.float32)


class SkeletonView(GLViewMixin, QOpenGLWindow):
    """pyqtgraph's GL view as a QOpenGLWindow (embed it with `container()`).

    A native GL window draws straight to the screen; a QOpenGLWidget would make Qt compose the
    whole main window through OpenGL on every repaint, which costs tens of milliseconds per frame
    with software rendering.
    """

    personClicked = Signal(int)  # the tracker id (the number shown) of the person clicked on

    HOME = dict(distance=4.2, elevation=12.0, azimuth=-90.0)
    HOME_CENTRE = (0.0, 0.0, 0.9)

    def __init__(self):
        super().__init__(QOpenGLContext.globalShareContext(), QOpenGLWindow.UpdateBehavior.NoPartialUpdate)
        self.setBackgroundColor(BACKGROUND)
        self._container: QWidget | None = None
        grid = gl.GLGridItem()
        grid.setSize(8, 8)
        grid.setSpacing(0.5, 0.5)
        grid.setColor((120, 125, 135, 160))
        self.addItem(grid)
        self.grid = grid
        self.bones = gl.GLLinePlotItem(mode="lines", width=3.0, antialias=False)
        self.joints = gl.GLScatterPlotItem(size=7.0, color=JOINT_RGBA, pxMode=True)
        self.joints.setGLOptions("opaque")
        self.addItem(self.bones)
        self.addItem(self.joints)
        self.trail_items = {}
        for name, colour in TRAIL_JOINTS.items():
            item = gl.GLLinePlotItem(mode="line_strip", width=1.5, color=colour, antialias=False)
            self.addItem(item)
            self.trail_items[name] = item
        self._trails: dict[str, deque] = {n: deque(maxlen=TRAIL_LENGTH) for n in TRAIL_JOINTS}
        self.follow = False
        self.take_follow = False  # the take shown travels: followed while it plays, whatever Follow says
        self.show_trails = True
        self.skeleton: Skeleton | None = None
        self._colours = None
        self.last_joints_m: np.ndarray | None = None
        self.people = PeopleLayer(self)
        self._press: QPointF | None = None
        self._press_pick: int | None = None  # the person under the pointer when it was pressed
        self.user_moved = False  # the user turned, moved or zoomed the view since it was reset
        self.reset_view()

    def devicePixelRatioF(self) -> float:
        return float(self.devicePixelRatio())

    def container(self, parent=None) -> QWidget:
        """The QWidget that holds this window in a layout (created once)."""
        if self._container is None:
            self._container = QWidget.createWindowContainer(self, parent)
            self._container.setMinimumSize(320, 240)
            self._container.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            self._container.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # Tab reaches it: Home, the arrows turn it
        return self._container

    def reset_view(self) -> None:
        self.setCameraPosition(pos=QVector3D(*self.HOME_CENTRE), **self.HOME)
        self.user_moved = False

    def fit_people(self) -> None:
        """Everyone drawn comes into view: the camera moves back (and, without Follow, over their
        middle) until each joint is inside the view's edges. Only while the user has not moved the
        view themselves, and never closer: the view does not pump as people come and go."""
        if self.user_moved or not self.people.active or self.width() <= 0 or self.height() <= 0:
            return
        points = np.concatenate(list(self.people.poses.values()))
        if self._inside(points):
            return
        if not (self.follow or self.take_follow):
            low, high = points.min(axis=0), points.max(axis=0)
            self._follow_to((low + high) / 2)
        while not self._inside(points) and self.opts["distance"] < FIT_MAX_DISTANCE_M:
            self.opts["distance"] *= 1.15
        self.update()

    def _inside(self, points_world: np.ndarray) -> bool:
        xy = self.project(points_world)
        w, h = self.width(), self.height()
        return bool(np.all(np.isfinite(xy)) and np.all((xy[:, 0] >= FIT_MARGIN * w) & (xy[:, 0] <= (1 - FIT_MARGIN) * w)
                                                       & (xy[:, 1] >= FIT_MARGIN * h) & (xy[:, 1] <= (1 - FIT_MARGIN) * h)))

    def set_follow(self, on: bool) -> None:
        self.follow = on
        if on and self.last_joints_m is not None:
            self._follow_to(self.last_joints_m)

    def show_take(self, joints_m: np.ndarray) -> None:
        """A take is shown, (T, J, 3) world metres (NaN where nobody): the view turns to where it is,
        and follows it while it plays when it travels (a walk would walk out of a fixed view)."""
        roots = joints_m[:, 0][np.isfinite(joints_m[:, 0]).all(axis=1)] if len(joints_m) else np.zeros((0, 3))
        if not len(roots):
            self.take_follow = False
            return
        travel = float(np.max(np.ptp(roots[:, [0, 2]], axis=0)))
        self.take_follow = travel > KEEP_IN_VIEW_M
        self._follow_to(roots[0] if self.take_follow else np.mean(roots, axis=0))

    def leave_take(self) -> None:
        """Back to a source: the view follows only if Follow is on."""
        self.take_follow = False

    def set_trails_visible(self, on: bool) -> None:
        self.show_trails = on
        for item in self.trail_items.values():
            item.setVisible(on)

    def clear_trails(self) -> None:
        for d in self._trails.values():
            d.clear()
        for item in self.trail_items.values():
            item.setData(pos=np.zeros((0, 3), np.float32))

    def clear_pose(self) -> None:
        self.bones.setData(pos=np.zeros((0, 3), np.float32))
        self.joints.setData(pos=np.zeros((0, 3), np.float32))
        self.last_joints_m = None

    def set_people(self, poses: dict[int, np.ndarray], skeleton: Skeleton | None, chosen: int | None) -> None:
        """Everyone tracked (id -> (J, 3) world metres) and the person followed; with several
        people they are drawn each in their colour in place of the one skeleton."""
        self.people.set_people(poses, skeleton, chosen)
        self.fit_people()
        alone = not self.people.active
        self.bones.setVisible(alone)
        self.joints.setVisible(alone)
        self.update()

    def paintGL(self, *args, **kwargs):
        super().paintGL(*args, **kwargs)
        if self.people.active:
            painter = QPainter(self)
            self.people.draw_labels(painter)
            painter.end()

    def mousePressEvent(self, ev):
        self._press = ev.position()
        # people move between press and release: the person under the pointer as pressed is the one meant
        self._press_pick = self.people.person_at(self._press.x(), self._press.y())
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev):
        if ev.buttons() != Qt.MouseButton.NoButton and self._press is not None \
                and (ev.position() - self._press).manhattanLength() > CLICK_SLOP_PX:
            self.user_moved = True  # a turn or a pan: the view is the user's now
        super().mouseMoveEvent(ev)

    def wheelEvent(self, ev):
        self.user_moved = True
        super().wheelEvent(ev)

    def mouseReleaseEvent(self, ev):
        press, self._press = self._press, None
        pos = ev.position()
        if press is not None and ev.button() == Qt.MouseButton.LeftButton \
                and (pos - press).manhattanLength() <= CLICK_SLOP_PX:
            pid = self._press_pick if self._press_pick is not None else self.people.person_at(pos.x(), pos.y())
            if pid is not None:
                self.personClicked.emit(pid)
        super().mouseReleaseEvent(ev)

    def _set_skeleton(self, skeleton: Skeleton) -> None:
        if skeleton is not self.skeleton:
            self.skeleton = skeleton
            self._colours = bone_colours(skeleton)
            self._edges = np.array(skeleton.edges, dtype=int).reshape(-1)
            self._trail_idx = {n: skeleton.joint_names.index(n) for n in TRAIL_JOINTS if n in skeleton.joint_names}

    def set_pose(self, joints_m: np.ndarray | None, skeleton: Skeleton, trail: bool = True) -> None:
        """joints_m: (J, 3) world metres, or None (nobody): the last pose stays, dimmed trails keep."""
        self._set_skeleton(skeleton)
        if joints_m is None or not np.isfinite(joints_m[frame_joints(skeleton)]).all():
            return
        if not np.isfinite(joints_m).all():  # a hand out of view: its fingers fold into the wrist
            joints_m = joints_m.copy()
            for i, parent in enumerate(skeleton.parents):
                if parent >= 0 and not np.isfinite(joints_m[i]).all():
                    joints_m[i] = joints_m[parent]
        self.last_joints_m = joints_m
        p = to_gl(joints_m).astype(np.float32)
        self.bones.setData(pos=p[self._edges], color=self._colours)
        self.joints.setData(pos=p)
        if trail:
            for name, i in self._trail_idx.items():
                self._trails[name].append(p[i])
                self._update_trail(name)
        if self.follow or self.take_follow:
            self._follow_to(joints_m)

    def set_trail_history(self, history_m: np.ndarray, skeleton: Skeleton) -> None:
        """Playback: the trails are the take's previous frames, history_m: (N, J, 3)."""
        self._set_skeleton(skeleton)
        for name, i in self._trail_idx.items():
            pts = to_gl(history_m[:, i]).astype(np.float32)
            pts = pts[np.isfinite(pts).all(axis=1)]
            self._trails[name] = deque(pts, maxlen=TRAIL_LENGTH)
            self._update_trail(name)

    def _update_trail(self, name: str) -> None:
        pts = np.array(self._trails[name], dtype=np.float32).reshape(-1, 3)
        self.trail_items[name].setData(pos=pts if len(pts) > 1 else np.zeros((0, 3), np.float32))

    def _follow_to(self, joints_m: np.ndarray) -> None:
        """Centres the view over the root, joints_m: (J, 3), or the root itself (3,)."""
        root = to_gl(joints_m[0] if joints_m.ndim == 2 else joints_m)
        self.opts["center"] = QVector3D(float(root[0]), float(root[1]), float(self.HOME_CENTRE[2]))
        self.update()

    def project(self, points_world: np.ndarray) -> np.ndarray:
        """(N, 3) world -> (N, 2) widget pixel coordinates (x right, y down) of the current view."""
        w, h = self.width(), self.height()
        proj = self.projectionMatrix((0, 0, w, h), (0, 0, w, h))
        mvp = np.array((proj * self.viewMatrix()).data(), dtype=np.float64).reshape(4, 4).T
        p = to_gl(points_world)
        hom = np.concatenate([p, np.ones((len(p), 1))], axis=1) @ mvp.T
        ndc = hom[:, :3] / hom[:, 3:4]
        return np.stack([(ndc[:, 0] + 1) * 0.5 * w, (1 - ndc[:, 1]) * 0.5 * h], axis=1)

    def keyPressEvent(self, ev):
        if ev.key() == Qt.Key.Key_Home:
            self.reset_view()
            return
        if ev.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and self._container is not None:
            self._pass_focus(ev.key() == Qt.Key.Key_Tab and not ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            return
        super().keyPressEvent(ev)

    def _pass_focus(self, forward: bool) -> None:
        """Tab in the 3D view (a native window, outside the widgets' focus chain) moves the focus on to
        the widget after (or before) it, as in the rest of the window."""
        start = self._container
        w = start.nextInFocusChain() if forward else start.previousInFocusChain()
        while w is not None and w is not start:
            if w.isVisible() and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus \
                    and w.window() is start.window():
                start.window().activateWindow()
                w.setFocus(Qt.FocusReason.TabFocusReason if forward else Qt.FocusReason.BacktabFocusReason)
                return
            w = w.nextInFocusChain() if forward else w.previousInFocusChain()
