"""The limb-length refinement of triangulated keypoints: two cameras nearly facing each other pin a
keypoint down poorly along their common line of sight; holding each limb at its usual length takes
most of that error out."""

from __future__ import annotations

import numpy as np

from engine.multiview.refine import EDGES, bone_lengths, limb_lengths, refine_points, usual_lengths
from engine.multiview.triangulation import fuse_views
from tests.engine.multiview.synthetic import body_keypoints, observe, ring_rig


def test_limbs_keep_their_length_and_the_error_along_the_sight_line_shrinks():
    rig = ring_rig(2, spread_deg=160)  # the two cameras 160 degrees apart: depth poorly pinned down
    truth = body_keypoints(60)
    kp, sc = observe(rig, truth, noise_px=3.0)
    plain = fuse_views(rig, kp, sc, length_sigma_m=None)
    fused = fuse_views(rig, kp, sc)
    err_plain = np.linalg.norm(plain.points_m - truth, axis=-1).mean()
    err = np.linalg.norm(fused.points_m - truth, axis=-1).mean()
    assert err < 0.8 * err_plain, (err, err_plain)
    spread_plain = np.nanstd(limb_lengths(plain.points_m), axis=0).mean()
    spread = np.nanstd(limb_lengths(fused.points_m), axis=0).mean()
    assert spread < 0.4 * spread_plain, (spread, spread_plain)
    assert np.abs(bone_lengths(fused.points_m) - limb_lengths(truth[0])).mean() < 0.02
    assert np.nanmean(fused.reproj_px) < 2 * np.nanmean(plain.reproj_px)  # still where the views see it


def test_given_lengths_are_held_and_missing_keypoints_stay_missing():
    rig = ring_rig(2, spread_deg=150)
    truth = body_keypoints(10)
    kp, sc = observe(rig, truth, noise_px=2.0)
    sc[:, 3, 15] = 0.0  # nobody sees the left wrist in frame 3
    fused = fuse_views(rig, kp, sc, lengths=limb_lengths(truth[0]))
    assert np.isnan(fused.points_m[3, 15]).all() and np.isfinite(fused.points_m[4, 15]).all()
    lengths = limb_lengths(fused.points_m)
    assert np.nanmax(np.abs(lengths - limb_lengths(truth[0]))) < 0.05
    # a limb whose length is not known is left to the rays alone, and no ray at all leaves no point
    normalised = np.stack([cam.normalise(kp[i]) for i, cam in enumerate(rig)])
    none = refine_points(rig, normalised, np.zeros(sc.shape), fused.points_m, np.full(len(EDGES), np.nan))
    assert np.allclose(none[np.isfinite(none)], fused.points_m[np.isfinite(none)])


def test_a_limb_and_its_twin_on_the_other_side_are_held_to_one_length():
    from engine.core.skeletons import MEDIAPIPE_33

    names = MEDIAPIPE_33.joint_names
    edge = {(names[a], names[c]): e for e, (a, c) in enumerate(EDGES)}
    left, right = edge[("left_shoulder", "left_elbow")], edge[("right_shoulder", "right_elbow")]
    width = edge[("left_shoulder", "right_shoulder")]
    lengths = np.full((5, len(EDGES)), np.nan)
    lengths[:, left], lengths[:, right], lengths[:, width] = 0.30, 0.34, 0.36
    lengths[2, right] = 0.60  # one frame the far side strays
    usual = usual_lengths(lengths)
    assert np.isclose(usual[left], 0.32) and np.isclose(usual[right], 0.32)
    assert np.isclose(usual[width], 0.36)
    assert np.isnan(usual[edge[("left_hip", "left_knee")]])
