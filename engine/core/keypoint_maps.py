"""Affine maps from the detector's 33 keypoints onto other skeletons.

Each target joint is a weighted sum of detector keypoints whose weights sum to one, so the map
commutes with rotation and translation. Rows are target joints, columns detector keypoints.
"""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import COCO_17, H36M_17, MEDIAPIPE_33, MONOCAP_BODY, Skeleton


def affine_matrix(target: Skeleton, recipe: dict[str, dict[str, float]], source: Skeleton = MEDIAPIPE_33) -> np.ndarray:
    """(J_target, J_source) weights from a recipe {target joint: {source joint: weight}}."""
    m = np.zeros((target.num_joints, source.num_joints))
    for joint, weights in recipe.items():
        for name, w in weights.items():
            m[target.index(joint), source.index(name)] = w
    if not np.allclose(m.sum(axis=1), 1.0):
        raise ValueError(f"{target.name}: every joint's weights must sum to one")
    return m


def _mid(a: str, b: str) -> dict[str, float]:
    return {a: 0.5, b: 0.5}


def _monocap_recipe() -> dict[str, dict[str, float]]:
    hips = _mid("left_hip", "right_hip")
    shoulders = _mid("left_shoulder", "right_shoulder")
    recipe = {
        "pelvis": hips,
        "spine": {k: v * 2 / 3 for k, v in hips.items()} | {k: v / 3 for k, v in shoulders.items()},
        "chest": {k: v / 3 for k, v in hips.items()} | {k: v * 2 / 3 for k, v in shoulders.items()},
        "neck": shoulders,
        "head": _mid("left_ear", "right_ear"),
        "nose": {"nose": 1.0},
    }
    for side in ("left", "right"):
        recipe |= {
            f"{side}_hip": {f"{side}_hip": 1.0},
            f"{side}_knee": {f"{side}_knee": 1.0},
            f"{side}_ankle": {f"{side}_ankle": 1.0},
            f"{side}_toe": {f"{side}_foot_index": 1.0},
            f"{side}_shoulder": {f"{side}_shoulder": 1.0},
            f"{side}_elbow": {f"{side}_elbow": 1.0},
            f"{side}_wrist": {f"{side}_wrist": 1.0},
            f"{side}_hand": _mid(f"{side}_index", f"{side}_pinky"),
        }
    return recipe


def _h36m_recipe() -> dict[str, dict[str, float]]:
    hips = _mid("left_hip", "right_hip")
    shoulders = _mid("left_shoulder", "right_shoulder")
    ears = _mid("left_ear", "right_ear")
    recipe = {
        "pelvis": hips,
        "spine": {k: v / 2 for k, v in hips.items()} | {k: v / 2 for k, v in shoulders.items()},
        "thorax": shoulders,
        "neck_nose": {"nose": 1.0},
        "head_top": {k: v * 1.5 for k, v in ears.items()} | {k: -v * 0.5 for k, v in shoulders.items()},
    }
    for side in ("left", "right"):
        for j in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"):
            recipe[f"{side}_{j}"] = {f"{side}_{j}": 1.0}
    return recipe


MAPS: dict[str, np.ndarray] = {
    MONOCAP_BODY.name: affine_matrix(MONOCAP_BODY, _monocap_recipe()),
    COCO_17.name: affine_matrix(COCO_17, {n: {n: 1.0} for n in COCO_17.joint_names}),
    H36M_17.name: affine_matrix(H36M_17, _h36m_recipe()),
    MEDIAPIPE_33.name: np.eye(MEDIAPIPE_33.num_joints),
}


def map_keypoints(points: np.ndarray, target: str) -> np.ndarray:
    """(..., 33, D) detector keypoints -> (..., J, D) joints of `target`."""
    try:
        matrix = MAPS[target]
    except KeyError:
        raise KeyError(f"no map from the detector's keypoints to {target!r}; have {sorted(MAPS)}") from None
    return np.einsum("jk,...kd->...jd", matrix, points)


def map_scores(scores: np.ndarray, target: str) -> np.ndarray:
    """(..., 33) scores -> (..., J): a joint is as confident as its least confident source."""
    matrix = MAPS[target]
    used = matrix != 0
    big = np.where(used, scores[..., None, :], np.inf)
    return big.min(axis=-1)
