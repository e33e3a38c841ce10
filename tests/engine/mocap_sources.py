"""The CMU motion capture the tests read: the shared take where the shared data is there, else a
generated take in the same layout, with the same joint names, units, frame rate and quirks.

Three formats, as in ../shared/data/mocap (see its README):
- cmu_iclone/NNN_MM.bvh: the iClone rig (CC_Base_*, centimetres, 60 fps, a T-pose as frame 0);
- cmu_daz/{salsa,martial}/NN.bvh: the DAZ-friendly rig (hip, abdomen, lShldr ..., inch-scale
  units; every header says 120 fps, the salsa takes really are 60 fps);
- cmu_asf/NN.asf with NN_MM.amc: CMU's own skeleton and motion (120 fps, 0.45 inch units), and
  the BVH of 01_01 (the same motion, a rest frame first).

A generated take moves the way tests/engine/humanoid_rigs.py moves its rigs (every limb segment,
the neck and the head turning on their own, the pelvis travelling), slowed to the pace of CMU's
takes, with a torso that bends and twists as far as in CMU's takes; each take is a different
stretch of that motion.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.core.rotations import axis_rotation, euler_to_matrix, matrix_to_euler
from tests.conftest import SHARED_DATA
from tests.engine.humanoid_rigs import LANDMARKS, UNIT_M, Family, Joint, SegmentMotion, families, synthetic_motion, write_family

SHARED_MOCAP = SHARED_DATA / "mocap"
TAKE_SECONDS = 8.0
# humanoid_rigs.synthetic_motion played this much slower: its joints then move about as fast as in
# CMU's takes (median speed relative to the pelvis about 0.4 m/s, as in cmu_iclone/001_01)
SLOWER = 1.5
# each torso segment's bend relative to the one below it, degrees: forward, sideways, twist.
# CMU's takes (95th percentiles): the lower back 5-14 forward, 3-19 sideways, 3-20 twisting;
# the spine and chest above it 1-9.
TORSO_BENDS_DEG = {"lumbar": (10.0, 12.0, 20.0), "spine": (3.0, 3.0, 4.0), "chest": (5.0, 5.0, 5.0)}


def _both_sides(spec: list[tuple[str, str, str, bool]]) -> list[Joint]:
    """spec: (name, parent, landmark, end site) with {S} for L/R and {s} for l/r."""
    return [Joint(name.format(S=side, s=side.lower()), parent.format(S=side, s=side.lower()), at, side, end)
            for side in ("L", "R") for name, parent, at, end in spec]


def _truth(hip: str, knee: str, ankle: str, shoulder: str, elbow: str, wrist: str) -> dict[str, str]:
    """Monocap's limb joints -> the family's joint names, given with {S} for L/R and {s} for l/r."""
    joints = {"hip": hip, "knee": knee, "ankle": ankle, "shoulder": shoulder, "elbow": elbow, "wrist": wrist}
    return {f"{side}_{k}": v.format(S=s, s=s.lower()) for side, s in (("left", "L"), ("right", "R"))
            for k, v in joints.items()}


def iclone_family() -> Family:
    """CMU on the iClone rig: the joints training reads (CC_Base_L_Index1, CC_Base_L_BigToe1 ...)."""
    c = "CC_Base_"
    middle = [Joint(c + "Hip", None, "pelvis"), Joint(c + "Pelvis", c + "Hip", "hipjoint"),
              Joint(c + "Waist", c + "Hip", "lumbar"), Joint(c + "Spine01", c + "Waist", "spine2"),
              Joint(c + "Spine02", c + "Spine01", "chest"), Joint(c + "NeckTwist01", c + "Spine02", "neck"),
              Joint(c + "NeckTwist02", c + "NeckTwist01", "neck2"), Joint(c + "Head", c + "NeckTwist02", "head"),
              Joint(c + "Head_end", c + "Head", "headtop", "", True)]
    sides = _both_sides([
        (c + "{S}_Eye", c + "Head", "eye", False), (c + "{S}_Eye_end", c + "{S}_Eye", "eye", True),
        (c + "{S}_Thigh", c + "Pelvis", "hip", False), (c + "{S}_ThighTwist01", c + "{S}_Thigh", "thighmid", False),
        (c + "{S}_Calf", c + "{S}_Thigh", "knee", False), (c + "{S}_CalfTwist01", c + "{S}_Calf", "shinmid", False),
        (c + "{S}_Foot", c + "{S}_Calf", "ankle", False), (c + "{S}_ToeBase", c + "{S}_Foot", "ball", False),
        (c + "{S}_BigToe1", c + "{S}_ToeBase", "toetip", False),
        (c + "{S}_BigToe1_end", c + "{S}_BigToe1", "toetip", True),
        (c + "{S}_Clavicle", c + "Spine02", "clav", False), (c + "{S}_Upperarm", c + "{S}_Clavicle", "shoulder", False),
        (c + "{S}_UpperarmTwist01", c + "{S}_Upperarm", "uarmmid", False),
        (c + "{S}_Forearm", c + "{S}_Upperarm", "elbow", False),
        (c + "{S}_ForearmTwist01", c + "{S}_Forearm", "farmmid", False),
        (c + "{S}_Hand", c + "{S}_Forearm", "wrist", False),
        (c + "{S}_Thumb1", c + "{S}_Hand", "thumb", False), (c + "{S}_Thumb2", c + "{S}_Thumb1", "thumbtip", False),
        (c + "{S}_Thumb2_end", c + "{S}_Thumb2", "thumbtip", True),
        (c + "{S}_Index1", c + "{S}_Hand", "knuckle", False), (c + "{S}_Index2", c + "{S}_Index1", "finger2", False),
        (c + "{S}_Index2_end", c + "{S}_Index2", "fingertip", True),
        (c + "{S}_Pinky1", c + "{S}_Hand", "palm", False), (c + "{S}_Pinky1_end", c + "{S}_Pinky1", "palm", True)])
    truth = _truth(c + "{S}_Thigh", c + "{S}_Calf", c + "{S}_Foot", c + "{S}_Upperarm", c + "{S}_Forearm",
                   c + "{S}_Hand")
    return Family("cmu_iclone", middle + sides, truth, units="cm", frame_time_text="0.016667")


def daz_family() -> Family:
    """CMU's DAZ-friendly conversion: hip, abdomen, chest, lCollar, lShldr, rButtock, rThigh ..."""
    middle = [Joint("hip", None, "pelvis"), Joint("abdomen", "hip", "lumbar"), Joint("chest", "abdomen", "chest"),
              Joint("neck", "chest", "neck"), Joint("head", "neck", "head"),
              Joint("head_end", "head", "headtop", "", True)]
    eyes = [Joint(f"{side}Eye", "head", "eye", s) for side, s in (("left", "L"), ("right", "R"))]
    sides = _both_sides([
        ("{s}Collar", "chest", "clav", False), ("{s}Shldr", "{s}Collar", "shoulder", False),
        ("{s}ForeArm", "{s}Shldr", "elbow", False), ("{s}Hand", "{s}ForeArm", "wrist", False),
        ("{s}Thumb1", "{s}Hand", "thumb", False), ("{s}Thumb2", "{s}Thumb1", "thumbtip", False),
        ("{s}Index1", "{s}Hand", "knuckle", False), ("{s}Index2", "{s}Index1", "finger2", False),
        ("{s}Pinky1", "{s}Hand", "palm", False), ("{s}Pinky2", "{s}Pinky1", "knuckle", False),
        ("{s}Buttock", "hip", "hipjoint", False), ("{s}Thigh", "{s}Buttock", "hip", False),
        ("{s}Shin", "{s}Thigh", "knee", False), ("{s}Foot", "{s}Shin", "ankle", False),
        ("{s}Foot_end", "{s}Foot", "toetip", True)])
    truth = _truth("{s}Thigh", "{s}Shin", "{s}Foot", "{s}Shldr", "{s}ForeArm", "{s}Hand")
    return Family("cmu_daz", middle + eyes + sides, truth, units="in", frame_time_text="0.00833333")


def asf_bvh_family() -> Family:
    """The BVH conversion of CMU's own skeleton (LHipJoint, LeftUpLeg, LowerBack, LFingers ...)."""
    return replace(next(f for f in families() if f.name == "cmu_upleg"), frame_time_text=".0083333")


@dataclass(frozen=True)
class Format:
    family: Family
    fps: float  # the motion's true rate
    rest_frame_first: bool  # frame 0 is the rest pose, as CMU's iClone and ASF conversions have it


def take_format(rel: str) -> Format:
    """The format of a take named as in the shared data ("cmu_daz/salsa/01.bvh")."""
    folder = rel.split("/")[0]
    if folder == "cmu_iclone":
        return Format(iclone_family(), 60.0, True)
    if folder == "cmu_daz":
        return Format(daz_family(), 60.0 if "/salsa/" in rel else 120.0, False)
    if folder == "cmu_asf":
        return Format(asf_bvh_family(), 120.0, True)
    raise ValueError(f"no generated format for {rel}")


def _bending_torso(pelvis: np.ndarray, fps: float) -> dict[tuple[str, str], np.ndarray]:
    t = np.arange(len(pelvis)) / fps
    out, below = {}, pelvis
    for k, (segment, amplitudes) in enumerate(TORSO_BENDS_DEG.items()):
        bend = np.eye(3)
        for j, (axis, degrees) in enumerate(zip("XZY", amplitudes)):
            hz, phase = 0.15 + 0.1 * k + 0.07 * j, 1.0 + k + 2.0 * j
            bend = bend @ axis_rotation(axis, np.radians(degrees) * np.sin(2.0 * np.pi * hz * t + phase))
        out[(segment, "")] = below = below @ bend
    return out


def take_motion(rel: str, fps: float) -> SegmentMotion:
    """A stretch of the generated motion of its own for each take (by name, extension aside)."""
    frames = int(TAKE_SECONDS * fps)
    start = zlib.crc32(rel.rsplit(".", 1)[0].encode()) % frames
    whole = synthetic_motion(start + frames, fps * SLOWER)
    rotations = {key: r[start:] for key, r in whole.rotations.items()}
    rotations |= _bending_torso(rotations[("pelvis", "")], fps)
    return SegmentMotion(rotations, whole.root_m[start:], fps)


def with_rest_frame(motion: SegmentMotion) -> SegmentMotion:
    rest = np.eye(3)[None]
    rotations = {key: np.concatenate([rest, r]) for key, r in motion.rotations.items()}
    return SegmentMotion(rotations, np.concatenate([motion.root_m[:1], motion.root_m]), motion.fps)


def write_generated_bvh(rel: str, root: Path) -> Path:
    fmt = take_format(rel)
    motion = take_motion(rel, fmt.fps)
    if fmt.rest_frame_first:
        motion = with_rest_frame(motion)
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    write_family(fmt.family, motion, path)
    return path


def mocap_file(rel: str, generated_root: Path) -> Path:
    """The shared take `rel` (under mocap/), or where it is absent a generated one of its format,
    written under generated_root once."""
    shared = SHARED_MOCAP / rel
    if shared.is_file():
        return shared
    path = generated_root / rel
    return path if path.is_file() else mocap_file_in_generated(rel, generated_root)


# ---------------------------------------------------------------------------------------------
# CMU's own skeleton (ASF) and motion (AMC), the bones placed as the BVH conversion places its joints

@dataclass(frozen=True)
class Bone:
    name: str
    parent: str
    start: str  # landmark
    end: str  # landmark
    segment: str | None  # the segment it turns with; None: it has no degrees of freedom
    axis_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    side: str = ""  # "L", "R" or ""


MIDDLE_BONES = [
    Bone("backjoint", "root", "pelvis", "lumbar", None), Bone("lowerback", "backjoint", "lumbar", "spine2", "lumbar"),
    Bone("upperback", "lowerback", "spine2", "chest", "spine"), Bone("thorax", "upperback", "chest", "neck", "chest"),
    Bone("lowerneck", "thorax", "neck", "neck2", "neck"), Bone("upperneck", "lowerneck", "neck2", "head", None),
    Bone("head", "upperneck", "head", "headtop", "head")]
SIDE_BONES = [  # {s}: l or r
    Bone("{s}hipjoint", "root", "pelvis", "hip", None),
    Bone("{s}femur", "{s}hipjoint", "hip", "knee", "thigh", (0, 0, 20)),
    Bone("{s}tibia", "{s}femur", "knee", "ankle", "shin", (0, 0, 20)),
    Bone("{s}foot", "{s}tibia", "ankle", "ball", "foot", (-90, 7, 20)),
    Bone("{s}toes", "{s}foot", "ball", "toetip", "toe", (-90, 7, 20)),
    Bone("{s}collar", "thorax", "neck", "clav", None),
    Bone("{s}clavicle", "{s}collar", "clav", "shoulder", "clavicle", (0, 0, -8)),
    Bone("{s}humerus", "{s}clavicle", "shoulder", "elbow", "upperarm", (0, 0, 90)),
    Bone("{s}radius", "{s}humerus", "elbow", "wrist", "forearm", (0, 0, 90)),
    Bone("{s}wrist", "{s}radius", "wrist", "palm", "hand", (0, 0, 90)),
    Bone("{s}hand", "{s}wrist", "palm", "knuckle", None), Bone("{s}fingers", "{s}hand", "knuckle", "fingertip", None),
    Bone("{s}thumb", "{s}wrist", "palm", "thumb", None)]
ASF_UNIT_M = UNIT_M["cmu"]


def asf_bones() -> list[Bone]:
    out = list(MIDDLE_BONES)
    for side, sign in (("L", 1.0), ("R", -1.0)):
        for b in SIDE_BONES:
            axis = (b.axis_deg[0], sign * b.axis_deg[1], sign * b.axis_deg[2])
            name, parent = (n.format(s=side.lower()) for n in (b.name, b.parent))
            out.append(Bone(name, parent, b.start, b.end, b.segment, axis, side))
    return out


def _rest_m(landmark: str, side: str) -> np.ndarray:
    p = np.array(LANDMARKS[landmark], dtype=float)
    return p * [-1.0, 1.0, 1.0] if side == "R" else p


def _axis_matrix(bone: Bone) -> np.ndarray:
    """The bone's local axes in the rest pose's world: 'axis a b c XYZ' turns about X by a first."""
    return euler_to_matrix(np.radians(bone.axis_deg[::-1]), "ZYX")


def asf_text(bones: list[Bone]) -> str:
    lines = [":version 1.10", ":name generated", ":units", "  mass 1.0", f"  length {0.0254 / ASF_UNIT_M:.2f}",
             "  angle deg", ":documentation", "  generated for the tests", ":root", "   order TX TY TZ RX RY RZ",
             "   axis XYZ", "   position 0 0 0", "   orientation 0 0 0", ":bonedata"]
    for k, b in enumerate(bones, start=1):
        vector = (_rest_m(b.end, b.side) - _rest_m(b.start, b.side)) / ASF_UNIT_M
        length = float(np.linalg.norm(vector))
        direction = vector / length if length > 0 else np.array([0.0, 1.0, 0.0])
        lines += ["  begin", f"     id {k}", f"     name {b.name}",
                  "     direction {:.6f} {:.6f} {:.6f}".format(*direction), f"     length {length:.6f}",
                  "     axis {:.6f} {:.6f} {:.6f} XYZ".format(*b.axis_deg)]
        if b.segment is not None:
            lines.append("    dof rx ry rz")
        lines.append("  end")
    lines += [":hierarchy", "  begin"]
    for parent in ["root"] + [b.name for b in bones]:
        children = [b.name for b in bones if b.parent == parent]
        if children:
            lines.append(f"    {parent} {' '.join(children)}")
    lines.append("  end")
    return "\n".join(lines) + "\n"


def amc_text(bones: list[Bone], motion: SegmentMotion) -> str:
    """Each bone's turn relative to its parent's, about its own axes, as rx ry rz (x first)."""
    by_name = {b.name: b for b in bones}

    def world_turn(name: str) -> np.ndarray:
        if name == "root":
            return motion.rotations[("pelvis", "")]
        bone = by_name[name]
        if bone.segment is None:
            return world_turn(bone.parent)
        return motion.rotations[(bone.segment, bone.side)]

    columns = {"root": np.concatenate([motion.root_m / ASF_UNIT_M,
                                       np.degrees(matrix_to_euler(world_turn("root"), "ZYX")[:, ::-1])], axis=1)}
    for b in bones:
        if b.segment is None:
            continue
        c = _axis_matrix(b)
        local = np.swapaxes(world_turn(b.parent), 1, 2) @ world_turn(b.name)
        about_own_axes = c.T @ local @ c
        columns[b.name] = np.degrees(matrix_to_euler(about_own_axes, "ZYX")[:, ::-1])
    lines = [":FULLY-SPECIFIED", ":DEGREES"]
    for t in range(len(motion.root_m)):
        lines.append(str(t + 1))
        lines += [name + " " + " ".join(f"{v:.6f}" for v in values[t]) for name, values in columns.items()]
    return "\n".join(lines) + "\n"


def write_generated_amc(rel: str, root: Path) -> Path:
    """cmu_asf/NN_MM.amc and its skeleton NN.asf; for 01_01, the BVH of the same motion beside them."""
    fmt = take_format(rel)
    motion = take_motion(rel, fmt.fps)
    folder = root / Path(rel).parent
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(rel).stem
    bones = asf_bones()
    (folder / f"{stem.split('_')[0]}.asf").write_text(asf_text(bones))
    amc = folder / f"{stem}.amc"
    amc.write_text(amc_text(bones, motion))
    if stem == "01_01":
        write_family(fmt.family, with_rest_frame(motion), folder / f"{stem}.bvh")
    return amc


# one take of each format and split (training/common/mocap.py holds out cmu_daz/salsa/15,
# cmu_daz/martial/10, cmu_asf/11_01, cmu_iclone/002_10 and the basketball takes, cmu_iclone/006_*)
GENERATED_TAKES = ("cmu_iclone/001_01.bvh", "cmu_iclone/002_10.bvh", "cmu_iclone/006_01.bvh",
                   "cmu_daz/salsa/01.bvh", "cmu_daz/salsa/15.bvh", "cmu_daz/martial/03.bvh", "cmu_daz/martial/10.bvh",
                   "cmu_asf/01_01.amc", "cmu_asf/11_01.amc")


def write_generated_mocap(data_root: Path) -> Path:
    """A data root in the shared data's layout (data_root/mocap/...) holding GENERATED_TAKES."""
    for rel in GENERATED_TAKES:
        mocap_file_in_generated(rel, data_root / "mocap")
    return data_root


def mocap_file_in_generated(rel: str, root: Path) -> Path:
    return write_generated_amc(rel, root) if rel.endswith(".amc") else write_generated_bvh(rel, root)
