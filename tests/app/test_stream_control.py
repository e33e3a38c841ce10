"""The toolbar's Stream control: on, the live poses reach a real VMC receiver and the status
shows packets per second; a closed port reads "no receiver", a bad target one line; the target,
rate and toggle come back from the settings; in the window, the tracked poses are streamed."""

from __future__ import annotations

import socket
import threading

import pytest
from PySide6.QtCore import QSettings

from app.stream_control import StreamControl
from engine.core.skeletons import MONOCAP_BODY
from engine.session.pipeline import PoseFrame
from tests.engine.animation.test_bvh_export import spin_take
from tests.engine.streaming.receivers import OscReceiver, bundle_messages

pytestmark = pytest.mark.gui
TAKE = spin_take(frames=60)


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def feed(control: StreamControl, stop: threading.Event) -> threading.Thread:
    """Poses into the control's switch from another thread, as the tracking stage does."""
    def run():
        i = 0
        while not stop.is_set():
            control.switch.submit(PoseFrame(i, i / 30.0, None, TAKE.joints_m[i % 60], MONOCAP_BODY))
            i += 1
            stop.wait(1 / 30)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_stream_on_sends_and_shows_packets_per_second(qtbot, settings):
    control = StreamControl(settings)
    qtbot.addWidget(control)
    stop = threading.Event()
    with OscReceiver() as receiver:
        control.target.setText(f"127.0.0.1:{receiver.port}")
        control.target.editingFinished.emit()
        control.button.setChecked(True)
        assert control.streaming
        thread = feed(control, stop)
        try:
            qtbot.waitUntil(lambda: len(receiver.datagrams) >= 10, timeout=30000)
            qtbot.waitUntil(lambda: "packets/s" in control.status.text(), timeout=5000)
            control.button.setChecked(False)
            assert not control.streaming and control.status.text() == "off"
            got = len(receiver.datagrams)
            qtbot.wait(300)
            assert len(receiver.datagrams) <= got + 1  # at most the one in flight
        finally:
            stop.set()
            thread.join()
    bones = [m[2][0] for m in bundle_messages(receiver.datagrams[-1]) if m[0] == "/VMC/Ext/Bone/Pos"]
    assert "LeftUpperArm" in bones


def test_no_receiver_is_a_state_not_an_error(qtbot, settings):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    control = StreamControl(settings)
    qtbot.addWidget(control)
    control.target.setText(f"127.0.0.1:{port}")
    control.button.setChecked(True)
    stop = threading.Event()
    thread = feed(control, stop)
    try:
        qtbot.waitUntil(lambda: control.status.text().startswith("no receiver"), timeout=30000)
        assert control.button.isChecked() and control.status.property("level") != "error"
    finally:
        stop.set()
        thread.join()
        control.shutdown()


def test_a_bad_target_is_shown_and_the_toggle_stays_off(qtbot, settings):
    control = StreamControl(settings)
    qtbot.addWidget(control)
    control.target.setText("127.0.0.1:99999")
    control.button.setChecked(True)
    assert not control.button.isChecked() and not control.streaming
    assert "65535" in control.status.text() and control.status.property("level") == "error"


def test_target_rate_and_toggle_are_kept_in_the_settings(qtbot, settings):
    with OscReceiver() as receiver:
        first = StreamControl(settings)
        qtbot.addWidget(first)
        first.target.setText(f"127.0.0.1:{receiver.port}")
        first.target.editingFinished.emit()
        first.rate.setCurrentIndex(first.rate.findText("30 fps"))
        first.button.setChecked(True)
        first.shutdown()
        again = StreamControl(settings)
        qtbot.addWidget(again)
        assert again.target.text() == f"127.0.0.1:{receiver.port}" and again.rate.currentText() == "30 fps"
        qtbot.waitUntil(lambda: again.streaming, timeout=5000)
        again.shutdown()


def test_the_window_streams_the_tracked_poses(window, qtbot):
    with OscReceiver() as receiver:
        control = window.stream_control
        control.target.setText(f"127.0.0.1:{receiver.port}")
        control.target.editingFinished.emit()
        control.button.setChecked(True)
        window.open_sample()

        def bones_received() -> bool:
            return any(m[0] == "/VMC/Ext/Bone/Pos" for d in list(receiver.datagrams) for m in bundle_messages(d))

        qtbot.waitUntil(bones_received, timeout=60000)
        window.stop_source()
        control.button.setChecked(False)


def test_with_hands_on_the_window_streams_the_finger_bones(window, qtbot):
    """Settings > Hands reaches the stream: the live poses carry fingers, and so do the bundles."""
    window.apply_settings(window.app_settings.with_(hands=True), quiet=True)
    with OscReceiver() as receiver:
        control = window.stream_control
        control.target.setText(f"127.0.0.1:{receiver.port}")
        control.target.editingFinished.emit()
        control.button.setChecked(True)
        window.open_sample()

        def finger_bones_received() -> bool:
            return any(m[0] == "/VMC/Ext/Bone/Pos" and m[2][0] == "LeftIndexProximal"
                       for d in list(receiver.datagrams) for m in bundle_messages(d))

        qtbot.waitUntil(finger_bones_received, timeout=60000)
        window.stop_source()
        control.button.setChecked(False)
    assert control.switch.failure == ""


def test_stream_is_in_view_at_1400_pixels_and_in_a_menu_with_a_shortcut(window, qtbot):
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtWidgets import QToolBar

    window.resize(1400, 900)
    qtbot.waitUntil(lambda: window.width() == 1400, timeout=5000)
    toolbar = window.findChild(QToolBar)
    control = window.stream_control
    shown = QRect(0, 0, toolbar.width(), toolbar.height())
    for widget in (control.button, control.status, toolbar.widgetForAction(window.commands.settings)):
        assert widget.isVisible(), f"{widget} is behind the » overflow"
        corner = widget.mapTo(toolbar, widget.rect().bottomRight())
        assert shown.contains(corner), f"{widget} is cut off at {corner}"
    # the menu bar's Stream menu: the same toggle, with its shortcut, and the target and rate
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert menus["Stream"] is control.menu and control.button.menu() is control.menu
    assert control.action.shortcut().toString() == "Ctrl+Shift+S"
    with OscReceiver() as receiver:
        control.target.setText(f"127.0.0.1:{receiver.port}")
        control.target.editingFinished.emit()
        with qtbot.waitActive(window):
            window.activateWindow()
        qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        assert control.button.isChecked() and control.streaming and control.action.isChecked()
        control.button.click()  # the toolbar's toggle, and the menu follows
        assert not control.streaming and not control.action.isChecked()
