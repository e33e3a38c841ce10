"""Everyone tracked drawn over the video in their own colour with their number; a click on a
person says whom to follow."""

import numpy as np
from PySide6.QtCore import QPoint, Qt

from app.image_view import ImageView
from app.people_overlay import PersonMark, person_at, person_colour

MARKS = (PersonMark(1, (40.0, 20.0, 140.0, 220.0)), PersonMark(2, (360.0, 40.0, 440.0, 200.0)))


def _view(qtbot):
    view = ImageView()
    qtbot.addWidget(view)
    view.resize(640, 360)  # the same aspect as the image: one image pixel per widget pixel
    view.show()
    qtbot.waitExposed(view)
    view.set_frame(np.full((240, 480, 3), 60, np.uint8))
    view.set_people(MARKS, chosen=1)
    return view


def test_click_on_a_person_gives_their_id(qtbot):
    view = _view(qtbot)
    r = view.image_rect()
    s = r.width() / 480

    def at(x, y):
        return QPoint(int(r.left() + x * s), int(r.top() + y * s))

    with qtbot.waitSignal(view.personClicked, timeout=1000) as got:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(400, 120))
    assert got.args == [2]
    with qtbot.assertNotEmitted(view.personClicked):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(250, 120))  # between them


def test_each_person_drawn_in_their_own_colour(qtbot):
    view = _view(qtbot)
    image = view.grab().toImage()
    r = view.image_rect()
    s = r.width() / 480
    for mark in MARKS:
        x0, y0 = mark.box[:2]
        label = image.pixelColor(int(r.left() + x0 * s + 4), int(r.top() + y0 * s - 4))  # the number's tag
        want = person_colour(mark.id)
        assert abs(label.hue() - want.hue()) <= 3 and label.saturation() > 150
    assert person_colour(1).hue() != person_colour(2).hue()


def test_hit_test_prefers_the_smaller_box_inside_a_larger_one():
    big, small = PersonMark(1, (0, 0, 300, 300)), PersonMark(2, (100, 100, 150, 200))
    assert person_at((big, small), 120, 150) == 2
    assert person_at((big, small), 20, 20) == 1
    assert person_at((big, small), 400, 20) is None
