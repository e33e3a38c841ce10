"""Damaged and hostile take files: each gives one clear error naming the file and what is wrong,
never wrong motion, an internal error or gigabytes of memory; no writer emits a file with a
rate a reader cannot use."""

from __future__ import annotations

import io
import math
import time
import zipfile

import numpy as np
import pytest

from engine.animation.formats import read_take, write_take
from engine.core.errors import InputError, MonocapError, OutputError
from engine.core.input_checks import InputLimits
from engine.core.take import save_npz
from tests.engine.take_samples import body_take

BVH_HEAD = """HIERARCHY
ROOT hip
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT knee
  {
    OFFSET 0 -40 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 -40 0
    }
  }
}
MOTION
"""
ROWS = ["0 100 0 0 0 0 0 0 0", "10 100 0 90 0 0 -90 0 0", "12 100 0 80 0 0 -80 0 0"]


def bvh(tmp_path, frames="3", frame_time="0.5", rows=ROWS, head=BVH_HEAD, name="take.bvh"):
    path = tmp_path / name
    path.write_text(head + f"Frames: {frames}\nFrame Time: {frame_time}\n" + "\n".join(rows) + "\n")
    return path


def one_line_error(path, match, limits=None):
    with pytest.raises(InputError) as info:
        read_take(path) if limits is None else read_take(path, limits=limits)
    message = str(info.value)
    assert "\n" not in message and str(path) in message, message
    assert match in message, message
    return message


def test_bvh_sample_reads(tmp_path):
    take = read_take(bvh(tmp_path))
    assert take.num_frames == 3 and take.fps == pytest.approx(2.0)


# ---- BVH ------------------------------------------------------------------------------------


def test_bvh_extra_value_on_every_motion_row_is_an_error_naming_the_line(tmp_path):
    path = bvh(tmp_path, rows=[r + " 5" for r in ROWS])
    one_line_error(path, "line 19: 10 values where the hierarchy declares 9 channels")


def test_bvh_negative_frame_count(tmp_path):
    one_line_error(bvh(tmp_path, frames="-5"), "Frames: -5 is negative")


def test_bvh_frame_count_that_disagrees_with_the_rows(tmp_path):
    one_line_error(bvh(tmp_path, frames="55"), "announces 55 frames but the file has 3")
    one_line_error(bvh(tmp_path, frames="2"), "Frames: announces 2 frames but the file has 3")


@pytest.mark.parametrize("frame_time", ["0", "-0.033", "nan", "inf"])
def test_bvh_frame_time_that_is_not_a_positive_time(tmp_path, frame_time):
    one_line_error(bvh(tmp_path, frame_time=frame_time), "is not a positive time")


def test_bvh_frame_time_of_1e_300_is_not_a_plausible_rate(tmp_path):
    one_line_error(bvh(tmp_path, frame_time="1e-300"), "not a plausible frame rate")


def test_bvh_10000_fps_header_is_not_taken_silently(tmp_path):
    one_line_error(bvh(tmp_path, frame_time="0.0001"), "10000 frames per second is not a plausible")


def test_bvh_huge_values_are_not_written_on(tmp_path):
    rows = [ROWS[0], "1e300 100 0 0 0 0 0 0 0", ROWS[2]]
    one_line_error(bvh(tmp_path, rows=rows), "line 20, hip Xposition: 1e+300 is beyond")


def test_bvh_inf_in_a_root_rotation_names_the_input_line(tmp_path):
    rows = [ROWS[0], ROWS[1], "12 100 0 inf 0 0 -80 0 0"]
    message = one_line_error(bvh(tmp_path, rows=rows), "line 21, hip Zrotation: inf is not a finite number")
    assert "nobody" not in message


def test_bvh_duplicate_joint_names(tmp_path):
    head = BVH_HEAD.replace("JOINT knee", "JOINT hip")
    one_line_error(bvh(tmp_path, head=head), "'hip' appears twice")


def test_bvh_truncated_motion(tmp_path):
    path = bvh(tmp_path)
    path.write_text(path.read_text()[:-12])
    one_line_error(path, "line 21: 4 values")


def test_bvh_million_joint_header_is_refused_before_parsing(tmp_path):
    joint = " JOINT j{}\n {{\n  OFFSET 0 1 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n }}\n"
    head = BVH_HEAD.replace("  JOINT knee", "".join(joint.format(i) for i in range(1_000_000)) + "  JOINT knee")
    path = bvh(tmp_path, frames="2", rows=ROWS[:2], head=head)
    started = time.perf_counter()
    one_line_error(path, "joints is more than the limit of 1000 (--max-joints raises it)")
    assert time.perf_counter() - started < 20  # was 5 minutes and 1.5 GB


def test_bvh_frame_limit_names_its_option(tmp_path):
    one_line_error(bvh(tmp_path), "3 frames is more than the limit of 2 (--max-frames raises it)",
                   InputLimits(max_frames=2))


def test_bvh_channels_before_any_joint_is_a_clear_error(tmp_path):
    path = tmp_path / "odd.bvh"
    path.write_text("HIERARCHY\nCHANNELS 3 Xrotation Yrotation Zrotation\nMOTION\nFrames: 0\nFrame Time: 0.1\n")
    one_line_error(path, "not a valid BVH")


# ---- NPZ ------------------------------------------------------------------------------------


def npz_with(path, **changes):
    take = body_take(10)
    save_npz(take, path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data}
    arrays.update(changes)
    for k in [k for k, v in arrays.items() if v is None]:
        del arrays[k]
    np.savez_compressed(path, **arrays)
    return path


@pytest.mark.parametrize("fps", [0.0, -30.0, math.nan, math.inf, 10_000.0])
def test_npz_with_an_unusable_rate(tmp_path, fps):
    path = npz_with(tmp_path / "rate.npz", fps=np.array(fps))
    one_line_error(path, "fps:")
    with pytest.raises(MonocapError):  # and nothing is written from it
        write_take(read_take(path), tmp_path / "out.bvh")
    assert not (tmp_path / "out.bvh").exists()


def _npy_header_only(shape, dtype="<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue() + b"\0" * 1024


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_npz_bomb_of_50_million_frames_is_refused_from_its_header(tmp_path):
    path = npz_with(tmp_path / "bomb.npz")
    with zipfile.ZipFile(path, "a") as archive:  # a second joints_m member: np.load reads the last
        archive.writestr("joints_m.npy", _npy_header_only((50_000_000, 22, 3)))
    started = time.perf_counter()
    one_line_error(path, "50000000 frames is more than the limit of 2000000 (--max-frames raises it)")
    assert time.perf_counter() - started < 5


def test_npz_joint_limit_and_decompressed_size_name_their_options(tmp_path):
    path = npz_with(tmp_path / "t.npz")
    one_line_error(path, "(--max-joints raises it)", InputLimits(max_joints=5))
    one_line_error(path, "(--max-decompressed-mb raises it)", InputLimits(max_decompressed_mb=0))


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_npz_array_declaring_more_than_it_holds(tmp_path):
    path = npz_with(tmp_path / "short.npz")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("valid.npy", _npy_header_only((100_000,), "|b1"))
    one_line_error(path, "valid has shape (100000,), expected (10,)")
    path = npz_with(tmp_path / "short.npz")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("joints_m.npy", _npy_header_only((10, 22, 3)))
    one_line_error(path, "array 'joints_m' declares 2640 bytes but the archive holds")


def test_npz_truncated_and_bad_crc(tmp_path):
    good = npz_with(tmp_path / "good.npz").read_bytes()
    for cut in (len(good) // 2, len(good) - 30, 100):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(good[:cut])
        one_line_error(path, "not a Monocap take")
    damaged = bytearray(good)
    start = good.index(b"joints_m.npy") + 200
    damaged[start:start + 8] = bytes(8)
    path = tmp_path / "crc.npz"
    path.write_bytes(bytes(damaged))
    one_line_error(path, "not a Monocap take")


def test_npz_with_no_frames_names_the_file(tmp_path):
    take = body_take(10).slice(0, 0)
    path = tmp_path / "empty.npz"
    save_npz(take, path)
    one_line_error(path, "has no frames")


def test_npz_values_infinite_or_nan_where_valid(tmp_path):
    joints = body_take(10).joints_m.astype(np.float32)
    joints[4, 2, 1] = np.inf
    one_line_error(npz_with(tmp_path / "inf.npz", joints_m=joints), "frame 4, chest: inf is not a finite number")
    joints[4, 2, 1] = np.nan  # NaN is "missing": that joint is missing, the frame keeps the others
    take = read_take(npz_with(tmp_path / "nan.npz", joints_m=joints))
    assert take.valid[3:6].all() and np.isnan(take.joints_m[4, 2]).all()
    assert np.array_equal(np.isnan(take.joints_m).any(axis=-1), take.per_joint_confidence() == 0)
    assert take.partial_frames().tolist() == [4]
    joints[4, 2, 1] = 1e30
    one_line_error(npz_with(tmp_path / "far.npz", joints_m=joints), "from the origin")


def test_npz_missing_field_and_bad_parents(tmp_path):
    one_line_error(npz_with(tmp_path / "a.npz", fps=None), "no fps")
    parents = np.arange(22, dtype=np.int32) + 3
    one_line_error(npz_with(tmp_path / "b.npz", parents=parents), "parents[0] is 3")


# ---- CSV ------------------------------------------------------------------------------------


def csv_text(take=None) -> str:
    from engine.core.take_csv import csv_header

    take = take or body_take(5)
    lines = [",".join(csv_header(take.skeleton))]
    flat = take.joints_m.reshape(take.num_frames, -1)
    for i in range(take.num_frames):
        lines.append(f"{i},{take.timestamps_s[i]:.6f}," + ",".join(f"{v:.5f}" for v in flat[i]))
    return "\n".join(lines) + "\n"


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(csv_text().encode() + b"\xff\xfe garbage\n")
    one_line_error(path, "line 7: not UTF-8 text")


def test_csv_header_only(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text(csv_text().splitlines()[0] + "\n")
    one_line_error(path, "a header but no frames")


def test_csv_column_missing_from_every_row(tmp_path):
    path = tmp_path / "short.csv"
    lines = csv_text().splitlines()
    path.write_text("\n".join([lines[0]] + [line.rsplit(",", 1)[0] for line in lines[1:]]) + "\n")
    one_line_error(path, "line 2: 67 values, the header has 68 columns")


def test_csv_duplicate_joint_names(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("frame,time_s,a_x_m,a_y_m,a_z_m,a_x_m,a_y_m,a_z_m\n0,0,1,2,3,4,5,6\n")
    one_line_error(path, "'a' appears twice")


def test_csv_huge_values_give_one_short_line(tmp_path):
    lines = csv_text().splitlines()
    cells = lines[3].split(",")
    cells[9] = "1e300"
    lines[3] = ",".join(cells)
    path = tmp_path / "huge.csv"
    path.write_text("\n".join(lines) + "\n")
    message = one_line_error(path, "line 4, chest_y_m: 1e+300 is not a position in metres")
    assert "[" not in message and len(message) < 300


def test_csv_time_that_goes_backwards_or_stands_still(tmp_path):
    lines = csv_text().splitlines()
    path = tmp_path / "still.csv"
    path.write_text("\n".join([lines[0]] + [",".join(["0", "0.5"] + line.split(",")[2:]) for line in lines[1:]]))
    one_line_error(path, "does not advance")
    lines[3] = ",".join(["2", "-1"] + lines[3].split(",")[2:])
    path.write_text("\n".join(lines))
    one_line_error(path, "time goes backwards")


# ---- TRC ------------------------------------------------------------------------------------


def trc_file(tmp_path, name="take.trc", take=None):
    return write_take(take or body_take(6), tmp_path / name)


def test_trc_with_no_frames_names_the_file(tmp_path):
    path = trc_file(tmp_path)
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("\t6\t22\t", "\t0\t22\t")
    path.write_text("\n".join(lines[:6]) + "\n")
    one_line_error(path, "has no frames")


@pytest.mark.parametrize("rate", ["-30", "nan", "0", "10000"])
def test_trc_with_an_unusable_rate(tmp_path, rate):
    path = trc_file(tmp_path)
    lines = path.read_text().splitlines()
    lines[2] = rate + lines[2][2:]
    path.write_text("\n".join(lines) + "\n")
    one_line_error(path, "line 3: DataRate")


def test_trc_counts_checked_against_the_header(tmp_path):
    path = trc_file(tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    one_line_error(path, "NumFrames is 6 but the file has 5 frames")
    lines[7] += "\t1.0"
    path.write_text("\n".join(lines) + "\n")
    one_line_error(path, "line 8: 69 fields")


# ---- writers --------------------------------------------------------------------------------


@pytest.mark.parametrize("fps", [0.0, -30.0, math.nan])
@pytest.mark.parametrize("ext", ["bvh", "trc", "csv", "npz"])
def test_no_writer_emits_an_unusable_rate(tmp_path, fps, ext):
    from dataclasses import replace

    take = replace(body_take(10), fps=fps)
    with pytest.raises(OutputError, match="frame rate"):
        write_take(take, tmp_path / f"out.{ext}")
    assert list(tmp_path.iterdir()) == []


def test_cli_convert_reports_the_input_not_the_output(tmp_path):
    from engine.cli import main

    rows = [ROWS[0], ROWS[1], "12 100 0 inf 0 0 -80 0 0"]
    source = bvh(tmp_path, rows=rows)
    assert main(["convert", str(source), str(tmp_path / "out.bvh")]) == 2
    assert not (tmp_path / "out.bvh").exists()
