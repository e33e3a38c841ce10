"""Records a take as it grows, so a crash loses at most a second of it.

Files in the takes folder, for a take named NAME:
  NAME.rec.json  what the records hold (skeleton, keypoint count, fps, image size); written first
  NAME.rec       append-only fixed-size records, one per frame, flushed and synced every `flush_s`;
                 takes with fingers (MONOCAP_HANDS) also keep both hands' 2D keypoints in each
                 (the header's `num_hand_keypoints`; recordings without it have none)
  NAME.avi       the images (MJPG), so playback can show them
  NAME.npz       the finished take (engine.core.take.save_npz, written atomically); the .rec files are
                 then removed. A .rec without an .npz is a take that was cut short: `recover()`.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np

from engine.capture.hands import NUM_HAND_KEYPOINTS
from engine.core import skeletons
from engine.core.atomic import ensure_writable_dir, write_text_atomic
from engine.core.errors import InputError, OutputError
from engine.core.npz_inspect import npz_headers
from engine.core.skeletons import MEDIAPIPE_33, Skeleton, frame_joints
from engine.core.take import Take, load_npz, save_npz


def _record_dtype(num_joints: int, num_keypoints: int, num_hand_keypoints: int = 0) -> np.dtype:
    fields = [("t", "<f8"), ("valid", "u1"), ("joints", "<f4", (num_joints, 3)),
              ("kp", "<f4", (num_keypoints, 2)), ("scores", "<f4", (num_keypoints,))]
    if num_hand_keypoints:
        fields.append(("hands", "<f4", (2, num_hand_keypoints, 2)))
    return np.dtype(fields)


def next_take_name(folder: Path, prefix: str = "take") -> str:
    """The first NAME free in `folder`; NAME_pN (a person's take of a recording of everyone) uses NAME."""
    used = {re.sub(r"_p\d+$", "", p.name.split(".")[0]) for p in folder.glob(f"{prefix}_*")}
    i = 1
    while f"{prefix}_{i:03d}" in used:
        i += 1
    return f"{prefix}_{i:03d}"


class TakeRecorder:
    def __init__(self, folder: str | Path, name: str, skeleton: Skeleton, fps: float, source_name: str = "",
                 keypoint_skeleton: Skeleton = MEDIAPIPE_33, flush_s: float = 0.5, write_video: bool = True,
                 metadata: dict | None = None, t0_s: float | None = None):
        """t0_s: the time the take's timestamps count from (None: its first frame's)."""
        self.folder = ensure_writable_dir(folder)
        self.name = name
        self.skeleton = skeleton
        self._needed = frame_joints(skeleton)  # a hand out of view leaves the frame valid
        self.keypoint_skeleton = keypoint_skeleton
        self.fps = fps
        self.flush_s = flush_s
        self.frames = 0
        self._hand_keypoints = NUM_HAND_KEYPOINTS if len(self._needed) < skeleton.num_joints else 0
        self._dtype = _record_dtype(skeleton.num_joints, keypoint_skeleton.num_joints, self._hand_keypoints)
        self._header = {
            "name": name, "skeleton": skeleton.name, "joint_names": list(skeleton.joint_names),
            "parents": list(skeleton.parents), "keypoint_skeleton": keypoint_skeleton.name,
            "num_keypoints": keypoint_skeleton.num_joints, "fps": fps, "source": source_name,
            "image_size": None, "metadata": metadata or {},
        }
        if self._hand_keypoints:
            self._header["num_hand_keypoints"] = self._hand_keypoints
        write_text_atomic(self.header_path, json.dumps(self._header))
        try:
            self._fh = open(self.rec_path, "ab")
        except OSError as exc:
            raise OutputError(f"{self.rec_path}: cannot record ({exc.strerror or exc})") from None
        self._last_flush = time.monotonic()
        self._write_video = write_video
        self._video = None
        self.video_path: Path | None = None
        self._t0: float | None = t0_s

    @property
    def rec_path(self) -> Path:
        return self.folder / f"{self.name}.rec"

    @property
    def header_path(self) -> Path:
        return self.folder / f"{self.name}.rec.json"

    def append(self, timestamp_s: float, joints_m: np.ndarray | None, keypoints_px: np.ndarray | None,
               scores: np.ndarray | None, image=None, hands_px: np.ndarray | None = None) -> None:
        """hands_px: (2, 21, 2) both hands' keypoints (NaN where not found), kept by takes with
        fingers."""
        rec = np.zeros(1, self._dtype)
        self._t0 = timestamp_s if self._t0 is None else self._t0
        rec["t"] = timestamp_s - self._t0
        if joints_m is not None and np.isfinite(joints_m[self._needed]).all():
            rec["valid"] = 1
            rec["joints"] = joints_m
        else:
            rec["joints"] = np.nan
        if keypoints_px is not None:
            rec["kp"] = keypoints_px
            rec["scores"] = scores
        if self._hand_keypoints:
            rec["hands"] = np.nan if hands_px is None else hands_px
        try:
            self._fh.write(rec.tobytes())
            if image is not None and self._write_video:
                self._add_image(image)
            now = time.monotonic()
            if now - self._last_flush >= self.flush_s:
                self.flush()
        except OSError as exc:
            raise OutputError(f"{self.rec_path}: cannot record ({exc.strerror or exc}); the take so far is kept") from None
        self.frames += 1

    def _add_image(self, image: np.ndarray) -> None:
        import cv2

        if self._video is None:
            h, w = image.shape[:2]
            self._header["image_size"] = [w, h]
            write_text_atomic(self.header_path, json.dumps(self._header))
            self.video_path = self.folder / f"{self.name}.avi"
            self._video = cv2.VideoWriter(str(self.video_path), cv2.VideoWriter_fourcc(*"MJPG"), self.fps, (w, h))
            if not self._video.isOpened():
                self._video = None
                self._write_video = False
                self.video_path = None
                return
        self._video.write(image)

    def flush(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._last_flush = time.monotonic()

    def finish(self) -> tuple[Take, Path]:
        """Closes the files and writes NAME.npz; returns the take and its path."""
        if self._video is not None:
            self._video.release()
            self._video = None
        if not self._fh.closed:
            self.flush()
            self._fh.close()
        take = read_recording(self.folder, self.name)
        path = save_npz(take, self.folder / f"{self.name}.npz")
        self.rec_path.unlink(missing_ok=True)
        self.header_path.unlink(missing_ok=True)
        return take, path

    def close(self) -> None:
        """Flushes and closes the records, keeping them (read_recording reads them)."""
        if not self._fh.closed:
            self.flush()
            self._fh.close()

    def abort(self) -> None:
        """Closes the files, keeping what was written (recoverable)."""
        try:
            if self._video is not None:
                self._video.release()
            if not self._fh.closed:
                self._fh.close()
        except OSError:
            pass


def read_recording(folder: str | Path, name: str) -> Take:
    """The frames of NAME.rec as a Take (a partial last record is ignored)."""
    folder = Path(folder)
    header = json.loads((folder / f"{name}.rec.json").read_text(encoding="utf-8"))
    names = tuple(header["joint_names"])
    parents = tuple(header["parents"])
    try:
        skeleton = skeletons.get(header["skeleton"])
        if skeleton.joint_names != names:
            raise KeyError
    except KeyError:
        skeleton = Skeleton(header["skeleton"], names, parents)
    try:
        kp_skeleton = skeletons.get(header["keypoint_skeleton"])
    except KeyError:
        kp_skeleton = None
    num_hand_keypoints = int(header.get("num_hand_keypoints", 0))
    dtype = _record_dtype(len(names), int(header["num_keypoints"]), num_hand_keypoints)
    raw = (folder / f"{name}.rec").read_bytes()
    usable = len(raw) - len(raw) % dtype.itemsize
    recs = np.frombuffer(raw[:usable], dtype=dtype)
    valid = recs["valid"].astype(bool)
    joints = recs["joints"].astype(np.float64)
    joints[~valid] = np.nan
    size = header.get("image_size")
    metadata = {"source": header.get("source", ""), "recorded": "live (causal temporal stage)", **header.get("metadata", {})}
    return Take(joints_m=joints, skeleton=skeleton, fps=float(header["fps"]), timestamps_s=recs["t"].astype(np.float64),
                valid=valid, keypoints_px=recs["kp"].astype(np.float64), keypoint_scores=recs["scores"].astype(np.float64),
                keypoint_skeleton=kp_skeleton, image_size=tuple(size) if size else None, metadata=metadata,
                hand_keypoints_px=recs["hands"].astype(np.float64) if num_hand_keypoints else None)


def recover_all(folder: str | Path) -> list[tuple[str, Path]]:
    """Turns every cut-short recording in `folder` into NAME.npz; returns (name, path) of each."""
    folder = Path(folder)
    out = []
    if not folder.is_dir():
        return out
    for header in sorted(folder.glob("*.rec.json")):
        name = header.name[: -len(".rec.json")]
        rec = folder / f"{name}.rec"
        if not rec.exists() or (folder / f"{name}.npz").exists():
            continue
        try:
            take = read_recording(folder, name)
            if take.num_frames == 0:
                continue
            take.metadata["recovered"] = True
            path = save_npz(take, folder / f"{name}.npz")
            rec.unlink(missing_ok=True)
            header.unlink(missing_ok=True)
            out.append((name, path))
        except (OSError, ValueError, KeyError):
            continue
    return out


def list_takes(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    return sorted(folder.glob("*.npz")) if folder.is_dir() else []


def take_summary(path: str | Path) -> tuple[int, float]:
    """(frames, fps) of a take file without loading its joints (for the takes list)."""
    headers = npz_headers(Path(path))  # the frame count from its header: nothing is unpacked
    if "valid" not in headers or "fps" not in headers:
        raise InputError(f"{path}: not a Monocap take (no valid or fps)")
    with np.load(Path(path), allow_pickle=False) as data:
        return int(headers["valid"].shape[0]), float(data["fps"])


def load_take(path: str | Path) -> tuple[Take, Path | None]:
    """A recorded take and its video; any other take file (.bvh, .csv, .trc, an .npz from
    elsewhere) on Monocap's body where its skeleton maps onto it, with its fingers where it has
    three joints on every finger."""
    path = Path(path)
    video = path.with_suffix(".avi")
    from engine.animation.formats import read_take_as_body
    from engine.animation.rig_mappings import on_body_if_possible

    if path.suffix.lower() != ".npz":
        return read_take_as_body(path), None
    take = load_npz(path)
    if "rest_pose_m" in take.metadata:  # motion from a BVH elsewhere, saved as NPZ
        take = on_body_if_possible(take, str(path))
    return take, video if video.exists() else None
