"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# MONOCAP_TESTS_WITHOUT_SHARED=1 runs the suite as someone who cloned the public repository does:
# the shared data (../shared/data) is treated as absent even where it is there.
WITHOUT_SHARED = os.environ.get("MONOCAP_TESTS_WITHOUT_SHARED", "") not in ("", "0")
SHARED_DATA = (REPO / ".no-shared-data" if WITHOUT_SHARED else REPO.parent / "shared") / "data"


def shared_missing(what: str) -> str:
    """The skip reason of a test whose property needs the named shared data."""
    return f"needs {what} from the shared data ({REPO.parent / 'shared' / 'data'}), absent"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(shared_missing("the real clips and 3D truth"))
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_clip() -> Path:
    return REPO / "resources" / "sample" / "taiji_sample.mp4"
