"""`monocap calibrate`: the cameras' calibration for several-camera capture (docs/MULTICAMERA.md).

    monocap calibrate intrinsics PHOTOS_OR_VIDEO... --board 4x7 --square-mm 60 --name cam01 -o cam01.toml
    monocap calibrate intrinsics PHOTOS_OR_VIDEO... --board charuco:7x5 --square-mm 40 --marker-mm 30 -o cam01.toml
    monocap calibrate board CAM1.mp4 CAM2.mp4 ... --intrinsics cam01.toml cam02.toml ... --board charuco:7x5 \
        --square-mm 40 --marker-mm 30 -o rig.toml
    monocap calibrate board-image --board charuco:7x5 --square-mm 40 --marker-mm 30 -o board.png
    monocap calibrate person CAM1.mp4 CAM2.mp4 ... --intrinsics cam01.toml cam02.toml ... --height 1.75 -o rig.toml
    monocap calibrate convert IN OUT --format pose2sim
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.progress import ProgressBar, say
from engine.core.errors import MonocapError
from engine.multiview.board import DEFAULT_BOARD, DEFAULT_SQUARE_MM
from engine.multiview.calibration_files import WRITE_FORMATS, read_calibration, write_calibration
from engine.multiview.cameras import Rig
from engine.multiview.charuco import DEFAULT_DICTIONARY

PRINT_DPI = 300  # calibrate board-image: pixels per inch of the printed board


def add_calibrate_parser(sub) -> None:
    p = sub.add_parser("calibrate", help="calibrate cameras for several-camera capture (docs/MULTICAMERA.md)")
    steps = p.add_subparsers(dest="step", required=True)
    i = steps.add_parser("intrinsics", help="a camera's lens from photos or a video of a checkerboard")
    i.add_argument("images", nargs="+", help="photos, folders of photos, or videos of the board")
    _board_options(i)
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
    e.add_argument("--find-offsets", action="store_true",
                   help="the videos did not start together: find the offset between them from the person's motion")
    e.add_argument("-o", "--output", required=True, help="calibration file to write (.toml)")
    e.add_argument("-q", "--quiet", action="store_true")
    b = steps.add_parser("board", help="where the cameras stand, from a board seen by two cameras or more at once")
    b.add_argument("inputs", nargs="+", help="one video per camera (started together), or one folder of photos "
                                              "per camera (one photo per moment, in the same order)")
    b.add_argument("--intrinsics", nargs="+", required=True,
                   help="the cameras' intrinsics: one file per camera, or one file with every camera")
    _board_options(b)
    b.add_argument("-o", "--output", required=True, help="calibration file to write (.toml)")
    b.add_argument("-q", "--quiet", action="store_true")
    g = steps.add_parser("board-image", help="a printable picture of a board (print at 100 %%, 300 dpi)")
    _board_options(g)
    g.add_argument("-o", "--output", required=True, help="picture to write (.png)")
    g.add_argument("-q", "--quiet", action="store_true")
    c = steps.add_parser("convert", help="a calibration file in another format")
    c.add_argument("input", help="any calibration Monocap reads")
    c.add_argument("output", help="the file to write (easymocap: a folder)")
    c.add_argument("--format", default="monocap", choices=WRITE_FORMATS)
    c.add_argument("-q", "--quiet", action="store_true")


def _board_options(p) -> None:
    p.add_argument("--board", default=DEFAULT_BOARD, help=f"a checkerboard's inner corners, COLUMNSxROWS (default "
                                                          f"{DEFAULT_BOARD}), or charuco:COLUMNSxROWS, a ChArUco board's "
                                                          "squares (e.g. charuco:7x5)")
    p.add_argument("--square-mm", type=float, default=DEFAULT_SQUARE_MM,
                   help=f"side of a square in mm (default {DEFAULT_SQUARE_MM:g})")
    p.add_argument("--marker-mm", type=float, default=None,
                   help="ChArUco: side of a marker in mm (default three quarters of a square)")
    p.add_argument("--dictionary", default=DEFAULT_DICTIONARY, help=f"ChArUco: the markers' ArUco dictionary "
                                                                    f"(default {DEFAULT_DICTIONARY})")


def _parse_board(args: argparse.Namespace):
    from engine.multiview.board import parse_board

    return parse_board(args.board, args.square_mm, args.marker_mm, args.dictionary)


def cmd_calibrate(args: argparse.Namespace) -> int:
    steps = {"intrinsics": _intrinsics, "board": _board, "board-image": _board_image, "person": _person,
             "convert": _convert}
    return steps[args.step](args)


def _intrinsics(args: argparse.Namespace) -> int:
    from engine.multiview.board import board_images, calibrate_intrinsics

    board = _parse_board(args)
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


def _person(args: argparse.Namespace) -> int:
    from engine.session.camera_placement import PersonMethod, PlacementRequest, place_cameras

    if len(args.videos) < 2:
        raise MonocapError("calibrate person: give two videos or more, one per camera")
    distance = tuple(args.camera_distance) if args.camera_distance else None
    method = PersonMethod(args.height, distance, args.find_offsets)
    bar = ProgressBar(args.quiet, None, "detecting")
    try:
        placement = place_cameras(PlacementRequest(tuple(args.videos), tuple(args.intrinsics), method), bar.update_to)
    finally:
        bar.close()
    return _placed(args, placement)


def _board(args: argparse.Namespace) -> int:
    from engine.session.camera_placement import BoardMethod, PlacementRequest, place_cameras

    board = _parse_board(args)
    if len(args.inputs) < 2:
        raise MonocapError("calibrate board: give two cameras or more, a video or a folder of photos each")
    bar = ProgressBar(args.quiet, None, "looking for the board")
    try:
        placement = place_cameras(PlacementRequest(tuple(args.inputs), tuple(args.intrinsics), BoardMethod(board)),
                                  bar.update_to)
    finally:
        bar.close()
    return _placed(args, placement)


def _placed(args: argparse.Namespace, placement) -> int:
    for note in placement.notes:
        say(args, f"note: {note}")
    placement.save(args.output)
    say(args, f"{placement.summary} -> {args.output}")
    return 0


def _board_image(args: argparse.Namespace) -> int:
    import cv2

    from engine.core.atomic import atomic_path
    from engine.multiview.charuco import CharucoBoard

    board = _parse_board(args)
    if not isinstance(board, CharucoBoard):
        raise MonocapError("calibrate board-image draws ChArUco boards: give --board charuco:COLUMNSxROWS")
    px_per_mm = PRINT_DPI / 25.4
    picture = board.image(int(round(px_per_mm * 1000 * board.square_m * (max(board.squares_x, board.squares_y) + 1))))
    try:
        ok, encoded = cv2.imencode(Path(args.output).suffix.lower() or ".png", picture)
    except cv2.error:
        ok = False
    if not ok:
        raise MonocapError(f"{args.output}: not a picture format OpenCV writes (give a .png file)")
    with atomic_path(args.output) as tmp:
        tmp.write_bytes(encoded.tobytes())
    h, w = picture.shape
    say(args, f"{board.label} board, {w} x {h} px: print at 100 % (300 dpi), {w / px_per_mm:.0f} x {h / px_per_mm:.0f} mm, "
              f"then measure a square and give it as --square-mm -> {args.output}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    rig = read_calibration(args.input)
    written = write_calibration(rig, args.output, args.format)
    say(args, f"{len(rig)} cameras ({', '.join(rig.names)}) -> " + ", ".join(str(p) for p in written))
    return 0
