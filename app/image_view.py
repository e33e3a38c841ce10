"""The video image with the detector's 2D skeleton drawn over it, and everyone else tracked (a box,
a number and a thin skeleton each, app/people_overlay.py) with a hint that a click follows them; a
click on a person emits `personClicked(id)`, a click on the image where nobody is marked
`nobodyClicked`."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from engine.core.skeletons import HAND_EDGES, KEYPOINT_SCORE_MIN, MEDIAPIPE_33, Skeleton

from .people_overlay import PersonMark, draw_others_skeletons, draw_people, marked, person_at

FOLLOW_HINT = "Click a person to follow them"


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """(H, W, 3) uint8 BGR -> a QImage that owns a copy of the pixels."""
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    return QImage(image.data, w, h, image.strides[0], QImage.Format.Format_BGR888).copy()


class ImageView(QWidget):
    personClicked = Signal(int)  # the tracker id of the person clicked on
    nobodyClicked = Signal()  # a click on the image where nobody is marked

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._image: QImage | None = None
        self._kp: np.ndarray | None = None
        self._scores: np.ndarray | None = None
        self._hands: np.ndarray | None = None
        self._face: np.ndarray | None = None
        self._skeleton: Skeleton = MEDIAPIPE_33
        self.placeholder = "Open a video, pick a camera, or play the sample clip"
        self.show_overlay = True
        self._people: tuple[PersonMark, ...] = ()
        self._chosen: int | None = None
        self.clicks_follow = True  # live: a click on a person follows them (the hint says so)

    @property
    def people_marked(self) -> bool:
        """Boxes, numbers and skeletons are drawn for the people in view (someone other than the one followed)."""
        return self.show_overlay and self._image is not None and marked(self._people, self._chosen)

    def set_people(self, marks: tuple[PersonMark, ...], chosen: int | None) -> None:
        """Everyone tracked in the frame shown, and the person followed (drawn bold)."""
        self._people = tuple(marks)
        self._chosen = chosen
        self.update()

    def image_point(self, x: float, y: float) -> tuple[float, float] | None:
        """Widget point -> image pixel, or None outside the image."""
        r = self.image_rect()
        if r.isEmpty() or not r.contains(QPointF(x, y)):
            return None
        s = r.width() / self._image.width()
        return (x - r.left()) / s, (y - r.top()) / s

    def mousePressEvent(self, event):
        pos = event.position()
        point = self.image_point(pos.x(), pos.y())
        pid = person_at(self._people, *point) if point is not None else None
        if pid is not None:
            self.personClicked.emit(pid)
            event.accept()
            return
        if point is not None and event.button() == Qt.MouseButton.LeftButton:
            self.nobodyClicked.emit()
        super().mousePressEvent(event)

    def set_frame(self, image: np.ndarray | None, keypoints_px: np.ndarray | None = None,
                  scores: np.ndarray | None = None, skeleton: Skeleton = MEDIAPIPE_33,
                  hands_px: np.ndarray | None = None, face_px: np.ndarray | None = None) -> None:
        """hands_px: (2, 21, 2) both hands' keypoints (NaN where a hand was not found), or None;
        face_px: (N, 2) the face's landmarks when it is tracked and seen, or None."""
        if image is not None:
            self._image = bgr_to_qimage(image)
        self._hands = hands_px
        self._face = face_px
        self._kp = keypoints_px
        self._scores = scores
        self._skeleton = skeleton
        self.update()

    def clear(self, placeholder: str | None = None) -> None:
        self._image = None
        self._kp = None
        self._people = ()
        if placeholder is not None:
            self.placeholder = placeholder
        self.update()

    def image_rect(self) -> QRectF:
        if self._image is None:
            return QRectF()
        iw, ih = self._image.width(), self._image.height()
        s = min(self.width() / iw, self.height() / ih)
        return QRectF((self.width() - iw * s) / 2, (self.height() - ih * s) / 2, iw * s, ih * s)

    def paintEvent(self, event):
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(18, 18, 22))
        if self._image is None:
            p.setPen(QColor(170, 170, 180))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        r = self.image_rect()
        p.drawImage(r, self._image)
        if self.people_marked:
            scale = r.width() / self._image.width()
            draw_others_skeletons(p, self._people, self._chosen, MEDIAPIPE_33.edges, KEYPOINT_SCORE_MIN, scale,
                                  r.topLeft())
            draw_people(p, self._people, self._chosen, scale, r.topLeft())
            if self.clicks_follow:
                self._draw_hint(p, r)
        if self.show_overlay and self._kp is not None:
            s = r.width() / self._image.width()
            pts = self._kp * s + np.array([r.left(), r.top()])
            ok = self._scores > KEYPOINT_SCORE_MIN if self._scores is not None else np.ones(len(pts), bool)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            lines = {"left": [], "right": [], "mid": []}
            for a, b in self._skeleton.edges:
                if ok[a] and ok[b]:
                    na = self._skeleton.joint_names[b]
                    side = "left" if na.startswith("left") else "right" if na.startswith("right") else "mid"
                    lines[side].append(QLineF(QPointF(*pts[a]), QPointF(*pts[b])))
            for side, colour in (("left", QColor(255, 140, 0)), ("right", QColor(0, 200, 255)), ("mid", QColor(235, 235, 235))):
                p.setPen(QPen(colour, 2.0))
                p.drawLines(lines[side])
            p.setPen(QPen(QColor(255, 235, 50), 5.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.drawPoints([QPointF(*q) for q in pts[ok]])
            if self._hands is not None:
                self._draw_hands(p, self._hands * s + np.array([r.left(), r.top()]))
            if self._face is not None and np.isfinite(self._face).all():
                p.setPen(QPen(QColor(120, 255, 160), 1.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
                p.drawPoints([QPointF(*q) for q in self._face[:, :2] * s + np.array([r.left(), r.top()])])

    @staticmethod
    def _draw_hint(p: QPainter, r: QRectF) -> None:
        """FOLLOW_HINT on a dark tag at the image's bottom left."""
        p.save()
        metrics = p.fontMetrics()
        tag = QRectF(r.left() + 6, r.bottom() - metrics.height() - 12, metrics.horizontalAdvance(FOLLOW_HINT) + 16,
                     metrics.height() + 6)
        p.fillRect(tag, QColor(0, 0, 0, 170))
        p.setPen(QColor(240, 240, 240))
        p.drawText(tag, Qt.AlignmentFlag.AlignCenter, FOLLOW_HINT)
        p.restore()

    @staticmethod
    def _draw_hands(p: QPainter, hands: np.ndarray) -> None:
        for hand, colour in zip(hands, (QColor(255, 140, 0), QColor(0, 200, 255))):
            if not np.isfinite(hand).all():
                continue
            p.setPen(QPen(colour, 1.5))
            p.drawLines([QLineF(QPointF(*hand[a]), QPointF(*hand[b])) for a, b in HAND_EDGES])
            p.setPen(QPen(QColor(255, 235, 50), 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.drawPoints([QPointF(*q) for q in hand])
