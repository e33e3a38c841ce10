"""Seeded mutations of valid BVH, CSV, TRC and NPZ takes through `monocap convert` into every
format: each run ends in one clear error naming the input, or in a file that the validating
readers accept, with finite values and a positive plausible rate. Never an internal error or a
traceback, never a temporary left behind."""

from __future__ import annotations

import io

import numpy as np
import pytest

from engine.animation.formats import read_take, write_take
from engine.cli import main
from engine.core.input_checks import MAX_FPS, MAX_POSITION_M
from tests.engine.take_samples import body_take

SEED = 1414
CASES_PER_FORMAT = 100
OUTPUTS = ("csv", "trc", "npz", "bvh")
HOSTILE_NUMBERS = ["nan", "inf", "-inf", "1e300", "-1e300", "1e-300", "0", "-5", "-0", "1e9", "", "x", "0x1F",
                   "99999999999999999999", "3.5.1", "+-2"]


def mutate_text(data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    kind = rng.integers(9)
    if kind == 0:  # a number replaced by a hostile one
        tokens = data.split(b" ") if b" " in data and rng.random() < 0.5 else data.split(b"\t")
        i = int(rng.integers(len(tokens)))
        tokens[i] = HOSTILE_NUMBERS[int(rng.integers(len(HOSTILE_NUMBERS)))].encode()
        sep = b" " if len(data.split(b" ")) == len(tokens) else b"\t"
        return "number", sep.join(tokens)
    lines = data.split(b"\n")
    i = int(rng.integers(len(lines)))
    if kind == 1:
        return "drop line", b"\n".join(lines[:i] + lines[i + 1:])
    if kind == 2:
        return "repeat line", b"\n".join(lines[:i + 1] + lines[i:])
    if kind == 3:
        j = int(rng.integers(len(lines)))
        lines[i], lines[j] = lines[j], lines[i]
        return "swap lines", b"\n".join(lines)
    if kind == 4:
        return "truncate", data[: int(rng.integers(len(data)))]
    if kind == 5:
        out = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            out[int(rng.integers(len(out)))] = int(rng.integers(256))
        return "bytes", bytes(out)
    if kind == 6:  # a value added or removed on a line
        words = lines[i].split(b" ") if b" " in lines[i] else lines[i].split(b"\t")
        sep = b" " if b" " in lines[i] else b"\t"
        if rng.random() < 0.5 and len(words) > 1:
            del words[int(rng.integers(len(words)))]
        else:
            words.insert(int(rng.integers(len(words) + 1)), b"1.5")
        lines[i] = sep.join(words)
        return "field count", b"\n".join(lines)
    if kind == 7:
        return "junk", data[:i] + bytes(rng.integers(0, 256, size=int(rng.integers(1, 40)), dtype=np.uint8)) + data[i:]
    scale = [b"1e6", b"-1e8", b"1e20", b"1e308"][int(rng.integers(4))]
    return "scale line", b"\n".join(lines[:i] + [b" ".join(scale for _ in lines[i].split())] + lines[i + 1:])


NPZ_FIELD_VALUES = {
    "fps": [0.0, -30.0, np.nan, np.inf, 1e300, 1e-300, 10_000.0, np.array("thirty"), np.array([30.0, 30.0])],
    "joint_names": ["dup", np.array(["a"] * 3), np.zeros(22)],
    "parents": ["shift", np.full(22, -7, np.int32), np.zeros(5, np.int32)],
    "timestamps_s": ["reverse", "nan time", np.zeros(3)],
    "valid": ["none", np.ones(3, bool), np.array("yes")],
    "joints_m": ["inf", "huge", "nan", "flat", "strings"],
    "keypoint_scores": ["big"],
    "image_size": [np.array([-1, 5], np.int32), np.array([1, 2, 3], np.int32)],
    "metadata_json": [np.array("{not json"), np.array("[1, 2]")],
}


def mutate_npz(data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    kind = rng.integers(4)
    if kind == 0:
        out = bytearray(data)
        for _ in range(int(rng.integers(1, 6))):
            out[int(rng.integers(len(out)))] = int(rng.integers(256))
        return "bytes", bytes(out)
    if kind == 1:
        return "truncate", data[: int(rng.integers(len(data)))]
    with np.load(io.BytesIO(data)) as npz:
        arrays = {k: npz[k] for k in npz}
    if kind == 2:
        key = list(arrays)[int(rng.integers(len(arrays)))]
        del arrays[key]
        what = f"drop {key}"
    else:
        key = list(NPZ_FIELD_VALUES)[int(rng.integers(len(NPZ_FIELD_VALUES)))]
        options = NPZ_FIELD_VALUES[key]
        value = options[int(rng.integers(len(options)))]
        what = f"{key} = {value if not isinstance(value, np.ndarray) else value.tolist()}"
        arrays[key] = _npz_value(arrays, key, value, rng)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return what, buf.getvalue()


def _npz_value(arrays: dict, key: str, value, rng: np.random.Generator):
    if not isinstance(value, str):
        return np.asarray(value)
    current = arrays[key].copy()
    t = int(rng.integers(current.shape[0])) if current.ndim else 0
    if value == "dup":
        current[1] = current[0]
    elif value == "shift":
        current = current + 1
    elif value == "reverse":
        current = current[::-1].copy()
    elif value == "nan time":
        current[t] = np.nan
    elif value == "none":
        current[:] = False
    elif value in ("inf", "huge", "nan"):
        current[t, int(rng.integers(current.shape[1])), int(rng.integers(3))] = \
            {"inf": np.inf, "huge": 1e30, "nan": np.nan}[value]
    elif value == "flat":
        current = current[..., :2]
    elif value == "strings":
        current = current.astype(str)
    elif value == "big":
        current[t] = 7.0
    return current


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("seeds")
    take = body_take(8)
    return {ext: write_take(take, folder / f"seed.{ext}").read_bytes() for ext in OUTPUTS}


def assert_valid_output(path) -> None:
    take = read_take(path)  # the validating reader: counts, finite values, rate
    assert take.num_frames >= 1
    assert np.isfinite(take.fps) and 0 < take.fps <= MAX_FPS
    present = ~np.isnan(take.joints_m).any(axis=-1)  # a missing joint is NaN, and only that
    assert np.isfinite(take.joints_m[present]).all() and present[take.valid].any(axis=1).all()
    assert np.array_equal(take.per_joint_confidence() > 0, present & take.valid[:, None])
    assert (np.abs(take.joints_m[present]) <= MAX_POSITION_M).all()


@pytest.mark.parametrize("source", OUTPUTS)
def test_mutated_takes_never_become_an_internal_error_or_a_broken_file(tmp_path, capsys, seeds, source):
    rng = np.random.default_rng([SEED, OUTPUTS.index(source)])
    outcomes = {"error": 0, "written": 0}
    for case in range(CASES_PER_FORMAT):
        mutate = mutate_npz if source == "npz" else mutate_text
        what, data = mutate(seeds[source], rng)
        src = tmp_path / f"in{case}.{source}"
        src.write_bytes(data)
        dst = tmp_path / f"out{case}.{OUTPUTS[case % len(OUTPUTS)]}"
        code = main(["convert", str(src), str(dst)])
        err = capsys.readouterr().err
        label = f"case {case} ({what!r}): exit {code}: {err}"
        lines = [line for line in err.splitlines() if line.startswith("monocap: error")]
        assert "Traceback" not in err and "internal error" not in err, label
        assert code in (0, 2), label
        if code == 2:
            assert len(lines) == 1 and src.name in lines[0], label
            assert not dst.exists(), label
            outcomes["error"] += 1
        else:
            assert_valid_output(dst)
            outcomes["written"] += 1
    assert not list(tmp_path.glob(".*")), "temporaries left behind"
    assert outcomes["error"] > CASES_PER_FORMAT // 4  # the mutations do reach the checks


def test_seeds_convert_cleanly(tmp_path, seeds):
    for source in OUTPUTS:
        src = tmp_path / f"seed.{source}"
        src.write_bytes(seeds[source])
        for target in OUTPUTS:
            dst = tmp_path / f"from_{source}.{target}"
            assert main(["convert", str(src), str(dst)]) == 0
            assert_valid_output(dst)
