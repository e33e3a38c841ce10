"""The joint lists of the game-engine rigs, read by engine/animation/rig.py, which builds them:

- `ue5`: the Unreal Engine 5 mannequin's skeleton (SK_Mannequin, "Manny"/"Quinn"): `root` on
  the floor with `ik_foot_root` and `ik_hand_root` (written by FBX and glTF as still bones at the
  origin; the motion is on `pelvis`),
  `pelvis`, five spine bones `spine_01`..`spine_05`, `neck_01`, `neck_02`, `head`, `clavicle_l`,
  `upperarm_l`, `lowerarm_l`, `hand_l`, `thigh_l`, `calf_l`, `foot_l`, `ball_l` (and `_r`); with
  fingers `thumb_01_l`..`thumb_03_l` and, for the other four, a metacarpal
  (`index_metacarpal_l`) then `index_01_l`..`index_03_l` (`middle`, `ring`, `pinky`). UE4's
  mannequin differs in its spine (three bones), one neck bone and no metacarpals. The twist, IK
  and weapon bones are not written: retargeting does not need them.
- `vrm`: the VRM 1.0 humanoid's bone names (`hips`, `spine`, `chest`, `upperChest`, `neck`,
  `head`, `leftShoulder`, `leftUpperArm`, `leftLowerArm`, `leftHand`, `leftUpperLeg`,
  `leftLowerLeg`, `leftFoot`, `leftToes`; fingers `leftThumbMetacarpal`, `leftThumbProximal`,
  `leftThumbDistal`, `leftIndexProximal`, `leftIndexIntermediate`, `leftIndexDistal`, ...
  `leftLittle...`), which VRM and VRM Animation tools, and Unity's humanoid importer, map by name.

Each entry is (name, parent, at, driver[, end]) as in rig.py. Bones the solver has no joint for
(UE5's extra spine, neck and metacarpal bones) sit part way along a solver bone and turn with
its start, so they add joints without changing the motion: every limb joint stays where the take has it.
"""

from __future__ import annotations

from engine.core.skeletons import FINGERS

# The mannequin's floor bone above the pelvis, and its IK roots beside the pelvis (still at the
# origin: retargeting leaves them alone, and they keep importers that join a bone to its only
# child, as Blender's FBX importer does, from joining the pelvis to the root and losing its motion).
UE5_FLOOR_BONES = ("root", "ik_foot_root", "ik_hand_root")


def ue5_spec() -> list[tuple]:
    spec: list[tuple] = [
        ("pelvis", None, "pelvis", "pelvis"),
        ("spine_01", "pelvis", "lumbar", "lumbar"),
        ("spine_02", "spine_01", ("lumbar", "spine", 0.5), "lumbar"),
        ("spine_03", "spine_02", "spine", "spine"),
        ("spine_04", "spine_03", ("spine", "chest", 0.5), "spine"),
        ("spine_05", "spine_04", "chest", "chest"),
        ("neck_01", "spine_05", "neck", "neck"),
        ("neck_02", "neck_01", ("neck", "head", 0.5), "neck"),
        ("head", "neck_02", "head", "head", "nose"),
    ]
    for s, x in (("left", "l"), ("right", "r")):
        spec += [
            (f"clavicle_{x}", "spine_05", f"{s}_clavicle", f"{s}_clavicle"),
            (f"upperarm_{x}", f"clavicle_{x}", f"{s}_shoulder", f"{s}_shoulder"),
            (f"lowerarm_{x}", f"upperarm_{x}", f"{s}_elbow", f"{s}_elbow"),
            (f"hand_{x}", f"lowerarm_{x}", f"{s}_wrist", f"{s}_wrist", f"{s}_hand"),
        ]
    for s, x in (("left", "l"), ("right", "r")):
        spec += [
            (f"thigh_{x}", "pelvis", f"{s}_hip", f"{s}_hip"),
            (f"calf_{x}", f"thigh_{x}", f"{s}_knee", f"{s}_knee"),
            (f"foot_{x}", f"calf_{x}", f"{s}_ankle", f"{s}_ankle"),
            (f"ball_{x}", f"foot_{x}", f"{s}_toe", f"{s}_ankle", (f"{s}_ankle", f"{s}_toe", 1.3)),
        ]
    return spec


METACARPAL_AT = 0.35  # where UE5's metacarpal bones sit, wrist -> finger base


def ue5_finger_spec() -> list[tuple]:
    """ue5_spec with the fingers: the thumb's three bones under the hand; the other fingers'
    metacarpal (part way from the wrist to the finger's base, turning with the hand) and three
    bones under it; the hands lose their end sites."""
    hands = {"hand_l", "hand_r"}
    out = [e[:4] if e[0] in hands else e for e in ue5_spec()]
    for s, x in (("left", "l"), ("right", "r")):
        for finger in FINGERS:
            parent = f"hand_{x}"
            if finger != "thumb":
                meta = f"{finger}_metacarpal_{x}"
                out.append((meta, parent, (f"{s}_wrist", f"{s}_{finger}1", METACARPAL_AT), f"{s}_wrist"))
                parent = meta
            for k in (1, 2, 3):
                name = f"{finger}_0{k}_{x}"
                entry = (name, parent, f"{s}_{finger}{k}", f"{s}_{finger}{k}")
                out.append(entry + ((f"{s}_{finger}_tip",) if k == 3 else ()))
                parent = name
    return out


def vrm_spec() -> list[tuple]:
    spec: list[tuple] = [
        ("hips", None, "pelvis", "pelvis"),
        ("spine", "hips", "lumbar", "lumbar"),
        ("chest", "spine", "spine", "spine"),
        ("upperChest", "chest", "chest", "chest"),
        ("neck", "upperChest", "neck", "neck"),
        ("head", "neck", "head", "head", "nose"),
    ]
    for s in ("left", "right"):
        spec += [
            (f"{s}Shoulder", "upperChest", f"{s}_clavicle", f"{s}_clavicle"),
            (f"{s}UpperArm", f"{s}Shoulder", f"{s}_shoulder", f"{s}_shoulder"),
            (f"{s}LowerArm", f"{s}UpperArm", f"{s}_elbow", f"{s}_elbow"),
            (f"{s}Hand", f"{s}LowerArm", f"{s}_wrist", f"{s}_wrist", f"{s}_hand"),
        ]
    for s in ("left", "right"):
        spec += [
            (f"{s}UpperLeg", "hips", f"{s}_hip", f"{s}_hip"),
            (f"{s}LowerLeg", f"{s}UpperLeg", f"{s}_knee", f"{s}_knee"),
            (f"{s}Foot", f"{s}LowerLeg", f"{s}_ankle", f"{s}_ankle"),
            (f"{s}Toes", f"{s}Foot", f"{s}_toe", f"{s}_ankle", (f"{s}_ankle", f"{s}_toe", 1.3)),
        ]
    return spec


_VRM_FINGERS = {"thumb": "Thumb", "index": "Index", "middle": "Middle", "ring": "Ring", "pinky": "Little"}
_VRM_THUMB = ("Metacarpal", "Proximal", "Distal")
_VRM_PHALANGES = ("Proximal", "Intermediate", "Distal")


def vrm_hand(side: str) -> str:
    return f"{side}Hand"


def vrm_finger(side: str, finger: str, k: int) -> str:
    """VRM 1.0's finger bones: the thumb's Metacarpal (its CMC joint, Monocap's thumb1), Proximal,
    Distal; the other fingers' Proximal, Intermediate, Distal."""
    parts = _VRM_THUMB if finger == "thumb" else _VRM_PHALANGES
    return f"{side}{_VRM_FINGERS[finger]}{parts[k - 1]}"
