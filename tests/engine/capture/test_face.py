"""The face: the face model recipe, the tracker on real footage (a blink, the mouth, the head), the
one-line error for a missing model, and the face's values through takes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.capture.detector import PoseDetector
from engine.capture.face import NUM_FACE_LANDMARKS, FaceConfig, FaceTracker, face_model_path
from engine.capture.frames import open_source
from engine.core.errors import InputError
from engine.motion.face_expressions import FACE_CURVES, FACE_INDEX, FaceExpressions, raw_features
from engine.session.live_stage import InlineStage
from engine.session.pipeline import LiveTracker
from engine.session.settings import pipeline_config
from tests.conftest import shared_missing
from tests.engine.capture.model_recipes import task_from_recipe
from tests.engine.face_footage import BLINK_FRAMES, face_clip

REPO = Path(__file__).resolve().parents[3]
FACE_TASK = REPO / "resources" / "models" / "face_landmarker.task"


def test_face_task_builds_from_the_wheel_as_shipped(tmp_path):
    out = task_from_recipe(tmp_path, "make_face_task.py", "face_landmarker.task")
    assert out.read_bytes() == FACE_TASK.read_bytes(), "the shipped face model is not what the recipe builds"


def test_a_missing_face_model_is_one_line_naming_the_recipe(tmp_path):
    missing = str(tmp_path / "nope.task")
    with pytest.raises(InputError) as err:
        FaceTracker(FaceConfig(model_path=missing))
    message = str(err.value)
    assert "\n" not in message and "nope.task" in message and "make_face_task.py" in message


def test_the_command_line_says_the_missing_face_model_in_one_line(tmp_path, monkeypatch, capsys):
    import engine.capture.face as face

    monkeypatch.setattr(face, "DEFAULT_FACE_MODEL", "models/no_face_here.task")
    from engine.cli import main

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")  # never opened: the model is checked with the options
    code = main(["process", str(clip), "--face", "-o", str(tmp_path / "out")])
    assert code != 0
    assert not (tmp_path / "out").exists()
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "no_face_here.task" in lines[0] and "make_face_task.py" in lines[0], lines


def test_the_tracker_closes_its_landmarker_and_finds_nothing_without_a_body():
    with FaceTracker() as tracker:
        blank = np.zeros((240, 320, 3), np.uint8)
        assert not tracker.track(blank, None, 0).found
    assert tracker._landmarker is None


def _live_faces(clip: Path) -> np.ndarray:
    poses = []
    with PoseDetector() as detector, \
            InlineStage(LiveTracker(pipeline_config(face=True)), lambda f, d, p, x: poses.append(p)) as stage:
        for frame in open_source(clip):
            stage.submit(frame, detector.detect(frame.image, frame.timestamp_ns))
    assert stage._face._landmarker is None, "the live stage closes the face landmarker"
    return np.array([p.face for p in poses])


@pytest.fixture(scope="module")
def wide_faces(tmp_path_factory):
    clip = face_clip(tmp_path_factory.mktemp("face"), "wide")
    if clip is None:
        pytest.skip(shared_missing("sam2_man_football_juggling_front.mp4"))
    return _live_faces(clip)


@pytest.fixture(scope="module")
def vtuber_faces(tmp_path_factory):
    clip = face_clip(tmp_path_factory.mktemp("face"), "vtuber")
    if clip is None:
        pytest.skip(shared_missing("sam2_man_football_juggling_front.mp4"))
    return _live_faces(clip)


def test_a_real_blink_goes_above_0_8_and_back(wide_faces):
    faces = wide_faces
    seen = np.isfinite(faces).all(axis=1)
    assert seen.mean() > 0.9, f"the face was seen in {seen.mean():.0%} of the frames"
    a, b = BLINK_FRAMES
    for name in ("blink_left", "blink_right"):
        blink = faces[:, FACE_INDEX[name]]
        assert np.nanmax(blink[a - 1:b + 2]) > 0.8, f"{name} peaks at {np.nanmax(blink[a - 1:b + 2]):.2f} in the blink"
        assert np.nanmax(blink[a - 20:a - 2]) < 0.2, "the eyes are open before the blink"
        assert np.nanmax(blink[b + 3:b + 20]) < 0.2, "and open again after it"
    in_range = faces[seen][:, [FACE_INDEX[n] for n in FACE_CURVES if not n.endswith("_deg")]]
    assert ((in_range >= 0) & (in_range <= 1)).all()


@pytest.mark.parametrize("framing", ["wide", "vtuber"])
def test_the_head_turn_on_real_footage_follows_the_face(framing, wide_faces, vtuber_faces):
    """In both framings (a VTuber's: the head and chest filling the image) the face is seen in
    nine frames of ten, and as the man turns his head from his left (yaw +) to his right the head
    yaw spans more than 25 degrees and changes smoothly (no jumps over 10 degrees a frame)."""
    faces = wide_faces if framing == "wide" else vtuber_faces
    assert np.isfinite(faces).all(axis=1).mean() > 0.9
    yaw = faces[:, FACE_INDEX["head_yaw_deg"]]
    assert np.nanmax(yaw) - np.nanmin(yaw) > 25
    steps = np.abs(np.diff(yaw))
    assert np.nanmax(steps) < 10


def _landmarks_of_first_face(clip: Path) -> np.ndarray:
    with PoseDetector() as detector, FaceTracker() as tracker:
        for frame in open_source(clip):
            found = tracker.track(frame.image, detector.detect(frame.image, frame.timestamp_ns), frame.timestamp_ns)
            if found.found:
                return found.landmarks_px
    raise AssertionError("no face in the clip")


def test_closing_the_lids_or_opening_the_mouth_of_a_real_face_moves_only_their_values(tmp_path):
    from tests.conftest import shared_clip_or_sample

    clip = face_clip(tmp_path) or shared_clip_or_sample("taiji_720p.mp4")
    points = _landmarks_of_first_face(clip)
    assert points.shape == (NUM_FACE_LANDMARKS, 3)
    face = FaceExpressions(calibration_s=0.0)
    neutral = face.push(points, 0.0)
    assert np.abs(neutral[[FACE_INDEX[n] for n in FACE_CURVES if not n.endswith("_deg")]]).max() < 1e-9
    closed = points.copy()
    for upper, lower in ((386, 374), (387, 373), (385, 380), (159, 145), (160, 144), (158, 153)):
        closed[upper] = closed[lower] = 0.5 * (points[upper] + points[lower])
    opened = points.copy()
    opened[14:15, :2] += 0.35 * np.linalg.norm(points[263, :2] - points[33, :2]) * np.array([0.0, 1.0])
    for changed, rises in ((closed, ("blink_left", "blink_right")), (opened, ("mouth_open", "mouth_a"))):
        f = FaceExpressions(calibration_s=0.0)
        f.push(points, 0.0)
        values = f.push(changed, 1.0)  # a second later: past the filters' lag
        for name in rises:
            assert values[FACE_INDEX[name]] > 0.6, name
        for name in FACE_CURVES:
            if name not in rises and not name.endswith("_deg") and not name.startswith(("mouth_", "brow_")):
                assert values[FACE_INDEX[name]] < 0.2, name
    assert raw_features(points).shape == (8,)


def test_a_lost_face_gives_no_stale_values():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(NUM_FACE_LANDMARKS, 3))
    face = FaceExpressions()
    assert face.push(points, 0.0) is not None
    assert face.push(None, 0.04) is None
    assert face.push(np.full_like(points, np.nan), 0.08) is None


def test_face_model_path_is_the_shipped_task():
    assert face_model_path() == FACE_TASK


def test_face_curves_survive_npz_and_csv(tmp_path):
    from engine.core.take import load_npz, save_npz
    from engine.core.take_csv import read_csv, write_csv
    from tests.engine.animation.test_bvh_export import spin_take

    take = spin_take(frames=12)
    curves = np.random.default_rng(1).uniform(0, 1, (12, len(FACE_CURVES)))
    curves[4] = np.nan  # the face not seen
    take = take.with_joints(take.joints_m, face_curves=curves, face_curve_names=FACE_CURVES)
    for back in (load_npz(save_npz(take, tmp_path / "t.npz")), read_csv(write_csv(take, tmp_path / "t.csv"))):
        assert back.face_curve_names == FACE_CURVES
        np.testing.assert_allclose(back.face_curves, curves, atol=1e-5)
    header = (tmp_path / "t.csv").read_text().splitlines()[0].split(",")
    assert header[-len(FACE_CURVES):] == [f"face_{n}" for n in FACE_CURVES]
    plain = read_csv(write_csv(spin_take(frames=5), tmp_path / "p.csv"))
    assert plain.face_curves is None and plain.face_curve_names == ()


def test_process_with_the_face_writes_the_blink_into_the_take(tmp_path):
    from engine.cli import main
    from engine.core.take import load_npz

    clip = face_clip(tmp_path, "wide")
    if clip is None:
        pytest.skip(shared_missing("sam2_man_football_juggling_front.mp4"))
    out = tmp_path / "out"
    assert main(["process", str(clip), "--face", "-o", str(out), "--formats", "npz,csv", "-q"]) == 0
    take = load_npz(out / f"{clip.stem}.npz")
    assert take.face_curve_names == FACE_CURVES
    blink = take.face_curves[:, FACE_INDEX["blink_right"]]
    a, b = BLINK_FRAMES
    assert np.nanmax(blink[a - 1:b + 2]) > 0.8 and np.nanmax(blink[b + 3:b + 20]) < 0.2
    header = (out / f"{clip.stem}.csv").read_text().splitlines()[0]
    assert header.endswith(",face_gaze_yaw_deg,face_gaze_pitch_deg")
