"""Take files that used to be read as something they do not say, or that gave an internal error:
each is now read as written, or refused with one line naming the file and the problem."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import struct
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from engine.animation.bvh_reader import read_bvh
from engine.animation.formats import ExportOptions, read_take, write_take
from engine.animation.rig_mappings import find_mapping, load_joint_map
from engine.animation.take_info import describe_take
from engine.core.errors import InputError, OutputError
from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS, Skeleton, finger_joint_names
from engine.core.take import Take, save_npz
from tests.conftest import REPO
from tests.engine.animation.test_hostile_inputs import BVH_HEAD, ROWS, bvh, npz_with, one_line_error
from tests.engine.take_samples import body_take

KNEE = MONOCAP_BODY.index("left_knee")


@contextlib.contextmanager
def within_seconds(seconds: float):
    """Fails the test with TimeoutError when the block runs longer (instead of hanging the suite)."""
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    before = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def edit_cell(path, line: int, column: int, value: str) -> None:
    """Replaces one field of a CSV (sep ",") or TRC (sep tab) file; line counts from 1."""
    sep = "\t" if path.suffix == ".trc" else ","
    lines = path.read_text().split("\n")
    cells = lines[line - 1].split(sep)
    cells[column] = value
    lines[line - 1] = sep.join(cells)
    path.write_text("\n".join(lines))


# ---- fingers of a hand never seen -------------------------------------------------------------


def test_a_hand_never_seen_gets_fingers_the_size_of_the_hand_and_the_bvh_reads_back(tmp_path):
    from tests.engine.capture.test_hands import _curl_take

    take, _ = _curl_take()
    joints = take.joints_m.copy()
    joints[:, [MONOCAP_HANDS.index(n) for n in finger_joint_names("right")]] = np.nan
    path = write_take(take.with_joints(joints), tmp_path / "one_hand.bvh", ExportOptions(rig="mixamo"))
    motion = read_bvh(path)
    offset = {j.name.split(":")[-1]: np.linalg.norm(j.offset) for j in motion.joints}
    assert offset["RightHandIndex1"] == pytest.approx(offset["LeftHandIndex1"], rel=0.25)
    assert offset["RightHandPinky3"] == pytest.approx(offset["LeftHandPinky3"], rel=0.5)
    lines, maps = describe_take(read_take(path), path)
    assert maps, lines


# ---- one number grammar -----------------------------------------------------------------------


@pytest.mark.parametrize("number", ["-0_04909", "1_000.5", "nan", "inf", "-Infinity", "١٢", "0x1F", "1e"])
def test_numbers_no_file_format_allows_are_refused_in_bvh_motion(tmp_path, number):
    rows = [ROWS[0], ROWS[1].replace(" 90 ", f" {number} "), ROWS[2]]
    message = one_line_error(bvh(tmp_path, rows=rows), "line 20, hip Zrotation:")
    assert "not a number" in message or "not a finite number" in message


@pytest.mark.parametrize("where", ["Frames", "OFFSET", "CHANNELS"])
def test_bvh_header_numbers_follow_the_same_grammar(tmp_path, where):
    head = BVH_HEAD.replace("OFFSET 0 -40 0", "OFFSET 0 -4_0 0", 1) if where == "OFFSET" else (
        BVH_HEAD.replace("CHANNELS 3", "CHANNELS 0_3") if where == "CHANNELS" else BVH_HEAD)
    path = bvh(tmp_path, head=head, frames="0_3" if where == "Frames" else "3")
    one_line_error(path, "not a" if where != "Frames" else "Frames: '0_3' is not a whole number")


@pytest.mark.parametrize("number", ["1_000.5", "nan", "inf", "１"])
def test_numbers_no_file_format_allows_are_refused_in_csv_and_trc(tmp_path, number):
    take = body_take(6)
    csv = write_take(take, tmp_path / "t.csv")
    edit_cell(csv, 4, 2 + 3 * KNEE, number)
    one_line_error(csv, "left_knee_x_m")
    trc = write_take(take, tmp_path / "t.trc")
    edit_cell(trc, 9, 2 + 3 * KNEE, number)
    one_line_error(trc, "line 9:")


def test_trc_header_counts_follow_the_same_grammar(tmp_path):
    trc = write_take(body_take(6), tmp_path / "t.trc")
    edit_cell(trc, 3, 2, "6_0")
    one_line_error(trc, "NumFrames '6_0' is not a whole number")


# ---- timing -----------------------------------------------------------------------------------


def test_frames_deleted_from_a_csv_are_read_as_nobody_in_view_at_the_file_s_rate(tmp_path, caplog):
    take = body_take(20, fps=24.0)
    path = write_take(take, tmp_path / "cut.csv")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:6] + lines[16:]) + "\n")  # frames 5-14 deleted
    with caplog.at_level(logging.WARNING, logger="monocap.input"):
        back = read_take(path)
    assert "skips frame numbers 5-14; read as frames with nobody in view" in caplog.text
    assert back.num_frames == 20 and back.fps == pytest.approx(24.0)
    assert back.valid.tolist() == [True] * 5 + [False] * 10 + [True] * 5
    np.testing.assert_allclose(back.timestamps_s, take.timestamps_s, atol=1e-6)
    motion = read_bvh(write_take(back, tmp_path / "cut.bvh"))
    assert motion.num_frames == 20 and motion.frame_time_s == pytest.approx(1 / 24.0)


def test_a_csv_whose_frame_column_skips_while_its_time_does_not_is_refused(tmp_path):
    path = write_take(body_take(20, fps=24.0), tmp_path / "renumbered.csv")
    lines = path.read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    kept = rows[:5] + rows[15:]
    for k, row in enumerate(kept):
        row[1] = f"{k / 24.0:.6f}"
    path.write_text("\n".join([lines[0]] + [",".join(r) for r in kept]) + "\n")
    one_line_error(path, "line 7: the frame column skips from 4 to 15")


def test_a_trc_whose_data_rate_contradicts_its_time_column_is_refused(tmp_path):
    path = write_take(body_take(20, fps=24.0), tmp_path / "rate.trc")
    lines = path.read_text().split("\n")
    lines[2] = "\t".join(["100", "100"] + lines[2].split("\t")[2:])
    path.write_text("\n".join(lines))
    message = one_line_error(path, "DataRate is 100 frames per second but the Time column runs at 24")
    assert "24 fps" not in message


def test_a_take_timed_by_the_clock_reads_back_from_trc_and_csv_at_one_rate(tmp_path):
    take = body_take(30)
    steps = np.random.default_rng(3).choice([1 / 30, 2 / 30, 3 / 30], size=29)
    clock = replace(take, timestamps_s=np.concatenate([[0.0], np.cumsum(steps)]))
    trc, csv = read_take(write_take(clock, tmp_path / "live.trc")), read_take(write_take(clock, tmp_path / "live.csv"))
    assert trc.fps == pytest.approx(csv.fps, rel=1e-4) and trc.num_frames == csv.num_frames == 30
    np.testing.assert_allclose(trc.timestamps_s, clock.timestamps_s, atol=1e-6)


# ---- partial frames ---------------------------------------------------------------------------


def test_one_empty_csv_cell_marks_that_joint_missing_and_keeps_the_frame(tmp_path, caplog):
    from engine.cli import main

    take = body_take(20)
    path = write_take(take, tmp_path / "hole.csv")
    edit_cell(path, 8, 2 + 3 * KNEE + 1, "")  # frame 6, left_knee y
    back = read_take(path)
    assert back.valid.all() and back.partial_frames().tolist() == [6]
    assert np.isnan(back.joints_m[6, KNEE]).all() and back.per_joint_confidence()[6, KNEE] == 0
    others = np.ones(MONOCAP_BODY.num_joints, bool)
    others[KNEE] = False
    np.testing.assert_allclose(back.joints_m[6, others], take.joints_m[6, others], atol=1e-5)
    npz = read_take(write_take(back, tmp_path / "hole.npz"))
    assert np.array_equal(npz.joint_confidence, back.joint_confidence)
    with caplog.at_level(logging.WARNING):
        assert main(["convert", str(path), str(tmp_path / "from_csv.npz")]) == 0
    assert "1 of 20 frames are partial" in caplog.text and "left_knee" in caplog.text
    assert read_take(tmp_path / "from_csv.npz").partial_frames().tolist() == [6]
    assert any("partial" in line for line in describe_take(back, path)[0])


def test_a_bvh_fills_only_the_missing_joint_of_a_partial_frame(tmp_path):
    take = body_take(20)
    holed = take.joints_m.copy()
    holed[6, KNEE] = np.nan
    filled = take.joints_m.copy()
    filled[6, KNEE] = (take.joints_m[5, KNEE] + take.joints_m[7, KNEE]) / 2
    options = ExportOptions(ground=False, foot_contact=False)
    from_hole = read_bvh(write_take(take.with_joints(holed), tmp_path / "hole.bvh", options)).channels
    from_fill = read_bvh(write_take(take.with_joints(filled), tmp_path / "fill.bvh", options)).channels
    np.testing.assert_allclose(from_hole, from_fill, atol=2e-5)


def test_an_npz_keeps_each_joint_s_confidence(tmp_path):
    take = body_take(10)
    confidence = np.random.default_rng(1).uniform(0.2, 1.0, (10, MONOCAP_BODY.num_joints))
    back = read_take(write_take(replace(take, joint_confidence=confidence), tmp_path / "c.npz"))
    np.testing.assert_allclose(back.joint_confidence, confidence, atol=1e-6)
    one_line_error(npz_with(tmp_path / "bad.npz", joint_confidence=np.full((10, 22), 2.0, np.float32)),
                   "joint_confidence must lie between 0 and 1")


# ---- truncation -------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["bvh", "csv", "trc"])
def test_a_file_cut_inside_its_last_number_is_refused_and_one_without_its_last_line_end_is_read(tmp_path, ext):
    path = write_take(body_take(8), tmp_path / f"whole.{ext}")
    text = path.read_text()
    cut = tmp_path / f"cut.{ext}"
    cut.write_text(text[:-3])  # the line end and the last two digits
    one_line_error(cut, "the file stops inside this frame")
    ends = tmp_path / f"ends.{ext}"
    ends.write_text(text[:-1])
    np.testing.assert_array_equal(read_take(ends).joints_m, read_take(path).joints_m)


def test_a_csv_cut_after_a_separator_is_refused(tmp_path):
    text = write_take(body_take(8), tmp_path / "whole.csv").read_text()
    cut = tmp_path / "cut.csv"
    cut.write_text(text[:text.rstrip("\n").rindex(",") + 1])
    one_line_error(cut, "the row ends on a separator")


# ---- names that must read back ----------------------------------------------------------------


def named_take(names: tuple[str, ...]) -> Take:
    joints = np.random.default_rng(0).uniform(-1, 1, (4, len(names), 3))
    return Take(joints, Skeleton("named", names, (-1,) * len(names), ()), 30.0, np.arange(4) / 30.0, np.ones(4, bool))


def test_joint_names_with_commas_and_line_breaks_read_back_from_csv(tmp_path):
    take = named_take(("a,b", "line\nbreak", " spaced ", "next\u2028line"))
    back = read_take(write_take(take, tmp_path / "names.csv"))
    assert back.skeleton.joint_names == ("a_b", "line_break", "spaced", "next_line")
    np.testing.assert_allclose(back.joints_m, take.joints_m, atol=1e-5)


@pytest.mark.parametrize("ext", ["csv", "trc", "npz"])
def test_an_empty_joint_name_is_not_written(tmp_path, ext):
    with pytest.raises(OutputError, match="joint 1 has an empty name"):
        write_take(named_take(("a", "", "c")), tmp_path / f"empty.{ext}")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("ext, names", [("trc", ("left knee", "left_knee")), ("csv", ("a,b", "a_b"))])
def test_names_that_a_format_would_write_alike_are_refused_naming_both(tmp_path, ext, names):
    with pytest.raises(OutputError, match=f"the joints {names[0]!r} and {names[1]!r} would both be written"):
        write_take(named_take(names), tmp_path / f"alike.{ext}")


# ---- magnitudes and structure of an NPZ's metadata ----------------------------------------------


def bvh_take_npz(tmp_path, **metadata_changes):
    """An NPZ of a take read from a BVH (so its metadata has a rest pose), metadata changed."""
    take = read_take(write_take(body_take(10), tmp_path / "source.bvh"))
    metadata = {**take.metadata, **metadata_changes}
    return save_npz(replace(take, metadata=metadata), tmp_path / "take.npz")


def test_an_npz_whose_rest_pose_is_scaled_by_1e300_is_refused_at_once(tmp_path):
    take = read_take(write_take(body_take(10), tmp_path / "source.bvh"))
    huge = (np.array(take.metadata["rest_pose_m"]) * 1e300).tolist()
    with within_seconds(20):
        one_line_error(bvh_take_npz(tmp_path, rest_pose_m=huge), "rest_pose_m: joint 1: 3.3361e+298 is not a")


def test_the_rig_recogniser_ends_on_distances_beyond_any_float(tmp_path):
    take = read_take(write_take(body_take(10), tmp_path / "source.bvh"))
    huge = replace(take, metadata={**take.metadata, "rest_pose_m": np.array(take.metadata["rest_pose_m"]) * 1e300})
    with within_seconds(20), contextlib.suppress(InputError), np.errstate(all="ignore"):
        find_mapping(huge)


@pytest.mark.parametrize("change, match", [
    ({"rest_pose_m": [["x", "y", "z"]] * 25}, "rest_pose_m: not 25 rows of three numbers"),
    ({"joint_map": ["LeftUpLeg", "left_hip"]}, "joint_map is not a table"),
])
def test_npz_metadata_that_holds_the_wrong_kind_of_value_is_refused(tmp_path, change, match):
    one_line_error(bvh_take_npz(tmp_path, **change), match)


def test_npz_metadata_nested_beyond_reason_is_refused(tmp_path):
    path = npz_with(tmp_path / "deep.npz", metadata_json=np.array('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"))
    one_line_error(path, "nests deeper than")
    path = npz_with(tmp_path / "deeper.npz", metadata_json=np.array('{"a": ' + "[" * 500 + "]" * 500 + "}"))
    one_line_error(path, "nests deeper than")


# ---- joint maps -------------------------------------------------------------------------------


def map_error(path, match: str) -> str:
    with within_seconds(20), pytest.raises(InputError) as info:
        load_joint_map(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and match in message, message
    return message


def test_a_map_that_is_not_a_regular_file_is_refused_without_reading_it(tmp_path):
    map_error("/dev/zero", "not a regular file")
    fifo = tmp_path / "map.json"
    os.mkfifo(fifo)
    map_error(fifo, "not a regular file")
    big = tmp_path / "big.json"
    big.write_text("{" + " " * (2 << 20) + "}")
    map_error(big, "more than 1024 KB")


@pytest.mark.parametrize("content, match", [
    (b"\x00\xff\xfe\x01binary", "not UTF-8 text"),
    ('{"LeftUpLeg": "left_hip"}'.encode("utf-16"), "not UTF-8 text"),
    (("[" * 100_000 + "]" * 100_000).encode(), "joint map"),
    (b'{"LeftUpLeg": "left_hip", "LeftUpLeg": "left_knee"}', "'LeftUpLeg' is named twice"),
    (b'{"LeftUpLeg": "left_hip", "LeftLeg": "left_hip"}', "sends both 'LeftUpLeg' and 'LeftLeg' to left_hip"),
])
def test_json_maps_that_cannot_be_used_are_one_line_errors(tmp_path, content, match):
    path = tmp_path / "map.json"
    path.write_bytes(content)
    map_error(path, match)


def test_a_toml_map_nested_beyond_reason_is_a_one_line_error(tmp_path):
    path = tmp_path / "map.toml"
    path.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    map_error(path, "joint map")


def test_a_map_in_a_take_sending_two_joints_to_one_is_refused(tmp_path):
    take = read_take(write_take(body_take(10), tmp_path / "source.bvh"))
    names = take.skeleton.joint_names
    with pytest.raises(InputError, match=f"sends both {names[1]!r} and {names[2]!r} to left_knee"):
        find_mapping(take, {names[1]: "left_knee", names[2]: "left_knee"})


# ---- videos -----------------------------------------------------------------------------------


def huge_frames_video(path, side: int = 16000):
    """A tiny MJPEG AVI whose container and JPEG headers say its frames are side x side."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for value in (90, 120):
        writer.write(np.full((48, 64, 3), value, np.uint8))
    writer.release()
    data = bytearray(path.read_bytes())
    at = data.find(b"\xff\xc0")
    while at >= 0:  # each JPEG's start of frame: marker, length, precision, height, width
        data[at + 5:at + 9] = struct.pack(">HH", side, side)
        at = data.find(b"\xff\xc0", at + 2)
    main_header, stream_format = data.find(b"avih"), data.find(b"strf")
    data[main_header + 40:main_header + 48] = struct.pack("<II", side, side)
    data[stream_format + 12:stream_format + 20] = struct.pack("<ii", side, side)
    path.write_bytes(bytes(data))
    return path


def test_a_video_with_frames_too_large_is_refused_before_decoding(tmp_path):
    from engine.capture.frames import VideoFileSource

    path = huge_frames_video(tmp_path / "huge.avi")
    with within_seconds(20), pytest.raises(InputError, match="16000x16000 pixels, more than a frame may have"):
        VideoFileSource(path)


def test_a_video_that_cannot_be_read_says_so(tmp_path, monkeypatch):
    from engine.capture import frames

    path = tmp_path / "locked.mp4"
    path.write_bytes(b"\x00" * 64)
    real_open = os.open

    def refuse(name, flags, *args):
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, flags, *args)

    monkeypatch.setattr(frames.os, "open", refuse)
    with pytest.raises(InputError, match="cannot be read \\(Permission denied\\)"):
        frames.VideoFileSource(path)


# ---- output to a reader that leaves ------------------------------------------------------------


def test_inspect_into_a_pipe_closed_early_ends_quietly(tmp_path):
    path = write_take(body_take(10), tmp_path / "t.npz")
    done = subprocess.run(f'"{sys.executable}" -m engine.cli inspect "{path}" | true; exit ${{PIPESTATUS[0]}}',
                          shell=True, executable="/bin/bash", cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
