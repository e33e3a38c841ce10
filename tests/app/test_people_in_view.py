"""Everyone in view is shown: once the person followed walks out, the one left is drawn and marked
in the image and the 3D view, the status bar says that the person followed left (not "nobody in
view"), the 3D view lets the gone person's pose go, and following the one left is the user's click,
which the status bar answers."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.people_overlay import person_colour
from tests.engine.people_footage import make_footage

LEAVES_AT = 40  # the first person walks out of the left edge by this frame


def _one_by_one(t: int = 200) -> np.ndarray:
    """The taiji man stands in the middle (the one the lock-on follows) and walks out of the left edge;
    the juggler stands at the right throughout."""
    lefts = np.empty((t, 2))
    lefts[:, 0] = np.concatenate([np.full(20, 230.0), np.linspace(230.0, -400.0, LEAVES_AT - 20),
                                  np.full(t - LEAVES_AT, np.nan)])
    lefts[:, 1] = 450.0
    return lefts


@pytest.fixture(scope="module")
def walk_away(tmp_path_factory):
    return make_footage(tmp_path_factory.mktemp("walk_away") / "walk_away.mp4", _one_by_one())


def _hue_pixels(image, box, hue: int, scale: float, offset) -> int:
    """Pixels of `hue` (±8) inside the image-pixel box as the view draws it."""
    x0, y0, x1, y1 = (int(v * scale + o) for v, o in zip(box, (offset.x(), offset.y()) * 2))
    count = 0
    for x in range(max(x0 - 3, 0), min(x1 + 3, image.width()), 2):
        for y in range(max(y0 - 3, 0), min(y1 + 3, image.height()), 2):
            c = image.pixelColor(x, y)
            if c.saturation() > 120 and min(abs(c.hue() - hue), 360 - abs(c.hue() - hue)) <= 8:
                count += 1
    return count


def test_the_person_left_in_view_is_drawn_marked_and_followed_on_a_click(window, qtbot, walk_away):
    window.qsettings.setValue("settings/realtime", True)  # at the clip's rate: time to look and click
    from app.settings import AppSettings

    window.app_settings = AppSettings.load(window.qsettings)
    window.open_file(walk_away.path)
    qtbot.waitUntil(lambda: window.last_frame is not None and len(window.last_frame.people) == 2, timeout=60000)
    first = window.last_frame.person_id
    qtbot.waitUntil(lambda: window.last_frame.frame.index > LEAVES_AT + 12, timeout=60000)
    frame = window.last_frame
    assert frame.person_id == first, "the view jumped to the one left: following them is the user's click"
    (left,) = [p for p in frame.people if p.id != first]
    view = window.image_view
    # drawn and marked in the image: box, number and skeleton in their colour, and the hint
    assert view.people_marked
    image = view.grab().toImage()
    r = view.image_rect()
    scale = r.width() / 640
    drawn = _hue_pixels(image, tuple(left.detection.box_xyxy), person_colour(left.id).hue(), scale, r.topLeft())
    view.show_overlay = False
    bare = _hue_pixels(view.grab().toImage(), tuple(left.detection.box_xyxy), person_colour(left.id).hue(), scale,
                       r.topLeft())
    view.show_overlay = True
    assert drawn > bare + 40, (drawn, bare)
    # the status bar says who left, not "nobody in view"
    said = window.status_labels.person.text()
    assert said.startswith(f"person {first} left the view") and "click" in said, said
    # the 3D view: the one left drawn in their colour, the gone person's pose and trails gone
    qtbot.waitUntil(lambda: left.id in window.view3d.people.poses, timeout=10000)
    assert window.view3d.people.active and not window.view3d.bones.visible()
    assert window.view3d.last_joints_m is None
    assert all(len(t) == 0 for t in window.view3d._trails.values())
    # a click on them follows them, and the status bar says so
    x0, y0, x1, y1 = left.detection.box_xyxy
    point = QPoint(int(r.left() + (x0 + x1) / 2 * scale), int(r.top() + (y0 + y1) / 2 * scale))
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    assert window.statusBar().currentMessage().startswith(f"Following person {left.id}")
    qtbot.waitUntil(lambda: window.last_frame.person_id == left.id, timeout=20000)
    qtbot.waitUntil(lambda: window.status_labels.person.text() == "person found", timeout=10000)
    assert not view.people_marked  # the person followed alone: their own skeleton marks them
    window.stop_source()
    qtbot.waitUntil(lambda: not window.source_running, timeout=10000)


def test_a_click_where_nobody_is_tracked_says_so(window, qtbot):
    window.open_sample()
    qtbot.waitUntil(lambda: window.frames_rendered >= 2, timeout=60000)
    view = window.image_view
    r = view.image_rect()
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(int(r.left() + 5), int(r.bottom() - 5)))  # a corner of the room
    assert "Nobody" in window.statusBar().currentMessage()
    window.stop_source()
    qtbot.waitUntil(lambda: not window.source_running, timeout=10000)
