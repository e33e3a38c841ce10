"""A model recipe in resources/models run on the mediapipe wheel, as `make model` runs it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MODELS = REPO / "resources" / "models"


def task_from_recipe(tmp_path: Path, recipe: str, task: str) -> Path:
    """resources/models/<recipe> run on the wheel (downloaded here; the test is skipped when the
    registry cannot be reached) -> the .task it writes. Checks it holds the shipped file's members."""
    wheel_dir = tmp_path / "wheel"
    download = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version",
         "3.11", "--platform", "manylinux_2_28_x86_64", "mediapipe==0.10.21", "-d", str(wheel_dir)],
        capture_output=True, text=True, timeout=600)
    if download.returncode:
        pytest.skip(f"the mediapipe wheel could not be downloaded: {download.stderr.strip()[-200:]}")
    out = tmp_path / task
    run = subprocess.run([sys.executable, str(MODELS / recipe), "--wheel", str(next(wheel_dir.glob("*.whl"))),
                          "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    with zipfile.ZipFile(out) as built, zipfile.ZipFile(MODELS / task) as shipped:
        assert sorted(built.namelist()) == sorted(shipped.namelist())
    return out
