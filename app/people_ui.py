"""The window's controls for several people: "Record everyone" (one take per person,
engine/session/people_sink.py; kept in the settings) and a click on a person in either view, which
follows them live and, while a group's takes play (app/people_playback.py), plays their take. Each
click is answered in the status bar: whom it follows, or why it follows nobody."""

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
    said = Signal(str)  # what a click did, for the status bar

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
            if not self._state.source_running:
                self.said.emit("Nothing runs: a click follows a person while a source plays.")
                return
            already = person_id == self._state.followed and person_id in self._state.in_view
            self._engine.choose_person(person_id)
            self.said.emit(f"Already following person {person_id}." if already else
                           f"Following person {person_id} from the next frame; they stay chosen while out of view.")
            return
        group = self._group_playback.group
        if group is None or person_id == self._group_playback.chosen:
            return
        self.personTakeChosen.emit(group.person(person_id))
        self.said.emit(f"Playing person {person_id}'s take.")

    @Slot()
    def nobody_clicked(self) -> None:
        """A click on the image where nobody is marked."""
        if self._state.mode is Mode.PLAYBACK or not self._state.source_running:
            return
        if len(self._state.in_view) <= 1:
            self.said.emit("Nobody else is tracked there yet: once a person has a numbered box, click it to follow them.")
        else:
            self.said.emit("Nobody tracked there: click inside a person's numbered box to follow them.")
