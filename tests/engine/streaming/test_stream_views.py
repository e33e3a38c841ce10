"""`monocap stream` with several calibrated cameras: two real videos of a person (the sample clip
and a second camera's view beside it, tests/app/rig_footage.py), played at their own rate as
webcams, fused and streamed to real VMC and JSON receivers; `--camera 0 --camera 1` the same way;
what cannot run is one line; a few hundred fused frames keep memory flat."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from engine.cli import main
from engine.core.skeletons import MONOCAP_BODY
from engine.multiview.calibration_files import read_calibration, write_calibration
from engine.multiview.cameras import Camera, Rig
from tests.app.rig_footage import BASELINE_M, write_pair
from tests.conftest import REPO
from tests.engine.cli.test_cli import _assert_one_clear_line, monocap
from tests.engine.streaming.receivers import JsonReceiver, OscReceiver, bundle_messages, rebuild_unity


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """cam1.mp4, cam2.mp4 (60 frames of the sample clip, 24 fps) and their calibration, rig.toml."""
    return write_pair(tmp_path_factory.mktemp("pair"), frames=60)


def wider_baseline(rig_path, path, times: float):
    """The calibration with the second camera `times` further from the first: the triangulated
    person comes out `times` as tall, which no one camera's 3D (a person's size) would."""
    rig = read_calibration(rig_path)
    a, b = rig.cameras
    write_calibration(Rig((a, Camera(b.name, b.image_size, b.K, b.dist, b.R, b.t * times))), path)
    return path


def heights(joint_maps) -> list[float]:
    """Head above the left ankle, metres, in each JSON frame that has both."""
    return [j["head"][1] - j["left_ankle"][1] for j in joint_maps if j and j["head"] and j["left_ankle"]]


def test_two_videos_as_cameras_stream_their_fused_pose_to_vmc_and_json(tmp_path, pair):
    cam1, cam2, rig = pair
    doubled = wider_baseline(rig, tmp_path / "rig_2x.toml", 2.0)
    with OscReceiver() as vmc, JsonReceiver() as js:
        started = time.monotonic()
        result = monocap("stream", cam1, cam2, "--calibration", doubled, "--vmc", f"127.0.0.1:{vmc.port}",
                         "--json", f"127.0.0.1:{js.port}", "--frames", "16")
        elapsed = time.monotonic() - started
        time.sleep(0.2)
    assert result.returncode == 0, result.stderr
    assert "Streaming cam1.mp4 + cam2.mp4" in result.stdout and "16 frames in" in result.stdout, result.stdout
    got = [json.loads(d) for d in js.datagrams]
    assert len(got) == 16 and all(g["skeleton"] == MONOCAP_BODY.name for g in got)
    tall = heights(g["joints"] for g in got)
    assert len(tall) >= 10, got[:3]
    # triangulated through a calibration whose cameras stand twice 0.5 m apart: twice a person's size
    # (the first poses may come from the first camera alone, then glide to the triangulated size)
    assert 2 * 1.2 < float(np.median(tall[-5:])) < 2 * 2.2, tall
    posed = [rebuild_unity(bundle_messages(d)) for d in vmc.datagrams]
    posed = [p for p in posed if p is not None]
    assert len(posed) >= 5 and all(np.isfinite(p["LeftHand"]).all() and p["Head"][1] > p["LeftFoot"][1]
                                   for p in posed)
    assert elapsed > 16 / 24  # played at their own rate, not as fast as they decode
    assert BASELINE_M == 0.5  # what the size above is measured against


def test_two_live_cameras_stream_their_fused_pose(tmp_path, pair, monkeypatch, capsys):
    """`--camera 0 --camera 1`: the cameras opened at their calibrated size (the files stand in for
    webcams 0 and 1, as tests/engine/multiview/test_live_cameras.py does for process)."""
    import engine.session.camera_rig as camera_rig
    from engine.capture.frames import VideoFileSource
    from engine.capture.paced_source import PacedSource

    cam1, cam2, rig = pair
    opened = []

    def webcam(index, width, height):
        opened.append((index, width, height))
        return PacedSource(VideoFileSource((cam1, cam2)[index]))

    monkeypatch.setattr(camera_rig, "CameraSource", webcam)
    with JsonReceiver() as js:
        code = main(["stream", "--camera", "0", "--camera", "1", "--calibration", str(rig), "--vmc", "off",
                     "--json", f"127.0.0.1:{js.port}", "--frames", "10"])
        time.sleep(0.3)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert opened == [(0, 640, 360), (1, 640, 360)]
    assert "Streaming camera 0 + camera 1" in printed.out and "10 frames in" in printed.out, printed.out
    # live, the stream does not wait for the streaming process to start: the newest poses go out
    got = [json.loads(d) for d in js.datagrams]
    assert 3 <= len(got) <= 10 and got[-1]["frame"] == 9, [g["frame"] for g in got]
    assert 1.2 < float(np.median(heights(g["joints"] for g in got))) < 2.2


def test_what_several_cameras_cannot_stream_is_one_line(tmp_path, pair, capsys):
    cam1, cam2, rig = pair

    def error(*args) -> str:
        assert main(["stream", *map(str, args), "--vmc", "off", "--json", "127.0.0.1:9", "-q"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        return err

    assert "several videos need --calibration" in error(cam1, cam2)
    assert "several --camera need --calibration" in error("--camera", "0", "--camera", "1")
    assert "not both" in error(cam1, cam2, "--camera", "0", "--calibration", rig)
    assert "without --hands or --face" in error(cam1, cam2, "--calibration", rig, "--hands")
    assert "--every-frame" in error(cam1, cam2, "--calibration", rig, "--every-frame")
    assert "missing.mp4: no such video file" in error(cam1, tmp_path / "missing.mp4", "--calibration", rig)
    assert "missing.toml: no such calibration file" in error(cam1, cam2, "--calibration", tmp_path / "missing.toml")
    assert "3 cameras but the calibration rig.toml has 2" in error("--camera", "0", "--camera", "1", "--camera", "2",
                                                                     "--calibration", rig)
    # found as the cameras open: a video 40 px short of its calibrated size, one at another rate
    other = tmp_path / "short"
    other.mkdir()
    a, b, other_rig = write_pair(other, frames=12, size_delta=40)
    _assert_one_clear_line(monocap("stream", a, b, "--calibration", other_rig, "--vmc", "off", "--json", "127.0.0.1:9"),
                           "cam2.mp4", "600x320", "640x360")
    slow = tmp_path / "slow"
    slow.mkdir()
    a, b, slow_rig = write_pair(slow, frames=12, fps2=12.0)
    assert "one frame rate" in error(a, b, "--calibration", slow_rig)


@pytest.mark.slow
def test_a_few_hundred_fused_frames_streamed_keep_memory_flat(tmp_path):
    """The command as a user runs it, 330 fused poses to a JSON receiver: the monocap process's
    resident memory over the last third of the run within 30 MB of the first third's."""
    cam1, cam2, rig = write_pair(tmp_path, loops=12)  # 10 s of the clip 12 times: more than the run needs
    with JsonReceiver(keep=False) as js:
        proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "stream", str(cam1), str(cam2), "--calibration",
                                 str(rig), "--vmc", "off", "--json", f"127.0.0.1:{js.port}", "--frames", "330"],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        samples = []
        try:
            while proc.poll() is None:
                if js.count >= 20:  # past the start (models loaded, the streaming process up)
                    samples.append(_rss_mb(proc.pid))
                time.sleep(0.25)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        time.sleep(0.2)
        received = js.count
    assert proc.returncode == 0, err
    samples = [s for s in samples if s]
    third = len(samples) // 3
    grown_mb = float(np.median(samples[-third:]) - np.median(samples[:third]))
    print(f"{received} fused poses received, {len(samples)} samples of RSS: {samples[0]:.0f} MB at first, "
          f"{max(samples):.0f} at most, the last third {grown_mb:+.1f} MB from the first; {out.strip().splitlines()[-1]}")
    assert received >= 300, out
    assert third >= 5 and grown_mb < 30, samples


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        return 0.0
