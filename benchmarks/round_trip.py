"""Round-trip error of the BVH export on the shared motion capture, per data set.

For every BVH file: joint positions by FK (engine reader) -> MONOCAP_BODY take -> solve onto
Monocap's rig (bone lengths from the take) -> BVH in cm -> joint positions by FK on bvhio's
parse -> distance to the take's joints. Prints, per data set, the mean error, the worst frame's
mean error and the worst single joint, in cm.

    python benchmarks/round_trip.py [--max-files N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.animation.formats import ExportOptions, read_take
from engine.animation.rig import MONOCAP_RIG
from tests.engine.animation.test_bvh_export import round_trip_errors_cm

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap"
SETS = {"cmu_iclone": "cmu_iclone/*.bvh", "cmu_daz": "cmu_daz/*/*.bvh", "cmu_asf": "cmu_asf/*.bvh"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-files", type=int, default=0)
    args = ap.parse_args()
    options = ExportOptions(ground=False, foot_contact=False)
    with tempfile.TemporaryDirectory() as tmp:
        for name, pattern in SETS.items():
            files = sorted(DATA.glob(pattern))
            if args.max_files:
                files = files[:args.max_files]
            errs = []
            for f in files:
                errs.append(round_trip_errors_cm(read_take(f), Path(tmp) / "rt.bvh", MONOCAP_RIG, options))
            e = np.concatenate(errs)
            print(f"{name}: {len(files)} files, {e.shape[0]} frames: mean {e.mean():.3f} cm, "
                  f"worst frame {e.mean(axis=1).max():.3f} cm, worst joint {e.max():.3f} cm, "
                  f"95th pct joint {np.percentile(e, 95):.3f} cm", flush=True)


if __name__ == "__main__":
    main()
