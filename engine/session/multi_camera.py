"""Several calibrated cameras' videos of one take -> one Take, as `monocap process` makes from one.

    result = process_views(["cam1.mp4", "cam2.mp4"], read_calibration("rig.toml"), config)
    write_outputs(result.take, out_dir, stem, formats)

Each video goes through the detector and the people tracker of one camera (one after the other,
memory holding keypoints only); the person the lock-on rule follows in the first view that sees
anyone is found in every other view (engine/multiview/matching.py); the time offset between the
files is found from the motion itself (engine/multiview/sync.py); the views are fused into world
3D (engine/multiview/triangulation.py: confidence-weighted, left/right resolved per view,
outliers dropped, the monocular 3D where one view alone sees a keypoint); and the joints, in the
first view's camera axes, go through the same temporal stage as one camera's (bones, level,
floor), so the take, its files and everything after are one camera's. A view that cannot be used
(another frame rate, nobody in it, a wrong image size) is left out with a note while two remain.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine import __version__
from engine.capture.detector import PoseDetector
from engine.capture.frames import open_source
from engine.capture.people_tracks import PeopleTracks
from engine.core.errors import InputError, NoValidFramesError
from engine.core.keypoint_maps import map_keypoints
from engine.core.skeletons import MEDIAPIPE_33, MONOCAP_BODY
from engine.core.take import Take
from engine.motion.temporal import offline_temporal
from engine.multiview.cameras import Camera, Rig, check_image_size
from engine.multiview.matching import match_person
from engine.multiview.sync import find_offset
from engine.multiview.triangulation import MONOCULAR, TRIANGULATED, fuse_views
from engine.session.pipeline import CancelFlag, PipelineConfig, Progress, detect_people_source, take_from_track

FPS_TOLERANCE = 0.02  # cameras whose rates differ by more than this share are not grouped frame by frame


@dataclass
class MultiViewResult:
    take: Take
    notes: list[str] = field(default_factory=list)  # for the user: views left out, crops, offsets
    views: list[dict] = field(default_factory=list)  # per view: name, camera, offset_frames, person_frames


def assign_cameras(paths: list[Path], rig: Rig) -> list[Camera]:
    """The camera of each video: by name when every video's file name holds one camera's name
    (cam01.mp4 -> cam01), else in order. InputError when there are more videos than cameras."""
    if len(paths) > len(rig):
        raise InputError(f"{len(paths)} videos but the calibration has {len(rig)} cameras ({', '.join(rig.names)})")
    by_name = []
    for path in paths:
        stem = path.stem.lower()
        hits = [c for c in rig.cameras if c.name.lower() == stem] or \
               [c for c in rig.cameras if c.name.lower() in stem or stem in c.name.lower()]
        by_name.append(hits[0] if len(hits) == 1 else None)
    if all(c is not None for c in by_name) and len({c.name for c in by_name}) == len(paths):
        return by_name
    return list(rig.cameras[: len(paths)])


@dataclass
class _View:
    path: Path
    camera: Camera
    fps: float
    tracks: PeopleTracks | None = None


def _open_views(paths: list[Path], rig: Rig, notes: list[str]) -> list[_View]:
    views = []
    for path, camera in zip(paths, assign_cameras(paths, rig)):
        source = open_source(path)
        try:
            size = getattr(source, "image_size", None)
            if size is not None:
                note = check_image_size(camera, size, path.name)
                if note:
                    notes.append(note)
            views.append(_View(path, camera, source.fps))
        finally:
            source.close()
    def agreeing(rate: float) -> list[_View]:
        return [v for v in views if abs(v.fps - rate) <= FPS_TOLERANCE * rate]

    reference = max(views, key=lambda v: len(agreeing(v.fps)))  # the rate most cameras share
    kept = agreeing(reference.fps)
    for v in views:
        if v not in kept:
            notes.append(f"{v.path.name}: {v.fps:g} fps against {reference.fps:g} fps of {reference.path.name}: "
                         "left out (record every camera at one frame rate)")
    if len(kept) < 2:
        rates = ", ".join(f"{v.path.name} {v.fps:g} fps" for v in views)
        raise InputError(f"the videos disagree on frame rate ({rates}); set every camera to one rate and record again")
    return kept


def _detect(views: list[_View], config: PipelineConfig, progress: Progress | None, cancel: CancelFlag | None,
            detected: dict | None = None) -> None:
    done = 0
    for view in views:
        if detected is not None and view.path in detected:
            view.tracks = detected[view.path]
            continue
        source = open_source(view.path)
        total = source.frame_count

        def report(n: int, _total: int | None, base: int = done) -> None:
            if progress is not None:
                progress(base + n, None)

        try:
            with PoseDetector(config.detector) as detector:
                view.tracks = detect_people_source(source, detector, report, cancel, people=config.people)
        finally:
            source.close()
        if detected is not None:
            detected[view.path] = view.tracks
        done += total or len(view.tracks)


def person_keypoints(paths: list[str | Path], config: PipelineConfig = PipelineConfig(),
                     progress: Progress | None = None, cancel: CancelFlag | None = None,
                     detected: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The person each video's lock-on rule follows, frame by frame, for calibrating from the person:
    keypoints_px (V, T, 33, 2) and scores (V, T, 33), 0 where nobody; T the shortest video's frames
    (the videos are taken to start together). InputError when a video sees nobody."""
    arrays = person_keypoints_per_view(paths, config, progress, cancel, detected)
    length = min(len(a[0]) for a in arrays)
    return np.stack([a[0][:length] for a in arrays]), np.stack([a[1][:length] for a in arrays])


def person_keypoints_per_view(paths: list[str | Path], config: PipelineConfig = PipelineConfig(),
                              progress: Progress | None = None, cancel: CancelFlag | None = None,
                              detected: dict | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """person_keypoints' arrays per video, each its whole length: [(keypoints_px (T_v, 33, 2), scores (T_v, 33))]."""
    views = [_View(Path(p), None, 0.0) for p in paths]
    _detect(views, config, progress, cancel, detected)
    arrays = []
    for view in views:
        chosen = view.tracks.chosen()
        if chosen is None:
            raise InputError(f"{view.path.name}: nobody was seen in it; every camera must see the person")
        arrays.append(_person_arrays(view.tracks, chosen)[:2])
    return arrays


def _person_arrays(tracks: PeopleTracks, person_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    track = tracks.track(person_id)
    scores = np.where(track.valid[:, None], track.scores, 0.0).astype(np.float64)
    return track.keypoints_px.astype(np.float64), scores, track.world_m.astype(np.float64)


def _shifted(array: np.ndarray, offset: int, length: int, fill: float = np.nan) -> np.ndarray:
    """array's rows i + offset for i in [0, length), `fill` outside it."""
    out = np.full((length,) + array.shape[1:], fill, dtype=np.float64)
    src = np.arange(length) + offset
    ok = (src >= 0) & (src < len(array))
    out[ok] = array[src[ok]]
    return out


def _views_seeing_someone(paths: list[Path], rig: Rig, config: PipelineConfig, progress: Progress | None,
                          cancel: CancelFlag | None, detected: dict | None, notes: list[str], outcome: str) -> list[_View]:
    """The videos' views, detected, without those nobody was seen in (each said in `notes`: "...; {outcome}
    from the other views"). NoValidFramesError when nobody was seen in any."""
    views = _open_views(paths, rig, notes)
    _detect(views, config, progress, cancel, detected)
    seen = [v for v in views if v.tracks.chosen() is not None]
    for v in views:
        if v not in seen:
            notes.append(f"{v.path.name}: nobody was seen in it; {outcome} from the other views")
    if not seen:
        raise NoValidFramesError(f"nobody was found in any frame of {', '.join(p.name for p in paths)}")
    return seen


def process_views(paths: list[str | Path], rig: Rig, config: PipelineConfig = PipelineConfig(),
                  progress: Progress | None = None, cancel: CancelFlag | None = None,
                  detected: dict | None = None) -> MultiViewResult:
    """The take of the person followed, from two or more calibrated videos of the same moment.
    detected: {path: PeopleTracks} views already detected (used, and filled with those detected now)."""
    started = time.perf_counter()
    paths = [Path(p) for p in paths]
    notes: list[str] = []
    seen = _views_seeing_someone(paths, rig, config, progress, cancel, detected, notes, "the take comes")
    anchor = seen[0]
    fps = anchor.fps
    if len(seen) == 1:
        notes.append(f"only {anchor.path.name} sees the person: the take is that one camera's")
        chosen = anchor.tracks.chosen(config.people.min_frames(fps))
        take = take_from_track(anchor.tracks.track(chosen), fps, config, source_name=anchor.path.name)
        return MultiViewResult(take, notes, [{"name": anchor.path.name, "camera": anchor.camera.name}])
    chosen = anchor.tracks.chosen(config.people.min_frames(fps))
    a_kp, a_sc, a_w = _person_arrays(anchor.tracks, chosen)
    length = len(a_kp)
    kp, sc, wm = [a_kp], [a_sc], [a_w]
    report = [{"name": anchor.path.name, "camera": anchor.camera.name, "offset_frames": 0,
               "person_frames": int((a_sc > 0).any(axis=1).sum())}]
    for view in seen[1:]:
        rig2 = Rig((anchor.camera, view.camera))
        people = view.tracks.people()
        own = view.tracks.chosen(config.people.min_frames(fps))
        o_kp, o_sc, _ = _person_arrays(view.tracks, own)
        offset = find_offset(rig2, (a_kp, o_kp), (a_sc, o_sc), fps)
        if offset.frames:
            notes.append(f"{view.path.name} is {abs(offset.frames) / fps:.3f} s "
                         f"{'behind' if offset.frames > 0 else 'ahead of'} {anchor.path.name}: frames grouped by that offset")
        cands = [_person_arrays(view.tracks, pid) for pid in people]
        c_kp = np.stack([_shifted(c[0], offset.frames, length) for c in cands])
        c_sc = np.stack([_shifted(c[1], offset.frames, length, 0.0) for c in cands])
        c_w = np.stack([_shifted(c[2], offset.frames, length) for c in cands])
        pick = match_person(rig2, a_kp, a_sc, c_kp, c_sc)
        rows = np.arange(length)
        got = pick >= 0
        v_kp = np.full_like(a_kp, np.nan)
        v_sc = np.zeros_like(a_sc)
        v_w = np.full_like(a_w, np.nan)
        v_kp[got], v_sc[got], v_w[got] = c_kp[pick[got], rows[got]], c_sc[pick[got], rows[got]], c_w[pick[got], rows[got]]
        kp.append(v_kp)
        sc.append(v_sc)
        wm.append(v_w)
        report.append({"name": view.path.name, "camera": view.camera.name, "offset_frames": int(offset.frames),
                       "person_frames": int(got.sum())})
        if not got.any():
            notes.append(f"{view.path.name}: the person followed in {anchor.path.name} was never matched in it")
    used = Rig(tuple(v.camera for v in seen))
    fused = fuse_views(used, np.stack(kp), np.stack(sc), np.stack(wm))
    take = _take(fused, used, anchor, a_kp, a_sc, config, fps, [v.path.name for v in seen])
    for row, swaps in zip(report, fused.swapped):
        row["left_right_swapped_frames"] = int(swaps.any(axis=1).sum())
    take.metadata["multiview"] = {"views": report, "notes": notes}
    take.metadata["processing_s"] = round(time.perf_counter() - started, 3)
    return MultiViewResult(take, notes, report)


def _take(fused, rig: Rig, anchor: _View, a_kp: np.ndarray, a_sc: np.ndarray, config: PipelineConfig, fps: float,
          names: list[str], origin_m: np.ndarray | None = None) -> Take:
    """The fused keypoints through the one-camera temporal stage, in the anchor camera's axes;
    origin_m: another person's take's metadata["origin_m"], to place several people in one world."""
    skeleton = MONOCAP_BODY
    have = np.isfinite(fused.points_m).all(axis=-1)
    joints_world = map_keypoints(np.where(have[..., None], fused.points_m, 0.0), skeleton.name)
    lacking = map_keypoints((~have)[..., None].astype(np.float64), skeleton.name)[..., 0] != 0
    joints_world[lacking] = np.nan  # a joint is missing where a keypoint it is made of is
    cam = anchor.camera
    joints_cam = cam.to_camera(joints_world)
    valid = np.isfinite(joints_cam).all(axis=(1, 2))
    if not valid.any():
        raise NoValidFramesError(f"{', '.join(names)}: no frame where the views agree on the whole person")
    root_idx = skeleton.parents.index(-1)
    root_cam = joints_cam[:, root_idx].copy()
    rel_cam = joints_cam - root_cam[:, None]
    joints, info = offline_temporal(np.where(valid[:, None, None], rel_cam, 0.0), root_cam, valid, fps, skeleton,
                                    config.smoothing, config.root_motion, origin_m)
    source = fused.source
    info["multiview"] = True
    metadata = {
        "monocap_version": __version__,
        "source": " + ".join(names),
        "config": config.to_dict(),
        "temporal": "offline zero-phase",
        "three_d": "triangulated from calibrated cameras",
        "cameras": list(rig.names),
        "frames": len(valid),
        "valid_frames": int(valid.sum()),
        "keypoints_triangulated_share": round(float((source == TRIANGULATED).mean()), 4),
        "keypoints_monocular_share": round(float((source == MONOCULAR).mean()), 4),
        "mean_reprojection_px": round(float(np.nanmean(fused.reproj_px)), 2) if np.isfinite(fused.reproj_px).any() else None,
        **info,
    }
    return Take(
        joints_m=joints,
        skeleton=skeleton,
        fps=fps,
        timestamps_s=np.arange(len(valid)) / fps,
        valid=valid,
        keypoints_px=a_kp,
        keypoint_scores=a_sc,
        keypoint_skeleton=MEDIAPIPE_33,
        image_size=None if anchor.tracks is None else anchor.tracks.image_size,  # None: a live take's redo sets it
        metadata=metadata,
    )
