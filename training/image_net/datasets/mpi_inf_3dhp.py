"""MPI-INF-3DHP: the training set's per-sequence annot.mat and the test set's annot_data.mat.

Training layout (as released; the videos extracted to frames by the user, e.g. with ffmpeg):

    <root>/S{1..8}/Seq{1,2}/annot.mat          annot2 / annot3: one cell per camera, each
                                               (frames, 56) pixels / (frames, 84) camera mm,
                                               28 joints (engine.core.skeletons order);
                                               cameras: the camera ids of the cells
    <root>/S{s}/Seq{q}/camera.calibration      the release's calibration (intrinsic 4x4 per camera)
    <root>/S{s}/Seq{q}/imageSequence/video_{cam}/frame_{frame:06d}.jpg   (frame counts from 1)

Test layout:

    <root>/mpi_inf_3dhp_test_set/TS{1..6}/annot_data.mat   annot2 (17 joints, px), univ_annot3
        (17 joints, mm, "universal" scale), valid_frame, activity_annotation
    <root>/mpi_inf_3dhp_test_set/TS{n}/imageSequence/img_{frame:06d}.jpg   (frame counts from 1)
    optional <root>/mpi_inf_3dhp_test_set/TS{n}/camera.calibration (without it, no perspective
    correction: the test set ships no intrinsics in annot_data.mat)

annot_data.mat is MATLAB v7.3 (HDF5) in the release; scipy reads older versions, so it is read
with scipy when possible and with h5py (if installed) otherwise. Both orientations of the arrays
are accepted. Scene types: TS1-2 green-screen studio, TS3-4 studio without green screen,
TS5-6 outdoor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from engine.core.errors import InputError
from engine.core.skeletons import (
    MPI_INF_3DHP_17,
    MPI_INF_3DHP_17_FILE_ORDER,
    MPI_INF_3DHP_28,
    MPI_INF_3DHP_28_FILE_ORDER,
    file_order_permutation,
)
from training.image_net.datasets.image_samples import PoseSample, require_dir

TEST_SCENES = {1: "studio_greenscreen", 2: "studio_greenscreen", 3: "studio", 4: "studio",
               5: "outdoor", 6: "outdoor"}
ACTIVITIES = {1: "standing_walking", 2: "exercising", 3: "sitting", 4: "reaching_crouching",
              5: "on_the_floor", 6: "sports", 7: "miscellaneous"}
DEFAULT_TRAIN_CAMERAS = (0, 1, 2, 4, 5, 6, 7, 8)  # the chest-height and low cameras commonly used


def read_calibration(path: str | Path) -> dict[int, np.ndarray]:
    """camera.calibration -> {camera id: 3x3 K}."""
    cams: dict[int, np.ndarray] = {}
    current = None
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "name":
            current = int(parts[1])
        elif parts[0] == "intrinsic" and current is not None:
            m = np.array([float(v) for v in parts[1:17]]).reshape(4, 4)
            cams[current] = m[:3, :3]
    return cams


def _loadmat(path: Path) -> dict:
    try:
        return scipy.io.loadmat(str(path))
    except NotImplementedError:  # MATLAB v7.3 = HDF5
        try:
            import h5py
        except ImportError:
            raise InputError(f"{path}: MATLAB v7.3 file; install h5py or re-save it with "
                             "save(..., '-v7') in MATLAB/Octave") from None
        with h5py.File(path, "r") as fh:
            return {k: np.array(fh[k]) for k in fh.keys() if isinstance(fh[k], h5py.Dataset)}
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable .mat file ({exc})") from None


def frames_joints_coords(arr: np.ndarray, num_joints: int, coords: int) -> np.ndarray:
    """Any orientation of a (frames, joints, coords) array, with singleton axes -> (N, J, C)."""
    a = np.squeeze(np.asarray(arr, dtype=np.float64))
    if a.ndim == 1:
        a = a[None]
    if a.ndim == 2:  # (N, J*C) flattened per frame, or (J, C) for one frame
        if a.shape == (num_joints, coords):
            return a[None]
        if a.shape[1] == num_joints * coords:
            return a.reshape(len(a), num_joints, coords)
        if a.shape[0] == num_joints * coords:
            return a.T.reshape(-1, num_joints, coords)
        raise ValueError(f"cannot read {a.shape} as frames x {num_joints} x {coords}")
    if a.ndim == 3:
        j_ax = [i for i, n in enumerate(a.shape) if n == num_joints]
        c_ax = [i for i, n in enumerate(a.shape) if n == coords and i not in j_ax[:1]]
        if not j_ax or not c_ax:
            raise ValueError(f"cannot read {a.shape} as frames x {num_joints} x {coords}")
        f_ax = ({0, 1, 2} - {j_ax[0], c_ax[0]}).pop()
        return np.transpose(a, (f_ax, j_ax[0], c_ax[0]))
    raise ValueError(f"cannot read {a.shape} as frames x {num_joints} x {coords}")


def _cells(x) -> list[np.ndarray]:
    x = np.asarray(x)
    if x.dtype == object:
        return [np.asarray(c) for c in x.ravel()]
    return [x]


def read_mpi_inf_3dhp_train(root: str | Path, subjects=range(1, 9), sequences=(1, 2),
                            cameras=DEFAULT_TRAIN_CAMERAS, frame_step: int = 10,
                            image_pattern: str = "imageSequence/video_{camera}/frame_{frame:06d}.jpg") -> list[PoseSample]:
    """PoseSamples (skeleton mpi_inf_3dhp_28, 3D in camera metres) of the training sequences."""
    root = require_dir(root, "MPI-INF-3DHP")
    perm = file_order_permutation(MPI_INF_3DHP_28, MPI_INF_3DHP_28_FILE_ORDER)
    samples: list[PoseSample] = []
    for s in subjects:
        for q in sequences:
            seq = root / f"S{s}" / f"Seq{q}"
            annot_path = seq / "annot.mat"
            if not annot_path.exists():
                raise InputError(f"{annot_path}: missing (see the MPI-INF-3DHP layout in docs/IMAGE_NETWORK.md)")
            annot = _loadmat(annot_path)
            cam_ids = [int(c) for c in np.asarray(annot.get("cameras", np.arange(14))).ravel()]
            calib = read_calibration(seq / "camera.calibration") if (seq / "camera.calibration").exists() else {}
            a2, a3 = _cells(annot["annot2"]), _cells(annot["annot3"])
            for cell, cam in enumerate(cam_ids):
                if cam not in cameras:
                    continue
                p2 = frames_joints_coords(a2[cell], 28, 2)[:, perm]
                p3 = frames_joints_coords(a3[cell], 28, 3)[:, perm] / 1000.0
                for f in range(0, len(p2), frame_step):
                    samples.append(PoseSample(
                        skeleton=MPI_INF_3DHP_28.name, joints2d_px=p2[f], visible2d=np.ones(28, dtype=bool),
                        image_path=str(seq / image_pattern.format(camera=cam, frame=f + 1)),
                        joints3d_m=p3[f], K_cam=calib.get(cam), subject=f"S{s}", group=f"S{s}",
                        meta={"camera": cam, "frame": f, "sequence": q},
                    ))
    return samples


def read_mpi_inf_3dhp_test(root: str | Path, sequences=range(1, 7), frame_step: int = 1,
                           image_pattern: str = "imageSequence/img_{frame:06d}.jpg") -> list[PoseSample]:
    """PoseSamples (skeleton mpi_inf_3dhp_17) of the valid test frames, grouped by scene type.

    3D is univ_annot3 (millimetres -> metres), camera axes; meta holds the activity label.
    """
    root = require_dir(root, "MPI-INF-3DHP")
    base = root / "mpi_inf_3dhp_test_set" if (root / "mpi_inf_3dhp_test_set").is_dir() else root
    perm = file_order_permutation(MPI_INF_3DHP_17, MPI_INF_3DHP_17_FILE_ORDER)
    samples: list[PoseSample] = []
    for n in sequences:
        seq = base / f"TS{n}"
        path = seq / "annot_data.mat"
        if not path.exists():
            raise InputError(f"{path}: missing (see the MPI-INF-3DHP layout in docs/IMAGE_NETWORK.md)")
        annot = _loadmat(path)
        p2 = frames_joints_coords(annot["annot2"], 17, 2)[:, perm]
        p3 = frames_joints_coords(annot["univ_annot3"], 17, 3)[:, perm] / 1000.0
        valid = np.asarray(annot["valid_frame"]).ravel().astype(bool)
        act = np.asarray(annot.get("activity_annotation", np.zeros(len(valid)))).ravel().astype(int)
        calib = read_calibration(seq / "camera.calibration") if (seq / "camera.calibration").exists() else {}
        K = next(iter(calib.values())) if calib else None
        for f in range(0, len(p2), frame_step):
            if not valid[f]:
                continue
            samples.append(PoseSample(
                skeleton=MPI_INF_3DHP_17.name, joints2d_px=p2[f], visible2d=np.ones(17, dtype=bool),
                image_path=str(seq / image_pattern.format(frame=f + 1)), joints3d_m=p3[f], K_cam=K,
                subject=f"TS{n}", group=TEST_SCENES.get(n, f"TS{n}"),
                meta={"frame": f, "activity": ACTIVITIES.get(int(act[f]), str(act[f]))},
            ))
    return samples
