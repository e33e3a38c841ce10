"""Several people in the window: everyone drawn in the 3D view in their overlay colour with their
number, a click on one there follows them, "Record everyone" writes one take per person, and those
takes play back together on one timeline; a bad listing gives one line."""

import json

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.people_overlay import marks_from_people, person_colour
from app.window_state import Mode
from engine.core.skeletons import MONOCAP_BODY
from engine.core.take import load_npz
from tests.engine.people_footage import make_footage, side_by_side

TORSO = (MONOCAP_BODY.index("pelvis"), MONOCAP_BODY.index("neck"))


def _late_and_early(t: int = 60) -> np.ndarray:
    """The juggler stands at the right from frame 15 to frame 44 only; the taiji man throughout."""
    lefts = np.full((t, 2), np.nan)
    lefts[:, 0] = 60.0
    lefts[15:45, 1] = 400.0
    return lefts


def _passes_in_front(t: int = 150) -> np.ndarray:
    """The taiji man stands in the middle; the juggler stands at the right, then walks across in
    front of him (hiding him) to the left and stays there."""
    lefts = np.empty((t, 2))
    lefts[:, 0] = 230.0
    lefts[:, 1] = np.concatenate([np.full(50, 440.0), np.linspace(440.0, 0.0, 60), np.zeros(t - 110)])
    return lefts


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    folder = tmp_path_factory.mktemp("people_app")
    return {"side_by_side": make_footage(folder / "side_by_side.mp4", side_by_side(150)),
            "late_and_early": make_footage(folder / "late_and_early.mp4", _late_and_early()),
            "passes_in_front": make_footage(folder / "passes_in_front.mp4", _passes_in_front())}


def _torso_point(view, joints) -> QPoint:
    """The view pixel of the middle of a person's spine."""
    a, b = view.project(joints[list(TORSO)])
    x, y = (a + b) / 2
    return QPoint(int(round(x)), int(round(y)))


def _hue_near(image, point: QPoint, person_id: int, radius: int = 2) -> bool:
    want = person_colour(person_id).hue()
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            c = image.pixelColor(point.x() + dx, point.y() + dy)
            if c.saturation() > 120 and min(abs(c.hue() - want), 360 - abs(c.hue() - want)) <= 8:
                return True
    return False


def _share_in_colour(image, view, joints, person_id: int) -> float:
    """The share of a person's joints that show their colour where they project."""
    points = view.project(joints)
    inside = [QPoint(int(round(x)), int(round(y))) for x, y in points
              if 3 <= x < image.width() - 3 and 3 <= y < image.height() - 3]
    return sum(_hue_near(image, p, person_id) for p in inside) / max(len(inside), 1)


def test_live_everyone_drawn_in_their_colour_and_a_click_in_3d_follows_them(window, qtbot, footage):
    window.open_file(footage["side_by_side"].path)
    qtbot.waitUntil(lambda: window.view3d.people.active and len(window.view3d.people.poses) == 2, timeout=60000)
    view, layer = window.view3d, window.view3d.people
    followed = window.last_frame.person_id
    other = next(pid for pid in layer.poses if pid != followed)
    assert {p.id for p in window.last_frame.people} == set(layer.poses)  # the overlay's numbers
    assert not view.bones.visible()  # the view's own one-person skeleton gives way
    # the same colour as the 2D overlay, each person where their joints project (a grab draws what
    # the layer holds at that moment; a frame's own layout may still settle, so a later one may show it)
    undrawn: list[int] = []

    def everyone_in_their_colour() -> bool:
        nonlocal image
        image = view.grabFramebuffer()
        undrawn[:] = [pid for pid, joints in layer.poses.items() if _share_in_colour(image, view, joints, pid) < 0.6]
        return len(layer.poses) == 2 and not undrawn

    image = None
    qtbot.waitUntil(everyone_in_their_colour, timeout=10000)
    assert sorted(pid for pid, _ in layer.labels) == sorted(layer.poses)
    for pid, top in layer.labels:  # each number on a tag of their colour above their head
        (x, y), = view.project(top[None])
        assert _hue_near(image, QPoint(int(x), int(y) - 3), pid), f"person {pid}'s number not drawn"
    # a click on the other person's spine follows them
    with qtbot.waitSignal(view.personClicked, timeout=2000) as got:
        QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         _torso_point(view, layer.poses[other]))
    assert got.args == [other]
    qtbot.waitUntil(lambda: window.last_frame.person_id == other and layer.chosen == other, timeout=30000)
    # a click on empty floor follows nobody else
    with qtbot.assertNotEmitted(view.personClicked):
        QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(5, view.height() - 5))
    window.stop_source()
    qtbot.waitUntil(lambda: not window.source_running, timeout=10000)


def test_the_person_chosen_in_3d_stays_chosen_while_hidden(window, qtbot, footage, monkeypatch):
    fo = footage["passes_in_front"]
    worker = window.engine.worker
    sent = []  # every frame the engine sent: (index, person followed, their hip's x in the image or None)
    post = worker._post

    def logged(f):
        det = f.pose.detection
        hip = None if det is None else float(np.mean(det.keypoints_px[[23, 24], 0]))
        sent.append((f.frame.index, f.person_id, hip))
        post(f)

    monkeypatch.setattr(worker, "_post", logged)
    window.open_file(fo.path)
    view, layer = window.view3d, window.view3d.people
    qtbot.waitUntil(lambda: len(layer.poses) == 2 and len(window.last_frame.people) == 2, timeout=60000)
    taiji = next(m.id for m in marks_from_people(window.last_frame.people) if (m.box[0] + m.box[2]) / 2 < 420)
    juggler = next(m.id for m in marks_from_people(window.last_frame.people) if m.id != taiji)
    target = juggler if window.last_frame.person_id == taiji else taiji
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     _torso_point(view, layer.poses[target]))  # follow the other one first...
    qtbot.waitUntil(lambda: window.last_frame.person_id == target, timeout=30000)
    if target != taiji:
        qtbot.waitUntil(lambda: taiji in layer.poses, timeout=30000)
        QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         _torso_point(view, layer.poses[taiji]))  # ...then the one who will be hidden
        qtbot.waitUntil(lambda: window.last_frame.person_id == taiji, timeout=30000)
    chosen_at = window.last_frame.frame.index
    assert chosen_at < 60, "chosen only once the juggler was in front of him: the test proves nothing"
    qtbot.waitUntil(lambda: not window.source_running, timeout=90000)
    after = [(i, pid, hip) for i, pid, hip in sent if i > chosen_at + 2]
    assert {pid for _, pid, _ in after} == {taiji}  # never handed over to the juggler walking in front
    assert any(hip is None for i, _, hip in after if 60 <= i < 105), "the taiji man was never hidden"
    found = [hip for i, _, hip in after if i >= 105 and hip is not None]
    assert len(found) >= 10  # found again after the crossing, and followed: him, where he stands
    juggler_right, taiji_right = fo.boxes[-1, 1, 2], fo.boxes[-1, 0, 2]  # the juggler now stands at the left
    assert all(juggler_right < hip <= taiji_right for hip in found), found


def _record_everyone(window, qtbot, path):
    from PySide6.QtWidgets import QMenu, QToolBar

    act = window.commands.record_everyone
    owners = [o for o in act.associatedObjects() if isinstance(o, (QMenu, QToolBar))]
    assert {type(o) for o in owners} == {QMenu, QToolBar}  # beside Record in the File menu and the toolbar
    for owner in owners:
        actions = owner.actions()
        assert actions.index(act) == actions.index(window.commands.record) + 1
    window.commands.record_everyone.setChecked(True)
    window.commands.record_files.setChecked(True)  # from the first frame to the end
    window.open_file(path)
    qtbot.waitUntil(lambda: len([n for n in window.takes if "_p" in n]) == 2 and not window.source_running,
                    timeout=120000)
    return sorted(n for n in window.takes if "_p" in n)


def test_record_everyone_then_play_them_back_together(window, qtbot, footage):
    names = _record_everyone(window, qtbot, footage["late_and_early"].path)
    stem = names[0][:-3]
    assert names == [f"{stem}_p1", f"{stem}_p2"]
    folder = window.takes[names[0]][0].parent
    listing = json.loads((folder / f"{stem}_people.json").read_text())
    spans = {p["number"]: (p["first_frame"], p["last_frame"]) for p in listing["people"]}
    assert spans[1][0] <= 1 and spans[1][1] >= 58  # in view throughout
    assert 13 <= spans[2][0] <= 18 and 42 <= spans[2][1] <= 46  # only while in view
    assert (folder / f"{stem}.avi").is_file()
    takes = {n: load_npz(folder / f"{stem}_p{n}.npz") for n in (1, 2)}

    window.select_take(f"{stem}_p2")
    assert window.mode is Mode.PLAYBACK
    group = window.player.people.group
    assert group is not None and window.timeline.slider.maximum() == group.num_frames - 1 >= 58
    assert window.current_take.num_frames == group.num_frames  # the person chosen, on the group's timeline
    both = spans[2][0] + int(np.flatnonzero(takes[2].valid)[5])
    window.timeline.slider.setValue(both)
    layer = window.view3d.people
    assert sorted(layer.poses) == [1, 2] and layer.chosen == 2
    for n in (1, 2):
        np.testing.assert_allclose(layer.poses[n], takes[n].joints_m[both - spans[n][0]])
    np.testing.assert_allclose(window.view3d.last_joints_m, takes[2].joints_m[both - spans[2][0]])
    window.timeline.slider.setValue(2)  # before the juggler came: the taiji man alone
    assert list(layer.poses) == [1] and layer.active  # drawn in his colour: he is not the one chosen
    window.timeline.slider.setValue(both)
    # a click on person 1 in the 3D view plays their take, at the same frame
    with qtbot.waitSignal(window.view3d.personClicked, timeout=2000):
        QTest.mouseClick(window.view3d, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         _torso_point(window.view3d, layer.poses[1]))
    assert window.current_take_name == f"{stem}_p1" and window.timeline.slider.value() == both
    assert layer.chosen == 1

    # the listing itself opens as its first-ranked person's take, with everyone
    window.back_to_live()
    window.open_take_file(folder / f"{stem}_people.json")
    assert window.mode is Mode.PLAYBACK and window.player.people.group is not None
    assert window.current_take_name == f"{stem}_p1.npz"  # in view longest, largest: rank 1


@pytest.mark.parametrize("damage, words", [
    (lambda d: "{ not json", "not JSON"),
    (lambda d: json.dumps({"people": []}), "no list of people"),
    (lambda d: json.dumps({**d, "people": [{**d["people"][0], "stem": "missing_p9"}]}), "missing_p9"),
    (lambda d: json.dumps({**d, "people": [{**d["people"][0], "first_frame": -3}]}), "first_frame"),
])
def test_a_bad_listing_gives_one_line(window, qtbot, footage, tmp_path, damage, words):
    source = tmp_path / "src"
    source.mkdir()
    good = {"people": [{"number": 1, "rank": 1, "stem": "dance_p1", "first_frame": 0}]}
    from engine.core.take import save_npz
    from tests.engine.animation.test_bvh_export import spin_take

    save_npz(spin_take(frames=10), source / "dance_p1.npz")
    (source / "dance_people.json").write_text(damage(good))
    for opened in (source / "dance_people.json", source / "dance_p1.npz"):
        window.open_take_file(opened)
        text = window.banner.text()
        assert "dance_people.json" in text and words in text and "\n" not in text, text
        assert window.mode is not Mode.PLAYBACK


def test_drawing_and_picking_people_in_a_view(window, qtbot):
    view = window.view3d
    qtbot.waitUntil(view.isExposed, timeout=5000)
    base = np.zeros((MONOCAP_BODY.num_joints, 3))
    base[:, 1] = np.linspace(0.1, 1.7, MONOCAP_BODY.num_joints)  # a standing line of joints
    poses = {1: base + [-0.8, 0, 0], 2: base + [0.8, 0, 0], 3: base + [0, 0, -1.5]}
    view.set_people(poses, MONOCAP_BODY, chosen=2)
    point = _torso_point(view, poses[1])
    assert view.people.person_at(point.x(), point.y()) == 1
    assert view.people.person_at(point.x() + 3, point.y()) == 1  # within the tolerance
    assert view.people.person_at(point.x() + 40, point.y()) is None
    qtbot.wait(50)
    image = view.grabFramebuffer()
    assert not image.isNull()
    for pid, joints in poses.items():
        assert _hue_near(image, _torso_point(view, joints), pid)
    for pid, top in view.people.labels:
        (x, y), = view.project(top[None])
        assert _hue_near(image, QPoint(int(x), int(y) - 3), pid), f"person {pid}'s number not drawn"
    view.set_people({2: poses[2]}, MONOCAP_BODY, chosen=2)  # the person followed alone: the view's own skeleton
    assert not view.people.active and view.bones.visible()


def test_a_second_person_beside_is_in_the_default_view_and_a_moving_one_can_be_clicked(window, qtbot):
    view = window.view3d
    qtbot.waitUntil(view.isExposed, timeout=5000)
    view.reset_view()
    base = np.zeros((MONOCAP_BODY.num_joints, 3))
    base[:, 1] = np.linspace(0.1, 1.7, MONOCAP_BODY.num_joints)
    poses = {1: base.copy(), 2: base + [3.0, 0.0, -0.5]}  # side by side, 3 m to the right
    view.set_people(poses, MONOCAP_BODY, chosen=1)
    w, h = view.width(), view.height()
    for pid, joints in poses.items():
        xy = view.project(joints)
        assert ((xy[:, 0] > 0) & (xy[:, 0] < w) & (xy[:, 1] > 0) & (xy[:, 1] < h)).all(), f"person {pid} out of view"
    # a click on person 2 while they walk: pressed on them, released after they moved on
    point = _torso_point(view, poses[2])
    with qtbot.waitSignal(view.personClicked, timeout=2000) as got:
        QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
        view.set_people({1: poses[1], 2: poses[2] + [0.5, 0.0, 0.0]}, MONOCAP_BODY, chosen=1)
        QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    assert got.args == [2]
    # once the user zooms, the view is theirs: people coming into view do not move it
    view.wheelEvent(_wheel(view, 120))
    distance = view.opts["distance"]
    view.set_people({1: poses[1], 2: poses[2] + [6.0, 0.0, -6.0]}, MONOCAP_BODY, chosen=1)
    assert view.opts["distance"] == distance
    view.reset_view()


def _wheel(view, delta: int):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    centre = QPointF(view.width() / 2, view.height() / 2)
    return QWheelEvent(centre, centre, QPoint(), QPoint(0, delta), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                       Qt.ScrollPhase.NoScrollPhase, False)
