"""The offset between videos that did not start together, from each view's motion alone (no
calibration), and `calibrate person --find-offsets` placing the cameras from such videos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.cli import main
from engine.core.errors import InputError
from engine.multiview.calibration_files import read_calibration, write_calibration
from engine.multiview.cameras import Rig
from engine.multiview.motion_sync import align_views, motion_offsets
from engine.multiview.self_calibration import PersonHeight, calibrate_from_person
from tests.engine.multiview.synthetic import body_keypoints, observe, ring_rig

FPS = 30.0
FRAMES = 300
STARTS = (0, 17, -9)  # each view starts this many frames after the first (negative: before)


def irregular_body(frames: int = FRAMES, seed: int = 3) -> np.ndarray:
    """(T, 33, 3) the synthetic figure moving at a tempo that changes irregularly (steady motion
    repeats, and a repeating motion matches itself a period later)."""
    rng = np.random.default_rng(seed)
    tempo = np.clip(1 + np.convolve(rng.normal(0, 1.2, frames), np.full(20, 0.15), mode="same"), 0.1, 2.5)
    t = np.cumsum(tempo)
    dense = body_keypoints(int(t[-1]) + 2)
    lo = np.floor(t).astype(int)
    f = (t - lo)[:, None, None]
    return dense[lo] * (1 - f) + dense[lo + 1] * f


def _cut(kp: np.ndarray, sc: np.ndarray, start: int):
    """The view's video when it started `start` frames after the first (before, when negative)."""
    if start >= 0:
        return kp[start:], sc[start:]
    return (np.concatenate([np.full((-start,) + kp.shape[1:], np.nan), kp]),
            np.concatenate([np.zeros((-start,) + sc.shape[1:]), sc]))


def _views(rig: Rig, swaps_in_view: int | None = None):
    kp, sc = observe(rig, irregular_body(), noise_px=1.5)
    if swaps_in_view is not None:  # the detector swaps left and right in a fifth of the frames
        frames = np.random.default_rng(5).random(FRAMES) < 0.2
        mirror = list(range(11)) + [k + 1 if k % 2 else k - 1 for k in range(11, 33)]  # odd: left, even: right
        kp[swaps_in_view, frames] = kp[swaps_in_view, frames][:, mirror]
    return [_cut(kp[v], sc[v], start) for v, start in zip(range(len(rig)), STARTS)]


@pytest.mark.parametrize("swaps_in_view", [None, 1])
def test_the_offsets_come_from_the_motion(swaps_in_view):
    offsets = motion_offsets(_views(ring_rig(3), swaps_in_view), FPS)
    assert [o.frames for o in offsets] == [0, -17, 9]
    assert min(o.correlation for o in offsets) > 0.6


def test_aligned_views_show_one_instant_and_calibrate_the_cameras():
    rig = ring_rig(3)
    per_view = _views(rig)
    kp, sc = align_views(per_view, motion_offsets(per_view, FPS))
    # the timeline starts where the earliest video (the third, 9 frames early) starts
    assert kp.shape[1] == FRAMES + 9
    truth = np.stack([cam.project(irregular_body()) for cam in rig])
    err = np.linalg.norm(kp[:, 9:] - truth, axis=-1)  # NaN where a video had not started or had stopped
    assert np.isfinite(err).all(axis=(0, 2)).sum() == FRAMES - 17  # every view sees instants 17 .. 299
    assert np.nanmax(err) < 10.0
    result = calibrate_from_person(list(rig.cameras), kp, sc, PersonHeight(1.7))
    assert result.reprojection_px < 3.0


def test_unrelated_motion_is_one_line():
    rig = ring_rig(2)
    kp_a, sc_a = observe(rig, irregular_body(seed=3), noise_px=1.5)
    kp_b, sc_b = observe(rig, irregular_body(seed=11), noise_px=1.5)
    with pytest.raises(InputError, match=r"^cam2.mp4: its motion matches cam1.mp4's at no offset"):
        motion_offsets([(kp_a[0], sc_a[0]), (kp_b[1], sc_b[1])], FPS, ["cam1.mp4", "cam2.mp4"])


def test_a_view_that_barely_sees_the_person_is_one_line():
    per_view = _views(ring_rig(2))
    kp, sc = per_view[1]
    sc = sc.copy()
    sc[20:] = 0.0  # the person walks out after 20 frames
    with pytest.raises(InputError, match=r"^cam2.mp4: the person is seen moving too briefly"):
        motion_offsets([per_view[0], (kp, sc)], FPS, ["cam1.mp4", "cam2.mp4"])


def test_calibrate_person_finds_the_offsets(tmp_path, monkeypatch, capsys):
    """The command line end to end, the detector's keypoints stood in for by the synthetic views."""
    import engine.session.multi_camera as multi_camera

    rig = ring_rig(3)
    per_view = _views(rig)
    paths = []
    for cam, (kp, _) in zip(rig, per_view):
        path = tmp_path / f"{cam.name}.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, cam.image_size)
        for _ in range(3):
            writer.write(np.zeros((cam.image_size[1], cam.image_size[0], 3), np.uint8))
        writer.release()
        paths.append(str(path))
    monkeypatch.setattr(multi_camera, "person_keypoints_per_view", lambda paths, **_: per_view)
    write_calibration(Rig(tuple(c.with_pose(np.eye(3), np.zeros(3)) for c in rig)), tmp_path / "lenses.toml")
    out = tmp_path / "rig.toml"
    assert main(["calibrate", "person", *paths, "--intrinsics", str(tmp_path / "lenses.toml"), "--find-offsets",
                 "--camera-distance", "cam1", "cam2", str(np.linalg.norm(rig[0].centre_m - rig[1].centre_m)),
                 "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "cam2.mp4: 0.567 s ahead of cam1.mp4" in said and "cam3.mp4: 0.300 s behind cam1.mp4" in said
    found = read_calibration(out)
    # relative to the first camera: the rig's world is camera 0's frame
    for cam, true in zip(found, rig):
        R_rel = true.R @ rig[0].R.T
        angle = np.degrees(np.arccos(np.clip((np.trace(cam.R.T @ R_rel) - 1) / 2, -1, 1)))
        centre = rig[0].R @ (true.centre_m - rig[0].centre_m)
        assert angle < 0.5 and np.linalg.norm(cam.centre_m - centre) < 0.02, cam.name


def test_motion_that_repeats_is_one_line_not_a_guess():
    kp, sc = observe(ring_rig(2), body_keypoints(FRAMES), noise_px=1.5)  # a steady swing: it matches itself
    with pytest.raises(InputError, match=r"^cam2.mp4: its motion matches cam1.mp4's about as well .* \(the motion repeats\)"):
        motion_offsets([(kp[0], sc[0]), (kp[1, 17:], sc[1, 17:])], FPS, ["cam1.mp4", "cam2.mp4"])


def test_videos_too_short_to_compare_are_one_line():
    per_view = [(kp[:90], sc[:90]) for kp, sc in _views(ring_rig(2))]  # 3 s each, under MIN_OVERLAP_S
    with pytest.raises(InputError, match=r"^view 2: the person is seen moving too briefly with view 1"):
        motion_offsets(per_view, FPS)
