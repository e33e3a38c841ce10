"""Where the cameras stand, from a board seen by two or more cameras at once (docs/MULTICAMERA.md).

    moments = synchronised_frames([Path("cam01.mp4"), Path("cam02.mp4")])
    result = calibrate_from_board(cameras, moments, board)      # cameras: each one's intrinsics

Each camera films the same board at the same moments (videos started together, or one photo per
camera per moment). In every image where the board is found, its pose in that camera comes from
solvePnP on its corners (the camera's own intrinsics). Cameras that saw the board at the same
moment are linked: camera 0 is the world's origin, and each further camera, taken in the order of
the most moments shared with those already placed, gets its pose through the board (the medoid of
the moments' estimates). A bundle adjustment (engine/multiview/bundle.py: each moment's board is a
rigid body of known corners) then refines every camera and board pose on every corner's pixel
reprojection error. The board's squares give the scale: no height or tape needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from engine.core.errors import InputError
from engine.core.video_files import is_video_file
from engine.multiview.board import IMAGE_SUFFIXES, Board
from engine.multiview.bundle import Observations, bundle_adjust, rodrigues
from engine.multiview.cameras import Camera, Rig, check_image_size
from engine.multiview.charuco import BoardView, CharucoBoard

MAX_MOMENTS = 80  # synchronised frames sampled, spread over the videos
CORNER_LOSS_PX = 1.0  # the robust loss's scale: corners are found to a fraction of a pixel
UNKNOWN_LENGTH_STEP = 30  # frames between moments of a video that gives neither its length nor its rate
NOTE_RMS_PX = 2.0  # a camera whose corners fit worse than this gets a note


@dataclass(frozen=True)
class BoardRig:
    rig: Rig
    rms_px: float  # every corner kept, after the bundle adjustment
    camera_rms_px: dict[str, float]
    moments: int  # moments where two cameras or more saw the board
    found: dict[str, int]  # per camera: moments it found the board in
    notes: list[str] = field(default_factory=list)


def synchronised_frames(inputs: list[Path], max_moments: int = MAX_MOMENTS) -> Iterator[tuple[str, list[np.ndarray]]]:
    """(label, one image per input) for each moment: the same frame index of every video (sampled,
    at most max_moments spread over the shortest), or the i-th photo of every folder."""
    import cv2

    for path in inputs:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    if all(p.is_dir() for p in inputs):
        photos = [sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES) for p in inputs]
        counts = {len(files) for files in photos}
        if len(counts) > 1 or 0 in counts:
            listed = ", ".join(f"{p.name}/ {len(files)}" for p, files in zip(inputs, photos))
            raise InputError(f"photos per camera: {listed}; give every camera one photo per moment, in the same order")
        for moment in zip(*photos):
            images = [cv2.imread(str(f)) for f in moment]
            for f, image in zip(moment, images):
                if image is None:
                    raise InputError(f"{f}: not an image OpenCV can read")
            yield moment[0].name, images
        return
    if not all(p.is_file() and is_video_file(p) for p in inputs):
        raise InputError("give every camera a video, or every camera a folder of photos (one per moment)")
    caps = [cv2.VideoCapture(str(p)) for p in inputs]
    try:
        count = min(int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) for cap in caps)
        if count > 0:
            wanted = set(np.linspace(0, count - 1, min(max_moments, count)).astype(int).tolist())
        else:  # a file that does not tell its length: one moment a second, up to max_moments
            step = max(1, int(round(caps[0].get(cv2.CAP_PROP_FPS) or UNKNOWN_LENGTH_STEP)))
            wanted = set(range(0, step * max_moments, step))
        index = -1
        while len(wanted) and index < max(wanted):
            index += 1
            if not all(cap.grab() for cap in caps):
                break
            if index in wanted:
                images = [cap.retrieve()[1] for cap in caps]
                if any(image is None for image in images):
                    break
                yield f"frame {index}", images
    finally:
        for cap in caps:
            cap.release()


def _pose_from_view(view: BoardView, camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """board -> camera (R, t) from one view's corners."""
    import cv2

    obj = view.object_points.astype(np.float64).reshape(-1, 1, 3)
    img = view.image_points.astype(np.float64).reshape(-1, 1, 2)
    _, rvecs, tvecs, _ = cv2.solvePnPGeneric(obj, img, camera.K, camera.dist, flags=cv2.SOLVEPNP_IPPE)
    rvec, tvec = cv2.solvePnPRefineLM(obj, img, camera.K, camera.dist, rvecs[0].copy(), tvecs[0].copy())
    return rodrigues(rvec), tvec.ravel()


def _medoid(poses: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The pose whose rotation is nearest all the others' (the sum of angles), a guard against a
    moment where a board's pose came out flipped."""
    costs = [sum(_angle(R, other[0]) for other in poses) for R, _ in poses]
    return poses[int(np.argmin(costs))]


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    """Radians between two rotations."""
    return float(np.arccos(np.clip((np.trace(a.T @ b) - 1) / 2, -1, 1)))


def calibrate_from_board(cameras: list[Camera], moments: Iterable[tuple[str, list[np.ndarray]]],
                         board: Board | CharucoBoard) -> BoardRig:
    """cameras: each one's intrinsics (poses ignored), in the order of each moment's images."""
    names = [c.name for c in cameras]
    found: list[dict[int, BoardView]] = []  # per moment: camera -> the corners it found
    notes: list[str] = []
    for label, images in moments:
        if not found:
            for cam, image in zip(cameras, images):
                note = check_image_size(cam, (image.shape[1], image.shape[0]), f"{cam.name} ({label})")
                if note:
                    notes.append(note)
        views = ((v, board.find(image)) for v, image in enumerate(images))
        found.append({v: view for v, view in views if view is not None})
    counts = {name: sum(v in f for f in found) for v, name in enumerate(names)}
    never = [name for name, n in counts.items() if n == 0]
    if never:
        raise InputError(f"{', '.join(never)}: the {board.label} board was found in none of {len(found)} moments; "
                         "check --board and show the board whole to every camera")
    together = [{v: (view, *_pose_from_view(view, cameras[v])) for v, view in f.items()} for f in found if len(f) >= 2]
    # a checkerboard that looks the same turned half a turn may be numbered from either end in each view
    half_turn = isinstance(board, Board) and board.columns % 2 == board.rows % 2
    turned = [{v: (_turned(view), *_pose_from_view(_turned(view), cameras[v])) for v, (view, _, _) in m.items()}
              for m in together] if half_turn else None
    poses = _chain(cameras, together, turned)
    return _adjust(cameras, poses, together, counts, notes)


def _turned(view: BoardView) -> BoardView:
    """The checkerboard's corners numbered from the other end (the board turned half a turn)."""
    return BoardView(view.ids, view.object_points, view.image_points[::-1].copy())


def _chain(cameras: list[Camera], together: list[dict], turned: list[dict] | None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Each camera's world -> camera pose, through the board poses of moments shared with a placed camera.
    turned: per moment, each view numbered from the other end, for a board that looks the same turned
    half a turn: the numbering whose camera pose agrees with the other moments' is kept (in `together`)."""
    poses = {0: (np.eye(3), np.zeros(3))}
    while len(poses) < len(cameras):
        shared = {v: [i for i, m in enumerate(together) if v in m and any(u in m for u in poses)]
                  for v in range(len(cameras)) if v not in poses}
        v, moments = max(shared.items(), key=lambda item: len(item[1]))
        if not moments:
            lost = [cameras[u].name for u in shared]
            placed = [cameras[u].name for u in sorted(poses)]
            raise InputError(f"{', '.join(lost)}: never saw the board at the same moment as "
                             f"{', '.join(placed)}; show the board to them and one of those together")
        candidates = []  # (world -> camera v, the moment, numbered from the other end)
        for i in moments:
            m = together[i]
            u = max((u for u in m if u in poses), key=lambda u: len(m[u][0].ids))
            Ru, tu = poses[u]
            _, Rbu, tbu = m[u]
            R_wb, t_wb = Ru.T @ Rbu, Ru.T @ (tbu - tu)  # board -> world
            options = [(m[v], False)] + ([(turned[i][v], True)] if turned else [])
            for (_, Rbv, tbv), flip in options:
                candidates.append(((Rbv @ R_wb.T, tbv - Rbv @ R_wb.T @ t_wb), i, flip))
        best = _medoid([c[0] for c in candidates])
        if turned:  # each moment keeps the numbering whose pose is nearer the agreed one
            for i in moments:
                nearest = min((c for c in candidates if c[1] == i), key=lambda c: _angle(c[0][0], best[0]))
                if nearest[2]:
                    together[i][v] = turned[i][v]
        poses[v] = best
    return poses


def _adjust(cameras, poses, together, counts, notes) -> BoardRig:
    import cv2

    bodies, cam_idx, body_idx, local, pixels = [], [], [], [], []
    for b, m in enumerate(together):
        u = max(m, key=lambda u: len(m[u][0].ids))
        (Ru, tu), (_, Rbu, tbu) = poses[u], m[u]
        R_wb, t_wb = Ru.T @ Rbu, Ru.T @ (tbu - tu)
        bodies.append(np.concatenate([cv2.Rodrigues(R_wb)[0].ravel(), t_wb]))
        for v, (view, _, _) in m.items():
            n = len(view.ids)
            cam_idx.append(np.full(n, v))
            body_idx.append(np.full(n, b))
            local.append(view.object_points.astype(np.float64))
            pixels.append(view.image_points.astype(np.float64))
    obs = Observations(np.concatenate(cam_idx), np.concatenate(body_idx), np.concatenate(local), np.concatenate(pixels))
    adjusted = bundle_adjust(cameras, [poses[v] for v in range(len(cameras))], np.array(bodies), obs, rigid=True,
                             loss_px=CORNER_LOSS_PX, max_nfev=100)
    rig = Rig(tuple(c.with_pose(R, t) for c, R, t in zip(cameras, adjusted.rotations, adjusted.translations)))
    err, kept = adjusted.errors_px, adjusted.kept
    per_camera = {}
    for v, c in enumerate(cameras):
        mine = obs.camera == v
        if (kept & mine).sum() < 0.5 * mine.sum():
            raise InputError(f"{c.name}: its views of the board disagree with the other cameras' (half its corners "
                             f"or more left out, median {np.median(err[mine]):.1f} px off); "
                             "check its intrinsics file and --board")
        per_camera[c.name] = float(np.sqrt(np.mean(err[kept & mine] ** 2)))
        if per_camera[c.name] > NOTE_RMS_PX:
            notes.append(f"{c.name}: {per_camera[c.name]:.2f} px RMS on the board's corners; check its intrinsics "
                         "(the same zoom and focus?) and hold the board still where it is seen")
    return BoardRig(rig, float(np.sqrt(np.mean(err[kept] ** 2))), per_camera, len(together), counts, notes)
