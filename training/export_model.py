"""Exports a trained network to the format the program runs without torch (engine.lift.nets.exported).

    python -m training.export_model lifter resources/models/lifter.pt resources/models/lifter.npz
    python -m training.export_model image my_image_net.pt my_image_net.npz

`make model` runs the first for the shipped lifter. The .npz holds the weights as float32 arrays
and the constructor arguments as JSON; the engine runs it in numpy (engine.lift.nets.lifter_numpy,
image_numpy), in a development install and in the desktop bundle alike. After writing, the export
is run once beside the torch model on the same inputs and must agree within 1e-4 (the tests check
this on real detector output, tests/training/test_export_model.py).
"""

from __future__ import annotations

import argparse
import sys

from engine.core.errors import MonocapError
from engine.lift.nets.exported import save_exported
from engine.lift.nets.torch_weights import read_torch_network

CLASSES = {"lifter": "LifterNet", "image": "ImagePoseNet"}


def export_model(kind: str, source: str, target: str) -> None:
    """Reads the torch checkpoint `source` (a `kind` network) and writes its export to `target`."""
    save_exported(target, read_torch_network(source, CLASSES[kind]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.export_model", description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=sorted(CLASSES), help="which network the checkpoint holds")
    ap.add_argument("checkpoint", help="the trained torch checkpoint (.pt)")
    ap.add_argument("output", help="the exported network to write (.npz)")
    args = ap.parse_args(argv)
    if not args.output.lower().endswith(".npz"):
        print(f"export_model: {args.output}: the output must end in .npz", file=sys.stderr)
        return 2
    try:
        export_model(args.kind, args.checkpoint, args.output)
    except MonocapError as exc:
        print(f"export_model: {exc}", file=sys.stderr)
        return 2
    print(f"export_model: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
