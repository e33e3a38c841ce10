"""The window's controls for several people: "Record everyone" beside Record (one take per
person, engine/session/people_sink.py), a click on a person in the 3D view, and playing back a
group of people's takes (app/people_playback.py)."""

from __future__ import annotations

from PySide6.QtGui import QAction

from .people_playback import PeoplePlayback
from .window_state import Mode

SETTING = "record/everyone"


class PeopleUi:
    def __init__(self, window):
        self.window = window
        self.playback = PeoplePlayback(window.view3d)
        on = str(window.qsettings.value(SETTING, False)).lower() in ("true", "1")
        self.act_record_everyone = QAction(
            "Record everyone", window, checkable=True, checked=on,
            toolTip="Recording makes one take per person in view (TAKE_p1, TAKE_p2, ... and TAKE_people.json); "
                    "applies to the next recording")
        self.act_record_everyone.toggled.connect(self.set_record_everyone)
        window.engine.worker.set_record_everyone(on)
        for owner in window.act_record.associatedObjects():  # the File menu and the toolbar: right after Record
            actions = owner.actions() if owner is not window and hasattr(owner, "insertAction") else []
            if window.act_record in actions and actions[-1] is not window.act_record:
                owner.insertAction(actions[actions.index(window.act_record) + 1], self.act_record_everyone)
        window.view3d.personClicked.connect(self.person_clicked)

    def set_record_everyone(self, on: bool) -> None:
        self.window.qsettings.setValue(SETTING, bool(on))
        self.window.engine.worker.set_record_everyone(bool(on))

    def person_clicked(self, person_id: int) -> None:
        """Live: follow them. Playback of a group: play their take, at the same frame."""
        w = self.window
        if w.state.mode is not Mode.PLAYBACK:
            w.engine.choose_person(person_id)
            return
        group = self.playback.group
        if group is None or person_id == self.playback.chosen:
            return
        person = group.person(person_id)
        frame = w.timeline.slider.value()
        name = person.path.stem
        if name not in w.takes:
            w._add_take_item(name, person.path, None, person.take.num_frames, person.take.fps)
        w.select_take(name)
        w.timeline.slider.setValue(frame)
