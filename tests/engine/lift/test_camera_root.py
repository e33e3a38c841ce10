"""Root placement: a walking person must move through the take, not run on the spot."""

import numpy as np

from engine.animation.bvh_reader import guess_scale_to_m, read_bvh
from engine.core.coords import CAMERA_TO_WORLD
from engine.lift.camera import Intrinsics, estimate_root_translation


def test_exact_projection_recovers_the_root():
    k = Intrinsics.from_fov((1280, 720), 60)
    rng = np.random.default_rng(0)
    rel = rng.normal(scale=0.4, size=(22, 3))
    t = np.array([0.4, -0.3, 4.2])
    got = estimate_root_translation(rel, k.project(rel + t), np.ones(22), k)
    assert np.allclose(got, t, atol=1e-6)


def test_walking_mocap_seen_by_a_camera_keeps_its_path(mocap_file):
    motion = read_bvh(mocap_file("cmu_iclone/001_01.bvh"))
    world = motion.positions(guess_scale_to_m(motion))[1::4]
    # Y-up world -> camera frame, the camera 5 m back from the middle of the path, 1 m up
    centre = world[:, 0].mean(axis=0)
    cam = (world - centre + np.array([0, -0.2, -6.0])) @ CAMERA_TO_WORLD.T
    k = Intrinsics.from_fov((1920, 1080), 60)
    kp = k.project(cam) + np.random.default_rng(0).normal(scale=1.0, size=cam.shape[:2] + (2,))
    rel = cam - cam[:, :1]
    roots = np.array([estimate_root_translation(rel[i], kp[i], np.ones(rel.shape[1]), k) for i in range(len(rel))])
    travelled_truth = np.linalg.norm(cam[-1, 0] - cam[0, 0])
    travelled = np.linalg.norm(roots[-1] - roots[0])
    assert travelled_truth > 1.0
    assert abs(travelled - travelled_truth) < 0.1 * travelled_truth
    assert np.median(np.linalg.norm(roots - cam[:, 0], axis=1)) < 0.1
