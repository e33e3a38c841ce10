"""Skeletons of the public pose data sets the image network trains on.

Each is registered in `engine.skeletons`. A `Skeleton` lists parents before children, so the
joint order here is a topological one; each data set's own storage order is given beside it
(`*_FILE_ORDER`, joint names in the order the release files store them) and the readers in
training/datasets permute with `file_order_permutation`.
"""

from __future__ import annotations

import numpy as np

from .skeletons import Skeleton, _tree, register

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
