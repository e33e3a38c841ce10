"""Accuracy of reading BVH from elsewhere: for each rig family of tests/engine/humanoid_rigs.py
(moving as the shared CMU take when there is one), the recogniser's confidence and the error of
the 12 limb joints after `convert` to Monocap's rig and to Mixamo, against the source, in cm.

    python benchmarks/rig_families.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.animation.formats import ExportOptions, read_take, write_take
from engine.animation.rig import MIXAMO_RIG, MONOCAP_RIG
from engine.animation.rig_mappings import find_mapping
from tests.engine.animation.test_bvh_export import rig_point_names
from tests.engine.bvhio_fk import bvhio_positions
from tests.engine.humanoid_rigs import cmu_motion, families, synthetic_motion, write_family

CMU = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap" / "cmu_asf" / "01_01.bvh"
LIMBS = [f"{s}_{j}" for s in ("left", "right") for j in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")]


def main() -> None:
    motion = cmu_motion(CMU) if CMU.is_file() else synthetic_motion()
    print(f"motion: {'CMU 01_01' if CMU.is_file() else 'synthetic'}, {motion.root_m.shape[0]} frames")
    print(f"{'family':12s} {'conf':>5s}  {'monocap mean / worst frame':>27s}  {'mixamo mean / worst frame':>26s}")
    with tempfile.TemporaryDirectory() as tmp:
        for family in families():
            written = write_family(family, motion, Path(tmp) / f"{family.name}.bvh")
            take = read_take(written.path)
            truth = np.stack([written.truth_m[family.truth[j]] for j in LIMBS], axis=1)
            cells = []
            for rig in (MONOCAP_RIG, MIXAMO_RIG):
                out = Path(tmp) / f"{family.name}_{rig.name}.bvh"
                write_take(take, out, ExportOptions(rig=rig.name, ground=False, foot_contact=False))
                positions, _, _ = bvhio_positions(out)
                names = rig_point_names(rig)
                got = np.stack([positions[names[j]] for j in LIMBS], axis=1) / 100.0
                err = np.linalg.norm(got - truth, axis=-1) * 100.0
                cells.append(f"{err.mean():.3f} / {err.mean(axis=1).max():.3f} cm")
            print(f"{family.name:12s} {find_mapping(take).confidence:5.2f}  {cells[0]:>27s}  {cells[1]:>26s}", flush=True)


if __name__ == "__main__":
    main()
