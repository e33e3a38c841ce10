"""The bundle's virtualenv (desktop/bundle-requirements.txt, installed by `make bundle`) holds every
runtime dependency of the program but torch, PyAV and OpenCV's contrib wheel, each at the version
constraints.txt pins; and the bundle's spec leaves out the torch network definitions alone."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
LEFT_OUT = {"torch", "av", "opencv-contrib-python"}  # docs/BUNDLE.md says why
REPLACED = {"opencv-contrib-python": "opencv-python-headless"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _bundle_requirements() -> set[str]:
    lines = (ROOT / "desktop" / "bundle-requirements.txt").read_text().splitlines()
    return {_name(ln) for ln in lines if ln.strip() and not ln.lstrip().startswith("#")}


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            pins[_name(name)] = version.strip()
    return pins


def test_bundle_installs_every_runtime_dependency_but_the_ones_left_out():
    deps = {_name(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    wanted = (deps - LEFT_OUT - {"mediapipe"}) | {REPLACED[d] for d in deps & set(REPLACED)}
    missing = wanted - _bundle_requirements()
    assert not missing, f"add to desktop/bundle-requirements.txt (or say in docs/BUNDLE.md why not): {sorted(missing)}"
    assert not _bundle_requirements() & LEFT_OUT


def test_every_bundle_requirement_has_an_exact_pin():
    pins = _pins()
    unpinned = sorted(r for r in _bundle_requirements() | {"mediapipe"} if r not in pins and r != "tomli")
    assert not unpinned, f"pin these in constraints.txt: {unpinned}"


def test_the_spec_leaves_out_exactly_the_torch_network_definitions():
    """build.spec freezes every engine module but those that import torch when imported; the
    program's own path never imports one of those at module level."""
    torch_at_import = re.compile(r"^(import torch|from torch[ .])", re.MULTILINE)
    torch_modules = set()
    for path in sorted((ROOT / "engine").rglob("*.py")):
        if torch_at_import.search(path.read_text(encoding="utf-8")):
            torch_modules.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
    assert torch_modules <= {"engine.lift.nets.lifter_net", "engine.lift.nets.image_pose_net",
                             "engine.lift.nets.resnet", "engine.lift.nets.checkpoint"}, torch_modules
    top_level_import = re.compile(r"^(?:from|import) (" + "|".join(map(re.escape, torch_modules)) + r")\b", re.MULTILINE)
    for folder in ("engine", "app", "desktop"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            if name not in torch_modules:
                found = top_level_import.search(path.read_text(encoding="utf-8"))
                assert not found, f"{name} imports {found.group(1)} (torch) when it is imported"
