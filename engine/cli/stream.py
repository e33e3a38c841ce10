"""`monocap stream`: one video (at its own rate) or a camera -> live VMC / JSON datagrams; several
calibrated cameras (or their videos) -> their fused poses, through the same streams (`stream_views`)."""

from __future__ import annotations

import argparse
import math
import sys

from engine.capture.frames import CameraSource, open_source
from engine.cli.progress import say
from engine.cli.run_arguments import add_face_argument, add_run_settings, config_from_args
from engine.core.errors import MonocapError

# A file's stream starts once the streaming process has imported (a second or so), not before.
STREAM_START_WAIT_S = 15.0


def add_stream_parser(sub) -> None:
    from engine.streaming.targets import VMC_DEFAULT_TARGET

    s = sub.add_parser("stream", help="one video (at its own rate) or --camera N -> a live VMC / JSON stream")
    s.add_argument("video", nargs="*", help="video file, played at its own rate; several calibrated cameras' videos "
                                            "with --calibration, each standing in for its camera (docs/MULTICAMERA.md)")
    s.add_argument("--camera", type=int, action="append",
                   help="stream live from camera N until Ctrl+C; several --camera with --calibration: calibrated "
                        "cameras together, their fused poses streamed (docs/MULTICAMERA.md)")
    s.add_argument("--calibration", default="", help="several cameras' calibration (Monocap or Pose2Sim/anipose/"
                                                     "FreeMoCap .toml, EasyMocap intri.yml, Qualisys .qca.txt)")
    s.add_argument("--vmc", default=VMC_DEFAULT_TARGET, metavar="HOST:PORT",
                   help=f"where to send the VMC protocol (default {VMC_DEFAULT_TARGET}; 'off' for none)")
    s.add_argument("--json", default="", metavar="HOST:PORT",
                   help="also send world joint positions as JSON over UDP, one datagram per frame")
    s.add_argument("--rate", type=float, default=0.0, help="send at most this many frames per second (default: every frame)")
    add_run_settings(s)
    s.add_argument("--frames", type=int, default=None, help="stop after this many frames")
    s.add_argument("--every-frame", action="store_true",
                   help="a video: every frame, as fast as the engine goes (default: at its own rate, as a camera)")
    s.add_argument("--max-people", type=int, default=0,
                   help="people the detector looks for in each frame; the stream follows the largest, most central "
                        "one of the first frame with anyone in view (default 2, docs/PEOPLE.md)")
    s.add_argument("--hands", action="store_true",
                   help="track the hands too and stream the fingers (slower; docs/HANDS.md)")
    add_face_argument(s)
    s.set_defaults(people="1", person=0)  # a stream follows one person
    s.add_argument("-q", "--quiet", action="store_true", help="no status line")


def cmd_stream(args: argparse.Namespace) -> int:
    import time

    from engine.session.events import SessionEvents
    from engine.streaming.channels import channels_from_targets
    from engine.streaming.sender import FILE_QUEUE_FRAMES, QUEUE_FRAMES
    from engine.streaming.sender_process import ProcessPoseStreamer
    from engine.streaming.switch import StreamSwitch

    config = config_from_args(args)
    videos = args.video if isinstance(args.video, list) else [args.video] if args.video else []
    cameras = args.camera if isinstance(args.camera, list) else [] if args.camera is None else [args.camera]
    several = len(videos) > 1 or len(cameras) > 1
    if not several and bool(videos) == bool(cameras):
        raise MonocapError("stream: give a video file, or --camera N (not both)")
    if not (args.rate >= 0 and math.isfinite(args.rate)):
        raise MonocapError(f"--rate {args.rate}: a rate must be 0 (every frame) or more")
    if args.frames is not None and args.frames < 1:
        raise MonocapError(f"--frames {args.frames}: give 1 or more frames")
    if several:
        from engine.cli.stream_views import rig_stream_start, rig_views

        start = rig_stream_start(args, config, rig_views(args, videos, cameras))
    channels = channels_from_targets(vmc=args.vmc, json=args.json, warmup_s=config.live_calibration_s)
    targets = ", ".join(f"{ch.encoder.name} to {ch.target}" for ch in channels)
    if not several:
        start = _one_source_start(args, config, CameraSource(cameras[0]) if cameras else open_source(videos[0]))
    tty = sys.stdout.isatty()
    started = time.monotonic()
    shown = {"frames": 0, "next": started + 1.0}

    queue = QUEUE_FRAMES if cameras else FILE_QUEUE_FRAMES
    with ProcessPoseStreamer(channels, queue_frames=queue, max_fps=args.rate) as streamer:
        if not cameras:
            streamer.wait_running(STREAM_START_WAIT_S)
        def on_pose(tracked) -> None:  # the session's tracking thread
            shown["frames"] += 1
            if not args.quiet and time.monotonic() >= shown["next"]:
                shown["next"] += 1.0
                print(f"\r{shown['frames']} frames, {streamer.stats().summary}" + ("" if tty else "\n"),
                      end="", flush=True)

        switch = StreamSwitch()
        switch.attach(streamer)
        session, name, run = start(SessionEvents(pose=on_pose))
        session.add_sink(switch)
        say(args, f"Streaming {name}: {targets}; press Ctrl+C to stop.")
        try:
            end = run()
        except KeyboardInterrupt:
            end = None
    stats = streamer.stats()  # the streaming process's last figures come with its end
    if end is not None and end.error is not None:
        raise end.error
    say(args, ("\n" if tty else "") + f"{shown['frames']} frames in {time.monotonic() - started:.1f} s; "
         f"{stats.packets_sent} packets sent, {stats.refused} not taken (no receiver), "
         f"{stats.dropped} poses dropped by the sender")
    return 0


def _one_source_start(args: argparse.Namespace, config, source):
    """How one camera's or video's engine session starts once the streams are up."""
    from engine.session.session import Session

    def start(events):
        session = Session(source, config, events)
        return session, source.name, lambda: session.stream(realtime=not args.every_frame, max_frames=args.frames)

    return start
