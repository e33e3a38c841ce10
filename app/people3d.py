"""Everyone tracked, in the 3D view: each person's bones and joints in their own colour (the 2D
overlay's palette, app/people_overlay.person_colour) with their number above the head, the person
followed drawn wide; and which person a click on the view lands on (their bones projected to the
screen, the nearest within a few pixels)."""

from __future__ import annotations

import numpy as np
import pyqtgraph.opengl as gl
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter

from engine.core.skeletons import Skeleton

from .gl_axes import to_gl
from .people_overlay import person_colour, person_rgba

PICK_TOLERANCE_PX = 12.0  # a click this close to a person's bone or joint picks them
LABEL_LIFT_M = 0.18  # the number floats this far above the person's highest joint
CHOSEN_WIDTH, OTHER_WIDTH = 5.0, 2.0  # bone widths, pixels
CHOSEN_JOINT, OTHER_JOINT = 9.0, 5.0  # joint sizes, pixels


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances from point p (2,) to segments a -> b (E, 2) each."""
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0.0, 1.0)
    return np.linalg.norm(a + t[:, None] * ab - p, axis=1)


class PeopleLayer:
    """GL items added to a view (app/view3d.SkeletonView: `addItem`, `project`); `set_people` each
    frame (live or playback)."""

    def __init__(self, view):
        self.view = view
        self.other_bones = gl.GLLinePlotItem(mode="lines", width=OTHER_WIDTH, antialias=False)
        self.chosen_bones = gl.GLLinePlotItem(mode="lines", width=CHOSEN_WIDTH, antialias=False)
        self.joints = gl.GLScatterPlotItem(pxMode=True)
        self.joints.setGLOptions("opaque")
        for item in (self.other_bones, self.chosen_bones, self.joints):
            view.addItem(item)
        self.labels: list[tuple[int, np.ndarray]] = []  # (number, world point above the head) of each drawn
        self.poses: dict[int, np.ndarray] = {}
        self.chosen: int | None = None
        self.skeleton: Skeleton | None = None

    @property
    def active(self) -> bool:
        """Drawn here: several people, or someone other than the person followed (the person
        followed alone is the view's own skeleton)."""
        return len(self.poses) > 1 or (len(self.poses) == 1 and self.chosen not in self.poses)

    def clear(self) -> None:
        self.set_people({}, None, None)

    def set_people(self, poses: dict[int, np.ndarray], skeleton: Skeleton | None, chosen: int | None) -> None:
        """poses: tracker id (the number shown) -> (J, 3) world metres; people with joints missing
        are left out."""
        self.poses = {pid: j for pid, j in poses.items() if j is not None and np.isfinite(j).all()}
        self.chosen = chosen
        self.skeleton = skeleton
        if not self.active:
            for item in (self.other_bones, self.chosen_bones, self.joints):
                item.setVisible(False)
            self.labels = []
            return
        ids = sorted(self.poses)
        edges = np.array(skeleton.edges, dtype=int).reshape(-1)
        stacked = to_gl(np.stack([self.poses[pid] for pid in ids])).astype(np.float32)  # (N, J, 3)
        colours = np.array([person_rgba(pid) for pid in ids], dtype=np.float32)
        is_chosen = np.array([pid == chosen for pid in ids])
        others = ~is_chosen
        n_j, n_e = stacked.shape[1], len(edges)
        self.other_bones.setData(pos=stacked[others][:, edges].reshape(-1, 3),
                                 color=np.repeat(colours[others], n_e, axis=0))
        self.chosen_bones.setData(pos=stacked[is_chosen][:, edges].reshape(-1, 3),
                                  color=np.repeat(colours[is_chosen], n_e, axis=0))
        sizes = np.where(is_chosen, CHOSEN_JOINT, OTHER_JOINT).astype(np.float32)
        self.joints.setData(pos=stacked.reshape(-1, 3), color=np.repeat(colours, n_j, axis=0),
                            size=np.repeat(sizes, n_j))
        for item in (self.other_bones, self.chosen_bones, self.joints):
            item.setVisible(True)
        self.labels = [(pid, self.poses[pid][np.argmax(self.poses[pid][:, 1])] + (0.0, LABEL_LIFT_M, 0.0))
                       for pid in ids]

    def draw_labels(self, painter: QPainter) -> None:
        """Each person's number on a tag in their colour, as the 2D overlay draws it, above their head."""
        if not self.active:
            return
        painter.save()
        font = QFont(painter.font())
        font.setBold(True)
        font.setPointSizeF(max(9.0, font.pointSizeF() * 1.1))
        painter.setFont(font)
        points = self.view.project(np.array([p for _, p in self.labels]))
        for (pid, _), (x, y) in zip(self.labels, points):
            if not np.isfinite([x, y]).all():
                continue
            tag = QRectF(x - 12, y - 20, 24, 20)
            painter.fillRect(tag, person_colour(pid))
            painter.setPen(QColor(15, 15, 15))
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, str(pid))
        painter.restore()

    def person_at(self, x: float, y: float, tolerance_px: float = PICK_TOLERANCE_PX) -> int | None:
        """The person drawn nearest to view point (x, y) (pixels, y down), if within the tolerance."""
        if not self.active:
            return None
        edges = np.array(self.skeleton.edges, dtype=int)
        click = np.array([x, y], dtype=np.float64)
        best, best_d = None, tolerance_px
        for pid, joints in self.poses.items():
            screen = self.view.project(joints)
            if not np.isfinite(screen).all():
                continue
            d = min(float(np.min(np.linalg.norm(screen - click, axis=1))),
                    float(np.min(_segment_distance(click, screen[edges[:, 0]], screen[edges[:, 1]]))))
            if d <= best_d:
                best, best_d = pid, d
        return best
