"""Where the cameras stand, from the person alone: no board (docs/MULTICAMERA.md).

    rig = calibrate_from_person(cameras, keypoints_px, scores, scale=PersonHeight(1.75))

Synchronised views of someone moving about give thousands of correspondences: the same body
keypoint at the same instant in every view. The first camera is the world's origin; the camera
that shares the most confident keypoints with it gets its pose from the essential matrix
(RANSAC), the points both see are triangulated, each further camera is placed on them (PnP with
RANSAC), and a bundle adjustment (scipy.optimize.least_squares, robust loss, sparse Jacobian)
refines every pose and point together on the pixel reprojection error (engine/multiview/bundle.py). The scale, which no image
gives, comes from the person's height or from one known length (the distance between two cameras).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.core.errors import InputError
from engine.multiview.bundle import Observations, bundle_adjust, rodrigues
from engine.multiview.cameras import Camera, Rig
from engine.multiview.triangulation import dlt

SURE_SCORE = 0.8  # keypoints used as correspondences: at least this confident in every view that counts
MAX_FRAMES = 150  # frames spread over the take that the bundle adjustment uses
MIN_SHARED = 50  # confident correspondences a camera needs with those already placed
RANSAC_PX = 4.0  # pixels: essential-matrix and PnP inliers
BA_LOSS_PX = 3.0  # the robust loss's scale: keypoints further off count less and less
OUTLIER_ROUNDS = 1  # bundle adjustments again without the observations off by OUTLIER_TIMES_MEDIAN
OUTLIER_TIMES_MEDIAN = 3.0
# Body keypoints used: shoulders to feet (the face's keypoints crowd together and flip between views).
BODY = tuple(range(11, 33))
# The person's stature from the chain ankle-knee-hip-shoulder-nose: that chain is this share of it
# (Drillis and Contini's segment proportions: nose at 0.91 H, ankle at 0.04 H).
CHAIN_SHARE_OF_HEIGHT = 0.87


@dataclass(frozen=True)
class PersonHeight:
    metres: float


@dataclass(frozen=True)
class CameraDistance:
    """The measured distance between two cameras' centres, e.g. with a tape."""

    a: str
    b: str
    metres: float


@dataclass(frozen=True)
class SelfCalibration:
    rig: Rig
    reprojection_px: float  # median after the bundle adjustment
    points: int  # 3D points adjusted
    observations: int
    scale_note: str
    camera_px: dict[str, float] = field(default_factory=dict)  # per camera: median reprojection error


def _frames_used(scores: np.ndarray) -> np.ndarray:
    sure = (scores[:, :, BODY] >= SURE_SCORE).sum(axis=0)  # (T, K): views sure of each keypoint
    rich = np.flatnonzero((sure >= 2).sum(axis=1) >= 6)
    if len(rich) > MAX_FRAMES:
        rich = rich[np.linspace(0, len(rich) - 1, MAX_FRAMES).astype(int)]
    return rich


def _initial_pair(norm: np.ndarray, sure: np.ndarray, cameras: list[Camera]) -> tuple[int, np.ndarray, np.ndarray]:
    """The camera with the most essential-matrix inliers against camera 0, and its (R, t), |t| = 1."""
    import cv2

    best = None
    for v in range(1, len(cameras)):
        both = sure[0] & sure[v]
        if both.sum() < MIN_SHARED:
            continue
        a, b = norm[0][both], norm[v][both]
        thresh = RANSAC_PX / np.sqrt(cameras[0].K[0, 0] * cameras[v].K[0, 0])
        E, mask = cv2.findEssentialMat(a, b, np.eye(3), method=cv2.RANSAC, prob=0.999, threshold=thresh)
        if E is None:
            continue
        E = E[:3]
        inliers, R, t, _ = cv2.recoverPose(E, a, b, np.eye(3), mask=mask)
        if best is None or inliers > best[0]:
            best = (inliers, v, R, t.ravel())
    if best is None:
        raise InputError(f"no camera shares {MIN_SHARED} confident body keypoints with {cameras[0].name}: "
                         "film the person moving about where every camera sees them whole")
    return best[1], best[2], best[3]


def _place_by_pnp(points: np.ndarray, norm_v: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    import cv2

    if ok.sum() < MIN_SHARED:
        return None
    found, rvec, tvec, inliers = cv2.solvePnPRansac(points[ok].astype(np.float64), norm_v[ok].astype(np.float64),
                                                    np.eye(3), None, reprojectionError=RANSAC_PX / 1000.0,
                                                    iterationsCount=500, flags=cv2.SOLVEPNP_EPNP)
    if not found or inliers is None or len(inliers) < MIN_SHARED // 2:
        return None
    return rodrigues(rvec), tvec.ravel()


def calibrate_from_person(cameras: list[Camera], keypoints_px: np.ndarray, scores: np.ndarray,
                          scale: PersonHeight | CameraDistance) -> SelfCalibration:
    """cameras: each one's intrinsics (their poses are ignored); keypoints_px (V, T, 33, 2) and
    scores (V, T, 33) of one person in synchronised videos (scores 0 where a view has nobody)."""
    v_count = len(cameras)
    if v_count < 2:
        raise InputError("calibrating cameras from the person needs two videos or more")
    frames = _frames_used(scores)
    kp = keypoints_px[:, frames][:, :, BODY]
    sc = scores[:, frames][:, :, BODY]
    sure = (sc >= SURE_SCORE) & np.isfinite(kp).all(axis=-1)
    norm = np.stack([cam.normalise(kp[v]) for v, cam in enumerate(cameras)])
    flat_norm = norm.reshape(v_count, -1, 2)
    flat_sure = sure.reshape(v_count, -1)
    first, R1, t1 = _initial_pair(flat_norm, flat_sure, cameras)
    poses: dict[int, tuple[np.ndarray, np.ndarray]] = {0: (np.eye(3), np.zeros(3)), first: (R1, t1)}
    for _ in range(v_count):
        placed = sorted(poses)
        P = np.stack([np.hstack([poses[v][0], poses[v][1][:, None]]) for v in placed])
        points = dlt(P, flat_norm[placed], flat_sure[placed].astype(float))
        ok_pts = np.isfinite(points).all(axis=1)
        for v in range(v_count):
            if v in poses:
                continue
            pose = _place_by_pnp(points, flat_norm[v], ok_pts & flat_sure[v])
            if pose is not None:
                poses[v] = pose
        if len(poses) == v_count or len(poses) == len(placed):
            break
    missing = [cameras[v].name for v in range(v_count) if v not in poses]
    if missing:
        raise InputError(f"{', '.join(missing)}: could not be placed from the person (too few body keypoints "
                         "seen at once with the other cameras); film the person where every camera sees them")
    return _bundle_adjust(cameras, poses, flat_norm, flat_sure, kp.reshape(v_count, -1, 2), scale)


def _bundle_adjust(cameras, poses, flat_norm, flat_sure, flat_px, scale) -> SelfCalibration:
    v_count = len(cameras)
    P = np.stack([np.hstack([poses[v][0], poses[v][1][:, None]]) for v in range(v_count)])
    points = dlt(P, flat_norm, flat_sure.astype(float))
    keep = np.isfinite(points).all(axis=1) & (flat_sure.sum(axis=0) >= 2)
    points = points[keep]
    obs_v, obs_p = np.nonzero(flat_sure[:, keep])
    obs = Observations(obs_v, obs_p, np.zeros((len(obs_v), 3)), flat_px[:, keep][obs_v, obs_p])
    adjusted = bundle_adjust(cameras, [poses[v] for v in range(v_count)], points, obs, rigid=False,
                             loss_px=BA_LOSS_PX, outlier_rounds=OUTLIER_ROUNDS,
                             outlier_times_median=OUTLIER_TIMES_MEDIAN)
    Rs, ts = adjusted.rotations, adjusted.translations
    err = adjusted.errors_px[adjusted.kept]
    P = np.stack([np.hstack([R, t[:, None]]) for R, t in zip(Rs, ts)])
    factor, note = _scale_factor(scale, cameras, Rs, ts, dlt(P, flat_norm, flat_sure.astype(float)))
    rig = Rig(tuple(Camera(c.name, c.image_size, c.K, c.dist, Rs[v], ts[v] * factor) for v, c in enumerate(cameras)))
    per_camera = {c.name: float(np.median(adjusted.errors_px[adjusted.kept & (obs_v == v)])) for v, c in enumerate(cameras)}
    return SelfCalibration(rig, float(np.median(err)), len(points), len(obs_v), note, per_camera)


def _scale_factor(scale, cameras, Rs, ts, X) -> tuple[float, str]:
    if isinstance(scale, CameraDistance):
        names = [c.name for c in cameras]
        if scale.a not in names or scale.b not in names:
            raise InputError(f"--camera-distance: no camera {scale.a if scale.a not in names else scale.b} "
                             f"(have {', '.join(names)})")
        ca, cb = (-Rs[names.index(n)].T @ ts[names.index(n)] for n in (scale.a, scale.b))
        return scale.metres / np.linalg.norm(ca - cb), f"scale from {scale.a}-{scale.b} = {scale.metres:g} m"
    chain = person_chain(X)
    if not np.isfinite(chain) or chain <= 0:
        raise InputError("the person's height could not be measured: film them whole, standing, in two views at once")
    return scale.metres * CHAIN_SHARE_OF_HEIGHT / chain, f"scale from the person's height {scale.metres:g} m"


def person_chain(points: np.ndarray) -> float:
    """The median over frames of ankle-knee-hip (mean of both legs) + hip centre-shoulder centre
    + shoulder centre-nose lengths, in the points' units. points: (F * len(BODY), 3) frame-major,
    NaN where not triangulated.
    The nose is not among BODY, so the shoulder-to-nose share is taken as 0.10 of the chain."""
    X = points.reshape(-1, len(BODY), 3)
    i = {k: BODY.index(k) for k in (23, 24, 25, 26, 27, 28, 11, 12)}

    def seg(a, b):
        return np.linalg.norm(X[:, i[a]] - X[:, i[b]], axis=-1)

    legs = 0.5 * (seg(23, 25) + seg(25, 27) + seg(24, 26) + seg(26, 28))
    trunk = np.linalg.norm(0.5 * (X[:, i[23]] + X[:, i[24]]) - 0.5 * (X[:, i[11]] + X[:, i[12]]), axis=-1)
    chain = (legs + trunk) / 0.9  # shoulder centre to nose: about a tenth of the whole chain
    return float(np.nanmedian(chain))
