"""`monocap calibrate`: the cameras' calibration for several-camera capture (docs/MULTICAMERA.md).

    monocap calibrate intrinsics PHOTOS_OR_VIDEO... --board 4x7 --square-mm 60 --name cam01 -o cam01.toml
    monocap calibrate person CAM1.mp4 CAM2.mp4 ... --intrinsics cam01.toml cam02.toml ... --height 1.75 -o rig.toml
    monocap calibrate convert IN OUT --format pose2sim
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.progress import ProgressBar, say
from engine.core.errors import MonocapError
from engine.multiview.calibration_files import WRITE_FORMATS, read_calibration, write_calibration
from engine.multiview.cameras import Camera, Rig


def add_calibrate_parser(sub) -> None:
    p = sub.add_parser("calibrate", help="calibrate cameras for several-camera capture (docs/MULTICAMERA.md)")
    steps = p.add_subparsers(dest="step", required=True)
    i = steps.add_parser("intrinsics", help="a camera's lens from photos or a video of a checkerboard")
    i.add_argument("images", nargs="+", help="photos, folders of photos, or videos of the board")
    i.add_argument("--board", default="4x7", help="inner corners, COLUMNSxROWS (default 4x7)")
    i.add_argument("--square-mm", type=float, default=60.0, help="side of a square in mm (default 60)")
    i.add_argument("--name", default="", help="the camera's name (default: the first input's name)")
    i.add_argument("-o", "--output", required=True, help="calibration file to write (.toml)")
    i.add_argument("-q", "--quiet", action="store_true")
    e = steps.add_parser("person", help="where the cameras stand, from videos of a person moving about (no board)")
    e.add_argument("videos", nargs="+", help="one synchronised video per camera, of the same person")
    e.add_argument("--intrinsics", nargs="+", required=True,
                   help="the cameras' intrinsics: one file per camera, or one file with every camera")
    scale = e.add_mutually_exclusive_group(required=True)
    scale.add_argument("--height", type=float, help="the person's height in metres (sets the scale)")
    scale.add_argument("--camera-distance", nargs=3, metavar=("CAM_A", "CAM_B", "METRES"),
                       help="the measured distance between two cameras (sets the scale)")
    e.add_argument("-o", "--output", required=True, help="calibration file to write (.toml)")
    e.add_argument("-q", "--quiet", action="store_true")
    c = steps.add_parser("convert", help="a calibration file in another format")
    c.add_argument("input", help="any calibration Monocap reads")
    c.add_argument("output", help="the file to write (easymocap: a folder)")
    c.add_argument("--format", default="monocap", choices=WRITE_FORMATS)
    c.add_argument("-q", "--quiet", action="store_true")


def cmd_calibrate(args: argparse.Namespace) -> int:
    return {"intrinsics": _intrinsics, "person": _person, "convert": _convert}[args.step](args)


def _intrinsics(args: argparse.Namespace) -> int:
    from engine.multiview.board import Board, board_images, calibrate_intrinsics

    board = Board.parse(args.board, args.square_mm)
    name = args.name or Path(args.images[0]).stem
    result = calibrate_intrinsics(board_images(args.images), board, name)
    write_calibration(Rig((result.camera,)), args.output, "monocap",
                      note=f"intrinsics from {len(result.used)} board views, {result.rms_px:.2f} px")
    k = result.camera.K
    say(args, f"{name}: board found in {len(result.used)} of {len(result.used) + len(result.missed)} images, "
              f"reprojection error {result.rms_px:.2f} px, {100 * result.coverage:.0f}% of the image covered; "
              f"focal {k[0, 0]:.1f} x {k[1, 1]:.1f} px -> {args.output}")
    if result.coverage < 0.5:
        say(args, "hint: show the board near every edge and corner of the image too, for a better lens model")
    return 0


def _load_intrinsics(files: list[str], count: int) -> list[Camera]:
    cameras = [cam for f in files for cam in read_calibration(f).cameras]
    if len(cameras) < count:
        raise MonocapError(f"--intrinsics: {len(cameras)} cameras for {count} videos; give one per video")
    return cameras[:count]


def _person(args: argparse.Namespace) -> int:
    from engine.multiview.self_calibration import CameraDistance, PersonHeight, calibrate_from_person
    from engine.session.multi_camera import assign_cameras, person_keypoints

    paths = [Path(v) for v in args.videos]
    for path in paths:
        if not path.is_file():
            raise MonocapError(f"{path}: no such video file")
    if len(paths) < 2:
        raise MonocapError("calibrate person: give two videos or more, one per camera")
    cameras = assign_cameras(paths, Rig(tuple(_load_intrinsics(args.intrinsics, len(paths)))))
    if args.height is not None:
        if not 0.5 <= args.height <= 2.6:
            raise MonocapError(f"--height {args.height}: give the person's height in metres, e.g. 1.75")
        scale = PersonHeight(args.height)
    else:
        a, b, metres = args.camera_distance
        try:
            scale = CameraDistance(a, b, float(metres))
        except ValueError:
            raise MonocapError(f"--camera-distance {metres}: give the distance in metres") from None
    bar = ProgressBar(args.quiet, None, "detecting")
    try:
        kp, sc = person_keypoints(paths, progress=bar.update_to)
    finally:
        bar.close()
    result = calibrate_from_person(cameras, kp, sc, scale)
    write_calibration(result.rig, args.output, "monocap",
                      note=f"from the person: {result.reprojection_px:.2f} px median; {result.scale_note}")
    say(args, f"{len(cameras)} cameras placed from {result.points} body points, median reprojection error "
              f"{result.reprojection_px:.2f} px; {result.scale_note} -> {args.output}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    rig = read_calibration(args.input)
    written = write_calibration(rig, args.output, args.format)
    say(args, f"{len(rig)} cameras ({', '.join(rig.names)}) -> " + ", ".join(str(p) for p in written))
    return 0
