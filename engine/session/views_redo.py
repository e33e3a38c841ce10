"""A take recorded live from several cameras is redone by the offline pass of several cameras'
videos once recording stops, as one camera's live take is by `monocap process`'s (session/refine.py).

Live, the views are fused causally (left and right carried on from the last pose, the limbs held to
the lengths of the poses before) and filtered by the causal temporal stage. While a take is
recorded, every fused pose's views are kept beside it, crash-safe, as each view's person was
matched (the detector's keypoints, scores and its own 3D):

  NAME.views       append-only fixed-size records, one per pose of the take, flushed every `flush_s`
  NAME.views.json  the cameras' names and the records' layout; written first
  NAME.views.toml  the calibration the poses were fused with (Monocap TOML)

When the recording stops, `redo` fuses the whole take's views at once (multiview/triangulation
`fuse_views`, not causal) and runs the zero-lag temporal stage of `monocap process CAM1 CAM2`
(`multi_camera._take`). As a refined one-camera take, the redone take keeps the live take's frames,
one for one, with their recorded times; frames are evenly spaced at a take's fps, so its fps, and the
rate the temporal stage filters at, is the rate the poses were made at (under load, below the
cameras'). It replaces the live take's .npz in one rename; on any problem the live take stays.

    job = ViewsRedoJob.for_saved(saved, config)   # None: no views were kept beside the take
    with ViewsRedoer() as redoer:                  # a worker process, away from the live capture
        redoer.submit(job, on_done)                # on_done(refine.RefineResult)
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from engine.capture.detection import Detection
from engine.core.atomic import write_text_atomic
from engine.core.errors import InputError, OutputError, describe_error
from engine.core.keypoint_maps import map_keypoints
from engine.core.skeletons import MEDIAPIPE_33, MONOCAP_BODY
from engine.core.take import Take, load_npz, save_npz
from engine.multiview.calibration_files import read_calibration, write_calibration
from engine.multiview.cameras import Rig
from engine.multiview.triangulation import FusedPoints, fuse_views
from engine.session.multi_camera import _take, _View
from engine.session.multi_camera_live import camera_own_pose
from engine.session.pipeline import PipelineConfig
from engine.session.refine import Refiner, RefineResult

KEYPOINTS = MEDIAPIPE_33.num_joints
REDONE = "the whole-take fusion and zero-lag temporal stage of monocap process with several cameras"


def _dtype(views: int) -> np.dtype:
    return np.dtype([("kp", "<f4", (views, KEYPOINTS, 2)), ("scores", "<f4", (views, KEYPOINTS)),
                     ("world", "<f4", (views, KEYPOINTS, 3))])


def views_row(detections: Sequence, views: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One fused pose's views -> keypoints_px (V, 33, 2), scores (V, 33), world_m (V, 33, 3): NaN and
    0 for a view that did not see the person (a detection None)."""
    kp = np.full((views, KEYPOINTS, 2), np.nan)
    sc = np.zeros((views, KEYPOINTS))
    wm = np.full((views, KEYPOINTS, 3), np.nan)
    for v, det in enumerate(list(detections)[:views]):
        if det is None:
            continue
        kp[v], sc[v] = det.keypoints_px, det.scores
        if det.world_m is not None:
            wm[v] = det.world_m
    return kp, sc, wm


class ViewsRecorder:
    """The views of each pose of a take being recorded (TakeRecorder's NAME), beside it."""

    def __init__(self, folder: str | Path, name: str, rig: Rig, flush_s: float = 0.5):
        self.folder, self.name, self.rig, self.flush_s = Path(folder), name, rig, flush_s
        self._dtype = _dtype(len(rig))
        write_calibration(rig, self.folder / f"{name}.views.toml")
        header = {"cameras": list(rig.names), "views": len(rig), "num_keypoints": KEYPOINTS}
        write_text_atomic(self.folder / f"{name}.views.json", json.dumps(header))
        try:
            self._fh = open(self.folder / f"{name}.views", "ab")
        except OSError as exc:
            raise OutputError(f"{self.folder / name}.views: cannot record ({exc.strerror or exc})") from None
        self._last_flush = time.monotonic()

    def append(self, detections: Sequence) -> None:
        rec = np.zeros(1, self._dtype)
        rec["kp"], rec["scores"], rec["world"] = views_row(detections, len(self.rig))
        try:
            self._fh.write(rec.tobytes())
            if time.monotonic() - self._last_flush >= self.flush_s:
                self._flush()
        except OSError as exc:
            raise OutputError(f"{self.folder / self.name}.views: cannot record ({exc.strerror or exc}); "
                              "the take so far is kept") from None

    def _flush(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._last_flush = time.monotonic()

    def close(self) -> None:
        if not self._fh.closed:
            self._flush()
            self._fh.close()


def views_kept(take_path: str | Path) -> bool:
    """Whether a take's views were kept beside it (it was recorded from several cameras)."""
    base = Path(take_path).with_suffix("")
    return all(Path(f"{base}{s}").is_file() for s in (".views", ".views.json", ".views.toml"))


def read_views(take_path: str | Path) -> tuple[Rig, np.ndarray, np.ndarray, np.ndarray]:
    """The views kept beside a take -> (rig, keypoints_px (V, T, 33, 2), scores (V, T, 33),
    world_m (V, T, 33, 3)); a partial last record (a recording cut short) is left out."""
    base = Path(take_path).with_suffix("")
    header = json.loads(Path(f"{base}.views.json").read_text(encoding="utf-8"))
    names = list(header["cameras"])
    calibrated = read_calibration(f"{base}.views.toml")
    if list(calibrated.names) != names or int(header["num_keypoints"]) != KEYPOINTS:
        raise InputError(f"{base}.views.json: its cameras {', '.join(names)} are not its calibration's")
    dtype = _dtype(len(names))
    raw = Path(f"{base}.views").read_bytes()
    recs = np.frombuffer(raw[: len(raw) - len(raw) % dtype.itemsize], dtype=dtype)
    return (calibrated, np.moveaxis(recs["kp"].astype(np.float64), 0, 1),
            np.moveaxis(recs["scores"].astype(np.float64), 0, 1), np.moveaxis(recs["world"].astype(np.float64), 0, 1))


def pose_rate(take: Take) -> float:
    """The rate a live take's poses were made at, from their recorded times (its fps when it cannot tell)."""
    span = float(take.timestamps_s[-1] - take.timestamps_s[0]) if take.num_frames > 1 else 0.0
    return (take.num_frames - 1) / span if span > 0 else float(take.fps)


def first_camera_alone(fused: FusedPoints, rig: Rig, keypoints_px: np.ndarray, scores: np.ndarray,
                       world_m: np.ndarray) -> FusedPoints:
    """Poses the first camera alone saw (the others covered, or looking elsewhere) as live capture
    keeps them: that camera's own 3D placed by its keypoints (multi_camera_live.camera_own_pose),
    as the fused keypoints of those frames (world), so the redone take keeps a pose wherever the
    live one had one. One camera's depth differs from the triangulated one by some per cent, so each
    run of such frames is scaled along that camera's rays to meet the triangulated poses at its ends
    (the scale each end measures, linearly between them): no jump where the views come or go."""
    alone = (scores[0].max(axis=1) > 0) & ~(scores[1:].max(axis=2) > 0).any(axis=0)
    points = fused.points_m.copy()
    camera, root_index = rig[0], MONOCAP_BODY.parents.index(-1)

    def own_placed(t: int) -> tuple[np.ndarray, float] | None:
        """The first camera's own keypoints at frame t (its axes) and their root's distance."""
        if not (scores[0, t].max() > 0 and np.isfinite(world_m[0, t]).all()):
            return None
        own = camera_own_pose(camera, Detection(keypoints_px[0, t], scores[0, t], world_m[0, t], camera.image_size))
        if own is None:  # the keypoints moved so that their monocap_body root lands on the one placed
            return None
        placed = world_m[0, t] - map_keypoints(world_m[0, t][None], MONOCAP_BODY.name)[0, root_index] + own[1]
        return placed, float(np.linalg.norm(own[1]))

    def scale_at(t: int) -> float | None:
        """Triangulated root distance over the camera's own at frame t (None: not both there)."""
        if t < 0 or t >= len(points) or alone[t]:
            return None
        root = map_keypoints(camera.to_camera(points[t])[None], MONOCAP_BODY.name)[0, root_index]
        own = own_placed(t)
        if own is None or own[1] <= 0 or not np.isfinite(root).all():
            return None
        return float(np.linalg.norm(root)) / own[1]

    frames = np.flatnonzero(alone)
    for run in np.split(frames, np.flatnonzero(np.diff(frames) > 1) + 1) if len(frames) else []:
        ends = [scale_at(int(run[0]) - 1), scale_at(int(run[-1]) + 1)]
        known = [e for e in ends if e is not None]
        first, last = (ends[0], ends[1]) if len(known) == 2 else (known * 2 if known else [1.0, 1.0])
        for k, t in enumerate(run):
            own = own_placed(int(t))
            if own is not None:
                share = (k + 1) / (len(run) + 1)
                points[t] = (own[0] * ((1 - share) * first + share * last) - camera.t) @ camera.R  # camera axes -> world
    return replace(fused, points_m=points)


def redone_take(live: Take, rig: Rig, keypoints_px: np.ndarray, scores: np.ndarray, world_m: np.ndarray,
                config: PipelineConfig) -> Take:
    """The live take's poses fused again over the whole take and through the zero-lag temporal stage
    of `process_views`: the same frames, at their recorded times. InputError when the views kept do
    not cover the take's poses."""
    count = live.num_frames
    if keypoints_px.shape[1] < count:
        raise InputError(f"the cameras' keypoints kept hold {keypoints_px.shape[1]} of the take's {count} poses")
    kp, sc, wm = keypoints_px[:, :count], scores[:, :count], world_m[:, :count]
    fused = first_camera_alone(fuse_views(rig, kp, sc, wm), rig, kp, sc, wm)
    rate = pose_rate(live)
    names = list(rig.names)
    a_kp = kp[0] if live.keypoints_px is None else live.keypoints_px  # the first camera's, as recorded live
    a_sc = sc[0] if live.keypoint_scores is None else live.keypoint_scores
    take = _take(fused, rig, _View(Path(names[0]), rig[0], rate), a_kp, a_sc, config, rate, names)
    kept = {k: live.metadata[k] for k in ("source", "calibration", "recorded", "recovered") if k in live.metadata}
    metadata = {**take.metadata, **kept, "refined": REDONE, "live_fps": live.fps}
    return replace(take, timestamps_s=live.timestamps_s.copy(), image_size=live.image_size, metadata=metadata)


@dataclass(frozen=True)
class ViewsRedoJob:
    take_path: str  # the live take's .npz, replaced by the redone take
    config: PipelineConfig

    @classmethod
    def for_saved(cls, saved, config: PipelineConfig) -> "ViewsRedoJob | None":
        """The job for a take a rig saved (events.TakeSaved); None when no views were kept beside it."""
        return cls(str(saved.path), config) if views_kept(saved.path) and saved.take.num_frames else None


def redo(job: ViewsRedoJob) -> RefineResult:
    """Replaces the live take with the redone one; on any problem the live take stays, and the result
    says why in one line."""
    started = time.perf_counter()
    try:
        live = load_npz(job.take_path)
        take = redone_take(live, *read_views(job.take_path), job.config)
        save_npz(take, job.take_path)
    except Exception as exc:  # noqa: BLE001 - the live take is kept; the front end says why
        return RefineResult(job.take_path, error=describe_error(exc))
    return RefineResult(job.take_path, take.num_frames, round(time.perf_counter() - started, 2))


class ViewsRedoer(Refiner):
    """Redoes takes one after another in a worker process of its own, as the Refiner refines them."""

    def submit(self, job: ViewsRedoJob, on_done: Callable[[RefineResult], None]) -> None:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        future = self._pool.submit(redo, job)
        self._pending.append(future)

        def done(f: Future) -> None:
            self._pending = [p for p in self._pending if p is not f]
            if not f.cancelled():
                error = f.exception()
                on_done(f.result() if error is None else RefineResult(job.take_path, error=describe_error(error)))

        future.add_done_callback(done)


def redone_or_live(live: Take, rig: Rig, rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                   config: PipelineConfig) -> tuple[Take, str]:
    """A take captured live (multi_camera_live.take_from_live) redone from its poses' views
    (`views_row` each) -> (the redone take, ""), or (the live take, one line saying why it was kept)."""
    try:
        kp, sc, wm = (np.stack([row[i] for row in rows], axis=1) for i in range(3))
        return redone_take(live, rig, kp, sc, wm, config), ""
    except Exception as exc:  # noqa: BLE001 - the live take is kept; the front end says why
        return live, f"the take is kept as captured live: {describe_error(exc)}"
