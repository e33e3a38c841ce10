"""Finds and undoes the detector's left/right swaps of whole limbs, in 2D, before lifting.

The detector sometimes labels a person's left arm or leg as the right one (and the other way
round) for runs of frames. Each limb pair (arms, legs, and the torso and face as one group, for
whole-body flips) gets a two-state hidden Markov chain: labelled as detected, or swapped. The
cost of a path is how far the corrected keypoints land from where the frames before predict them
(constant velocity, so limbs that cross stay themselves) (normalised by the
person's size, weighted by the keypoints' scores) plus a small price per swapped frame (the
detector is usually right). Files use the best path over the whole sequence (Viterbi); live use
(causal) takes, at each frame, the best state given the frames so far, past costs fading (about
100 frames of memory) so that one wrong call where the limbs cross is undone after a while.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.skeletons import MEDIAPIPE_33

_N = MEDIAPIPE_33.index


def _pairs(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([_N(f"left_{n}") for n in names]), np.array([_N(f"right_{n}") for n in names]))


GROUPS: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "arms": _pairs(["elbow", "wrist", "pinky", "index", "thumb"]),
    "legs": _pairs(["knee", "ankle", "heel", "foot_index"]),
    "torso": (np.array([_N(n) for n in ("left_shoulder", "left_hip", "left_eye_inner", "left_eye", "left_eye_outer",
                                          "left_ear", "mouth_left")]),
              np.array([_N(n) for n in ("right_shoulder", "right_hip", "right_eye_inner", "right_eye",
                                          "right_eye_outer", "right_ear", "mouth_right")])),
}


@dataclass(frozen=True)
class SwapFixConfig:
    swap_price: float = 0.002  # cost of one frame in the swapped state, in box-normalised distance
    causal_memory: float = 0.99  # live: past costs fade by this per frame (about 100 frames of memory)
    velocity: float = 0.8  # how much of the last frame's motion predicts the next (limbs crossing)
    groups: tuple[str, ...] = ("arms", "legs", "torso")


def _box_size(kp: np.ndarray, scores: np.ndarray) -> np.ndarray:
    sizes = np.empty(len(kp))
    for t in range(len(kp)):
        pts = kp[t][scores[t] > 0]
        sizes[t] = max(float(np.ptp(pts, axis=0).max()) if len(pts) > 1 else 0.0, 16.0)
    return sizes


def find_swaps(keypoints_px: np.ndarray, scores: np.ndarray, causal: bool = False,
               config: SwapFixConfig = SwapFixConfig()) -> dict[str, np.ndarray]:
    """keypoints_px (T, 33, 2), scores (T, 33) -> {group: (T,) bool, True where the group is swapped}."""
    kp = np.asarray(keypoints_px, dtype=np.float64)
    sc = np.asarray(scores, dtype=np.float64)
    t_count = len(kp)
    size = _box_size(kp, sc)
    out = {}
    for name in config.groups:
        left, right = GROUPS[name]
        idx = np.concatenate([left, right])
        swapped_idx = np.concatenate([right, left])
        # positions of the group's keypoints under each state: (T, 2 states, K, 2), weights (T, 2, K)
        pos = np.stack([kp[:, idx], kp[:, swapped_idx]], axis=1)
        w = np.stack([sc[:, idx], sc[:, swapped_idx]], axis=1)
        unary = np.array([0.0, config.swap_price])
        decay = config.causal_memory if causal else 1.0
        velocity = config.velocity
        cost = np.zeros((t_count, 2))
        back = np.zeros((t_count, 2), dtype=np.int64)
        cost[0] = unary
        states = np.zeros(t_count, dtype=np.int64)
        for t in range(1, t_count):
            # where each state at t-1 predicts the keypoints at t: constant velocity along the best path
            prev = pos[t - 1]
            pred = prev.copy()
            if t >= 2:
                for a in (0, 1):
                    b = back[t - 1, a]
                    seen = (w[t - 1, a] > 0) & (w[t - 2, b] > 0)
                    pred[a][seen] = prev[a][seen] + velocity * (prev[a][seen] - pos[t - 2, b][seen])
            # pair[a, b]: from state a at t-1 to state b at t
            d = np.linalg.norm(pos[t][None, :, :, :] - pred[:, None, :, :], axis=-1)  # (2, 2, K)
            ww = np.minimum(w[t][None, :, :], w[t - 1][:, None, :])
            jump = (d * ww).sum(-1) / np.maximum(ww.sum(-1), 1e-6) / size[t]
            jump = np.where(ww.sum(-1) > 0, jump, 0.0)
            total = decay * cost[t - 1][:, None] + jump + unary[None, :]
            back[t] = total.argmin(axis=0)
            cost[t] = total.min(axis=0)
            if causal:  # the best state given the frames so far
                states[t] = int(cost[t].argmin())
        if not causal:
            states[-1] = int(cost[-1].argmin())
            for t in range(t_count - 1, 0, -1):
                states[t - 1] = back[t, states[t]]
        out[name] = states.astype(bool)
    return out


def apply_swaps(values: np.ndarray, swaps: dict[str, np.ndarray]) -> np.ndarray:
    """Exchanges left/right keypoints of (T, 33, ...) values where `swaps` says so (a copy)."""
    out = np.array(values, copy=True)
    for name, mask in swaps.items():
        left, right = GROUPS[name]
        if mask.any():
            a = out[mask][:, left].copy()
            sub = out[mask]
            sub[:, left] = sub[:, right]
            sub[:, right] = a
            out[mask] = sub
    return out


def fix_swaps(keypoints_px: np.ndarray, scores: np.ndarray, world_m: np.ndarray | None = None, causal: bool = False,
              config: SwapFixConfig = SwapFixConfig()) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Undoes detected swaps in keypoints, scores and (when given) the detector's 3D alike."""
    swaps = find_swaps(keypoints_px, scores, causal, config)
    world = apply_swaps(world_m, swaps) if world_m is not None else None
    return apply_swaps(keypoints_px, swaps), apply_swaps(scores, swaps), world


class LiveSwapFixer:
    """The causal fixer fed one frame at a time (the same decisions as find_swaps(causal=True)).

    All groups are handled at once (padded to the largest group), so a frame costs a few numpy calls."""

    def __init__(self, config: SwapFixConfig = SwapFixConfig()):
        self.config = config
        groups = [GROUPS[g] for g in config.groups]
        k = max(2 * len(left) for left, _ in groups)
        self._idx = np.zeros((len(groups), 2, k), dtype=np.int64)
        self._mask = np.zeros((len(groups), k))
        for g, (left, right) in enumerate(groups):
            n = 2 * len(left)
            self._idx[g, 0, :n] = np.concatenate([left, right])
            self._idx[g, 1, :n] = np.concatenate([right, left])
            self._mask[g, :n] = 1.0
        self.reset()

    def reset(self) -> None:
        self._hist: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._cost = None
        self.frames = 0

    def push(self, keypoints_px: np.ndarray, scores: np.ndarray) -> dict[str, bool]:
        """One frame's (33, 2) keypoints and (33,) scores -> {group: swapped?} for this frame."""
        kp = np.asarray(keypoints_px, dtype=np.float64)
        sc = np.asarray(scores, dtype=np.float64)
        cfg = self.config
        seen_pts = kp[sc > 0]
        size = max(float(np.ptp(seen_pts, axis=0).max()) if len(seen_pts) > 1 else 0.0, 16.0)
        pos = kp[self._idx]  # (G, 2, K, 2)
        w = sc[self._idx] * self._mask[:, None, :]  # (G, 2, K)
        unary = np.array([0.0, cfg.swap_price])
        g_count = len(self._idx)
        if not self._hist:
            cost = np.tile(unary, (g_count, 1))
            back = np.zeros((g_count, 2), dtype=np.int64)
        else:
            prev_pos, prev_w, prev_back = self._hist[-1]
            pred = prev_pos.copy()
            if len(self._hist) >= 2:
                pp_pos, pp_w, _ = self._hist[-1 - 1]
                rows = np.arange(g_count)[:, None]
                pp_pos_b = pp_pos[rows, prev_back]  # (G, 2, K, 2): the state each state came from
                pp_w_b = pp_w[rows, prev_back]
                seen = (prev_w > 0) & (pp_w_b > 0)
                pred = np.where(seen[..., None], prev_pos + cfg.velocity * (prev_pos - pp_pos_b), prev_pos)
            d = np.linalg.norm(pos[:, None, :, :, :] - pred[:, :, None, :, :], axis=-1)  # (G, a, b, K)
            ww = np.minimum(w[:, None, :, :], prev_w[:, :, None, :])
            wsum = ww.sum(-1)
            jump = np.where(wsum > 0, (d * ww).sum(-1) / np.maximum(wsum, 1e-6) / size, 0.0)
            total = cfg.causal_memory * self._cost[:, :, None] + jump + unary[None, None, :]
            back = total.argmin(axis=1)
            cost = total.min(axis=1)
        self._cost = cost
        self._hist.append((pos, w, back))
        if len(self._hist) > 2:
            self._hist.pop(0)
        swapped = cost.argmin(axis=1) == 1
        self.frames += 1
        return {g: bool(self.frames > 1 and swapped[i]) for i, g in enumerate(cfg.groups)}
