"""Several calibrated cameras in the app: two video files standing in for webcams (the sample clip
and the view of a second camera beside it, tests/app/rig_footage.py), picked in the Several
cameras dialog with their calibration, fused live into the 3D view with the fused rate and the
latency in the status bar, streamed, recorded to a take, redone offline from every view's keypoints
and exported as one camera's take is; what cannot run is one line; a few hundred fused frames keep
memory flat."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from tests.app.rig_footage import write_pair
from tests.engine.streaming.receivers import OscReceiver, bundle_messages


def _start(window, qtbot, files, calibration) -> None:
    dialog = window.sources.ask_cameras()
    for path in files:
        dialog.add_file(str(path))
    dialog.calibration.setText(str(calibration))
    assert dialog.start(), dialog.problem.text()
    qtbot.waitUntil(lambda: window.source_running and window.frames_rendered >= 8, timeout=30000)


def test_two_files_as_cameras_give_fused_poses_a_take_and_its_exports(window, qtbot, tmp_path):
    from app.exporting import ExportRequest
    from engine.core.skeletons import MONOCAP_BODY

    cam1, cam2, rig = write_pair(tmp_path, frames=120)
    refining, refined = [], []
    window.engine.worker.takeRefining.connect(refining.append)
    window.engine.worker.takeRefined.connect(refined.append)
    receiver = OscReceiver().__enter__()  # the Stream control sends the fused poses to a real VMC receiver
    control = window.stream_control
    control.target.setText(f"127.0.0.1:{receiver.port}")
    control.target.editingFinished.emit()
    control.button.setChecked(True)
    _start(window, qtbot, (cam1, cam2), rig)
    assert window.source_info.name.startswith("cam1.mp4 + cam2.mp4")
    frame = window.last_frame
    assert frame.frame.image.shape[:2] == (360, 1280) and frame.pose.skeleton is MONOCAP_BODY  # both cameras shown
    qtbot.waitUntil(lambda: window.last_frame.pose.detection is not None, timeout=10000)
    drawn = (window.last_frame.frame.image[:, 640:] == (60, 220, 255)).all(axis=-1).sum()
    assert drawn > 100, drawn  # the second camera's view of the person, drawn beside the first's
    # the status bar: the fused rate and the latency from capture to pose, as one camera's are shown
    qtbot.waitUntil(lambda: bool(re.fullmatch(r"\d+\.\d fused fps( \(engine \d+\))?", window.status_labels.fps.text())),
                    timeout=15000)
    assert re.fullmatch(r"latency \d+ ms", window.status_labels.latency.text())
    assert window.status_labels.lift.text() == "3D from 2 cameras"  # triangulated, not the settings' 3D mode
    assert 0 < window.state.latency_ms < 2000
    qtbot.waitUntil(lambda: window.view3d.last_joints_m is not None, timeout=10000)
    joints = window.view3d.last_joints_m
    head, ankle = MONOCAP_BODY.index("head"), MONOCAP_BODY.index("left_ankle")
    assert 1.2 < joints[head, 1] - joints[ankle, 1] < 2.2  # metres, set by the calibration's baseline
    try:
        qtbot.waitUntil(lambda: any(m[0] == "/VMC/Ext/Bone/Pos" for d in list(receiver.datagrams)
                                    for m in bundle_messages(d)), timeout=15000)
    finally:
        control.button.setChecked(False)
        receiver.__exit__(None, None, None)
    window.set_recording(True)
    qtbot.waitUntil(lambda: window.recording, timeout=10000)
    qtbot.wait(1500)
    window.set_recording(False)
    qtbot.waitUntil(lambda: len(window.takes) == 1 and not window.recording, timeout=15000)
    # redone offline from every view's keypoints, in a worker process, as one camera's take is refined
    qtbot.waitUntil(lambda: bool(refined), timeout=60000)
    assert refining == list(window.takes) and not refined[0].error, refined
    window.stop_source()
    qtbot.waitUntil(lambda: not window.source_running, timeout=10000)
    again = window.sources.ask_cameras()  # the next time, the same cameras and calibration are there
    assert [v.path for v in again.views()] == [str(cam1), str(cam2)] and again.calibration.text() == str(rig)
    again.close()
    name = next(iter(window.takes))
    window.select_take(name)
    take = window.current_take
    assert take.metadata["cameras"] == ["cam1", "cam2"] and take.metadata["calibration"] == "rig.toml"
    assert take.num_frames >= 5 and take.valid.sum() >= 5
    assert window.takes[name].video is not None  # the first camera's images, for playback
    assert "monocap process" in take.metadata["refined"] and take.metadata["temporal"] == "offline zero-phase"
    with qtbot.waitSignal(window.exportFinished, timeout=30000) as blocker:
        window.start_export(take, ExportRequest(str(tmp_path / "exports"), "fused", ("bvh", "csv")))
    paths, error = blocker.args
    assert error is None, error
    assert {Path(p).suffix for p in paths} >= {".bvh", ".csv", ".json"}


def test_what_cannot_run_is_one_line(window, qtbot, tmp_path):
    cam1, cam2, rig = write_pair(tmp_path, frames=24)
    dialog = window.sources.ask_cameras()
    dialog.add_file(str(cam1))
    dialog.calibration.setText(str(rig))
    assert not dialog.start() and "at least 2" in dialog.problem.text()
    dialog.add_file(str(cam2))
    dialog.calibration.setText("")
    assert not dialog.start() and "need a calibration file" in dialog.problem.text()
    dialog.calibration.setText(str(tmp_path / "missing.toml"))
    assert not dialog.start() and "missing.toml" in dialog.problem.text()
    assert "\n" not in dialog.problem.text() and not window.source_running
    dialog.close()
    # a camera whose size is not its calibration's (40 px short: no decoder's crop): the engine says which
    other = tmp_path / "other"
    other.mkdir()
    cam1, cam2, rig = write_pair(other, frames=24, size_delta=40)
    window.sources.open_cameras(tuple(_views(cam1, cam2)), str(rig))
    qtbot.waitUntil(lambda: not window.source_running and window.state.banner is not None, timeout=30000)
    text = window.state.banner.text
    assert "cam2.mp4" in text and "600x320" in text and "640x360" in text and "\n" not in text, text
    # a camera at another frame rate than the first: said, naming both rates
    third = tmp_path / "third"
    third.mkdir()
    cam1, cam2, rig = write_pair(third, frames=24, fps2=12.0)
    window.sources.open_cameras(tuple(_views(cam1, cam2)), str(rig))
    qtbot.waitUntil(lambda: not window.source_running and "12 fps" in getattr(window.state.banner, "text", ""),
                    timeout=30000)
    assert "cam2.mp4" in window.state.banner.text and "one frame rate" in window.state.banner.text


def test_a_camera_that_never_sees_the_person_is_named_and_the_first_goes_on(window, qtbot, tmp_path):
    import cv2

    cam1, cam2, rig = write_pair(tmp_path, frames=130)
    wall = cv2.VideoWriter(str(cam2), cv2.VideoWriter_fourcc(*"mp4v"), 23.976, (640, 360))  # aimed at a bare wall
    noise = np.random.default_rng(0).integers(100, 140, (360, 640, 3), dtype=np.uint8)
    for _ in range(130):
        wall.write(noise)
    wall.release()
    window.sources.open_cameras(tuple(_views(cam1, cam2)), str(rig))
    qtbot.waitUntil(lambda: "has not seen the person" in getattr(window.state.banner, "text", ""), timeout=30000)
    text = window.state.banner.text
    assert "cam2.mp4 has not seen the person for 3 s" in text and "cam1.mp4 alone" in text and "\n" not in text
    assert window.state.banner.level == "warning" and window.source_running
    shown = window.frames_rendered
    qtbot.waitUntil(lambda: window.frames_rendered >= shown + 5, timeout=10000)
    assert window.last_frame.pose.joints_m is not None and window.view3d.last_joints_m is not None  # the pose goes on


def _views(*paths):
    from engine.session.camera_rig import RigView

    return [RigView("file", path=str(p)) for p in paths]


@pytest.mark.slow
def test_three_hundred_fused_frames_keep_memory_flat(window, qtbot, tmp_path):
    cam1, cam2, rig = write_pair(tmp_path, loops=8)  # 80 s at the clip's own rate: stopped after 300 fused frames
    window.sources.open_cameras(tuple(_views(cam1, cam2)), str(rig))
    qtbot.waitUntil(lambda: window.frames_rendered >= 60, timeout=60000)
    window.set_recording(True)
    start_frames, samples = window.last_frame.pose.index, []  # RSS while the cameras run, every 0.25 s
    timer = QTimer(interval=250)
    timer.timeout.connect(lambda: window.source_running and samples.append(_rss_mb()))
    timer.start()
    qtbot.waitUntil(lambda: window.last_frame.pose.index - start_frames >= 300, timeout=150000)
    window.stop_source()  # the take being recorded is saved
    qtbot.waitUntil(lambda: not window.source_running, timeout=15000)
    timer.stop()
    fused = window.last_frame.pose.index - start_frames
    third = len(samples) // 3
    grown_mb = float(np.median(samples[-third:]) - np.median(samples[:third]))
    print(f"{fused} fused frames after the warm-up, {len(samples)} samples of RSS: "
          f"{samples[0]:.0f} MB at first, {max(samples):.0f} at most, the last third {grown_mb:+.1f} MB from the first")
    assert fused >= 300, fused
    assert grown_mb < 30, samples
    qtbot.waitUntil(lambda: len(window.takes) == 1, timeout=15000)  # the take recorded until the stop is saved
    window.select_take(next(iter(window.takes)))
    assert window.current_take.valid.sum() >= 0.8 * fused


def _rss_mb() -> float:
    fields = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024
