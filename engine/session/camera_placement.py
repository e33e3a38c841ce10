"""Where the cameras stand (their extrinsics), for every front end: `monocap calibrate person` and
`calibrate board`, and the app's Place cameras dialog (docs/MULTICAMERA.md).

    request = PlacementRequest(("cam01.mp4", "cam02.mp4"), ("cam01.toml", "cam02.toml"), PersonMethod(height_m=1.75))
    placement = place_cameras(request, progress, cancel, output="rig.toml")
    placement.camera_px, placement.notes, placement.summary

The inputs are one video per camera (a board: or one folder of photos per camera, one photo per
moment) and each camera's lens file (one file per camera, or one holding every camera; a video takes
its camera by name, cam01.mp4 for cam01, else in order). From the person, the scale is their height
or one measured camera-to-camera distance; the maths is engine/multiview/self_calibration.py's, on
the keypoints of the person each video's lock-on rule follows (engine/session/multi_camera.py).
From a board, the board's squares give the scale (engine/multiview/board_rig.py). Long work reports
`progress(done, total)` and stops when `cancel` is set (pipeline.Cancelled); what cannot be placed
is one InputError line naming the camera. The calibration file is written (crash-safe, renamed into
place) only when the cameras were placed: a failed or cancelled run leaves an existing file as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.capture.frames import open_source
from engine.capture.people_tracks import PeopleTracks
from engine.core.errors import InputError
from engine.multiview.board import IMAGE_SUFFIXES, Board, parse_board
from engine.multiview.board_rig import MAX_MOMENTS, calibrate_from_board, synchronised_frames
from engine.multiview.calibration_files import read_calibration, write_calibration
from engine.multiview.cameras import Camera, Rig, check_image_size
from engine.multiview.charuco import CharucoBoard
from engine.multiview.self_calibration import CameraDistance, PersonHeight, calibrate_from_person
from engine.session import multi_camera
from engine.session.pipeline import CancelFlag, Cancelled, Progress

HEIGHT_RANGE_M = (0.5, 2.6)  # a person's height the scale is taken from
GOOD_PERSON_PX = 5.0  # from the person: a median reprojection error below this is good
GOOD_BOARD_PX = 1.0  # from a board: an RMS error below this is good
# the board a front end starts with: the ChArUco board docs/MULTICAMERA.md prints (text, square mm, marker mm)
SUGGESTED_BOARD = ("charuco:7x5", 40.0, 30.0)

__all__ = ["BoardMethod", "PersonMethod", "Placement", "PlacementRequest", "lens_names", "load_intrinsics",
           "parse_board", "person_scale", "place_cameras"]


@dataclass(frozen=True)
class PersonMethod:
    """From the person alone: the scale from their height (metres) or from `distance`, the measured
    distance between two cameras (name a, name b, metres); find_offsets: the videos did not start
    together, their offsets are found from the person's motion."""

    height_m: float | None = None
    distance: tuple[str, str, float] | None = None
    find_offsets: bool = False


@dataclass(frozen=True)
class BoardMethod:
    """From a board seen by two cameras or more at once (engine.multiview.board.parse_board)."""

    board: Board | CharucoBoard


@dataclass(frozen=True)
class PlacementRequest:
    inputs: tuple[str | Path, ...]  # one video per camera (a board: or one folder of photos each)
    intrinsics: tuple[str | Path, ...]  # the cameras' lens files
    method: PersonMethod | BoardMethod


@dataclass(frozen=True)
class Placement:
    rig: Rig
    camera_px: dict[str, float]  # per camera: reprojection error (the person: median; a board: RMS)
    error_px: float  # over every camera
    good_px: float  # an error below this is good
    notes: list[str] = field(default_factory=list)  # for the user: offsets found, a decoder's crop, a camera off
    summary: str = ""  # one line: what placed the cameras and how well
    file_note: str = ""  # written into the calibration file

    def save(self, path: str | Path) -> Path:
        """Monocap's TOML, renamed into place (an existing file is replaced only once it is written)."""
        return write_calibration(self.rig, path, "monocap", note=self.file_note)[0]


def load_intrinsics(files: list[str | Path], count: int) -> list[Camera]:
    """The first `count` cameras of the lens files, in order (one file per camera, or one with every camera)."""
    cameras = [cam for f in files for cam in read_calibration(f).cameras]
    if len(cameras) < count:
        raise InputError(f"the lens files hold {len(cameras)} cameras for {count} videos; give one per video")
    return cameras[:count]


def cameras_for(inputs: list[str | Path], intrinsics: list[str | Path]) -> list[Camera]:
    """Each input's camera (its lens): by name, else in order (multi_camera.assign_cameras)."""
    paths = [Path(p) for p in inputs]
    if len(paths) < 2:
        raise InputError("placing the cameras needs two cameras or more, a video each")
    if not intrinsics:
        raise InputError("give each camera's lens file (File > Calibrate a camera…, or monocap calibrate intrinsics)")
    return multi_camera.assign_cameras(paths, Rig(tuple(load_intrinsics(list(intrinsics), len(paths)))))


def lens_names(inputs: list[str | Path], intrinsics: list[str | Path]) -> list[str]:
    """The camera each input takes, by name (what a front end shows beside each video)."""
    return [c.name for c in cameras_for(inputs, intrinsics)]


def person_scale(height_m: float | None = None, distance: tuple[str, str, float] | None = None):
    """PersonHeight or CameraDistance, checked; InputError (one line) for a height that is no person's."""
    if height_m is not None:
        low, high = HEIGHT_RANGE_M
        if not low <= height_m <= high:
            raise InputError(f"a height of {height_m} m: give the person's height in metres, e.g. 1.75")
        return PersonHeight(float(height_m))
    if distance is None:
        raise InputError("give the person's height or the distance between two cameras, to set the scale")
    a, b, metres = distance
    try:
        metres = float(metres)
    except ValueError:
        raise InputError(f"the distance between {a} and {b}, {metres}: give it in metres") from None
    if a == b or not metres > 0:
        raise InputError(f"the distance between {a} and {b}: give two cameras and a distance over 0 m")
    return CameraDistance(a, b, metres)


def place_cameras(request: PlacementRequest, progress: Progress | None = None, cancel: CancelFlag | None = None,
                  detected: dict[Path, PeopleTracks] | None = None, output: str | Path | None = None) -> Placement:
    """The rig and its notes; with `output`, the calibration file written once they are placed.
    detected: the detections of videos looked at before (Path -> PeopleTracks), used instead of
    detecting again and filled with what this run detects (the person only)."""
    if isinstance(request.method, BoardMethod):
        placement = _from_board(request, request.method.board, progress, cancel)
    else:
        placement = _from_person(request, request.method, progress, cancel, detected)
    if output is not None:
        placement.save(output)
    return placement


def _from_person(request: PlacementRequest, method: PersonMethod, progress, cancel, detected) -> Placement:
    paths = [Path(v) for v in request.inputs]
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path}: no such video file")
    cameras = cameras_for(paths, list(request.intrinsics))
    scale = person_scale(method.height_m, method.distance)
    names = [c.name for c in cameras]
    if isinstance(scale, CameraDistance) and not {scale.a, scale.b} <= set(names):  # said before minutes of detection
        unknown = scale.a if scale.a not in names else scale.b
        raise InputError(f"the distance's camera {unknown}: no such camera among the lens files' (have {', '.join(names)})")
    notes, total = [], 0
    for path, camera in zip(paths, cameras):
        source = open_source(path)
        try:
            total += source.frame_count or 0
            size = getattr(source, "image_size", None)
            note = check_image_size(camera, size, path.name) if size is not None else None
        finally:
            source.close()
        if note:
            notes.append(note)
    report = None if progress is None else (lambda done, _total: progress(done, total or None))
    if method.find_offsets:
        kp, sc = _keypoints_at_motion_offsets(paths, report, cancel, detected, notes)
    else:
        kp, sc = multi_camera.person_keypoints(paths, progress=report, cancel=cancel, detected=detected)
    _check(cancel)
    result = calibrate_from_person(cameras, kp, sc, scale)
    _check(cancel)  # stopped during the adjustment: nothing placed
    note = f"from the person: {result.reprojection_px:.2f} px median; {result.scale_note}"
    summary = (f"{len(cameras)} cameras placed from {result.points} body points, median reprojection error "
               f"{result.reprojection_px:.2f} px; {result.scale_note}")
    return Placement(result.rig, result.camera_px, result.reprojection_px, GOOD_PERSON_PX, notes, summary, note)


def _keypoints_at_motion_offsets(paths: list[Path], progress, cancel, detected, notes: list[str]):
    from engine.multiview.motion_sync import align_views, motion_offsets

    rates = []
    for path in paths:
        source = open_source(path)
        try:
            rates.append(float(source.fps))
        finally:
            source.close()
    if max(rates) > 1.02 * min(rates):
        listed = ", ".join(f"{p.name} {r:g} fps" for p, r in zip(paths, rates))
        raise InputError(f"the videos disagree on frame rate ({listed}); set every camera to one rate and record again")
    extra = {} if detected is None else {"detected": detected}
    per_view = multi_camera.person_keypoints_per_view(paths, progress=progress, cancel=cancel, **extra)
    _check(cancel)
    offsets = motion_offsets(per_view, rates[0], [p.name for p in paths])
    for path, offset in zip(paths[1:], offsets[1:]):
        notes.append(f"{path.name}: {abs(offset.frames) / rates[0]:.3f} s "
                     f"{'behind' if offset.frames > 0 else 'ahead of'} {paths[0].name} "
                     f"(motion correlation {offset.correlation:.2f})")
    return align_views(per_view, offsets)


def _from_board(request: PlacementRequest, board, progress, cancel) -> Placement:
    paths = [Path(v) for v in request.inputs]
    if len(paths) < 2:
        raise InputError("placing the cameras from a board needs two cameras or more, a video or a folder of photos each")
    cameras = cameras_for(paths, list(request.intrinsics))
    total = _moments_planned(paths)

    def counted(moments):
        for done, moment in enumerate(moments, 1):
            _check(cancel)
            yield moment
            if progress is not None:
                progress(done, total)

    result = calibrate_from_board(cameras, counted(synchronised_frames(paths)), board)
    _check(cancel)
    note = f"from the {board.label} board in {result.moments} moments: {result.rms_px:.2f} px RMS"
    per_camera = ", ".join(f"{name} {result.found[name]} moments, {px:.2f} px" for name, px in result.camera_rms_px.items())
    summary = (f"{len(cameras)} cameras placed from the board seen together in {result.moments} moments, "
               f"reprojection error {result.rms_px:.2f} px RMS ({per_camera})")
    return Placement(result.rig, dict(result.camera_rms_px), result.rms_px, GOOD_BOARD_PX, list(result.notes), summary,
                     note)


def _moments_planned(paths: list[Path]) -> int | None:
    """How many moments synchronised_frames will give (for the progress), None when unknown."""
    if all(p.is_dir() for p in paths):
        return min(sum(f.suffix.lower() in IMAGE_SUFFIXES for f in p.iterdir()) for p in paths)
    counts = []
    for path in paths:
        try:
            source = open_source(path)
        except Exception:  # noqa: BLE001 - synchronised_frames says what is wrong with it
            return None
        counts.append(source.frame_count or 0)
        source.close()
    return min(MAX_MOMENTS, min(counts)) if min(counts) > 0 else None


def _check(cancel: CancelFlag | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled(PeopleTracks())
