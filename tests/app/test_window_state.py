"""The window's state without a window: what it says in each situation."""

from pathlib import Path

from app.window_state import (
    Banner,
    BannerScope,
    Mode,
    RateMeter,
    Source,
    SourceKind,
    WindowState,
    format_seconds,
    source_for_path,
)

SAMPLE = Source(SourceKind.SAMPLE, "taiji_sample.mp4", "/x/taiji_sample.mp4")
CLIP = Source(SourceKind.FILE, "walk.mp4", "/x/walk.mp4")
CAMERA = Source(SourceKind.CAMERA, "USB camera", camera_index=0)


def _frames(state, n, fps=24.0, start_s=0.0, recording=False, t0=100.0):
    for i in range(n):
        state.frame_shown(t0 + i / fps, i, start_s + i / fps, fps, 20.0, True, recording, 240)


def test_mode_is_an_enum_through_a_session():
    st = WindowState()
    assert st.mode is Mode.IDLE
    st.open_source(CLIP)
    assert st.mode is Mode.LIVE and st.source_running
    st.select_take("take_001")
    assert st.mode is Mode.PLAYBACK
    st.back_to_live()
    assert st.mode is Mode.LIVE
    st.source_ended(None, cancelled=True, frames=10)
    assert st.mode is Mode.IDLE and not st.source_running


def test_a_camera_is_known_by_its_kind_not_its_name():
    odd = Source(SourceKind.FILE, "camera_roll.mp4", "/x/camera_roll.mp4")
    st = WindowState()
    st.open_source(odd)
    banner = st.source_ended("camera_roll.mp4: cannot decode frame 3", cancelled=False, frames=3)
    assert banner.action_id == ""  # a file's error offers no camera fallback
    st.open_source(CAMERA)
    banner = st.source_ended("camera 0: stopped sending frames (unplugged?)", cancelled=False, frames=40)
    assert banner.action_id == "sample" and banner.level == "error"
    assert source_for_path(Path("/x/camera_1.mp4"), Path("/r/taiji_sample.mp4")).kind is SourceKind.FILE


def test_sample_banner_goes_once_anything_else_plays():
    st = WindowState()
    st.open_source(SAMPLE)
    st.show(Banner("No camera found, so Monocap is playing its sample clip.", scope=BannerScope.SOURCE))
    st.open_source(CLIP)
    assert st.banner is None
    st.show(Banner("No camera found ...", scope=BannerScope.SOURCE))
    st.select_take("take_001")
    assert st.banner is None
    # a result stays while a take is looked at; a new source the user opens replaces it (its progress shows)
    st.show(Banner("Exported take_001.bvh", action="Open folder", action_id="open_folder"))
    st.select_take("take_002")
    assert st.banner is not None and "Exported" in st.banner.text
    st.open_source(SAMPLE)
    assert st.banner is None and st.status().activity.startswith("Tracking")


def test_a_notice_from_the_start_stays_over_news_of_the_source():
    st = WindowState()
    st.show(Banner("take_001 was recovered after a crash: 3.3 s.", scope=BannerScope.NOTICE))
    st.open_source(SAMPLE)
    st.show(Banner("No camera found, so Monocap is playing its sample clip.", scope=BannerScope.SOURCE))
    assert "recovered" in st.banner.text
    st.frame_count, st.source_fps = 240, 24.0
    st.source_ended(None, cancelled=False, frames=240)
    assert "recovered" in st.banner.text  # the end of the clip waits beneath it
    st.close_banner()
    assert st.banner.text.startswith("Finished tracking")
    st.show(Banner("take_002 was recovered after a crash: 1.0 s.", scope=BannerScope.NOTICE))
    st.open_source(SAMPLE)
    st.source_ended("taiji_sample.mp4: cannot decode frame 3", cancelled=False, frames=3)
    assert "cannot decode" in st.banner.text  # an error goes over it...
    st.close_banner()
    assert "take_002 was recovered" in st.banner.text  # ...and it comes back
    st.close_banner()
    assert st.banner is None


def test_rates_clear_on_stop_and_wait_to_settle():
    st = WindowState()
    st.open_source(CLIP)
    st.frame_shown(100.0, 0, 0.0, 0.3, 900.0, True, False, 240)  # the first, slow frame
    assert st.fps_text() == "— fps"  # no "0.3 fps" at start-up
    _frames(st, 48, t0=101.0)
    assert st.fps_text().startswith("24.0 fps")
    assert st.latency_text() == "latency 20 ms"
    st.source_ended(None, cancelled=True, frames=49)
    assert st.fps_text() == "— fps" and st.latency_text() == "latency —"


def test_playing_back_only_while_playing():
    st = WindowState()
    st.select_take("take_002")
    assert "Playing back" not in st.activity_text()
    st.set_playing(True)
    assert st.activity_text() == "Playing back take_002"
    st.set_playing(False)
    assert "Playing back" not in st.activity_text() and "paused" in st.activity_text()
    st.back_to_live()
    st.set_playing(True)  # nothing plays outside playback
    assert not st.playing


def test_device_shown_as_chosen():
    st = WindowState("auto")
    assert st.device_text() == "device automatic"
    st.open_source(CLIP)
    st.source_opened("CPU", 24.0, 240)
    assert st.device_text() == "device CPU (automatic)"
    st.device_choice = "cpu"
    assert st.device_text() == "device CPU"


def test_file_progress_and_end_message():
    st = WindowState()
    st.open_source(CLIP)
    st.source_opened("CPU", 24.0, 240)
    _frames(st, 120)
    assert st.progress() == (120, 240)
    assert st.progress_text() == "frame 120 of 240  ·  5.0 s of 10.0 s"
    banner = st.source_ended(None, cancelled=False, frames=240)
    assert banner.text == "Finished tracking walk.mp4: 240 of 240 frames (10.0 s)."
    assert st.progress() is None
    st.open_source(CAMERA)
    _frames(st, 10)
    assert st.progress() is None  # a camera has no end


def test_recording_shows_the_takes_own_length():
    st = WindowState()
    st.open_source(CLIP)
    st.source_opened("CPU", 24.0, 240)
    _frames(st, 100)  # the video is at frame 100 when recording starts
    st.recording_changed(True, "take_003")
    for i in range(100, 100 + 173):
        st.frame_shown(200 + i / 24, i, i / 24, 24.0, 20.0, True, True, 240)
    assert st.recording_text() == "● REC take_003  7.2 s"
    st.recording_changed(False, "take_003")
    assert st.recording_text() == ""


def test_rate_meter_and_clock_format():
    m = RateMeter(window_s=2.0, min_span_s=1.0)
    for i in range(10):
        m.add(i * 0.05)
    assert m.rate() is None  # half a second seen
    for i in range(10, 60):
        m.add(i * 0.05)
    assert abs(m.rate() - 20.0) < 1e-6
    assert format_seconds(7.24) == "7.2 s" and format_seconds(65.3) == "1:05.3" and format_seconds(3723) == "1:02:03"
