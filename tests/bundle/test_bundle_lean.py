"""The desktop bundle leaves out what it does not run, stays within its size, and reads every
video format the program promises with the one decoder it ships (OpenCV's FFmpeg).

Like tests/bundle/test_bundle.py (whose fixtures these use), skipped unless the bundle exists or
MONOCAP_BUNDLE_TEST=1. docs/BUNDLE.md has the sizes by component.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from tests.bundle.test_bundle import BUNDLE, SAMPLE, _pyz_modules, bundle, run_bundle, user_home  # noqa: F401 - fixtures

pytestmark = pytest.mark.bundle

SIZE_LIMIT_MIB = 600  # on disk, as `du -sm dist/monocap` counts it (1338 with torch and OpenCV contrib)
FRAMES = 12


def disk_usage_mib(folder: Path) -> float:
    """Blocks on disk of every file under `folder`, each hard-linked file once (`du -sm`)."""
    seen, total = set(), 0
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            st = os.lstat(os.path.join(root, name))
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total / 2**20


def test_bundle_is_within_its_size():
    size = disk_usage_mib(BUNDLE)
    assert size <= SIZE_LIMIT_MIB, f"the bundle takes {size:.0f} MiB on disk, over {SIZE_LIMIT_MIB}"


def test_bundle_has_no_torch_and_no_second_multimedia_stack():
    """No torch, training framework or plotting library frozen or collected; one OpenCV (headless,
    without Qt 5); Qt's own libraries only from PySide6."""
    internal = BUNDLE / "_internal"
    top = {p.name.split("-")[0].split(".")[0].lower() for p in internal.iterdir()}
    for absent in ("torch", "matplotlib", "pil", "av", "opencv_contrib_python", "tensorboard"):
        assert absent not in top, f"{absent} is in the bundle"
    modules = _pyz_modules(BUNDLE)
    frozen = sorted(m for m in modules if m.split(".")[0] in ("torch", "matplotlib", "av", "training"))
    assert not frozen, frozen[:5]
    files = [p.relative_to(internal).as_posix() for p in internal.rglob("*") if p.is_file()]
    assert not [f for f in files if "libQt5" in f or f.startswith("cv2/qt/")], "OpenCV's Qt 5 in the bundle"
    assert not [f for f in files if f.startswith("PySide6/Qt/lib/libQt6WebEngine") or "libQt63D" in f]
    assert "engine.lift.nets.lifter_numpy" in modules and "engine.lift.nets.image_numpy" in modules
    assert "engine.lift.nets.lifter_net" not in modules, "a torch network definition was frozen"


def _sample_frames(count: int) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(SAMPLE))
    frames = []
    while len(frames) < count:
        ok, frame = cap.read()
        assert ok, "the sample clip ended early"
        frames.append(frame)
    cap.release()
    return frames


def _write_opencv(path: Path, fourcc: str, frames: list[np.ndarray]) -> None:
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25.0, (w, h))
    assert writer.isOpened(), f"this OpenCV cannot write {fourcc} to test with"
    for frame in frames:
        writer.write(frame)
    writer.release()


def _write_h264(path: Path, frames: list[np.ndarray]) -> None:
    """H.264 (yuv420p) through PyAV's libx264: what phones and cameras record."""
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode(None))


FORMATS = {  # file name: how the test writes it
    "mp4v.mp4": ("opencv", "mp4v"), "mjpg.avi": ("opencv", "MJPG"), "xvid.avi": ("opencv", "XVID"),
    "ffv1.mkv": ("opencv", "FFV1"), "vp9.webm": ("opencv", "VP90"), "h264_mp4.mp4": ("av", ""), "h264_mov.mov": ("av", ""),
}


def test_bundle_reads_every_promised_video_format(bundle, user_home, tmp_path):  # noqa: F811 - fixtures
    """Clips of the sample (a real person) written at test time in each format, processed in one
    batch by the bundle: every frame decoded and the person found."""
    frames = _sample_frames(FRAMES)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name, (writer, fourcc) in FORMATS.items():
        if writer == "opencv":
            _write_opencv(inputs / name, fourcc, frames)
        else:
            _write_h264(inputs / name, frames)
    out = tmp_path / "out"
    result = run_bundle(bundle, ["batch", str(inputs), "-o", str(out), "-q"], user_home, tmp_path)
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:{result.stdout}\nstderr:{result.stderr}"
    for name in FORMATS:
        path = out / f"{Path(name).stem}.json"
        assert path.is_file(), f"{name}: no output ({sorted(p.name for p in out.iterdir())})"
        sidecar = json.loads(path.read_text())
        assert sidecar["frames"] == FRAMES, f"{name}: {sidecar['frames']} of {FRAMES} frames decoded"
        assert sidecar["valid_frames"] >= FRAMES - 2, f"{name}: the person found in {sidecar['valid_frames']} frames"


def test_every_3d_mode_runs_in_the_bundle(bundle, user_home, tmp_path):  # noqa: F811 - fixtures
    """Each mode the program offers (the registry's), on a short clip of the sample; the image mode
    with a network exported at test time, and a torch checkpoint refused in one line."""
    from engine.lift.modes import available_modes

    clip = tmp_path / "clip.avi"
    _write_opencv(clip, "MJPG", _sample_frames(FRAMES))
    torch = pytest.importorskip("torch")
    from engine.lift.nets.checkpoint import save_checkpoint
    from engine.lift.nets.image_pose_net import ImagePoseNet
    from training.export_model import main as export_main

    torch.manual_seed(0)
    net = ImagePoseNet(num_joints=17, base_width=4, layers=(1, 1, 1), input_size=64).eval()
    pt = save_checkpoint(tmp_path / "net.pt", "ImagePoseNet", net.constructor_kwargs(), net.state_dict(), {})
    assert export_main(["image", str(pt), str(tmp_path / "net.npz")]) == 0
    for mode in available_modes():
        args = ["process", str(clip), "-o", str(tmp_path / mode), "-q", "--mode", mode]
        if mode == "image":
            args += ["--checkpoint", str(tmp_path / "net.npz")]
        result = run_bundle(bundle, args, user_home, tmp_path)
        assert result.returncode == 0, f"{mode}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        sidecar = json.loads((tmp_path / mode / "clip.json").read_text())
        assert sidecar["frames"] == FRAMES and sidecar["valid_frames"] >= FRAMES - 2, (mode, sidecar)
    refused = run_bundle(bundle, ["process", str(clip), "-o", str(tmp_path / "pt"), "-q", "--mode", "image",
                                  "--checkpoint", str(pt)], user_home, tmp_path)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    said = refused.stderr.strip().splitlines()
    assert len(said) == 1 and "net.pt: a torch checkpoint" in said[0] and "training.export_model image" in said[0], said
