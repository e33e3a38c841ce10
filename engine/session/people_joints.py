"""How sure a person's take is of each joint, and the 3D of the joints hidden from the camera
(behind someone else, or behind the person's own body) from that person's own motion.

The detector still places a joint it cannot see: it guesses, and with someone in front the guess
may follow the body in front. A joint is hidden in a frame where the detector's score of it (the
least of the scores of the keypoints it is made from) is under `HIDDEN_SCORE`. Over each run of
frames where it is hidden, at most `max_gap_s` long and with frames where it is seen on both
sides, its position relative to the root is interpolated between those frames, with the root and
the rest of the body as the 3D mode gives them; longer runs keep the 3D mode's guess. The take's
`joint_confidence` is the detector's score of each joint (0 where the frame has nobody).
"""

from __future__ import annotations

import numpy as np

from engine.capture.track import DetectionTrack
from engine.core.keypoint_maps import MAPS, map_scores
from engine.core.skeletons import KEYPOINT_SCORE_MIN, Skeleton
from engine.motion.gaps import bridge_gaps

HIDDEN_SCORE = KEYPOINT_SCORE_MIN


def joint_confidence(track: DetectionTrack, skeleton: Skeleton) -> np.ndarray | None:
    """(T, J) the detector's score of each of the skeleton's joints, 0 where nobody was seen;
    None for a skeleton the detector's keypoints do not map onto."""
    return confidence_from_scores(track.scores, track.valid, skeleton)


def confidence_from_scores(scores: np.ndarray, valid: np.ndarray, skeleton: Skeleton) -> np.ndarray | None:
    """(T, K) the detector's keypoint scores and (T,) which frames have someone -> (T, J) the score
    of each of the skeleton's joints (as `joint_confidence`)."""
    if skeleton.name not in MAPS or scores.shape[-1] != MAPS[skeleton.name].shape[-1]:
        return None
    joints = map_scores(np.nan_to_num(scores.astype(np.float64)), skeleton.name)
    return np.where(valid[:, None], np.clip(joints, 0.0, 1.0), 0.0)


def hidden_from_own_motion(rel_cam: np.ndarray, confidence: np.ndarray, skeleton: Skeleton, fps: float,
                           max_gap_s: float) -> tuple[np.ndarray, int]:
    """rel_cam: (T, J, 3) root-relative joints; confidence: (T, J). -> (rel_cam with each short run
    of a hidden joint interpolated from the frames around it, how many joint-frames were)."""
    out = np.array(rel_cam, copy=True)
    root = skeleton.parents.index(-1)
    present = np.isfinite(rel_cam).all(axis=-1)
    frames = present.any(axis=1)
    max_gap = max_gap_s * fps
    filled = 0
    for j in range(skeleton.num_joints):
        if j == root:
            continue
        hidden = frames & (confidence[:, j] < HIDDEN_SCORE)
        if not hidden.any():
            continue
        rows = np.flatnonzero(frames)  # interpolate over the frames with someone, gaps of nobody between
        x, still = bridge_gaps(rel_cam[rows, j], hidden[rows], max_gap)
        done = hidden[rows] & ~still
        out[rows[done], j] = x[done]
        filled += int(done.sum())
    return out, filled
