from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "mocap").is_dir():
        pytest.skip("shared data missing")
    return SHARED


@pytest.fixture(scope="session")
def mocap_cache(tmp_path_factory, shared_data) -> Path:
    from training.common.mocap import load_clips

    cache = tmp_path_factory.mktemp("mocap_cache")
    load_clips(shared_data, cache)
    return cache
