"""Videos through the command line: a damaged header rate is reported (by a batch item as its own
note), `batch` reports a video cut short as `process` does, and an interrupted `process` leaves no folder it created."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

from engine.capture.frames import VideoFileSource
from engine.lift.modes import LiftConfig
from engine.session.batch import BatchItem, BatchJob, process_item
from engine.session.pipeline import PipelineConfig
from tests.engine.video_helpers import read_frames, write_video

REPO = Path(__file__).resolve().parents[3]


def test_a_10000_fps_header_is_not_taken_silently(tmp_path, sample_clip):
    path = write_video(tmp_path / "fast.mp4", read_frames(sample_clip, 5), fps=10000)
    source = VideoFileSource(path)
    assert source.fps == 30.0
    assert source.notes == ["the header's frame rate 10000 fps is not plausible for a video; timing it at 30 fps"]
    source.close()


def test_a_batch_item_says_what_the_user_should_know_without_touching_the_process_warnings(tmp_path, sample_clip):
    """The app runs batch items on a worker thread: their notes are the item's, not the process's."""
    path = write_video(tmp_path / "fast.mp4", read_frames(sample_clip, 12), fps=10000)
    job = BatchJob(str(tmp_path / "out"), PipelineConfig(lift=LiftConfig(mode="detector")), formats=("npz",))
    filters = list(warnings.filters)
    with warnings.catch_warnings(record=True) as outside:
        warnings.simplefilter("always")
        result = process_item(BatchItem(str(path), "fast"), job)
    assert result.status == "done", result.error
    assert result.warnings == ("the header's frame rate 10000 fps is not plausible for a video; timing it at 30 fps",)
    assert not outside and warnings.filters == filters


def test_batch_reports_a_video_cut_short(tmp_path, sample_clip):
    whole = write_video(tmp_path / "whole.avi", read_frames(sample_clip, 40), fps=24, fourcc="MJPG")
    cut = tmp_path / "in" / "cut.avi"
    cut.parent.mkdir()
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = subprocess.run([sys.executable, "-m", "engine.cli", "batch", str(cut.parent), "-o", str(tmp_path / "out"),
                             "--quiet", "--formats", "npz", "--jobs", "1"], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "1 of 1 videos processed" in result.stdout
    assert f"monocap: warning: {cut}: only 21 of 40 frames could be decoded" in result.stderr


def test_interrupted_process_leaves_no_folder_it_created(tmp_path, sample_clip):
    clip = write_video(tmp_path / "clip.mp4", read_frames(sample_clip, 40), fps=24)
    target = tmp_path / "new" / "takes"
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "process", str(clip), "-o", str(target), "--quiet"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not target.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # loading the models, or detecting
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (130, "monocap: interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
