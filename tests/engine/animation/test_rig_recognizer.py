"""Humanoid BVH from elsewhere: every family is recognised, and converting it to Monocap's rig and
to Mixamo keeps the limb joints where the source has them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.animation.formats import ExportOptions, read_take, write_take
from engine.animation.rig import MIXAMO_RIG, MONOCAP_RIG
from engine.animation.rig_mappings import find_mapping, load_joint_map, to_body_take
from engine.animation.rig_names import name_info
from engine.animation.rig_recognizer import RigNotRecognisedError, recognise
from engine.core.errors import InputError
from engine.core.skeletons import Skeleton
from tests.engine.animation.test_bvh_export import rig_point_names
from tests.engine.bvhio_fk import bvhio_positions
from tests.engine.humanoid_rigs import GENERATED_MOTIONS, UNIT_M, Family, cmu_motion, families, synthetic_motion, write_family

FAMILIES = {f.name: f for f in families()}
LIMBS = [f"{s}_{j}" for s in ("left", "right") for j in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")]
EXACT = ExportOptions(ground=False, foot_contact=False)


SHARED_TAKE = Path("mocap") / "cmu_asf" / "01_01.bvh"


def _shared_take() -> Path:
    from tests.conftest import SHARED_DATA

    return SHARED_DATA / SHARED_TAKE


@pytest.fixture(scope="module")
def motion():
    take = _shared_take()
    return cmu_motion(take) if take.is_file() else synthetic_motion()


@pytest.fixture(scope="module", params=["shared_cmu_take", *GENERATED_MOTIONS])
def any_motion(request):
    """The shared CMU take, and motions it never makes: arms above the head, forearms twisting,
    a deep squat, lying down, segments turning every way at once."""
    if request.param in GENERATED_MOTIONS:
        return GENERATED_MOTIONS[request.param]()
    take = _shared_take()
    if not take.is_file():
        from tests.conftest import shared_missing

        pytest.skip(shared_missing(f"the CMU take {SHARED_TAKE}"))
    return cmu_motion(take)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_maps_its_limbs_and_converts_within_a_centimetre(name, any_motion, tmp_path):
    family = FAMILIES[name]
    written = write_family(family, any_motion, tmp_path / f"{name}.bvh")
    take = read_take(written.path)
    assert take.metadata["source_units"] == family.units
    assert take.metadata["source_up"] == ("+Z" if family.z_up else "+Y")
    mapping = find_mapping(take)
    assert {j: mapping.describe(j) for j in family.truth} == family.truth
    assert mapping.confidence >= (0.5 if name == "unnamed" else 0.9)
    truth = np.stack([written.truth_m[family.truth[j]] for j in LIMBS], axis=1)
    for rig in (MONOCAP_RIG, MIXAMO_RIG):
        out = tmp_path / f"{name}_{rig.name}.bvh"
        write_take(take, out, ExportOptions(rig=rig.name, ground=False, foot_contact=False))
        positions, frames, _ = bvhio_positions(out)
        assert frames == take.num_frames
        names = rig_point_names(rig)
        got = np.stack([positions[names[j]] for j in LIMBS], axis=1) / 100.0
        err_cm = np.linalg.norm(got - truth, axis=-1) * 100.0
        assert err_cm.mean() < 1.0, f"{name} -> {rig.name}: mean {err_cm.mean():.2f} cm"
        assert err_cm.mean(axis=1).max() < 3.0, f"{name} -> {rig.name}: worst frame {err_cm.mean(axis=1).max():.2f} cm"


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _forearm_twist_deg(at, side: str) -> np.ndarray:
    """(T,) the thumb's angle about the forearm, from the upper arm's side of the elbow, unwrapped."""
    axis = _unit(at(f"{side}Hand") - at(f"{side}ForeArm"))

    def across(v):
        return _unit(v - (v * axis).sum(-1, keepdims=True) * axis)

    ref, thumb = across(at(f"{side}Arm") - at(f"{side}ForeArm")), across(at(f"{side}HandThumb1") - at(f"{side}Hand"))
    angle = np.arctan2((np.cross(ref, thumb) * axis).sum(-1), (ref * thumb).sum(-1))
    return np.degrees(np.unwrap(angle))


def _knee_deg(at, side: str) -> np.ndarray:
    thigh, shin = _unit(at(f"{side}UpLeg") - at(f"{side}Leg")), _unit(at(f"{side}Foot") - at(f"{side}Leg"))
    return np.degrees(np.arccos(np.clip((thigh * shin).sum(-1), -1.0, 1.0)))


def _trunk_above_horizontal_deg(at) -> np.ndarray:
    trunk = _unit(at("Neck") - at("Hips"))
    return np.degrees(np.arcsin(np.abs(trunk[:, 1])))


def test_the_generated_motions_make_what_the_shared_take_does_not(tmp_path):
    def truth(motion_name):
        written = write_family(FAMILIES["mixamo"], GENERATED_MOTIONS[motion_name](), tmp_path / f"{motion_name}.bvh")
        return lambda joint: written.truth_m["mixamorig:" + joint]

    reach, squat = truth("reach_and_twist"), truth("squat_and_lie_down")
    upright = _trunk_above_horizontal_deg(squat) > 30.0
    flat = _trunk_above_horizontal_deg(squat) < 10.0
    for side in ("Left", "Right"):
        assert (reach(f"{side}Hand")[:, 1] - reach("HeadTop_End")[:, 1]).max() > 0.15, side  # m above the head
        assert np.ptp(_forearm_twist_deg(reach, side)) > 150.0, side
        assert _knee_deg(squat, side)[upright].min() < 50.0, side  # knees bent by 130 degrees, standing on them
    assert squat("Hips")[upright, 1].min() < 0.5
    assert flat.sum() >= 30 and squat("Hips")[flat, 1].max() < 0.3  # a second lying flat on the floor


def test_names_normalise_across_conventions():
    cases = {
        "mixamorig:LeftUpLeg": ("left", "upleg"), "DEF-thigh.L": ("left", "thigh"), "CC_Base_R_Calf": ("right", "calf"),
        "lShldrBend": ("left", "shldrbend"), "HipRight": ("right", "hip"), "LUArm": ("left", "uarm"),
        "LFArm": ("left", "farm"), "thigh_l": ("left", "thigh"), "Lft_Foot": ("left", "foot"),
        "J_Bip_R_LowerArm": ("right", "lowerarm"), "lhand": ("left", "hand"), "lowerback": ("", "lowerback"),
        "m_avg_L_Hip": ("left", "hip"), "Character1_RightForeArm": ("right", "forearm"),
    }
    assert {n: (name_info(n).side, name_info(n).word) for n in cases} == cases
    assert name_info("upperarm_twist_01_l").limb is None  # helpers get no rank
    assert name_info("LeftShoulder").limb == ("arm", (0, 1))  # clavicle or shoulder: settled by the chain


def _mixamo_take(motion, tmp_path, **change) -> tuple:
    family = FAMILIES["mixamo"]
    if change:
        family = Family(**{**family.__dict__, **change})
    written = write_family(family, motion, tmp_path / "m.bvh")
    return read_take(written.path), written


def test_sides_from_the_rest_pose_when_names_say_nothing(motion, tmp_path):
    take, _ = _mixamo_take(motion, tmp_path)
    neutral = {n: n.replace("Left", "Aaa").replace("Right", "Bbb") for n in take.skeleton.joint_names}
    renamed = Skeleton("x", tuple(neutral[n] for n in take.skeleton.joint_names), take.skeleton.parents)
    mapping = recognise(renamed, take.metadata["rest_pose_m"])
    assert mapping.describe("left_knee") == "mixamorig:AaaLeg" and mapping.describe("right_elbow") == "mixamorig:BbbForeArm"
    # the same skeleton facing the other way (rest pose turned 180 degrees about Y): left is still left
    rest = np.asarray(take.metadata["rest_pose_m"]) * np.array([-1.0, 1.0, -1.0])
    assert recognise(renamed, rest).describe("left_knee") == "mixamorig:AaaLeg"


def test_names_that_disagree_with_the_lengths_lose(motion, tmp_path):
    take, _ = _mixamo_take(motion, tmp_path)
    # a rig whose "knee" is named on the foot and "foot" on the toe: lengths give it away
    swap = {"mixamorig:LeftLeg": "mixamorig:LeftKneeHelper", "mixamorig:LeftFoot": "mixamorig:LeftKnee",
            "mixamorig:LeftToeBase": "mixamorig:LeftAnkle"}
    names = tuple(swap.get(n, n) for n in take.skeleton.joint_names)
    mapping = recognise(Skeleton("x", names, take.skeleton.parents), take.metadata["rest_pose_m"])
    assert mapping.describe("left_knee") == "mixamorig:LeftKneeHelper"
    assert mapping.describe("left_ankle") == "mixamorig:LeftKnee"
    assert mapping.confidence < 0.9 and any("implausible" in n for n in mapping.notes)


def test_a_joint_map_file_overrides_the_recogniser(motion, tmp_path):
    take, written = _mixamo_take(motion, tmp_path)
    (tmp_path / "map.toml").write_text('[map]\n"mixamorig:LeftHandMiddle2" = "left_hand"\n')
    (tmp_path / "map.json").write_text('{"mixamorig:Spine1": "spine"}')
    assert load_joint_map(tmp_path / "map.toml") == {"mixamorig:LeftHandMiddle2": "left_hand"}
    mapping = find_mapping(take, load_joint_map(tmp_path / "map.toml"))
    assert mapping.describe("left_hand") == "mixamorig:LeftHandMiddle2" and mapping.how["left_hand"] == "map file"
    body = to_body_take(read_take(written.path, joint_map=load_joint_map(tmp_path / "map.json")))
    np.testing.assert_allclose(body.joints_m[:, body.skeleton.index("spine")], written.truth_m["mixamorig:Spine1"], atol=1e-6)
    (tmp_path / "bad.json").write_text('{"mixamorig:Spine1": "belly"}')
    with pytest.raises(InputError, match="bad.json: belly"):
        load_joint_map(tmp_path / "bad.json")
    (tmp_path / "broken.toml").write_text("[map\n")
    with pytest.raises(InputError, match="broken.toml: not a valid TOML"):
        load_joint_map(tmp_path / "broken.toml")


def test_a_rig_that_is_not_a_person_names_what_is_missing(tmp_path):
    # a snake: one long chain
    names = tuple(f"seg{i}" for i in range(8))
    rest = np.array([[0.0, 0.0, 0.2 * i] for i in range(8)])
    with pytest.raises(RigNotRecognisedError, match=r"snake.bvh: cannot place pelvis, spine, .*--map FILE"):
        recognise(Skeleton("snake", names, tuple(range(-1, 7))), rest, what="snake.bvh")


def test_units_from_the_rest_pose_and_the_override(motion, tmp_path):
    for unit in ("ft", "mm", "in", "m"):
        take, written = _mixamo_take(motion, tmp_path, units=unit)
        assert take.metadata["source_units"] == unit, unit
        hip = written.truth_m["mixamorig:LeftUpLeg"]
        np.testing.assert_allclose(take.joints_m[:, take.skeleton.index("mixamorig:LeftUpLeg")], hip, atol=1e-5)
    forced = read_take(written.path, units="cm")
    assert forced.metadata["source_units"] == "cm" and not forced.metadata["source_units_guessed"]
    np.testing.assert_allclose(forced.joints_m, take.joints_m * UNIT_M["cm"], atol=1e-7)


def test_bad_motion_sections_are_one_line_errors(motion, tmp_path):
    _, written = _mixamo_take(motion, tmp_path)
    lines = Path(written.path).read_text().splitlines()
    first = next(k for k, line in enumerate(lines) if line.startswith("Frame Time")) + 1
    wide = lines[:first + 1] + [lines[first + 1] + " 1.0"] + lines[first + 2:]
    nan = lines[:first + 2] + ["nan " + lines[first + 2].split(" ", 1)[1]] + lines[first + 3:]
    broken = {
        "noframes.bvh": "\n".join(line for line in lines if not line.startswith("Frames:")),
        "width.bvh": "\n".join(wide),
        "nan.bvh": "\n".join(nan),
        "nomotion.bvh": "\n".join(lines[:first - 3]),
    }
    expect = {"noframes.bvh": "missing the Frames: line", "width.bvh": "values where the hierarchy declares",
              "nan.bvh": "NaN", "nomotion.bvh": "missing MOTION"}
    for name, content in broken.items():
        (tmp_path / name).write_text(content)
        with pytest.raises(InputError, match=expect[name]) as info:
            read_take(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value)


def test_a_face_rig_and_ik_bones_do_not_hide_the_body(motion, tmp_path, caplog):
    take, _ = _mixamo_take(motion, tmp_path)
    names, parents = list(take.skeleton.joint_names), list(take.skeleton.parents)
    rest = list(np.asarray(take.metadata["rest_pose_m"]))
    head = names.index("mixamorig:Head")
    rng = np.random.default_rng(3)
    for i in range(300):  # face joints, some of them chains
        parents.append(head if i % 3 == 0 else len(names) - 1)
        names.append(f"face{i}")
        rest.append(rest[parents[-1]] + rng.normal(0, 0.02, 3))
    mapping = recognise(Skeleton("face", tuple(names), tuple(parents)), np.array(rest))
    assert mapping.describe("left_wrist") == "mixamorig:LeftHand" and mapping.describe("head") == "mixamorig:Head"


def test_writing_a_low_confidence_mapping_warns(motion, tmp_path, caplog):
    unnamed = FAMILIES["unnamed"]
    written = write_family(unnamed, motion, tmp_path / "u.bvh")
    with caplog.at_level("WARNING", logger="monocap.export"):
        write_take(read_take(written.path), tmp_path / "o.bvh", EXACT)
    assert "confidence 0.53 only" in caplog.text and "monocap inspect" in caplog.text


def test_a_four_legged_rig_is_not_taken_for_a_person_with_confidence(tmp_path):
    # a dog: spine along +Z, four legs down, a head in front
    spec = [("root", None, (0, 0.5, 0)), ("spine", "root", (0, 0.5, 0.3)), ("chest", "spine", (0, 0.5, 0.6)),
            ("neck", "chest", (0, 0.6, 0.75)), ("head", "neck", (0, 0.65, 0.9)), ("nose", "head", (0, 0.6, 1.05))]
    for side, x in (("L", 0.1), ("R", -0.1)):
        for part, z, parent in (("Hind", 0.0, "root"), ("Fore", 0.6, "chest")):
            spec += [(f"{part}Leg_{side}", parent, (x, 0.45, z)), (f"{part}Knee_{side}", f"{part}Leg_{side}", (x, 0.25, z)),
                     (f"{part}Paw_{side}", f"{part}Knee_{side}", (x, 0.03, z)),
                     (f"{part}Toe_{side}", f"{part}Paw_{side}", (x, 0.0, z + 0.05))]
    names = tuple(n for n, _, _ in spec)
    parents = tuple(names.index(p) if p else -1 for _, p, _ in spec)
    rest = np.array([at for _, _, at in spec], dtype=float)
    dog = Skeleton("dog", names, parents)
    with pytest.raises(RigNotRecognisedError, match="cannot place left_toe, right_toe"):
        recognise(dog, rest)
    mapping = recognise(dog, rest, {"HindToe_L": "left_toe", "HindToe_R": "right_toe"})
    assert mapping.confidence < 0.75 and any("may not be a person" in n for n in mapping.notes)
    from engine.animation.rig_recognizer import up_direction

    assert up_direction(dog, rest) is None  # so it is never turned to stand on its hind legs


def test_a_head_with_nothing_above_it_gets_an_extrapolated_nose(motion, tmp_path):
    take, _ = _mixamo_take(motion, tmp_path)
    rest = np.asarray(take.metadata["rest_pose_m"]).copy()
    names = take.skeleton.joint_names
    rest[names.index("mixamorig:HeadTop_End")] = rest[names.index("mixamorig:Head")]
    mapping = recognise(take.skeleton, rest)
    assert mapping.describe("nose") == "1.5 mixamorig:Head - 0.5 mixamorig:Neck"
    assert mapping.how["nose"] == "extrapolated" and mapping.confidence == pytest.approx(0.9)
    assert mapping.weights.sum(axis=1) == pytest.approx(np.ones(22))
