import numpy as np
import pytest

from engine.core import skeletons
from engine.core.keypoint_maps import MAPS, map_keypoints, map_scores
from engine.core.skeletons import MONOCAP_BODY, Skeleton


def test_registry_has_the_formats_users_ask_for():
    sizes = {"mediapipe_33": 33, "coco_17": 17, "h36m_17": 17, "smpl_24": 24, "monocap_body": 22}
    for name, size in sizes.items():
        assert skeletons.get(name).num_joints == size, name
    with pytest.raises(KeyError, match="unknown skeleton"):
        skeletons.get("nope")


def test_mirror_permutation_swaps_sides_and_is_an_involution():
    perm = MONOCAP_BODY.mirror_permutation()
    assert MONOCAP_BODY.joint_names[perm[MONOCAP_BODY.index("left_knee")]] == "right_knee"
    assert perm[MONOCAP_BODY.index("pelvis")] == MONOCAP_BODY.index("pelvis")
    assert np.array_equal(perm[perm], np.arange(MONOCAP_BODY.num_joints))


def test_parents_must_precede_children():
    with pytest.raises(ValueError):
        Skeleton("bad", ("a", "b"), (1, -1))


def test_keypoint_maps_are_affine_and_commute_with_rigid_motion():
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(33, 3))
    angle = 0.7
    rot = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    shift = np.array([0.3, -1.0, 2.0])
    for name, matrix in MAPS.items():
        assert np.allclose(matrix.sum(axis=1), 1.0), name
        a = map_keypoints(pts @ rot.T + shift, name)
        b = map_keypoints(pts, name) @ rot.T + shift
        assert np.allclose(a, b), name


def test_mapped_scores_take_the_weakest_source():
    scores = np.ones(33)
    scores[skeletons.MEDIAPIPE_33.index("left_ear")] = 0.0
    mapped = map_scores(scores, "monocap_body")
    assert mapped[MONOCAP_BODY.index("head")] == 0.0
    assert mapped[MONOCAP_BODY.index("pelvis")] == 1.0
