"""`monocap convert` of a BVH with fingers from elsewhere keeps the fingers: a take with hands
exported to Mixamo BVH, its joints renamed to other tools' conventions, converted, lands its finger
joints where the take had them; a BVH with fewer than three joints a finger converts without
fingers and says so in one line; motion capture on an iClone rig keeps its fingers."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.animation.formats import ExportOptions, read_take, write_take
from engine.core.skeletons import FINGERS, MONOCAP_HANDS, finger_joint_names
from tests.engine.animation.test_bvh_export import spin_take
from tests.engine.cli.test_cli import monocap
from tests.engine.mocap_sources import SHARED_MOCAP
from tests.engine.synthetic_hands import hands_take

OPTIONS = ExportOptions(ground=False, foot_contact=False)
_SIDE = {"Left": "l", "Right": "r"}
_MIXAMO_FINGER = re.compile(r"mixamorig:(Left|Right)Hand(Thumb|Index|Middle|Ring|Pinky)(\d)")


def _plain(side, finger, k):  # Mixamo's without its namespace, and many game rigs'
    return f"{side}Hand{finger}{k}"


def _snake(side, finger, k):
    return f"{_SIDE[side]}_{finger.lower()}_0{k}"


def _unreal(side, finger, k):
    return f"{finger.lower()}_0{k}_{_SIDE[side]}"


def _daz(side, finger, k):
    return f"{_SIDE[side]}{'Mid' if finger == 'Middle' else finger}{k}"


def _iclone(side, finger, k):
    return f"CC_Base_{_SIDE[side].upper()}_{'Mid' if finger == 'Middle' else finger}{k}"


def _unnamed(side, finger, k):  # nothing in the names: the fingers are found by structure
    return f"{side}Bone{'TIMRP'.index(finger[0]) * 3 + k:02d}"


CONVENTIONS = {f.__name__.strip("_"): f for f in (_plain, _snake, _unreal, _daz, _iclone, _unnamed)}


def write_curled(path, frames: int = 90):
    """A turning body whose fingers curl from 5 to 80 degrees and back, as Mixamo BVH at path
    -> (the take, the curl in degrees per frame, the path)."""
    curl = 42.5 - 37.5 * np.cos(np.linspace(0.0, 2 * np.pi, frames))
    take = hands_take(spin_take(frames=frames, turns=0.3), curl)
    return take, curl, write_take(take, path, ExportOptions(rig="mixamo", ground=False, foot_contact=False))


@pytest.fixture(scope="module")
def curled(tmp_path_factory):
    return write_curled(tmp_path_factory.mktemp("mixamo") / "hands.bvh")


def rename(path, convention, out):
    text = path.read_text()
    text = _MIXAMO_FINGER.sub(lambda m: convention(m.group(1), m.group(2), int(m.group(3))), text)
    if convention is not _plain:
        text = text.replace("mixamorig:", "")
    out.write_text(text)
    return out


def finger_points(take) -> dict[str, np.ndarray]:
    """MONOCAP_HANDS finger joint -> (T, 3), from a take on Monocap's rig with fingers."""
    names = take.skeleton.joint_names
    return {n: take.joints_m[:, names.index(n)] for side in ("left", "right")
            for n in finger_joint_names(side) if not n.endswith("_tip")}


def curl_deg(points: dict[str, np.ndarray], side: str, finger: str) -> np.ndarray:
    a, b, c = (points[f"{side}_{finger}{k}"] for k in (1, 2, 3))
    u, v = b - a, c - b
    cos = np.einsum("ti,ti->t", u, v) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_fingers_survive_a_convert_from_another_naming(curled, tmp_path, convention):
    take, curl, mixamo = curled
    source = rename(mixamo, CONVENTIONS[convention], tmp_path / f"{convention}.bvh")
    assert ("LeftHandIndex2" in source.read_text()) == (convention == "plain")
    back = read_take(write_take(read_take(source), tmp_path / "out.bvh", OPTIONS))
    got = finger_points(back)
    assert len(got) == 30
    worst = max(float(np.linalg.norm(got[n] - take.joints_m[:, MONOCAP_HANDS.index(n)], axis=1).max()) for n in got)
    assert worst < 0.01, f"{convention}: a finger joint is {worst * 100:.2f} cm from the take"
    for side in ("left", "right"):
        for finger in FINGERS[1:]:
            np.testing.assert_allclose(curl_deg(got, side, finger), curl, atol=3.0, err_msg=f"{side} {finger}")


def test_the_cli_convert_keeps_the_fingers(curled, tmp_path):
    _, _, mixamo = curled
    source = rename(mixamo, _snake, tmp_path / "snake.bvh")
    result = monocap("convert", source, tmp_path / "fingers.bvh")
    assert result.returncode == 0 and "without fingers" not in result.stderr, result.stderr
    back = read_take(tmp_path / "fingers.bvh")
    assert {"left_index1", "right_pinky3", "left_thumb1"} <= set(back.skeleton.joint_names)


def two_joint_fingers(path, out):
    """The BVH at path (plain Mixamo finger names) with every finger cut after its second joint, as
    CMU's DAZ conversions have them: the joints and their motion columns."""
    hierarchy, motion = path.read_text().split("MOTION")
    channels = re.findall(r"(?:ROOT|JOINT) (\S+)[^{]*{\s*OFFSET[^\n]*\n\s*CHANNELS (\d+)", hierarchy)
    cut = {name for name, _ in channels if re.fullmatch(r"(Left|Right)Hand[A-Za-z]+3", name)}
    assert len(cut) == 10
    keep = np.concatenate([np.arange(int(n)) + sum(int(m) for _, m in channels[:i])
                           for i, (name, n) in enumerate(channels) if name not in cut])
    for name in cut:
        hierarchy = re.sub(rf"JOINT {name}\s*{{[^{{}}]*End Site\s*{{[^{{}}]*}}\s*}}", "End Site { OFFSET 0 2 0 }",
                           hierarchy)
    head, rows = motion.split("Frame Time:")
    lines = rows.strip().splitlines()
    values = [" ".join(np.array(line.split())[keep]) for line in lines[1:]]
    out.write_text(hierarchy + "MOTION" + head + "Frame Time:" + "\n".join([lines[0]] + values) + "\n")
    return out


def test_partial_fingers_convert_without_them_and_say_so_in_one_line(curled, tmp_path):
    _, _, mixamo = curled
    partial = two_joint_fingers(rename(mixamo, _plain, tmp_path / "x.bvh"), tmp_path / "partial.bvh")
    text = partial.read_text()
    assert "HandIndex3" not in text and "HandIndex2" in text
    result = monocap("convert", partial, tmp_path / "out.bvh")
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "fingers" in line]
    assert len(said) == 1 and "three joints" in said[0] and "index 2" in said[0], result.stderr
    names = read_take(tmp_path / "out.bvh").skeleton.joint_names
    assert "left_wrist" in names and not any("index" in n for n in names)


def test_a_bvh_without_fingers_converts_as_before_and_says_nothing(tmp_path):
    path = write_take(spin_take(frames=20), tmp_path / "body.bvh", ExportOptions(rig="mixamo"))
    result = monocap("convert", path, tmp_path / "out.bvh")
    assert result.returncode == 0 and "finger" not in result.stderr


_ICLONE_MIDDLE = {"Hips": "Hip", "Spine": "Waist", "Spine1": "Spine01", "Spine2": "Spine02", "Neck": "NeckTwist01",
                  "Head": "Head"}
_ICLONE_LIMBS = {"Shoulder": "Clavicle", "Arm": "Upperarm", "ForeArm": "Forearm", "Hand": "Hand", "UpLeg": "Thigh",
                 "Leg": "Calf", "Foot": "Foot", "ToeBase": "ToeBase"}
ICLONE_BODY = {k: f"CC_Base_{v}" for k, v in _ICLONE_MIDDLE.items()} | {
    f"{side}{k}": f"CC_Base_{side[0]}_{v}" for side in ("Left", "Right") for k, v in _ICLONE_LIMBS.items()}


def as_iclone(path, out):
    """The Mixamo BVH at path on iClone's names (CC_Base_Hip ... CC_Base_L_Index3), its fingertips'
    end sites of zero length, as CMU's iClone conversion has them."""
    text = rename(path, _iclone, out).read_text()
    text = re.sub(r"(ROOT|JOINT) (\w+)", lambda m: f"{m[1]} {ICLONE_BODY.get(m[2], m[2])}", text)
    text = re.sub(r"(JOINT CC_Base_[LR]_[A-Za-z]+3\s*{[^{}]*End Site\s*{\s*OFFSET)[^\n]*", r"\1 0 0 0", text)
    out.write_text(text)
    return out


def test_motion_capture_keeps_its_fingers(mocap_file, curled, tmp_path):
    """CMU on an iClone rig (CC_Base_L_Index1..3, zero-length end sites; where the shared take is
    absent, the curling fingers on iClone's names); CMU's own BVH (LThumb, LFingers: one joint a
    finger) converts without them."""
    shared = SHARED_MOCAP / "cmu_iclone" / "001_01.bvh"
    source = shared if shared.is_file() else as_iclone(curled[2], tmp_path / "iclone.bvh")
    take = read_take(source)
    assert "CC_Base_L_Index3" in take.skeleton.joint_names and "mixamo" not in source.read_text().lower()
    out = read_take(write_take(take, tmp_path / "cc.bvh", OPTIONS))
    got = finger_points(out)
    names = take.skeleton.joint_names
    cc = {"thumb": "Thumb", "index": "Index", "middle": "Mid", "ring": "Ring", "pinky": "Pinky"}
    worst = 0.0
    for side, s in (("left", "L"), ("right", "R")):
        for finger in FINGERS:
            for k in (1, 2, 3):
                truth = take.joints_m[:, names.index(f"CC_Base_{s}_{cc[finger]}{k}")]
                worst = max(worst, float(np.linalg.norm(got[f"{side}_{finger}{k}"] - truth, axis=1).max()))
    assert worst < 0.01, f"a finger joint is {worst * 100:.2f} cm from the source"
    cmu = monocap("convert", mocap_file("cmu_asf/01_01.bvh"), tmp_path / "cmu.bvh")
    assert cmu.returncode == 0
    assert [line for line in cmu.stderr.splitlines() if "fingers" in line][0].count("thumb 1") == 2
