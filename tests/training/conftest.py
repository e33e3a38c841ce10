from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA


@pytest.fixture(scope="session")
def mocap_root(tmp_path_factory) -> Path:
    """A data root holding mocap/: the shared CMU takes, or where they are absent one generated take
    of each format and split, in the same layout (tests/engine/mocap_sources.py)."""
    if (SHARED_DATA / "mocap").is_dir():
        return SHARED_DATA
    from tests.engine.mocap_sources import write_generated_mocap

    return write_generated_mocap(tmp_path_factory.mktemp("generated_data"))


@pytest.fixture(scope="session")
def mocap_cache(tmp_path_factory, mocap_root) -> Path:
    from training.common.mocap import load_clips

    cache = tmp_path_factory.mktemp("mocap_cache")
    load_clips(mocap_root, cache)
    return cache
