"""Settings > Face: kept in the settings file, reaches the live session (face points over the
video) and the stream (VMC blend shapes, one Apply a frame)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from app.settings import AppSettings
from app.settings_dialog import SettingsDialog
from tests.engine.streaming.receivers import OscReceiver, bundle_messages


def test_the_face_setting_is_kept_and_asks_the_engine_for_the_face(qtbot, tmp_path):
    qs = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    AppSettings(face=True).save(qs)
    loaded = AppSettings.load(qs)
    assert loaded.face and loaded.pipeline_config().face
    assert not AppSettings().pipeline_config().face
    dialog = SettingsDialog(loaded)
    qtbot.addWidget(dialog)
    assert dialog.face.isChecked()
    dialog.face.setChecked(False)
    assert not dialog.result_settings().face


def test_with_the_face_on_the_window_draws_the_face_and_streams_its_expressions(window, qtbot):
    window.apply_settings(window.app_settings.with_(face=True), quiet=True)
    with OscReceiver() as receiver:
        control = window.stream_control
        control.target.setText(f"127.0.0.1:{receiver.port}")
        control.target.editingFinished.emit()
        control.button.setChecked(True)
        window.open_sample()
        drawn = []

        def face_seen() -> bool:
            if window.image_view._face is not None:
                drawn.append(window.image_view._face.shape)
            frames = [bundle_messages(d) for d in list(receiver.datagrams)]
            return bool(drawn) and any(
                any(m[0] == "/VMC/Ext/Blend/Val" and m[2][0] == "Blink_L" for m in f) for f in frames)

        qtbot.waitUntil(face_seen, timeout=90000)
        window.stop_source()
        control.button.setChecked(False)
    assert drawn[0] == (478, 3)
    for datagram in receiver.datagrams:
        addresses = [m[0] for m in bundle_messages(datagram)]
        if "/VMC/Ext/Blend/Val" in addresses:
            assert addresses.count("/VMC/Ext/Blend/Apply") == 1
    assert control.switch.failure == ""
