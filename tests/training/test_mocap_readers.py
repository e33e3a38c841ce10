import numpy as np

from engine.animation.bvh_reader import read_bvh
from training.common.asf_amc import read_amc, read_asf
from training.common.mocap import _load_one, _sources


def test_every_rig_reads_to_metres_at_30_fps(mocap_root):
    seen = set()
    for name, rig, motion, path, fps in _sources(mocap_root):
        if rig in seen:
            continue
        seen.add(rig)
        clip, skel = _load_one(name, rig, motion, path, fps, frames=int(fps))  # one second
        assert len(clip.positions_m) in (29, 30) and clip.positions_m.shape[1:] == (skel.num_joints, 3)
        # a standing adult: hip joint to ankle about 0.7-1.0 m, the whole body 1.3-2.0 m tall
        from training.common.rigs import RIGS
        from training.common.synth import RigSynth

        a = RigSynth(RIGS[rig], skel).anchors(clip.positions_m[:1])
        leg = np.linalg.norm(a["left_hip"] - a["left_knee"]) + np.linalg.norm(a["left_knee"] - a["left_ankle"])
        assert 0.65 < leg < 1.05, (rig, leg)
    assert seen == {"cmu_iclone", "cmu_daz", "cmu_asf"}


def test_amc_forward_kinematics_matches_the_bvh_of_the_same_take(mocap_root):
    d = mocap_root / "mocap" / "cmu_asf"
    asf = read_asf(d / "01.asf")
    amc = read_amc(d / "01_01.amc", asf)
    p = amc.positions()[:300]
    bvh = read_bvh(d / "01_01.bvh")
    q = bvh.positions(asf.metres_per_unit, include_end_sites=True)[1:301]  # the BVH prepends a rest frame
    s = bvh.skeleton(include_end_sites=True)
    names = asf.names
    # legs: bone ends against the BVH joints at the same place
    for a, b in [("lhipjoint", "LeftUpLeg"), ("lfemur", "LeftLeg"), ("ltibia", "LeftFoot"), ("rtibia", "RightFoot"),
                 ("rfoot", "RightToeBase"), ("upperback", "Spine1")]:
        err = np.abs((p[:, names.index(a)] - p[:, 0]) - (q[:, s.index(b)] - q[:, 0])).max()
        assert err < 1e-3, (a, b, err)
    # arms and head, relative to the neck base (the BVH conversion folds the thorax bone away)
    for a, b in [("lradius", "LeftHand"), ("rhumerus", "RightForeArm"), ("head", "Head_end")]:
        mine = p[:, names.index(a)] - p[:, names.index("thorax")]
        theirs = q[:, s.index(b)] - q[:, s.index("Neck")]
        assert np.abs(mine - theirs).max() < 1e-3, a
