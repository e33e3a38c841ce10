"""The window's controls for several people: "Record everyone" (one take per person,
engine/session/people_sink.py; kept in the settings) and a click on a person in the 3D view, which
follows them live and, while a group's takes play (app/people_playback.py), plays their take."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtGui import QAction

from .people_playback import PeoplePlayback
from .window_state import WindowState
from .window_values import Mode
from .worker import EngineController

SETTING = "record/everyone"


class PeopleUi(QObject):
    personTakeChosen = Signal(object)  # people_playback.GroupPerson: play their take at the same frame

    def __init__(self, qsettings: QSettings, record_everyone: QAction, engine: EngineController, state: WindowState,
                 group_playback: PeoplePlayback, parent: QObject | None = None):
        super().__init__(parent)
        self._qsettings = qsettings
        self._engine = engine
        self._state = state
        self._group_playback = group_playback
        on = str(qsettings.value(SETTING, False)).lower() in ("true", "1")
        record_everyone.setChecked(on)
        engine.set_record_everyone(on)
        record_everyone.toggled.connect(self.set_record_everyone)

    @Slot(bool)
    def set_record_everyone(self, on: bool) -> None:
        self._qsettings.setValue(SETTING, bool(on))
        self._engine.set_record_everyone(bool(on))

    @Slot(int)
    def person_clicked(self, person_id: int) -> None:
        """Live: follow them. Playback of a group: play their take, at the same frame."""
        if self._state.mode is not Mode.PLAYBACK:
            self._engine.choose_person(person_id)
            return
        group = self._group_playback.group
        if group is None or person_id == self._group_playback.chosen:
            return
        self.personTakeChosen.emit(group.person(person_id))
