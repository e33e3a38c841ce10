import numpy as np

from engine.core.skeletons import MEDIAPIPE_33
from engine.lift.swap_fix import GROUPS, apply_swaps, find_swaps, fix_swaps


def _walking_figure(frames: int = 150, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A person-sized 2D figure, arms and legs swinging (they cross), drifting across the image."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 30.0
    kp = np.zeros((frames, 33, 2))
    n = MEDIAPIPE_33.index
    centre = np.stack([400 + 40 * t, 300 + 5 * np.sin(2 * t)], axis=-1)
    phase = np.sin(2 * np.pi * 0.8 * t)
    for side, sgn in (("left", 1), ("right", -1)):
        kp[:, n(f"{side}_shoulder")] = centre + [sgn * 40, -150]
        kp[:, n(f"{side}_hip")] = centre + [sgn * 25, 0]
        swing = sgn * phase
        kp[:, n(f"{side}_elbow")] = kp[:, n(f"{side}_shoulder")] + np.stack([sgn * 15 + 40 * swing, 70 + 0 * t], -1)
        kp[:, n(f"{side}_wrist")] = kp[:, n(f"{side}_elbow")] + np.stack([sgn * 10 + 60 * swing, 60 + 0 * t], -1)
        for j, off in (("pinky", 12), ("index", 16), ("thumb", 8)):
            kp[:, n(f"{side}_{j}")] = kp[:, n(f"{side}_wrist")] + [sgn * 5, off]
        kp[:, n(f"{side}_knee")] = kp[:, n(f"{side}_hip")] + np.stack([50 * swing, 110 + 0 * t], -1)
        kp[:, n(f"{side}_ankle")] = kp[:, n(f"{side}_knee")] + np.stack([70 * swing, 110 + 0 * t], -1)
        kp[:, n(f"{side}_heel")] = kp[:, n(f"{side}_ankle")] + [-8, 12]
        kp[:, n(f"{side}_foot_index")] = kp[:, n(f"{side}_ankle")] + [25, 15]
        for j, off in (("eye_inner", 6), ("eye", 12), ("eye_outer", 18), ("ear", 30)):
            kp[:, n(f"{side}_{j}")] = centre + [sgn * off, -200]
        kp[:, n(f"mouth_{side}")] = centre + [sgn * 8, -180]
    kp[:, n("nose")] = centre + [0, -190]
    kp += rng.normal(0, 1.5, kp.shape)  # detector jitter
    scores = rng.uniform(0.6, 1.0, (frames, 33))
    return kp, scores


def _random_swaps(frames: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    truth = {g: np.zeros(frames, bool) for g in GROUPS}
    for g in ("arms", "legs"):
        for _ in range(2):
            a = int(rng.integers(5, frames - 30))
            truth[g][a:a + int(rng.integers(5, 28))] = True
    return truth


def _wrong_frames(a: np.ndarray, b: np.ndarray, tol_px: float = 10.0) -> int:
    """Frames where some keypoint is more than tol_px off (a swap at a crossing moves nothing)."""
    return int((np.linalg.norm(a - b, axis=-1).max(axis=-1) > tol_px).sum())


def test_clean_sequence_is_left_alone():
    kp, sc = _walking_figure()
    for causal in (False, True):
        fixed, _, _ = fix_swaps(kp, sc, causal=causal)
        assert _wrong_frames(fixed, kp) == 0


def test_synthetic_swaps_are_undone_in_files_and_live():
    kp, sc = _walking_figure()
    rng = np.random.default_rng(4)
    wrong_before = wrong_file = wrong_live = 0
    for _ in range(5):
        truth = _random_swaps(len(kp), rng)
        bad_kp, bad_sc = apply_swaps(kp, truth), apply_swaps(sc, truth)
        world = np.repeat(np.arange(33.0)[None, :, None], len(kp), 0) * np.ones(3)
        bad_world = apply_swaps(world, truth)
        wrong_before += _wrong_frames(bad_kp, kp)
        fixed, fixed_sc, fixed_world = fix_swaps(bad_kp, bad_sc, bad_world)
        wrong_file += _wrong_frames(fixed, kp)
        # scores and the detector's 3D are exchanged exactly where the keypoints are
        moved = np.abs(fixed - bad_kp).max(axis=-1) > 0
        assert np.array_equal(moved, fixed_world[..., 0] != bad_world[..., 0])
        live, _, _ = fix_swaps(bad_kp, bad_sc, causal=True)
        wrong_live += _wrong_frames(live, kp)
    assert wrong_before > 100
    assert wrong_file <= 0.05 * wrong_before, (wrong_file, wrong_before)
    assert wrong_live <= 0.5 * wrong_before, (wrong_live, wrong_before)


def test_missing_keypoints_do_not_trigger_swaps():
    kp, sc = _walking_figure()
    sc[40:60, GROUPS["arms"][0]] = 0.0  # the left arm unseen for a while
    kp[40:60, GROUPS["arms"][0]] = 0.0
    swaps = find_swaps(kp, sc)
    assert not swaps["arms"][60:].any()


def test_live_fixer_frame_by_frame_matches_the_causal_pass():
    from engine.lift.swap_fix import LiveSwapFixer

    kp, sc = _walking_figure(seed=2)
    truth = _random_swaps(len(kp), np.random.default_rng(9))
    bad, bad_sc = apply_swaps(kp, truth), apply_swaps(sc, truth)
    bad_sc[30:40, 25] = 0.0  # a missing knee for a while
    ref = find_swaps(bad, bad_sc, causal=True)
    fixer = LiveSwapFixer()
    got = [fixer.push(bad[t], bad_sc[t]) for t in range(len(kp))]
    for g in GROUPS:
        assert np.array_equal(ref[g], np.array([x[g] for x in got])), g
