"""Every skeleton format Monocap knows, as one `Skeleton` type in one registry.

A skeleton is joint names, parent indices (-1 for the root), left/right mirror pairs and the
edges to draw. The GL view, the exporters, the training data and the lifter all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Skeleton:
    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    mirror_pairs: tuple[tuple[int, int], ...] = ()
    extra_edges: tuple[tuple[int, int], ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.joint_names) != len(self.parents):
            raise ValueError(f"{self.name}: {len(self.joint_names)} names but {len(self.parents)} parents")
        if len(set(self.joint_names)) != len(self.joint_names):
            raise ValueError(f"{self.name}: duplicate joint names")
        for i, p in enumerate(self.parents):
            if p >= i:
                raise ValueError(f"{self.name}: parent of joint {i} must come before it")

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        """Pairs (parent, child) to draw, then the extra edges."""
        tree = tuple((p, i) for i, p in enumerate(self.parents) if p >= 0)
        return tree + self.extra_edges

    @property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """Pairs (parent, child) of the kinematic tree."""
        return tuple((p, i) for i, p in enumerate(self.parents) if p >= 0)

    def index(self, joint_name: str) -> int:
        try:
            return self.joint_names.index(joint_name)
        except ValueError:
            raise KeyError(f"{self.name} has no joint {joint_name!r}") from None

    def mirror_permutation(self) -> np.ndarray:
        """Index array mapping each joint to its left/right twin (itself when central)."""
        perm = np.arange(self.num_joints)
        for a, b in self.mirror_pairs:
            perm[a], perm[b] = b, a
        return perm

    def bone_lengths(self, joints: np.ndarray) -> np.ndarray:
        """joints: (..., J, 3) -> (..., J-1) lengths of the tree's bones, in the joints' unit."""
        parents = np.array([p for p in self.parents if p >= 0])
        children = np.array([i for i, p in enumerate(self.parents) if p >= 0])
        return np.linalg.norm(joints[..., children, :] - joints[..., parents, :], axis=-1)


def _pairs_by_prefix(names: tuple[str, ...], left: str, right: str) -> tuple[tuple[int, int], ...]:
    pairs = []
    for i, n in enumerate(names):
        if n.startswith(left):
            twin = right + n[len(left):]
            if twin in names:
                pairs.append((i, names.index(twin)))
    return tuple(pairs)


def _tree(name: str, spec: list[tuple[str, str | None]], left: str, right: str,
          extra_edges: tuple[tuple[str, str], ...] = ()) -> Skeleton:
    names = tuple(n for n, _ in spec)
    parents = tuple(-1 if p is None else names.index(p) for _, p in spec)
    extra = tuple((names.index(a), names.index(b)) for a, b in extra_edges)
    return Skeleton(name, names, parents, _pairs_by_prefix(names, left, right), extra)


# Monocap's default body skeleton: joint centres, pelvis root. What takes, the CSV and the
# default rig use.
MONOCAP_BODY = _tree("monocap_body", [
    ("pelvis", None),
    ("spine", "pelvis"),
    ("chest", "spine"),
    ("neck", "chest"),
    ("head", "neck"),
    ("nose", "head"),
    ("left_hip", "pelvis"),
    ("left_knee", "left_hip"),
    ("left_ankle", "left_knee"),
    ("left_toe", "left_ankle"),
    ("right_hip", "pelvis"),
    ("right_knee", "right_hip"),
    ("right_ankle", "right_knee"),
    ("right_toe", "right_ankle"),
    ("left_shoulder", "chest"),
    ("left_elbow", "left_shoulder"),
    ("left_wrist", "left_elbow"),
    ("left_hand", "left_wrist"),
    ("right_shoulder", "chest"),
    ("right_elbow", "right_shoulder"),
    ("right_wrist", "right_elbow"),
    ("right_hand", "right_wrist"),
], "left_", "right_")

FINGERS = ("thumb", "index", "middle", "ring", "pinky")


def finger_joint_names(side: str) -> tuple[str, ...]:
    """The 20 finger points of one hand, in MediaPipe's hand keypoint order after the wrist: three
    joints per finger from the base outwards (thumb: CMC, MCP, IP; the others: MCP, PIP, DIP), then
    its tip."""
    return tuple(f"{side}_{f}{k}" if k < 4 else f"{side}_{f}_tip" for f in FINGERS for k in (1, 2, 3, 4))


def _with_fingers() -> Skeleton:
    spec = [(n, None if p < 0 else MONOCAP_BODY.joint_names[p]) for n, p in zip(MONOCAP_BODY.joint_names, MONOCAP_BODY.parents)]
    for side in ("left", "right"):
        names = finger_joint_names(side)
        for i, n in enumerate(names):
            spec.append((n, f"{side}_wrist" if i % 4 == 0 else names[i - 1]))
    edges = tuple((f"{side}_{a}1", f"{side}_{b}1") for side in ("left", "right")
                  for a, b in (("index", "middle"), ("middle", "ring"), ("ring", "pinky")))
    return _tree("monocap_hands", spec, "left_", "right_", extra_edges=edges)


def finger_point_names() -> frozenset[str]:
    return frozenset(finger_joint_names("left") + finger_joint_names("right"))


def frame_joints(skeleton: Skeleton) -> np.ndarray:
    """Indices of the joints a frame needs to count as valid: all but the finger points (a hand
    may be out of view while the body is not)."""
    fingers = finger_point_names()
    return np.array([i for i, n in enumerate(skeleton.joint_names) if n not in fingers], dtype=int)


# MONOCAP_BODY with fingers: the body's 22 joints, then 20 finger points per hand (15 joints, three
# per finger, and the five tips), each finger rooted at the wrist. What takes captured with hands use.
MONOCAP_HANDS = _with_fingers()

# BlazePose GHUM's 33 keypoints, in the detector's order. Not a kinematic tree: the root is
# the nose and parents follow the drawing edges.
MEDIAPIPE_33 = _tree("mediapipe_33", [
    ("nose", None),
    ("left_eye_inner", "nose"), ("left_eye", "left_eye_inner"), ("left_eye_outer", "left_eye"),
    ("right_eye_inner", "nose"), ("right_eye", "right_eye_inner"), ("right_eye_outer", "right_eye"),
    ("left_ear", "left_eye_outer"), ("right_ear", "right_eye_outer"),
    ("mouth_left", "nose"), ("mouth_right", "nose"),
    ("left_shoulder", "nose"), ("right_shoulder", "nose"),
    ("left_elbow", "left_shoulder"), ("right_elbow", "right_shoulder"),
    ("left_wrist", "left_elbow"), ("right_wrist", "right_elbow"),
    ("left_pinky", "left_wrist"), ("right_pinky", "right_wrist"),
    ("left_index", "left_wrist"), ("right_index", "right_wrist"),
    ("left_thumb", "left_wrist"), ("right_thumb", "right_wrist"),
    ("left_hip", "left_shoulder"), ("right_hip", "right_shoulder"),
    ("left_knee", "left_hip"), ("right_knee", "right_hip"),
    ("left_ankle", "left_knee"), ("right_ankle", "right_knee"),
    ("left_heel", "left_ankle"), ("right_heel", "right_ankle"),
    ("left_foot_index", "left_ankle"), ("right_foot_index", "right_ankle"),
], "left_", "right_", extra_edges=(
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ("left_heel", "left_foot_index"), ("right_heel", "right_foot_index"),
    ("left_pinky", "left_index"), ("right_pinky", "right_index"),
    ("mouth_left", "mouth_right"),
))

# MEDIAPIPE_33 keypoints that code picks out by index (the people tracker, clothes, hand crops).
MP_L_SHOULDER, MP_R_SHOULDER = MEDIAPIPE_33.index("left_shoulder"), MEDIAPIPE_33.index("right_shoulder")
MP_L_HIP, MP_R_HIP = MEDIAPIPE_33.index("left_hip"), MEDIAPIPE_33.index("right_hip")
MP_L_KNEE, MP_R_KNEE = MEDIAPIPE_33.index("left_knee"), MEDIAPIPE_33.index("right_knee")
# The limbs as index pairs: each side's upper arm and forearm, then each side's thigh and shin.
MP_LIMBS = tuple((MEDIAPIPE_33.index(f"{side}_{a}"), MEDIAPIPE_33.index(f"{side}_{b}"))
                 for bones in ((("shoulder", "elbow"), ("elbow", "wrist")), (("hip", "knee"), ("knee", "ankle")))
                 for side in ("left", "right") for a, b in bones)
# Each side's wrist, pinky, index and thumb: where a hand is looked for.
MP_HAND_KEYPOINTS = {side: tuple(MEDIAPIPE_33.index(f"{side}_{k}") for k in ("wrist", "pinky", "index", "thumb"))
                     for side in ("left", "right")}
# The hand model's 21 keypoints (the wrist, then four per finger from the base to the tip) as lines
# to draw: each finger from the wrist, and across the knuckles.
HAND_EDGES = tuple((0 if k % 4 == 1 else k - 1, k) for k in range(1, 21)) + ((5, 9), (9, 13), (13, 17))
# The detector's keypoint scores: above KEYPOINT_SCORE_MIN a keypoint is taken to be where it says
# (boxes, crops, where to look for a hand); above KEYPOINT_CONFIDENT it is sure enough to measure a
# body by (the people tracker's proportions, the colours of clothes).
KEYPOINT_SCORE_MIN = 0.3
KEYPOINT_CONFIDENT = 0.5

COCO_17 = _tree("coco_17", [
    ("nose", None),
    ("left_eye", "nose"), ("right_eye", "nose"),
    ("left_ear", "left_eye"), ("right_ear", "right_eye"),
    ("left_shoulder", "nose"), ("right_shoulder", "nose"),
    ("left_elbow", "left_shoulder"), ("right_elbow", "right_shoulder"),
    ("left_wrist", "left_elbow"), ("right_wrist", "right_elbow"),
    ("left_hip", "left_shoulder"), ("right_hip", "right_shoulder"),
    ("left_knee", "left_hip"), ("right_knee", "right_hip"),
    ("left_ankle", "left_knee"), ("right_ankle", "right_knee"),
], "left_", "right_", extra_edges=(("left_shoulder", "right_shoulder"), ("left_hip", "right_hip")))

# Human3.6M's 17-joint evaluation skeleton, in its customary order.
H36M_17 = _tree("h36m_17", [
    ("pelvis", None),
    ("right_hip", "pelvis"), ("right_knee", "right_hip"), ("right_ankle", "right_knee"),
    ("left_hip", "pelvis"), ("left_knee", "left_hip"), ("left_ankle", "left_knee"),
    ("spine", "pelvis"), ("thorax", "spine"), ("neck_nose", "thorax"), ("head_top", "neck_nose"),
    ("left_shoulder", "thorax"), ("left_elbow", "left_shoulder"), ("left_wrist", "left_elbow"),
    ("right_shoulder", "thorax"), ("right_elbow", "right_shoulder"), ("right_wrist", "right_elbow"),
], "left_", "right_")

SMPL_24 = _tree("smpl_24", [
    ("pelvis", None),
    ("left_hip", "pelvis"), ("right_hip", "pelvis"), ("spine1", "pelvis"),
    ("left_knee", "left_hip"), ("right_knee", "right_hip"), ("spine2", "spine1"),
    ("left_ankle", "left_knee"), ("right_ankle", "right_knee"), ("spine3", "spine2"),
    ("left_foot", "left_ankle"), ("right_foot", "right_ankle"), ("neck", "spine3"),
    ("left_collar", "spine3"), ("right_collar", "spine3"), ("head", "neck"),
    ("left_shoulder", "left_collar"), ("right_shoulder", "right_collar"),
    ("left_elbow", "left_shoulder"), ("right_elbow", "right_shoulder"),
    ("left_wrist", "left_elbow"), ("right_wrist", "right_elbow"),
    ("left_hand", "left_wrist"), ("right_hand", "right_wrist"),
], "left_", "right_")

_REGISTRY: dict[str, Skeleton] = {}


def register(skeleton: Skeleton) -> Skeleton:
    """Adds a skeleton to the registry (replacing one of the same name) and returns it."""
    _REGISTRY[skeleton.name] = skeleton
    return skeleton


def get(name: str) -> Skeleton:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown skeleton {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


_SIDE_PREFIXES = (("left", "right"), ("Left", "Right"), ("L_", "R_"), ("l", "r"), ("L", "R"))


def guess_mirror_pairs(names: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Pairs joints whose names differ only by a left/right marker (leftArm/rightArm, lShldr/rShldr)."""
    lookup = {n: i for i, n in enumerate(names)}
    pairs: list[tuple[int, int]] = []
    for i, n in enumerate(names):
        for left, right in _SIDE_PREFIXES:
            at = n.find(left)
            if at < 0:
                continue
            twin = n[:at] + right + n[at + len(left):]
            if twin in lookup and twin != n:
                pairs.append((i, lookup[twin]))
                break
    return tuple(pairs)


def names() -> list[str]:
    return sorted(_REGISTRY)


for _s in (MONOCAP_BODY, MONOCAP_HANDS, MEDIAPIPE_33, COCO_17, H36M_17, SMPL_24):
    register(_s)


# Skeletons of the public pose data sets the image network trains on (MPII, LSP, MPI-INF-3DHP).
# Joints are in a topological order; each data set's own storage order is given beside it
# (`*_FILE_ORDER`, joint names in the order the release files store them) and the readers in
# training/image_net/datasets permute with `file_order_permutation`.

# MPII Human Pose: 16 joints. File order (joint ids 0..15 of the release).
MPII_16_FILE_ORDER = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "pelvis", "thorax", "upper_neck", "head_top",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
)
MPII_16 = _tree("mpii_16", [
    ("pelvis", None),
    ("right_hip", "pelvis"), ("right_knee", "right_hip"), ("right_ankle", "right_knee"),
    ("left_hip", "pelvis"), ("left_knee", "left_hip"), ("left_ankle", "left_knee"),
    ("thorax", "pelvis"), ("upper_neck", "thorax"), ("head_top", "upper_neck"),
    ("right_shoulder", "thorax"), ("right_elbow", "right_shoulder"), ("right_wrist", "right_elbow"),
    ("left_shoulder", "thorax"), ("left_elbow", "left_shoulder"), ("left_wrist", "left_elbow"),
], "left_", "right_")

# Leeds Sports Pose (and LSP-extended): 14 joints. File order of joints.mat.
LSP_14_FILE_ORDER = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    "neck", "head_top",
)
LSP_14 = _tree("lsp_14", [
    ("neck", None),
    ("head_top", "neck"),
    ("right_shoulder", "neck"), ("right_elbow", "right_shoulder"), ("right_wrist", "right_elbow"),
    ("left_shoulder", "neck"), ("left_elbow", "left_shoulder"), ("left_wrist", "left_elbow"),
    ("right_hip", "neck"), ("right_knee", "right_hip"), ("right_ankle", "right_knee"),
    ("left_hip", "neck"), ("left_knee", "left_hip"), ("left_ankle", "left_knee"),
], "left_", "right_", extra_edges=(("left_hip", "right_hip"),))

# MPI-INF-3DHP: the 28 joints of the training set's annot.mat, in file order.
MPI_INF_3DHP_28_FILE_ORDER = (
    "spine3", "spine4", "spine2", "spine", "pelvis", "neck", "head", "head_top",
    "left_clavicle", "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_clavicle", "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_hip", "left_knee", "left_ankle", "left_foot", "left_toe",
    "right_hip", "right_knee", "right_ankle", "right_foot", "right_toe",
)
MPI_INF_3DHP_28 = _tree("mpi_inf_3dhp_28", [
    ("pelvis", None),
    ("spine", "pelvis"), ("spine2", "spine"), ("spine3", "spine2"), ("spine4", "spine3"),
    ("neck", "spine4"), ("head", "neck"), ("head_top", "head"),
    ("left_clavicle", "spine4"), ("left_shoulder", "left_clavicle"), ("left_elbow", "left_shoulder"),
    ("left_wrist", "left_elbow"), ("left_hand", "left_wrist"),
    ("right_clavicle", "spine4"), ("right_shoulder", "right_clavicle"), ("right_elbow", "right_shoulder"),
    ("right_wrist", "right_elbow"), ("right_hand", "right_wrist"),
    ("left_hip", "pelvis"), ("left_knee", "left_hip"), ("left_ankle", "left_knee"),
    ("left_foot", "left_ankle"), ("left_toe", "left_foot"),
    ("right_hip", "pelvis"), ("right_knee", "right_hip"), ("right_ankle", "right_knee"),
    ("right_foot", "right_ankle"), ("right_toe", "right_foot"),
], "left_", "right_")

# MPI-INF-3DHP's 17-joint evaluation set (the test set's annot_data.mat), in file order.
MPI_INF_3DHP_17_FILE_ORDER = (
    "head_top", "neck", "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle", "pelvis", "spine", "head",
)
MPI_INF_3DHP_17 = _tree("mpi_inf_3dhp_17", [
    ("pelvis", None),
    ("spine", "pelvis"), ("neck", "spine"), ("head", "neck"), ("head_top", "head"),
    ("right_shoulder", "neck"), ("right_elbow", "right_shoulder"), ("right_wrist", "right_elbow"),
    ("left_shoulder", "neck"), ("left_elbow", "left_shoulder"), ("left_wrist", "left_elbow"),
    ("right_hip", "pelvis"), ("right_knee", "right_hip"), ("right_ankle", "right_knee"),
    ("left_hip", "pelvis"), ("left_knee", "left_hip"), ("left_ankle", "left_knee"),
], "left_", "right_")

# Indices of the 17 evaluation joints inside the 28 (0-based, in the 17's file order).
MPI_INF_3DHP_17_IN_28 = tuple(MPI_INF_3DHP_28_FILE_ORDER.index(n) for n in MPI_INF_3DHP_17_FILE_ORDER)


def file_order_permutation(skeleton: Skeleton, file_order: tuple[str, ...]) -> np.ndarray:
    """Index array `perm` with `joints_in_skeleton_order = joints_in_file_order[..., perm, :]`."""
    return np.array([file_order.index(n) for n in skeleton.joint_names])


for _s in (MPII_16, LSP_14, MPI_INF_3DHP_28, MPI_INF_3DHP_17):
    register(_s)
