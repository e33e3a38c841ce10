"""What a front end may ask of a take's files: the choices it offers and the options it builds."""

from __future__ import annotations

import pytest

from engine.core.errors import InputError
from engine.session.outputs import export_choices, export_options


def test_the_choices_are_the_writers_own():
    choices = export_choices()
    assert choices.formats == ("npz", "csv", "bvh", "trc", "fbx", "glb", "gltf", "vrma")
    assert set(choices.default_formats) <= set(choices.formats)
    assert {"monocap", "mixamo", "ue5", "vrm"} <= set(choices.rigs)
    assert choices.units == ("m", "cm", "mm")


def test_empty_values_keep_the_defaults():
    options = export_options()
    assert (options.rig, options.units, options.fps, options.start_frame, options.end_frame) == \
        ("monocap", None, None, 0, None)
    options = export_options("mixamo", "cm", 30.0, (5, 25))
    assert (options.rig, options.units, options.fps, options.start_frame, options.end_frame) == \
        ("mixamo", "cm", 30.0, 5, 25)


@pytest.mark.parametrize("values", [{"rig": "robot"}, {"units": "furlongs"}, {"fps": -1.0}, {"frame_range": (9, 3)}])
def test_a_bad_value_is_one_line(values):
    with pytest.raises(InputError, match="^export settings: ") as err:
        export_options(**values)
    assert "\n" not in str(err.value)
