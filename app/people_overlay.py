"""Everyone tracked in a frame, drawn over the video: a box and a number per person in their own
colour (the person followed drawn bold), and which person a click lands on. `person_colour` is the
one palette: the 3D view (app/people3d.py) draws each person in the same colour."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

# distinct hues for people 1, 2, 3 ...; the list repeats after its end
PERSON_HUES = (30, 200, 120, 300, 55, 250, 0, 170)


def person_colour(person_id: int) -> QColor:
    return QColor.fromHsv(PERSON_HUES[(person_id - 1) % len(PERSON_HUES)], 210, 255)


def person_rgba(person_id: int, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """person_colour as GL's floats in [0, 1]."""
    c = person_colour(person_id)
    return c.redF(), c.greenF(), c.blueF(), alpha


@dataclass(frozen=True, eq=False)
class PersonMark:
    """One person in one frame as the overlay needs them: id and box (x0, y0, x1, y1) in image
    pixels, and their 2D keypoints (K, 2) with scores (K,) when known."""

    id: int
    box: tuple[float, float, float, float]
    keypoints_px: np.ndarray | None = None
    scores: np.ndarray | None = None


def marks_from_people(people) -> tuple[PersonMark, ...]:
    """engine.capture.people.TrackedPerson list -> marks."""
    return tuple(PersonMark(p.id, tuple(float(v) for v in p.detection.box_xyxy), p.detection.keypoints_px,
                            p.detection.scores) for p in people)


def marked(marks: tuple[PersonMark, ...], chosen: int | None) -> bool:
    """Whether the people are marked (boxes and numbers): someone other than the person followed is in
    view. The person followed alone is marked by their own skeleton."""
    return any(m.id != chosen for m in marks)


def person_at(marks: tuple[PersonMark, ...], x: float, y: float, margin: float = 0.1) -> int | None:
    """The person whose box (grown by `margin` of its size) holds image point (x, y); the
    smallest such box when several do (the one in front is usually the nearer, larger one, but a
    click inside a small box means that person)."""
    best, best_area = None, np.inf
    for m in marks:
        x0, y0, x1, y1 = m.box
        gx, gy = (x1 - x0) * margin, (y1 - y0) * margin
        if x0 - gx <= x <= x1 + gx and y0 - gy <= y <= y1 + gy:
            area = (x1 - x0) * (y1 - y0)
            if area < best_area:
                best, best_area = m.id, area
    return best


def draw_people(painter: QPainter, marks: tuple[PersonMark, ...], chosen: int | None, scale: float,
                offset: QPointF) -> None:
    """Draws each person's box and number; image pixels map to widget points by scale and offset."""
    painter.save()
    font = QFont(painter.font())
    font.setBold(True)
    font.setPointSizeF(max(9.0, font.pointSizeF() * 1.1))
    painter.setFont(font)
    for m in marks:
        colour = person_colour(m.id)
        x0, y0, x1, y1 = m.box
        rect = QRectF(offset.x() + x0 * scale, offset.y() + y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale)
        painter.setPen(QPen(colour, 3.0 if m.id == chosen else 1.5,
                            Qt.PenStyle.SolidLine if m.id == chosen else Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect)
        label = QRectF(rect.left(), rect.top() - 20, 30, 20)
        painter.fillRect(label, colour)
        painter.setPen(QColor(15, 15, 15))
        painter.drawText(label, Qt.AlignmentFlag.AlignCenter, str(m.id))
    painter.restore()


def draw_others_skeletons(painter: QPainter, marks: tuple[PersonMark, ...], chosen: int | None,
                          edges: tuple[tuple[int, int], ...], score_min: float, scale: float, offset: QPointF) -> None:
    """The 2D skeleton of everyone but the person followed, thin, in their colour (the person followed
    gets the left/right colours of the image view)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    for m in marks:
        if m.id == chosen or m.keypoints_px is None:
            continue
        pts = m.keypoints_px * scale + np.array([offset.x(), offset.y()])
        ok = m.scores > score_min if m.scores is not None else np.ones(len(pts), bool)
        painter.setPen(QPen(person_colour(m.id), 1.6))
        painter.drawLines([QLineF(QPointF(*pts[a]), QPointF(*pts[b])) for a, b in edges if ok[a] and ok[b]])
    painter.restore()
