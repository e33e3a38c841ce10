"""Monocap's BVH as Blender itself reads it: Blender's own BVH importer (through the `bpy`
module, in the separate environment `make test` sets up as .venv-blender, or the Python named by
MONOCAP_BLENDER_PYTHON) must put every joint where the take has it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.animation.formats import ExportOptions, read_take, write_take
from engine.animation.rig import MIXAMO_RIG, MONOCAP_RIG
from engine.animation.rig_mappings import to_body_take
from engine.core.skeletons import MONOCAP_BODY

REPO = Path(__file__).resolve().parents[3]
DUMP = Path(__file__).parents[1] / "blender_dump.py"


def blender_python() -> str:
    exe = os.environ.get("MONOCAP_BLENDER_PYTHON") or str(REPO / ".venv-blender" / "bin" / "python")
    if not Path(exe).is_file() or subprocess.run([exe, "-c", "import bpy"], capture_output=True).returncode:
        if os.environ.get("MONOCAP_BLENDER_TEST") == "1":
            pytest.fail(f"no Python with bpy at {exe}")
        pytest.skip("Blender's bpy module is not installed (make blender-env)")
    return exe


def blender_heads(path: Path, scale: float, fps: float = 30.0) -> tuple[dict[str, np.ndarray], float]:
    """Blender's importer for the file's format: {bone: (T, 3) heads, metres, Y up}, the scene's
    rate. BVH: `scale` is the importer's; glTF keys are placed at `fps` (glTF has no rate)."""
    out = path.with_name(path.name + ".blender.npz")
    run = subprocess.run([blender_python(), str(DUMP), str(path), str(out), str(scale), repr(float(fps))],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    data = np.load(out)
    heads = data["heads"]
    return {str(n): heads[:, i] for i, n in enumerate(data["names"])}, float(data["fps"])


@pytest.mark.parametrize("source, rig, units, order", [
    ("cmu_iclone/005_06.bvh", MONOCAP_RIG, "cm", "ZXY"),
    ("cmu_daz/martial/03.bvh", MIXAMO_RIG, "m", "XYZ"),
    ("cmu_iclone/005_06.bvh", MIXAMO_RIG, "m", "ZXY"),  # Spine bends at the fitted lumbar pivot
    ("cmu_asf/01_01.bvh", MONOCAP_RIG, "cm", "YXZ"),
])
def test_blender_puts_every_joint_where_the_take_has_it(mocap_file, tmp_path, source, rig, units, order):
    take = to_body_take(read_take(mocap_file(source)))
    take = take.slice(0, min(take.num_frames, 400))
    path = tmp_path / "take.bvh"
    write_take(take, path, ExportOptions(rig=rig.name, units=units, euler_order=order, ground=False,
                                         foot_contact=False))
    heads, fps = blender_heads(path, {"cm": 0.01, "m": 1.0}[units])
    assert fps == pytest.approx(take.fps, rel=1e-3)
    # Blender's importer sets the scene's last frame one past the file's last frame
    assert take.num_frames <= len(next(iter(heads.values()))) <= take.num_frames + 1
    errors = []
    for joint in MONOCAP_BODY.joint_names:
        i = rig.joint_at(joint)
        if i is not None:  # end sites have no bone head
            got = heads[rig.joints[i].name][:take.num_frames]
            errors.append(np.linalg.norm(got - take.joints_m[:, MONOCAP_BODY.index(joint)], axis=-1) * 100)
    err = np.stack(errors, axis=1)
    assert err.mean() < 0.5, f"mean {err.mean():.2f} cm"
    assert err.mean(axis=1).max() < 3.0, f"worst frame {err.mean(axis=1).max():.2f} cm"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


@pytest.mark.parametrize("rig", ["monocap", "mixamo"])
def test_blender_imports_fifteen_finger_bones_per_hand_where_the_take_has_them(tmp_path, rig):
    from engine.animation.rig import get_rig
    from engine.core.skeletons import FINGERS, MONOCAP_HANDS
    from tests.engine.animation.test_bvh_export import spin_take
    from tests.engine.synthetic_hands import hands_take

    curl = np.concatenate([np.full(20, 5.0), np.linspace(5.0, 80.0, 20), np.full(20, 80.0)])
    take = hands_take(spin_take(frames=60, turns=0.3), curl)
    path = tmp_path / "hands.bvh"
    write_take(take, path, ExportOptions(rig=rig, units="cm", ground=False, foot_contact=False))
    heads, _ = blender_heads(path, 0.01)
    fingers_rig = get_rig(rig, fingers=True)
    for side in ("left", "right"):
        bones = [n for n in heads if any(f in n.lower() for f in FINGERS) and n.lower().replace("mixamorig:", "")
                 .startswith(side)]
        assert len(bones) == 15, f"{side}: {len(bones)} finger bones in Blender: {bones}"
        for finger in FINGERS:
            for k in (1, 2, 3):
                joint = f"{side}_{finger}{k}"
                got = heads[fingers_rig.joints[fingers_rig.joint_at(joint)].name][:take.num_frames]
                err = np.linalg.norm(got - take.joints_m[:, MONOCAP_HANDS.index(joint)], axis=-1) * 100
                assert err.max() < 0.5, f"{joint}: {err.max():.2f} cm off"
