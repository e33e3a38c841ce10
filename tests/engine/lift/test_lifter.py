"""The shipped lifter (resources/models/lifter.pt) on real detections (frames 100-139 of the taiji
clip, as the detector gave them; see resources/sample/NOTICE.md for the clip's licence)."""

from pathlib import Path

import numpy as np
import pytest

from engine.capture.detection import Detection
from engine.core.resources import resource_path
from engine.core.skeletons import MONOCAP_BODY
from engine.lift.modes import LiftConfig, available_modes, make_lifter

pytestmark = pytest.mark.skipif(not resource_path("models/lifter.pt").is_file(), reason="no lifter model")

DATA = Path(__file__).parents[1] / "data" / "taiji_detections_40.npz"


@pytest.fixture(scope="module")
def clip():
    d = np.load(DATA)
    return d["kp"].astype(float), d["scores"].astype(float), d["world"].astype(float), tuple(int(v) for v in d["size"])


def _bones(j):
    return MONOCAP_BODY.bone_lengths(j)


def test_every_supported_skeleton_comes_out_root_relative(clip):
    from engine.lift.network import lift_keypoints, load_model, supported_skeletons

    kp, sc, world, size = clip
    names = supported_skeletons(load_model(None, "cpu"))
    assert {"monocap_body", "h36m_17", "coco_17", "smpl_24", "mediapipe_33", "cmu_iclone"} <= set(names)
    for name in names:
        j = lift_keypoints(kp, sc, size, name, world, device="cpu")
        from engine.core import skeletons

        sk = skeletons.get(name)
        assert j.shape == (len(kp), sk.num_joints, 3)
        assert np.isfinite(j).all()
        assert np.abs(j[:, sk.parents.index(-1)]).max() < 1e-9


def test_sound_pose_with_missing_keypoints(clip):
    from engine.lift.network import lift_keypoints

    kp, sc, world, size = clip
    full = lift_keypoints(kp, sc, size, world_m=world, device="cpu")
    rng = np.random.default_rng(0)
    sc2 = sc.copy()
    sc2[rng.random(sc.shape) < 0.25] = 0.0  # a quarter of the keypoints missing
    sc2[:, [13, 15, 17, 19, 21]] = 0.0  # and the whole left arm
    kp2 = np.where(sc2[..., None] > 0, kp, 0.0)
    part = lift_keypoints(kp2, sc2, size, world_m=world, device="cpu")
    assert np.isfinite(lift_keypoints(kp2, sc2, size, world_m=None, device="cpu")).all()
    assert np.isfinite(part).all()
    # the body keeps its proportions: bone lengths within 35 % of the full-input answer
    ratio = _bones(part).mean(0) / _bones(full).mean(0)
    assert (np.abs(ratio - 1) < 0.35).all(), ratio
    # and the joints it still sees stay close to the full-input pose (the unseen arm is a guess)
    seen = [i for i, n in enumerate(MONOCAP_BODY.joint_names) if not n.startswith(("left_elbow", "left_wrist",
                                                                                      "left_hand"))]
    assert np.linalg.norm(part[:, seen] - full[:, seen], axis=-1).mean() < 0.1
    # no keypoints at all in one frame: still a finite, person-sized pose
    sc3 = sc.copy()
    sc3[5] = 0
    nothing = lift_keypoints(kp, sc3, size, device="cpu")
    assert np.isfinite(nothing).all()
    assert 0.3 < np.linalg.norm(nothing[5, MONOCAP_BODY.index("nose")]) < 1.2


def test_lifter_mode_live_and_file(clip):
    kp, sc, world, size = clip
    assert "lifter" in available_modes()
    dets = [Detection(kp[i], sc[i], world[i], size) for i in range(len(kp))]
    dets[7] = None
    lifter = make_lifter(LiftConfig(mode="lifter", device="cpu"))
    whole = lifter.lift(dets, causal=False)
    assert np.isnan(whole[7]).all() and np.isfinite(np.delete(whole, 7, axis=0)).all()
    assert lifter.needs_images is False
    stream = lifter.start_live()
    live = np.stack([stream.push(d) for d in dets])
    assert np.isnan(live[7]).all()
    fresh = make_lifter(LiftConfig(mode="lifter", device="cpu")).lift(dets, causal=True)
    ok = np.isfinite(fresh).all(axis=(1, 2))
    assert np.allclose(live[ok], fresh[ok], atol=1e-5)  # one frame at a time gives the causal answer
    # live and file agree where no swap decision differs: within a few centimetres on average
    assert np.linalg.norm(live[ok] - whole[ok], axis=-1).mean() < 0.05


def _torso_in_pelvis_frame(j, name):
    from engine.core.rotations import frame_from_vectors

    g = lambda n: j[:, MONOCAP_BODY.index(n)]
    pelvis = 0.5 * (g("left_hip") + g("right_hip"))
    frame = frame_from_vectors(g("left_hip") - g("right_hip"), g("chest") - pelvis)
    return np.einsum("tji,tj->ti", frame, g(name) - pelvis)


def test_body_on_real_video_has_its_pelvis_between_the_hips_and_a_straight_lumbar(clip):
    from engine.lift.network import lift_keypoints

    kp, sc, world, size = clip
    j = lift_keypoints(kp, sc, size, "monocap_body", world, device="cpu")
    hips_mid = 0.5 * (j[:, MONOCAP_BODY.index("left_hip")] + j[:, MONOCAP_BODY.index("right_hip")])
    np.testing.assert_allclose(hips_mid, j[:, MONOCAP_BODY.index("pelvis")], atol=1e-9)
    spine = _torso_in_pelvis_frame(j, "spine")
    assert abs(np.median(spine[:, 0])) < 0.025  # m sideways: the raw head puts it 6.5 cm off


def test_straighten_torso_keeps_a_side_bend_and_undoes_an_offset_spine():
    from engine.lift.network import straighten_torso
    from tests.engine.animation.test_bvh_export import spin_take

    body = spin_take(frames=1, turns=0.0).joints_m
    body[:, 0] = 0.5 * (body[:, MONOCAP_BODY.index("left_hip")] + body[:, MONOCAP_BODY.index("right_hip")])
    body = body - body[:, :1]
    side_bend = body.copy()
    for name, dx in (("spine", 0.02), ("chest", 0.06), ("neck", 0.10)):
        side_bend[:, MONOCAP_BODY.index(name), 0] += dx  # leaning sideways, more the higher
    got = straighten_torso(side_bend)
    ratio = (_torso_in_pelvis_frame(got, "spine")[:, 0] / _torso_in_pelvis_frame(got, "chest")[:, 0])
    height = _torso_in_pelvis_frame(got, "spine")[:, 1] / _torso_in_pelvis_frame(got, "chest")[:, 1]
    np.testing.assert_allclose(ratio, height, rtol=1e-9)
    np.testing.assert_allclose(got[:, MONOCAP_BODY.index("chest")], side_bend[:, MONOCAP_BODY.index("chest")], atol=1e-12)

    crooked = body.copy()
    crooked[:, MONOCAP_BODY.index("pelvis"), 1] -= 0.034  # the raw head's faults on real video
    crooked[:, MONOCAP_BODY.index("spine"), 0] -= 0.065
    crooked = crooked - crooked[:, :1]
    got = straighten_torso(crooked)
    assert abs(_torso_in_pelvis_frame(got, "spine")[0, 0]) < 0.005
    np.testing.assert_allclose(got[:, MONOCAP_BODY.index("left_hip")], -got[:, MONOCAP_BODY.index("right_hip")], atol=1e-12)
