"""The GUI's export door writes real files through the engine's one writer of a take's files."""

import json

import numpy as np
import pytest

from app.exporting import ExportRequest, available_formats, available_rigs, export
from engine.animation.bvh_reader import read_bvh
from engine.core.errors import MonocapError
from engine.core.skeletons import MONOCAP_BODY
from engine.core.take import Take
from engine.core.take_csv import read_csv


def _take(t=40):
    rng = np.random.default_rng(0)
    from engine.motion.bones import impose_bone_lengths

    base = np.array([[0, 1.0, 0]]) + rng.normal(scale=0.3, size=(MONOCAP_BODY.num_joints, 3))
    joints = np.repeat(base[None], t, axis=0) + rng.normal(scale=0.005, size=(t, MONOCAP_BODY.num_joints, 3))
    lengths = np.full(MONOCAP_BODY.num_joints, 0.2)
    lengths[0] = 0
    joints = impose_bone_lengths(joints, MONOCAP_BODY, lengths)
    return Take(joints, MONOCAP_BODY, 30.0, np.arange(t) / 30.0, np.ones(t, bool))


def test_offers_every_engine_format_and_rig():
    assert {"bvh", "csv", "trc", "npz"} <= set(available_formats())
    assert {"monocap", "mixamo"} <= set(available_rigs())


def test_frame_range_rig_and_units_reach_the_files(tmp_path):
    request = ExportRequest(str(tmp_path), "take", ("bvh", "csv"), rig="mixamo", units="m", frame_range=(5, 25))
    paths = export(_take(), request)
    assert [p.name for p in paths] == ["take.bvh", "take.csv", "take.json"]
    sidecar = json.loads((tmp_path / "take.json").read_text())  # the same sidecar as `monocap process`
    assert sidecar["files"] == ["take.bvh", "take.csv"] and sidecar["settings"]["rig"] == "mixamo"
    assert "mediapipe" in sidecar["versions"] and sidecar["frames"] == 40
    bvh = read_bvh(tmp_path / "take.bvh")
    assert bvh.num_frames == 20
    assert any(j.name.startswith("mixamorig:") for j in bvh.joints)
    assert read_csv(tmp_path / "take.csv").num_frames == 20


def test_bad_settings_are_a_clear_error(tmp_path):
    with pytest.raises(MonocapError, match="export settings"):
        export(_take(), ExportRequest(str(tmp_path), "t", ("bvh",), units="furlongs"))
