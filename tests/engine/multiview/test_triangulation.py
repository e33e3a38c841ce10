"""Triangulation from several calibrated views: accuracy, outlier views, left/right swaps of one view,
the monocular fill, the time offset between videos, and who is who across views."""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import MEDIAPIPE_33
from engine.multiview.cameras import Rig
from engine.multiview.matching import match_person
from engine.multiview.sync import find_offset
from engine.multiview.triangulation import MONOCULAR, TRIANGULATED, FusionHistory, fuse_views
from tests.engine.multiview.synthetic import body_keypoints, observe, ring_rig


def test_two_views_triangulate_to_within_a_centimetre():
    rig = ring_rig(2, spread_deg=90)
    truth = body_keypoints(60)
    kp, sc = observe(rig, truth, noise_px=1.0)
    fused = fuse_views(rig, kp, sc)
    assert (fused.source == TRIANGULATED).all()
    err = np.linalg.norm(fused.points_m - truth, axis=-1)
    assert err.mean() < 0.01, err.mean()
    assert np.nanmean(fused.reproj_px) < 2.0


def test_a_view_far_off_on_a_keypoint_is_dropped():
    rig = ring_rig(3, spread_deg=120)
    truth = body_keypoints(30)
    kp, sc = observe(rig, truth, noise_px=0.5)
    kp[2, :, 15] += (120.0, -80.0)  # the third view puts the left wrist somewhere else
    fused = fuse_views(rig, kp, sc)
    err = np.linalg.norm(fused.points_m[:, 15] - truth[:, 15], axis=-1)
    assert err.max() < 0.02, err.max()
    assert (fused.views[:, 15] == 2).all()


def test_a_view_that_swaps_left_and_right_legs_is_resolved():
    rig = ring_rig(2, spread_deg=90)
    truth = body_keypoints(40)
    kp, sc = observe(rig, truth, noise_px=0.5)
    perm = MEDIAPIPE_33.mirror_permutation()
    legs = [25, 26, 27, 28, 29, 30, 31, 32]
    bad = slice(10, 20)
    swapped = kp.copy()
    for t in range(10, 20):
        swapped[1, t, legs] = kp[1, t, perm[legs]]
    plain = fuse_views(rig, swapped, sc, swap_cost=None)  # left and right taken as the detector gives them
    assert (np.nan_to_num(np.linalg.norm(plain.points_m[bad, 27] - truth[bad, 27], axis=-1), nan=1.0) > 0.05).all()
    fused = fuse_views(rig, swapped, sc)
    err = np.linalg.norm(fused.points_m[:, legs] - truth[:, legs], axis=-1)
    assert err.max() < 0.02, err.max()
    assert fused.swapped[1, bad, 3].all() and not fused.swapped[:, :10, 3].any() and not fused.swapped[0, :, 3].any()


def test_a_keypoint_one_view_sees_comes_from_its_monocular_3d():
    rig = ring_rig(2, spread_deg=90)
    truth = body_keypoints(20)
    kp, sc = observe(rig, truth, noise_px=0.3)
    sc[1, :, 16] = 0.0  # the second view never sees the right wrist
    world_m = np.stack([(truth - truth[:, 23:25].mean(axis=1, keepdims=True)) @ cam.R.T for cam in rig])
    fused = fuse_views(rig, kp, sc, world_m)
    assert (fused.source[:, 16] == MONOCULAR).all()
    err = np.linalg.norm(fused.points_m[:, 16] - truth[:, 16], axis=-1)
    assert err.max() < 0.02, err.max()
    without = fuse_views(rig, kp, sc)
    assert np.isnan(without.points_m[:, 16]).all()


def test_the_offset_between_videos_is_found_from_the_motion():
    rig = ring_rig(2, spread_deg=100)
    truth = body_keypoints(150)
    kp, sc = observe(rig, truth, noise_px=1.0)
    late = 17  # the second camera started 17 frames earlier: its frame i + 17 is the first's frame i
    b_kp = np.concatenate([kp[1, :1].repeat(late, axis=0) + 40.0, kp[1]])
    b_sc = np.concatenate([sc[1, :1].repeat(late, axis=0), sc[1]])
    offset = find_offset(Rig(rig.cameras), (kp[0], b_kp), (sc[0], b_sc), fps=30.0, max_offset_s=1.0)
    assert offset.frames == late, offset
    assert offset.variation < 0.5 * offset.at_zero
    assert find_offset(Rig(rig.cameras), (kp[0], kp[1]), (sc[0], sc[1]), fps=30.0, max_offset_s=1.0).frames == 0


def test_the_person_is_matched_across_views_among_others():
    rig = ring_rig(2, spread_deg=90)
    truth = body_keypoints(30)
    other = body_keypoints(30, seed=5) + np.array([1.2, 0.0, -0.8])
    kp, sc = observe(rig, truth)
    okp, osc = observe(rig, other, seed=3)
    cands_kp = np.stack([okp[1], kp[1]])  # in view 2 the other person is listed first
    cands_sc = np.stack([osc[1], sc[1]])
    cands_sc[1, 5:8] = 0.0  # and our person is hidden for three frames
    pick = match_person(Rig(rig.cameras), kp[0], sc[0], cands_kp, cands_sc)
    assert (pick[:5] == 1).all() and (pick[8:] == 1).all()
    assert (pick[5:8] != 1).all()


def test_a_confident_view_that_mirrors_the_whole_body_for_a_while_is_the_one_swapped():
    # A detector that takes the person's back for the front labels every left keypoint right, sure
    # of itself. The two labellings fit the views alike in each frame; the motion tells them apart.
    rig = ring_rig(2, spread_deg=100)
    truth = body_keypoints(60)
    kp, sc = observe(rig, truth, noise_px=0.5)
    sc[0] = 0.7  # the view that keeps its labels is the less confident one
    perm = MEDIAPIPE_33.mirror_permutation()
    flipped = slice(20, 35)
    kp[1, flipped] = kp[1, flipped][:, perm]
    fused = fuse_views(rig, kp, sc)
    err = np.linalg.norm(fused.points_m - truth, axis=-1)
    assert np.nanmax(err) < 0.03, np.nanmax(err)
    assert (fused.source[:, 11:29] == TRIANGULATED).all()
    assert fused.swapped[1, flipped, :4].all() and not fused.swapped[0].any()
    assert not fused.swapped[1, :20].any() and not fused.swapped[1, 35:].any()
    # the mirrored view is still the same person to the matching
    pick = match_person(Rig(rig.cameras), kp[0], sc[0], kp[None, 1], sc[None, 1])
    assert (pick == 0).all()


def test_live_fusion_frame_by_frame_keeps_left_and_right_from_the_frames_before():
    rig = ring_rig(2, spread_deg=100)
    truth = body_keypoints(50)
    kp, sc = observe(rig, truth, noise_px=0.5)
    sc[0] = 0.7
    perm = MEDIAPIPE_33.mirror_permutation()
    kp[1, 20:35] = kp[1, 20:35][:, perm]  # the more confident view mirrors the body for a while
    history = FusionHistory()
    frames = [fuse_views(rig, kp[:, t:t + 1], sc[:, t:t + 1], history=history) for t in range(50)]
    points = np.concatenate([f.points_m for f in frames])
    err = np.linalg.norm(points - truth, axis=-1)
    assert np.nanmax(err[:, 11:29]) < 0.03, np.nanmax(err[:, 11:29])
    assert history.lengths() is not None and np.isfinite(history.last).all()
    # each frame alone, the less confident view takes the blame and the body comes out mirrored
    alone = fuse_views(rig, kp[:, 25:26], sc[:, 25:26]).points_m[0]
    assert np.linalg.norm(alone[15] - truth[25, 16]) < 0.03
