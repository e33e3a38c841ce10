"""The programs that read Monocap's FBX and glTF files, started by the tests themselves:

- the Khronos glTF validator (npm `gltf-validator`, run with node; `make test` installs it in
  .venv/node, or MONOCAP_GLTF_VALIDATOR names its folder);
- Assimp's command line (Debian's `assimp-utils`): `assimp dump FILE OUT.xml` with no
  post-processing, read back as XML (its nodes, animations and keys);
- ufbx (PyPI), the strict FBX reader: every bone's world position at every frame
  (tests/engine/ufbx_dump.py, in its own process);
- Blender's own importers (bpy 4.2 in .venv-blender, tests/engine/blender_dump.py).

Each skips the test with the reason when its client is missing (make test installs them all);
with MONOCAP_EXPORT_CLIENTS=1 a missing client fails instead."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent


def _missing(reason: str):
    if os.environ.get("MONOCAP_EXPORT_CLIENTS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def validator_dir() -> Path:
    folder = Path(os.environ.get("MONOCAP_GLTF_VALIDATOR") or REPO / ".venv" / "node" / "node_modules" / "gltf-validator")
    if shutil.which("node") is None:
        _missing("node is not installed (make sysdeps), so the Khronos glTF validator cannot run")
    if not (folder / "package.json").is_file():
        _missing(f"the Khronos glTF validator is not installed at {folder} (make gltf-validator)")
    return folder


def validate_gltf(*paths: Path) -> list[dict]:
    """The validator's report per file: errors, warnings, infos and the messages."""
    run = subprocess.run(["node", str(HERE / "gltf_validate.js"), str(validator_dir()), *map(str, paths)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def assert_valid_gltf(*paths: Path) -> list[dict]:
    reports = validate_gltf(*paths)
    for r in reports:
        assert r["errors"] == 0, f"{r['file']}: {r['errors']} errors: {r['messages'][:10]}"
    return reports


@dataclass
class AssimpScene:
    nodes: list[str]  # every node's name, depth first
    animations: list[tuple[str, dict[str, dict]]]  # (name, {node: {"positions": (K, 3), "rotations": K}})


def assimp_read(path: Path, out_dir: Path) -> AssimpScene:
    """The file as Assimp reads it (`assimp dump`, no post-processing)."""
    if shutil.which("assimp") is None:
        _missing("Assimp's command line is not installed (Debian assimp-utils; make sysdeps)")
    out = out_dir / (path.name + ".assimp.xml")
    run = subprocess.run(["assimp", "dump", str(path), str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and out.is_file(), f"assimp could not read {path.name}: {run.stdout[-800:]}{run.stderr[-800:]}"
    scene = ET.parse(out).getroot().find("Scene")
    nodes = [n.get("name") for n in scene.iter("Node")]
    animations = []
    for anim in scene.iter("Animation"):
        channels = {}
        for ch in anim.iter("NodeAnim"):
            keys = [np.array(k.text.split(), float) for k in ch.iter("PositionKey")]
            channels[ch.get("node")] = {"positions": np.array(keys).reshape(-1, 3),
                                        "rotations": len(list(ch.iter("RotationKey")))}
        animations.append((anim.get("name"), channels))
    return AssimpScene(nodes, animations)


@dataclass
class UfbxScene:
    positions: dict[str, np.ndarray]  # bone -> (T, 3) world positions, metres, right-handed Y up
    fps: float
    stacks: int
    unit_meters: float  # the file's own unit
    axes: tuple[int, int, int]  # the file's own right, up and front axes (ufbx.CoordinateAxis)


def ufbx_read(path: Path) -> UfbxScene:
    """ufbx's reading of an FBX (tests/engine/ufbx_dump.py in its own process): every bone at
    every frame of the first animation stack, at the scene's rate."""
    import importlib.util

    if importlib.util.find_spec("ufbx") is None:
        _missing("the ufbx Python package is not installed (pip install ufbx; make test)")
    out = path.with_name(path.name + ".ufbx.npz")
    run = subprocess.run([sys.executable, str(HERE.parent / "ufbx_dump.py"), str(path), str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"ufbx could not read {path.name}: {run.stderr[-1500:]}"
    data = np.load(out)
    positions = {str(n): data["positions"][:, i] for i, n in enumerate(data["names"])}
    return UfbxScene(positions, float(data["fps"]), int(data["stacks"]), float(data["unit_meters"]),
                     tuple(int(a) for a in data["axes"]))


def blender_heads(path: Path, fps: float = 30.0) -> tuple[dict[str, np.ndarray], float]:
    """Blender's own importer's bones: {name: (T, 3) heads, metres, Y up} and the scene's rate."""
    from tests.engine.animation.test_blender_import import blender_heads as heads

    return heads(path, 1.0, fps)
