"""Seeded mutations of valid BVH, CSV, TRC and NPZ takes and of joint maps, read in-process. For
each case the test works out what the mutated file says: a value changed to another number is read
as written and nothing else moves; an empty CSV/TRC cell makes that joint missing in that frame; a
deleted row is a frame with nobody in view; a header rate is kept when the data agree with it.
Anything else (not a number in the one grammar, beyond the plausible, a file cut short, a header
that contradicts the data, a damaged archive or map) must be one InputError of one line naming
the file."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from engine.animation.bvh_checks import MAX_FILE_UNITS
from engine.animation.bvh_reader import read_bvh
from engine.animation.formats import read_take, write_take
from engine.animation.rig_mappings import load_joint_map
from engine.core.errors import InputError
from engine.core.input_checks import MAX_ANGLE_DEG, MAX_POSITION_M
from engine.core.skeletons import MONOCAP_BODY
from engine.core.take import save_npz
from tests.engine.take_samples import body_take

SEED = 20_719
CASES = {"csv": 160, "trc": 160, "bvh": 160, "npz": 120, "map": 100}
FRAMES = 8

# The grammar every text take format allows, written out here as the test's own oracle.
NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
NOT_NUMBERS = ["1_0", "-0_04909", "1_000.5", "nan", "NaN", "inf", "-inf", "Infinity", "0x1F", "1e", "e5", "١٢",
               "１", "1.2.3", "+-1", "--1", "1e5.5", "½", ".", "-", "1e+", "0b1", "1j"]
IMPLAUSIBLE = ["1e300", "-1e30", "1e20", "9e99"]
CELL_CHARS = list("0123456789.-+eE_nax") + ["١", "é"]
REFUSED = None  # an expected outcome: one InputError line


def plausible_number(rng: np.random.Generator) -> str:
    value = float(rng.uniform(-900, 900))
    forms = [f"{value:.5f}", f"{value:.2f}", f"{value:g}", f"{value:.3e}", f"{int(value)}", f"{value:.1f}0",
             f"+{abs(value):.4f}", f"{int(value)}.", f".{abs(int(value)) or 5}"]
    return forms[int(rng.integers(len(forms)))]


def read_as_written(text: str, limit: float) -> float | None:
    """What a field means under the grammar: its value, or None where a reader must refuse it."""
    if NUMBER.fullmatch(text.strip()) is None:
        return None
    value = float(text)
    return value if abs(value) <= limit else None


# ---------------------------------------------------------------------------------------------
# text formats: where the values are


@dataclass(frozen=True)
class Layout:
    """How a text take lays out its frames: the line of the first row, the separator, the
    column of the first value, file units per metre (BVH: None, its values are channels)."""

    first_row: int
    sep: str
    first_value: int
    per_metre: float | None


def layout_of(ext: str, lines: list[str]) -> Layout:
    if ext == "csv":
        return Layout(1, ",", 2, 1.0)
    if ext == "trc":
        return Layout(6, "\t", 2, 1000.0)
    frame_time = next(i for i, line in enumerate(lines) if line.startswith("Frame Time"))
    return Layout(frame_time + 1, " ", 0, None)


@dataclass(frozen=True)
class Seed:
    ext: str
    text: str
    reference: object  # what the unmutated file reads as: a Take, or for BVH its BvhMotion
    channel_limits: np.ndarray | None = None  # BVH: each column's plausible bound


@dataclass(frozen=True)
class Expected:
    """What a mutated text take must read as."""

    joints_m: np.ndarray | None = None  # CSV, TRC
    valid: np.ndarray | None = None
    times_s: np.ndarray | None = None
    fps: float | None = None
    channels: np.ndarray | None = None  # BVH
    frame_time_s: float | None = None


def unchanged(seed: Seed) -> Expected:
    ref = seed.reference
    if seed.ext == "bvh":
        return Expected(channels=ref.channels.copy(), frame_time_s=ref.frame_time_s)
    return Expected(ref.joints_m.copy(), ref.valid.copy(), ref.timestamps_s.copy(), ref.fps)


def with_cell(seed: Seed, row: int, column: int, text: str) -> Expected | None:
    """The expected reading after one value cell of frame `row` becomes `text`."""
    expected = unchanged(seed)
    if seed.ext == "bvh":
        value = read_as_written(text, seed.channel_limits[column])
        if value is None:
            return REFUSED
        expected.channels[row, column] = value
        return expected
    joint, axis = divmod(column - 2, 3)
    if not text.strip():
        expected.joints_m[row, joint] = np.nan  # one empty coordinate: that joint is missing
        return expected
    value = read_as_written(text, MAX_POSITION_M * layout_of(seed.ext, []).per_metre)
    if value is None:
        return REFUSED
    expected.joints_m[row, joint, axis] = value / layout_of(seed.ext, []).per_metre
    return expected


# ---------------------------------------------------------------------------------------------
# text mutations: each returns (what, mutated text, expected reading or REFUSED)


def replace_cell(seed: Seed, rng, make_text) -> tuple[str, str, Expected | None]:
    lines = seed.text.split("\n")
    layout = layout_of(seed.ext, lines)
    row = int(rng.integers(FRAMES))
    cells = lines[layout.first_row + row].split(layout.sep)
    column = int(rng.integers(layout.first_value, len(cells)))
    cells[column] = make_text(cells[column])
    lines[layout.first_row + row] = layout.sep.join(cells)
    what = f"frame {row} column {column} -> {cells[column]!r}"
    return what, "\n".join(lines), with_cell(seed, row, column, cells[column])


def mutate_number(seed, rng):
    return replace_cell(seed, rng, lambda _: plausible_number(rng))


def mutate_not_a_number(seed, rng):
    return replace_cell(seed, rng, lambda _: NOT_NUMBERS[int(rng.integers(len(NOT_NUMBERS)))])


def mutate_implausible(seed, rng):
    return replace_cell(seed, rng, lambda _: IMPLAUSIBLE[int(rng.integers(len(IMPLAUSIBLE)))])


def mutate_empty(seed, rng):
    return replace_cell(seed, rng, lambda _: "")


def mutate_byte(seed, rng):
    def edit(cell: str) -> str:
        at = int(rng.integers(len(cell) + 1))
        char = CELL_CHARS[int(rng.integers(len(CELL_CHARS)))]
        kind = int(rng.integers(3))
        if kind == 0 and at < len(cell):
            return cell[:at] + char + cell[at + 1:]
        if kind == 1 and at < len(cell):
            return cell[:at] + cell[at + 1:]
        return cell[:at] + char + cell[at:]

    return replace_cell(seed, rng, edit)


def mutate_cut(seed, rng):
    """The file cut inside its last row, with no line end after it; only the line end gone is whole."""
    text = seed.text
    last_row = text.rstrip("\n").rindex("\n") + 1
    cut = int(rng.integers(last_row + 1, len(text)))
    return f"cut at {cut} of {len(text)}", text[:cut], unchanged(seed) if cut == len(text) - 1 else REFUSED


def mutate_deleted_row(seed, rng):
    """A frame's row deleted: a frame with nobody in view inside the take, or a shorter take at its ends."""
    lines = seed.text.split("\n")
    layout = layout_of(seed.ext, lines)
    row = int(rng.integers(FRAMES))
    del lines[layout.first_row + row]
    if seed.ext == "trc":  # the header counts the rows the file holds
        header = lines[2].split("\t")
        header[2] = str(FRAMES - 1)
        lines[2] = "\t".join(header)
    expected = unchanged(seed)
    if row in (0, FRAMES - 1):
        keep = slice(1, None) if row == 0 else slice(None, -1)
        expected = Expected(expected.joints_m[keep], expected.valid[keep], expected.times_s[keep], expected.fps)
    else:
        expected.joints_m[row] = np.nan
        expected.valid[row] = False
    return f"row {row} deleted", "\n".join(lines), expected


TRC_RATES = ["30", "30.3", "29.5", "29.99", "31", "24", "100", "60", "0", "-30", "3_0", "nan"]


def mutate_rate(seed, rng):
    """TRC: the header's DataRate, kept where the Time column runs at it (within 2 %)."""
    lines = seed.text.split("\n")
    rate = TRC_RATES[int(rng.integers(len(TRC_RATES)))]
    header = lines[2].split("\t")
    header[0] = rate
    lines[2] = "\t".join(header)
    value = read_as_written(rate, 1e9)
    agrees = value is not None and value > 0 and abs(seed.reference.fps - value) <= 0.02 * value
    return f"DataRate {rate}", "\n".join(lines), replace(unchanged(seed), fps=value) if agrees else REFUSED


FRAME_TIMES = ["0.0333333", "0.01", ".04", "1", "0.5e-1", "0", "-0.03", "nan", "0_03", "0.0001", "1e"]


def mutate_frame_time(seed, rng):
    """BVH: the Frame Time line, read as written where it is a positive time at a plausible rate."""
    lines = seed.text.split("\n")
    layout = layout_of("bvh", lines)
    value_text = FRAME_TIMES[int(rng.integers(len(FRAME_TIMES)))]
    lines[layout.first_row - 1] = f"Frame Time: {value_text}"
    value = read_as_written(value_text, 1e9)
    ok = value is not None and value > 0 and 0.001 <= 1 / value <= 2000
    return f"Frame Time {value_text}", "\n".join(lines), replace(unchanged(seed), frame_time_s=value) if ok else REFUSED


TEXT_MUTATIONS = {
    "csv": (mutate_number, mutate_not_a_number, mutate_implausible, mutate_empty, mutate_byte, mutate_cut,
            mutate_deleted_row),
    "trc": (mutate_number, mutate_not_a_number, mutate_implausible, mutate_empty, mutate_byte, mutate_cut,
            mutate_deleted_row, mutate_rate),
    "bvh": (mutate_number, mutate_not_a_number, mutate_implausible, mutate_byte, mutate_cut, mutate_frame_time),
}


# ---------------------------------------------------------------------------------------------
# seeds and reading


def text_seed(ext: str, folder: Path) -> Seed:
    path = write_take(body_take(FRAMES), folder / f"seed.{ext}")
    if ext != "bvh":
        return Seed(ext, path.read_text(), read_take(path))
    motion = read_bvh(path)
    kinds = [c for j in motion.joints for c in j.channels]
    limits = np.array([MAX_ANGLE_DEG if c.endswith("rotation") else MAX_FILE_UNITS for c in kinds])
    return Seed(ext, path.read_text(), motion, limits)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, Seed]:
    folder = tmp_path_factory.mktemp("seeds")
    return {ext: text_seed(ext, folder) for ext in TEXT_MUTATIONS}


def refused_in_one_line(read, path: Path, label: str) -> None:
    with pytest.raises(InputError) as info:
        read(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message, f"{label}: {message}"


def check_text_reading(seed: Seed, path: Path, expected: Expected, label: str) -> None:
    if seed.ext == "bvh":
        motion = read_bvh(path)
        np.testing.assert_array_equal(motion.channels, expected.channels, err_msg=label)
        assert motion.frame_time_s == expected.frame_time_s, label
        try:  # the take made from it: read too, or refused where its positions are beyond the plausible
            read_take(path)
        except InputError as exc:
            assert "\n" not in str(exc) and "is more than" in str(exc), f"{label}: {exc}"
        return
    take = read_take(path)
    np.testing.assert_array_equal(take.joints_m, np.where(expected.valid[:, None, None], expected.joints_m, np.nan),
                                  err_msg=label)
    assert take.valid.tolist() == expected.valid.tolist(), label
    np.testing.assert_allclose(take.timestamps_s, expected.times_s, atol=1e-6, err_msg=label)  # written to 1 µs
    assert take.fps == pytest.approx(expected.fps, rel=1e-4), label  # a rate from times written to 1 µs
    missing = np.isnan(expected.joints_m).any(axis=-1) | ~expected.valid[:, None]
    assert np.array_equal(take.per_joint_confidence() == 0, missing), label


@pytest.mark.parametrize("ext", list(TEXT_MUTATIONS))
def test_mutated_text_takes_read_as_written_or_are_refused_in_one_line(tmp_path, seeds, ext):
    seed = seeds[ext]
    rng = np.random.default_rng([SEED, list(CASES).index(ext)])
    mutations = TEXT_MUTATIONS[ext]
    outcomes = {"read": 0, "refused": 0}
    for case in range(CASES[ext]):
        mutate = mutations[case % len(mutations)]
        what, text, expected = mutate(seed, rng)
        path = tmp_path / f"case{case}.{ext}"
        path.write_bytes(text.encode("utf-8"))
        label = f"{ext} case {case} ({mutate.__name__}: {what})"
        if expected is REFUSED:
            refused_in_one_line(read_bvh if ext == "bvh" else read_take, path, label)
            outcomes["refused"] += 1
        else:
            check_text_reading(seed, path, expected, label)
            outcomes["read"] += 1
    assert min(outcomes.values()) > CASES[ext] // 5, outcomes


# ---------------------------------------------------------------------------------------------
# NPZ


@pytest.fixture(scope="module")
def npz_seed(tmp_path_factory) -> tuple[bytes, object]:
    """An NPZ of a take read from a BVH (its metadata holds a rest pose and a unit), and its reading."""
    folder = tmp_path_factory.mktemp("npz")
    take = read_take(write_take(body_take(FRAMES), folder / "source.bvh"))
    path = save_npz(take, folder / "seed.npz")
    return path.read_bytes(), read_take(path)


def npz_bytes(arrays: dict) -> bytes:
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


def npz_value(arrays, reference, rng):
    joints = arrays["joints_m"].copy()
    t, j, c = int(rng.integers(FRAMES)), int(rng.integers(joints.shape[1])), int(rng.integers(3))
    kind = int(rng.integers(4))
    joints[t, j, c] = [float(rng.uniform(-50, 50)), np.nan, np.inf, 1e30][kind]
    expected = reference.joints_m.copy()
    if kind == 0:
        expected[t, j, c] = float(joints[t, j, c])
    elif kind == 1:
        expected[t, j] = np.nan  # one NaN coordinate: that joint is missing in that frame
    what = f"joints_m[{t}, {j}, {c}] = {joints[t, j, c]}"
    return what, {**arrays, "joints_m": joints}, None if kind > 1 else (expected, reference.valid, reference.fps)


def npz_valid_flag(arrays, reference, rng):
    valid = arrays["valid"].copy()
    t = int(rng.integers(FRAMES))
    valid[t] = False
    expected = reference.joints_m.copy()
    expected[t] = np.nan
    return f"valid[{t}] = False", {**arrays, "valid": valid}, (expected, valid, reference.fps)


NPZ_RATES = [24.0, 100.0, 0.5, 0.0, -30.0, np.nan, np.inf, 5000.0]


def npz_rate(arrays, reference, rng):
    fps = NPZ_RATES[int(rng.integers(len(NPZ_RATES)))]
    ok = np.isfinite(fps) and 0.001 <= fps <= 2000
    return f"fps = {fps}", {**arrays, "fps": np.array(fps)}, (reference.joints_m, reference.valid, fps) if ok else None


def npz_metadata(arrays, reference, rng):
    metadata = json.loads(str(arrays["metadata_json"]))
    kind = int(rng.integers(4))
    if kind == 0:
        metadata["rest_pose_m"] = (np.array(metadata["rest_pose_m"]) * 1e300).tolist()
    elif kind == 1:
        metadata["rest_pose_m"] = [["x", "y", "z"]] * len(metadata["rest_pose_m"])
    elif kind == 2:
        metadata["joint_map"] = ["LeftUpLeg", "left_hip"]
    text = json.dumps(metadata) if kind < 3 else '{"deep": ' + "[" * 5000 + "]" * 5000 + "}"
    return f"metadata change {kind}", {**arrays, "metadata_json": np.array(text)}, None


def npz_archive_bytes(data: bytes, rng) -> tuple[str, bytes]:
    out = bytearray(data)
    at = int(rng.integers(len(out)))
    out[at] ^= int(rng.integers(1, 256))
    return f"byte {at} changed", bytes(out)


NPZ_MUTATIONS = (npz_value, npz_valid_flag, npz_rate, npz_metadata, None)  # None: a byte of the archive


def test_mutated_npz_takes_read_as_written_or_are_refused_in_one_line(tmp_path, npz_seed):
    data, reference = npz_seed
    with np.load(io.BytesIO(data)) as npz:
        arrays = {k: npz[k] for k in npz}
    rng = np.random.default_rng([SEED, list(CASES).index("npz")])
    outcomes = {"read": 0, "refused": 0}
    for case in range(CASES["npz"]):
        mutate = NPZ_MUTATIONS[case % len(NPZ_MUTATIONS)]
        if mutate is None:
            what, mutated = npz_archive_bytes(data, rng)
            expected = "unchanged or refused"
        else:
            what, changed, expected = mutate(arrays, reference, rng)
            mutated = npz_bytes(changed)
        path = tmp_path / f"case{case}.npz"
        path.write_bytes(mutated)
        label = f"npz case {case} ({what})"
        if expected is None:
            refused_in_one_line(read_take, path, label)
            outcomes["refused"] += 1
            continue
        try:
            take = read_take(path)
        except InputError as exc:
            assert expected == "unchanged or refused" and "\n" not in str(exc) and str(path) in str(exc), label
            outcomes["refused"] += 1
            continue
        joints, valid, fps = (reference.joints_m, reference.valid, reference.fps) if isinstance(expected, str) \
            else expected
        np.testing.assert_array_equal(take.joints_m, joints, err_msg=label)
        assert take.valid.tolist() == list(valid) and take.fps == fps, label
        assert take.metadata == reference.metadata and take.skeleton.joint_names == reference.skeleton.joint_names
        outcomes["read"] += 1
    assert min(outcomes.values()) > CASES["npz"] // 5, outcomes


# ---------------------------------------------------------------------------------------------
# joint maps


SOURCE_NAMES = ["LeftUpLeg", "LeftLeg", "RightUpLeg", "Spine", "Hips", "LeftArm", "Left Fore Arm", "Kopf"]


def expected_map(raw: bytes, toml: bool) -> dict | None:
    """The oracle: what a map file must load as, or None where it must be refused."""
    import tomllib

    try:
        text = raw.decode("utf-8-sig")
        if toml:
            data = tomllib.loads(text)
        else:
            pairs_seen: list = []
            data = json.loads(text, object_pairs_hook=lambda pairs: pairs_seen.append(pairs) or dict(pairs))
            if any(len({k for k, _ in p}) != len(p) for p in pairs_seen):
                return None
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if isinstance(data, dict) and set(data) == {"map"} and isinstance(data["map"], dict):
        data = data["map"]
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return None
    if not set(data.values()) <= set(MONOCAP_BODY.joint_names) or len(set(data.values())) != len(data):
        return None
    return data


def map_text(entries: dict, toml: bool) -> str:
    if toml:
        return "[map]\n" + "".join(f"{json.dumps(k)} = {json.dumps(v)}\n" for k, v in entries.items())
    return json.dumps(entries, indent=1)


def random_map(rng) -> dict:
    names = rng.permutation(SOURCE_NAMES)[: int(rng.integers(1, 5))]
    targets = list(MONOCAP_BODY.joint_names) + ["left_index1", "left_thumb_tip", "elbow"]
    return {str(n): targets[int(rng.integers(len(targets)))] for n in names}


def mutate_map(rng, toml: bool) -> tuple[str, bytes]:
    entries = random_map(rng)
    text = map_text(entries, toml)
    kind = int(rng.integers(5))
    if kind == 0 and len(entries) > 1:  # two source joints sent to one Monocap joint
        keys = list(entries)
        entries[keys[1]] = entries[keys[0]]
        return "two to one", map_text(entries, toml).encode()
    if kind == 1:
        at = int(rng.integers(len(text) + 1))
        return f"cut at {at}", text[:at].encode()
    if kind == 2:
        raw = bytearray(text.encode())
        raw[int(rng.integers(len(raw)))] = int(rng.integers(256))
        return "a byte changed", bytes(raw)
    if kind == 3:
        encodings = ["utf-16", "utf-8-sig", "latin-1"]
        encoding = encodings[int(rng.integers(3))]
        return f"as {encoding}", text.encode(encoding, errors="replace")
    return "as made", text.encode()


def test_mutated_joint_maps_load_as_written_or_are_refused_in_one_line(tmp_path):
    rng = np.random.default_rng([SEED, list(CASES).index("map")])
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(CASES["map"]):
        toml = bool(case % 2)
        what, raw = mutate_map(rng, toml)
        path = tmp_path / f"map{case}.{'toml' if toml else 'json'}"
        path.write_bytes(raw)
        expected = expected_map(raw, toml)
        label = f"map case {case} ({what}): {raw[:120]!r}"
        if expected is None:
            refused_in_one_line(load_joint_map, path, label)
            outcomes["refused"] += 1
        else:
            assert load_joint_map(path) == expected, label
            outcomes["loaded"] += 1
    assert min(outcomes.values()) > CASES["map"] // 6, outcomes

