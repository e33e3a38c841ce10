"""The programs that read Monocap's FBX and glTF files, started by the tests themselves:

- the Khronos glTF validator (npm `gltf-validator`, run with node; `make test` installs it in
  .venv/node, or MONOCAP_GLTF_VALIDATOR names its folder);
- Assimp's command line (Debian's `assimp-utils`): `assimp dump FILE OUT.xml` with no
  post-processing, read back as XML (its nodes, animations and keys);
- ufbx (PyPI), the strict FBX reader: every bone's world position at every frame;
- Blender's own importers (bpy 4.2 in .venv-blender, tests/engine/blender_dump.py).

Each skips the test with the reason when its client is missing (make test installs them all);
with MONOCAP_EXPORT_CLIENTS=1 a missing client fails instead."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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


def ufbx_positions(path: Path) -> tuple[dict[str, np.ndarray], float, int]:
    """ufbx's reading of an FBX: {bone name: (T, 3) world positions, metres, right-handed Y up}
    at every frame of its first animation stack, the scene's frame rate and the number of stacks."""
    try:
        import ufbx
    except ImportError:
        _missing("the ufbx Python package is not installed (pip install ufbx; make test)")
    scene = ufbx.load_file(str(path), target_axes=ufbx.axes_right_handed_y_up, target_unit_meters=1.0)
    fps = float(scene.settings.frames_per_second)
    stacks = scene.anim_stacks
    stack = stacks[0]
    anim = stack.anim
    begin, end = float(stack.time_begin), float(stack.time_end)
    count = int(round((end - begin) * fps)) + 1
    bones = [n.name for n in scene.nodes if n.bone is not None]
    out = {name: np.empty((count, 3)) for name in bones}
    for t in range(count):
        state = ufbx.evaluate_scene(scene, anim, begin + t / fps)
        for name in bones:
            node = state.find_node(name)
            m = node.node_to_world
            out[name][t] = (m.c3.x, m.c3.y, m.c3.z)
        del state
    return out, fps, len(stacks)


def blender_heads(path: Path, fps: float = 30.0) -> tuple[dict[str, np.ndarray], float]:
    """Blender's own importer's bones: {name: (T, 3) heads, metres, Y up} and the scene's rate."""
    from tests.engine.animation.test_blender_import import blender_heads as heads

    return heads(path, 1.0, fps)
