"""Finds files the program ships (resources/), in a source checkout and in the desktop bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(relative: str) -> Path:
    return resources_root() / relative


def sample_clip() -> Path:
    return resource_path("sample/taiji_sample.mp4")
