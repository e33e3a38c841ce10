"""The fit 3D mode's parts: front/back flips, the fit to the 2D keypoints, limb depths."""

from __future__ import annotations

import numpy as np

from engine.capture.detection import Detection
from engine.core.skeletons import MEDIAPIPE_33
from engine.lift.body_flip import find_flips, flip_world, unflip
from engine.lift.camera import Intrinsics
from engine.lift.keypoint_fit import LEG_BONES, clip_leg_depths, fit_frame, leg_bone_lengths, subject_leg_lengths
from engine.lift.modes import LiftConfig, make_lifter

N = MEDIAPIPE_33.index
SIZE = (640, 480)
INTR = Intrinsics.from_fov(SIZE, 60.0)


def body_33() -> np.ndarray:
    """A person (hip-centred, metres, y down) with an arm raised and a knee bent: not symmetric."""
    p = np.zeros((33, 3))
    for side, x in (("left", 1.0), ("right", -1.0)):  # the person's left is +x when seen from behind
        p[N(f"{side}_hip")] = (0.1 * x, 0.0, 0.0)
        p[N(f"{side}_shoulder")] = (0.18 * x, -0.5, 0.0)
        p[N(f"{side}_ear")] = (0.07 * x, -0.68, 0.02)
        p[N(f"{side}_eye")] = (0.03 * x, -0.7, -0.08)
        p[N(f"{side}_eye_inner")] = (0.015 * x, -0.7, -0.09)
        p[N(f"{side}_eye_outer")] = (0.05 * x, -0.7, -0.07)
        p[N(f"mouth_{side}")] = (0.025 * x, -0.62, -0.09)
    p[N("nose")] = (0.0, -0.66, -0.11)
    p[N("left_elbow")] = (0.35, -0.6, 0.0)
    p[N("left_wrist")] = (0.4, -0.85, -0.05)
    p[N("right_elbow")] = (-0.22, -0.25, 0.05)
    p[N("right_wrist")] = (-0.2, -0.02, -0.15)
    p[N("left_knee")] = (0.12, 0.42, 0.0)
    p[N("left_ankle")] = (0.12, 0.82, 0.05)
    p[N("right_knee")] = (-0.12, 0.3, -0.25)
    p[N("right_ankle")] = (-0.12, 0.65, -0.05)
    for side in ("left", "right"):
        w, a = p[N(f"{side}_wrist")], p[N(f"{side}_ankle")]
        for k, off in (("pinky", (0.02, 0.06, 0)), ("index", (-0.02, 0.07, 0)), ("thumb", (-0.03, 0.03, -0.02))):
            p[N(f"{side}_{k}")] = w + off
        p[N(f"{side}_heel")] = a + (0, 0.05, 0.05)
        p[N(f"{side}_foot_index")] = a + (0, 0.06, -0.15)
    return p


def yaw(deg: float) -> np.ndarray:
    r = np.radians(deg)
    return np.array([[np.cos(r), 0, np.sin(r)], [0, 1, 0], [-np.sin(r), 0, np.cos(r)]])


def turning_person(frames: int = 240, turns: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A person turning on the spot through `turns` full turns (front, side and back views) 3 m
    from the camera, swinging the arms -> keypoints (T, 33, 2), scores (T, 33), detector 3D (T, 33, 3)."""
    base = body_33()
    world, kp = [], []
    for t in range(frames):
        pose = base.copy()
        pose[N("left_wrist")] += (0, 0.05 * np.sin(t / 9), 0.1 * np.sin(t / 7))
        rel = pose @ yaw(360.0 * turns * t / frames).T
        world.append(rel)
        kp.append(INTR.project(rel + np.array([0.1, 0.0, 3.0])))
    return np.array(kp), np.full((frames, 33), 0.9), np.array(world)


def detection_list(kp, sc, world):
    return [Detection(k, s, w, SIZE) for k, s, w in zip(kp, sc, world)]


def read_the_other_way(kp, sc, world, frames):
    """What the detector does on a flip: the same outline, left and right exchanged, depth mirrored."""
    kp, sc, world = kp.copy(), sc.copy(), world.copy()
    perm = MEDIAPIPE_33.mirror_permutation()
    kp[frames] = kp[frames][:, perm]
    world[frames] = flip_world(world[frames])
    return kp, sc, world


def test_a_person_turning_through_back_views_is_never_flipped():
    kp, sc, world = turning_person()
    assert not find_flips(kp, sc, world).any()


def test_flips_are_found_and_undone_in_front_side_and_back_views():
    kp, sc, world = turning_person()
    flipped = np.zeros(len(kp), bool)
    flipped[[12, 13]] = True  # front view
    flipped[50:58] = True  # side view
    flipped[118:140] = True  # back view
    bad = read_the_other_way(kp, sc, world, flipped)
    found = find_flips(*bad)
    assert (found == flipped).mean() > 0.98, np.flatnonzero(found != flipped)
    fixed_kp, _, fixed_world = unflip(*bad, found)
    ok = found == flipped
    assert np.allclose(fixed_kp[ok], kp[ok]) and np.allclose(fixed_world[ok], world[ok])


def test_fit_puts_every_joint_on_its_keypoints_ray_and_keeps_depth():
    pose = body_33() @ yaw(30).T
    kp = INTR.project(pose + np.array([0.0, 0.0, 3.0]))
    rng = np.random.default_rng(1)
    noisy = pose + rng.normal(scale=0.03, size=pose.shape)  # the detector's 3D: off by a few cm
    noisy -= 0.5 * (noisy[N("left_hip")] + noisy[N("right_hip")])
    fitted = fit_frame(noisy, kp, np.ones(33), INTR)
    root = np.array([0.0, 0.0, 3.0])
    for _ in range(2):  # where the fit's root must be for it to project onto the keypoints
        from engine.lift.camera import estimate_root_translation
        root = estimate_root_translation(fitted, kp, np.ones(33), INTR)
    reproj = INTR.project(fitted + root)
    assert np.abs(reproj - kp).max() < 0.5  # pixels
    before = np.linalg.norm(noisy - pose, axis=-1).mean()
    after = np.linalg.norm(fitted - pose, axis=-1).mean()
    assert after < 0.8 * before


def test_leg_depths_are_cut_to_what_the_bone_lengths_leave():
    pose = body_33()
    straight = pose.copy()
    straight[N("left_knee"), 2] = -0.15  # the detector bends a straight leg towards the camera
    lengths = subject_leg_lengths(leg_bone_lengths(np.stack([pose] * 5)))
    out = clip_leg_depths(straight, lengths)
    for (p, c), length in zip(LEG_BONES, lengths):
        d = out[c] - out[p]  # depth only takes what the image-plane part leaves of the length
        assert abs(d[2]) <= np.sqrt(max(length ** 2 - d[0] ** 2 - d[1] ** 2, 0.0)) + 1e-9
    hip, knee, ankle = (out[N(f"left_{j}")] for j in ("hip", "knee", "ankle"))
    assert abs(knee[2] - hip[2]) < 0.03  # the thigh is back in the image plane
    assert np.allclose(out[:, :2], straight[:, :2])  # the image-plane positions are the 2D's


def test_fit_mode_lifts_files_and_live_windows():
    kp, sc, world = turning_person(frames=40, turns=0.25)
    dets = detection_list(kp, sc, world)
    dets[7] = None
    lifter = make_lifter(LiftConfig(mode="fit"))
    out = lifter.lift(dets, causal=False)
    assert out.shape == (40, 22, 3) and np.isnan(out[7]).all()
    assert np.isfinite(np.delete(out, 7, axis=0)).all()
    live = make_lifter(LiftConfig(mode="fit")).start_live()
    rows = [live.push(d) for d in dets]
    assert np.isnan(rows[7]).all()
    good = [i for i in range(40) if i != 7]
    err = np.linalg.norm(np.array([rows[i] for i in good]) - out[good], axis=-1)
    assert np.median(err) < 0.02  # live and file agree once the bone lengths have settled


def test_live_flip_fixer_undoes_flips_of_any_length_causally():
    from engine.lift.body_flip import LiveFlipFixer

    kp, sc, world = turning_person()
    flipped = np.zeros(len(kp), bool)
    flipped[50:58] = True
    flipped[118:160] = True  # longer than any live window
    bad = read_the_other_way(kp, sc, world, flipped)
    fixer = LiveFlipFixer()
    found = np.array([fixer.push(*(a[t] for a in bad)) for t in range(len(kp))])
    assert (found == flipped).mean() > 0.97, np.flatnonzero(found != flipped)


def test_twelve_limb_keypoints_alone_lose_little():
    """Face, hands and feet at score 0 (their 2D positions meaningless): the error over the 12
    limb joints stays within 1.25 times the error with all 33 keypoints."""
    from engine.core.keypoint_maps import map_keypoints
    from engine.core.skeletons import MONOCAP_BODY

    kp, sc, world = turning_person(frames=120, turns=0.5)
    rng = np.random.default_rng(3)
    kp_noisy = kp + rng.normal(scale=2.0, size=kp.shape)  # pixels
    world_noisy = world + rng.normal(scale=0.04, size=world.shape) * np.array([0.5, 0.5, 1.5])  # depth worst
    truth = map_keypoints(world, MONOCAP_BODY.name)
    truth -= truth[:, :1]
    limbs = [N(f"{s}_{j}") for s in ("left", "right") for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")]
    only_limbs = np.zeros_like(sc)
    only_limbs[:, limbs] = sc[:, limbs]
    garbage = kp_noisy.copy()
    others = np.setdiff1d(np.arange(33), limbs)
    garbage[:, others] = rng.uniform(0, 640, size=(len(kp), len(others), 2))
    body = [MONOCAP_BODY.index(MEDIAPIPE_33.joint_names[i]) for i in limbs]
    errors = {}
    for name, (k, s) in {"all": (kp_noisy, sc), "limbs": (garbage, only_limbs)}.items():
        out = make_lifter(LiftConfig(mode="fit")).lift(detection_list(k, s, world_noisy), causal=False)
        errors[name] = np.linalg.norm(out[:, body] - truth[:, body], axis=-1).mean()
    assert errors["limbs"] <= 1.25 * errors["all"], errors
    raw = map_keypoints(world_noisy, MONOCAP_BODY.name)
    raw -= raw[:, :1]
    assert errors["limbs"] < np.linalg.norm(raw[:, body] - truth[:, body], axis=-1).mean()  # still beats its 3D input


def test_live_fit_soak_state_and_objects_stay_flat():
    import gc

    from engine.session.pipeline import LiveTracker, PipelineConfig

    kp, sc, world = turning_person(frames=400, turns=2.0)
    dets = detection_list(kp, sc, world)
    tracker = LiveTracker(PipelineConfig(lift=LiftConfig(mode="fit")))
    for i in range(2000):
        if i == 500:
            gc.collect()
            base = len(gc.get_objects())
        frame = tracker.push(i, i / 30.0, dets[i % len(dets)])
        assert frame.joints_m is not None and np.isfinite(frame.joints_m).all()
    gc.collect()
    assert len(gc.get_objects()) - base < 200
    assert len(tracker._live._lengths) == tracker._live._lengths.maxlen
