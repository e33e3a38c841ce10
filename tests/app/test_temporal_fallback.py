"""The temporal 3D mode without its model file runs `fit`: the status bar's 3D mode field and the
message strip say so, naming the file and the command that rebuilds it."""

from __future__ import annotations

import engine.lift.temporal_mode as temporal_mode


def test_a_missing_temporal_model_is_shown_as_fit_in_the_window(window, qtbot, monkeypatch):
    monkeypatch.setattr(temporal_mode, "DEFAULT_MODEL", "models/no_such_temporal_net.npz")
    window.apply_settings(window.app_settings.with_(mode="temporal"), quiet=True)
    window.open_sample()
    qtbot.waitUntil(lambda: window.source_info is not None, timeout=60000)
    label = window.status_labels.lift
    qtbot.waitUntil(lambda: "model not loaded" in label.text(), timeout=10000)
    assert label.text() == "3D mode fit (temporal model not loaded)"
    assert "no_such_temporal_net.npz" in label.toolTip()
    strip = window.banner.label.text()
    assert "no_such_temporal_net.npz" in strip and "running fit" in strip
    assert temporal_mode.REBUILD_COMMAND in strip and "\n" not in strip
    window.stop_source()


def test_a_temporal_model_that_loads_shows_temporal(window, qtbot):
    window.apply_settings(window.app_settings.with_(mode="temporal"), quiet=True)
    window.open_sample()
    qtbot.waitUntil(lambda: window.source_info is not None, timeout=60000)
    assert window.source_info.lift_notice == ""
    assert window.status_labels.lift.text() == "3D mode temporal"
    window.stop_source()
