"""One check of a run's settings for every front end: the command line and the app's settings file
give the same one-line error for the same bad value."""

from __future__ import annotations

import pytest

from engine.core.errors import InputError
from engine.lift.modes import DEFAULT_MODE
from engine.session.settings import camera_size, mode_choices, mode_problem, pipeline_config
from tests.engine.cli.test_cli import monocap


@pytest.mark.parametrize("values, named", [
    ({"smoothing": float("nan")}, "smoothing nan"), ({"smoothing": 1.5}, "smoothing 1.5"),
    ({"smoothing": "garbage"}, "smoothing garbage"), ({"fov_deg": 5.0}, "fov 5.0"),
    ({"fov_deg": float("inf")}, "fov inf"), ({"mode": "garbage"}, "mode garbage"), ({"device": "tpu"}, "device tpu"),
])
def test_a_bad_value_is_one_line_naming_it(values, named):
    with pytest.raises(InputError) as err:
        pipeline_config(**values)
    assert str(err.value).startswith(named) and "\n" not in str(err.value)


def test_good_values_make_the_config():
    config = pipeline_config(mode=DEFAULT_MODE, smoothing=0.2, fov_deg=75)
    assert (config.lift.mode, config.smoothing.strength, config.fov_deg) == (DEFAULT_MODE, 0.2, 75.0)


@pytest.mark.parametrize("width, height", [(-5, 480), (640, 0), (640.5, 480), ("wide", 480), (100000, 480)])
def test_a_bad_camera_size_is_one_line(width, height):
    with pytest.raises(InputError, match="camera (width|height)"):
        camera_size(width, height)
    assert camera_size(1280, 720) == (1280, 720)


def test_the_command_line_gives_the_same_line(tmp_path):
    result = monocap("process", tmp_path / "missing.mp4", "--smoothing", "nan")
    with pytest.raises(InputError) as err:
        pipeline_config(smoothing=float("nan"))
    assert (result.returncode, result.stderr) == (2, f"monocap: error: {err.value}\n")


def test_every_mode_is_offered_with_its_label():
    choices = dict(mode_choices())
    assert DEFAULT_MODE in choices and choices["detector"].startswith("detector 3D")


def test_a_mode_that_cannot_be_built_is_one_line(tmp_path):
    assert mode_problem(pipeline_config(mode="detector")) == ""
    problem = mode_problem(pipeline_config(mode="image", checkpoint=str(tmp_path / "missing.pt")))
    assert problem.startswith("The image network") and "missing.pt" in problem and "\n" not in problem
