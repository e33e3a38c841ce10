from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA as SHARED


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "mocap").is_dir():
        pytest.skip("needs the CMU mocap takes from the shared data, absent")
    return SHARED


@pytest.fixture(scope="session")
def mocap_cache(tmp_path_factory, shared_data) -> Path:
    from training.common.mocap import load_clips

    cache = tmp_path_factory.mktemp("mocap_cache")
    load_clips(shared_data, cache)
    return cache
