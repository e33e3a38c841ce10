"""A settings file edited by hand or damaged: each bad value keeps its default and gives the command
line's own one-line message (engine/session/settings.py)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from app.settings import AppSettings
from engine.core.errors import InputError
from engine.session.settings import camera_size, pipeline_config


def _settings(tmp_path, **values) -> QSettings:
    qs = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    for key, value in values.items():
        qs.setValue(f"settings/{key}", value)
    qs.sync()
    return QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)


def _cli_line(call) -> str:
    with pytest.raises(InputError) as err:
        call()
    return f"settings file: {err.value}"


def test_bad_values_keep_their_defaults_with_the_command_lines_message(tmp_path):
    settings, problems = AppSettings.load_checked(_settings(tmp_path, smoothing="nan", mode="garbage",
                                                            camera_width=-5, device="tpu", hands=True))
    defaults = AppSettings()
    assert (settings.smoothing, settings.mode, settings.camera_width, settings.camera_height, settings.device) == (
        defaults.smoothing, defaults.mode, defaults.camera_width, defaults.camera_height, defaults.device)
    assert settings.hands
    assert sorted(problems) == sorted([
        _cli_line(lambda: pipeline_config(smoothing=float("nan"))), _cli_line(lambda: pipeline_config(mode="garbage")),
        _cli_line(lambda: pipeline_config(device="tpu")), _cli_line(lambda: camera_size(-5, 480))])
    settings.pipeline_config()  # what is left makes a run


def test_good_values_load_as_written(tmp_path):
    settings, problems = AppSettings.load_checked(_settings(tmp_path, smoothing="0.8", camera_width=1280,
                                                            camera_height=720, device="cpu"))
    assert problems == []
    assert (settings.smoothing, settings.camera_width, settings.camera_height, settings.device) == (0.8, 1280, 720, "cpu")
    assert settings.pipeline_config().smoothing.strength == 0.8


def test_the_window_says_which_settings_it_could_not_use(qtbot, tmp_path):
    from app.main import dispose_window
    from app.main_window import MainWindow

    win = MainWindow(settings=_settings(tmp_path, smoothing="nan", mode="garbage"), takes_dir=str(tmp_path / "t"))
    try:
        said = win.banner.text()
        assert _cli_line(lambda: pipeline_config(smoothing=float("nan"))) in said
        assert _cli_line(lambda: pipeline_config(mode="garbage")) in said
        assert win.app_settings.smoothing == AppSettings().smoothing
    finally:
        dispose_window(win)
