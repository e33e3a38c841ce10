"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# MONOCAP_TESTS_WITHOUT_SHARED=1 runs the suite as someone who cloned the public repository does:
# the shared data (../shared/data) is treated as absent even where it is there.
WITHOUT_SHARED = os.environ.get("MONOCAP_TESTS_WITHOUT_SHARED", "") not in ("", "0")
SHARED_DATA = (REPO / ".no-shared-data" if WITHOUT_SHARED else REPO.parent / "shared") / "data"


def ctrl_c_as_from_a_terminal() -> None:
    """A child's preexec_fn: Ctrl+C (SIGINT) as a terminal delivers it, whatever the launcher of the
    tests did (nohup, `&` in a script and some runners start them with SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def ctrl_c_raises():
    """Ctrl+C in this process raises KeyboardInterrupt, as Python sets it up when SIGINT is not ignored."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def shared_missing(what: str) -> str:
    """The skip reason of a test whose property needs the named shared data."""
    return f"needs {what} from the shared data ({REPO.parent / 'shared' / 'data'}), absent"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(shared_missing("the real clips and 3D truth"))
    return SHARED_DATA


SAMPLE_CLIP = REPO / "resources" / "sample" / "taiji_sample.mp4"


@pytest.fixture(scope="session")
def sample_clip() -> Path:
    return SAMPLE_CLIP


def shared_clip_or_sample(name: str) -> Path:
    """The shared clip ../shared/data/video/`name`, or where it is absent the bundled sample clip
    (one man, full body, indoors: the first 10 s of taiji_720p.mp4 at 640x360)."""
    shared = SHARED_DATA / "video" / name
    return shared if shared.is_file() else SAMPLE_CLIP


@pytest.fixture(scope="session")
def mocap_file(tmp_path_factory):
    """rel under mocap/ (e.g. "cmu_iclone/005_06.bvh") -> the shared CMU take, or where the shared
    data is absent a generated take of the same format (tests/engine/mocap_sources.py)."""
    from tests.engine.mocap_sources import mocap_file as shared_or_generated

    root = tmp_path_factory.mktemp("mocap")
    return lambda rel: shared_or_generated(rel, root)
