"""The network 3D mode: Monocap's own lifter (engine.lift.nets.lifter_net) behind the detector.

`NetworkLifter` implements engine.lift.protocol.Lifter: it undoes the detector's front/back flips
(engine.lift.body_flip; the 2D limb swap fixer of engine.lift.swap_fix on request), feeds the 2D keypoints with
their scores and the detector's own 3D to the
network, makes the skeleton formats consistent with the model's affine autoencoder, and maps the
prediction onto the requested skeleton. `lift_keypoints` is the same as a plain function of
arrays, so the lifter can be evaluated on its own.

Skeletons it can output: every format the model has a head for (monocap_body, mediapipe_33 and
the mocap rigs it was trained on, which are registered in engine.core.skeletons when a model loads),
plus coco_17 (from the 33 keypoints), h36m_17 and smpl_24 (affine maps of monocap_body).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.capture.detection import Detection
from engine.core import skeletons as skeleton_registry
from engine.core.keypoint_maps import MAPS as DETECTOR_MAPS
from engine.core.keypoint_maps import affine_matrix, map_keypoints
from engine.core.resources import resource_path
from engine.core.rotations import frame_from_vectors
from engine.core.skeletons import H36M_17, MONOCAP_BODY, SMPL_24, Skeleton
from engine.lift.body_flip import FlipFixConfig, LiveFlipFixer, find_flips, unflip
from engine.lift.device import AUTO_DEVICE
from engine.lift.nets.lifter_input import prepare_inputs
from engine.lift.nets.lifter_numpy import LifterNumpy
from engine.lift.nets.network_file import load_network
from engine.lift.protocol import LiftConfig
from engine.lift.swap_fix import GROUPS, LiveSwapFixer, SwapFixConfig, apply_swaps, fix_swaps

DEFAULT_MODEL = "models/lifter.npz"  # exported from models/lifter.pt by `make model`


def _h36m_from_body() -> np.ndarray:
    r = {"pelvis": {"pelvis": 1.0}, "spine": {"spine": 0.5, "chest": 0.5}, "thorax": {"neck": 1.0},
         "neck_nose": {"nose": 1.0}, "head_top": {"head": 1.6, "neck": -0.6}}
    for side in ("left", "right"):
        for j in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"):
            r[f"{side}_{j}"] = {f"{side}_{j}": 1.0}
    return affine_matrix(H36M_17, r, MONOCAP_BODY)


def _smpl_from_body() -> np.ndarray:
    r = {"pelvis": {"pelvis": 1.0}, "spine1": {"spine": 1.0}, "spine2": {"spine": 0.5, "chest": 0.5},
         "spine3": {"chest": 1.0}, "neck": {"neck": 1.0}, "head": {"head": 1.0}}
    for s in ("left", "right"):
        r |= {f"{s}_hip": {f"{s}_hip": 1.0}, f"{s}_knee": {f"{s}_knee": 1.0}, f"{s}_ankle": {f"{s}_ankle": 1.0},
              f"{s}_foot": {f"{s}_ankle": 0.3, f"{s}_toe": 0.7}, f"{s}_collar": {"neck": 0.5, f"{s}_shoulder": 0.5},
              f"{s}_shoulder": {f"{s}_shoulder": 1.0}, f"{s}_elbow": {f"{s}_elbow": 1.0},
              f"{s}_wrist": {f"{s}_wrist": 1.0}, f"{s}_hand": {f"{s}_hand": 1.0}}
    return affine_matrix(SMPL_24, r, MONOCAP_BODY)


# Skeletons derived from one of the model's formats by a fixed affine map: name -> (source, matrix).
DERIVED: dict[str, tuple[str, np.ndarray]] = {
    "coco_17": ("mediapipe_33", DETECTOR_MAPS["coco_17"]),
    H36M_17.name: (MONOCAP_BODY.name, _h36m_from_body()),
    SMPL_24.name: (MONOCAP_BODY.name, _smpl_from_body()),
}


@dataclass
class _Model:
    net: LifterNumpy
    formats: list[str]
    skeletons: dict[str, Skeleton]


_CACHE: dict[str, _Model] = {}


def load_model(path: str | Path | None = None, device: str = AUTO_DEVICE) -> _Model:
    """Loads (once per path) an exported lifter (.npz), or a lifter checkpoint (.pt) where torch is
    installed; registers its skeletons. It runs in numpy on the CPU whatever `device` says."""
    p = Path(path) if path else resource_path(DEFAULT_MODEL)
    key = str(p)
    if key not in _CACHE:
        if not p.is_file():
            from engine.core.errors import InputError

            raise InputError(f"{p}: lifter model missing; `make model` exports the shipped one, "
                             "`python -m training.lifter.train` trains one")
        network = load_network(p, "LifterNet")
        sk = {}
        for name, spec in network.meta["skeletons"].items():
            s = Skeleton(name, tuple(spec["joint_names"]), tuple(spec["parents"]),
                         tuple(tuple(x) for x in spec["mirror_pairs"]))
            try:
                sk[name] = skeleton_registry.get(name)
            except KeyError:
                sk[name] = skeleton_registry.register(s)
        net = LifterNumpy(network)
        _CACHE[key] = _Model(net, net.format_order, sk)
    return _CACHE[key]


def supported_skeletons(model: _Model) -> list[str]:
    return sorted(set(model.formats) | {k for k, (src, _) in DERIVED.items() if src in model.formats})


def _windows(values: np.ndarray, window: int, target: int) -> np.ndarray:
    """(T, ...) -> (T, W, ...): for frame t the window whose `target` frame is t (edges repeated)."""
    t_count = len(values)
    target = target % window
    offsets = np.arange(window) - target
    idx = np.clip(np.arange(t_count)[:, None] + offsets[None, :], 0, t_count - 1)
    return values[idx]


def predict_formats(model: _Model, keypoints_px: np.ndarray, scores: np.ndarray, world_m: np.ndarray | None,
                    causal: bool, batch: int = 512) -> dict[str, np.ndarray]:
    """(T, 33, 2), (T, 33), (T, 33, 3) or None -> {format: (T, J, 3)} pelvis-relative metres."""
    net = model.net
    target = net.target
    if causal and net.window > 1 and target % net.window != net.window - 1:
        target = -1  # a centred model fed a causal window: the last frame is the newest
    kp_w = _windows(keypoints_px, net.window, target if not causal else -1)
    sc_w = _windows(scores, net.window, target if not causal else -1)
    valid = np.zeros(len(keypoints_px), np.float32)
    world = np.zeros((len(keypoints_px), 33, 3), np.float32)
    if world_m is not None:
        ok = np.isfinite(world_m).all(axis=(-1, -2))
        valid[ok] = 1.0
        world[ok] = world_m[ok]
    w_w = _windows(world, net.window, target if not causal else -1)
    v_w = _windows(valid, net.window, target if not causal else -1)
    kp_n, _, _ = prepare_inputs(kp_w, sc_w, target=net.target)
    out: dict[str, list] = {}
    for s in range(0, len(kp_n), batch):
        sl = slice(s, s + batch)
        res = net(kp_n[sl], sc_w[sl], w_w[sl], v_w[sl])
        for f in model.formats:
            out.setdefault(f, []).append(res[f])
    return _straightened({f: np.concatenate(v).astype(np.float64) for f, v in out.items()})


_BODY = MONOCAP_BODY.index


def straighten_torso(body: np.ndarray) -> np.ndarray:
    """(..., 22, 3) MONOCAP_BODY joints -> the same with the pelvis at the hips' midpoint (as every
    label and the detector mode define it) and the spine joint's sideways offset, in the pelvis's
    frame, following the chest's in proportion to its height; relative to the new pelvis.

    The spine joint has no keypoint to see. On real video the network's body head put it 6.5 cm
    to one side and the pelvis 3.4 cm below the hips (taiji and basketball alike; on held-out
    mocap neither happens), which bends every exported back sideways; straightened, held-out
    mocap MPJPE is unchanged (63.3 against 63.4 mm) and the spine sits within about a centimetre of
    the midline (docs/LIFTER.md)."""
    j = np.array(body, dtype=np.float64, copy=True)
    left, right = j[..., _BODY("left_hip"), :], j[..., _BODY("right_hip"), :]
    pelvis = 0.5 * (left + right)
    frame = frame_from_vectors(left - right, j[..., _BODY("chest"), :] - pelvis)
    spine = np.einsum("...ji,...j->...i", frame, j[..., _BODY("spine"), :] - pelvis)
    chest = np.einsum("...ji,...j->...i", frame, j[..., _BODY("chest"), :] - pelvis)
    height = np.where(np.abs(chest[..., 1]) > 1e-6, chest[..., 1], 1.0)
    spine[..., 0] = chest[..., 0] * np.clip(spine[..., 1] / height, 0.0, 1.0)
    j[..., _BODY("pelvis"), :] = pelvis
    j[..., _BODY("spine"), :] = pelvis + np.einsum("...ij,...j->...i", frame, spine)
    return j - pelvis[..., None, :]


def _straightened(formats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if MONOCAP_BODY.name in formats:
        formats[MONOCAP_BODY.name] = straighten_torso(formats[MONOCAP_BODY.name])
    return formats


def predict_windows(model: _Model, kp_w: np.ndarray, sc_w: np.ndarray, world_w: np.ndarray) -> dict[str, np.ndarray]:
    """Causal windows (N, W, 33, ...) whose last frame is lifted -> {format: (N, J, 3)}."""
    valid = np.isfinite(world_w).all(axis=(-1, -2)).astype(np.float32)
    world = np.where(np.isfinite(world_w), world_w, 0.0).astype(np.float32)
    kp_n, _, _ = prepare_inputs(kp_w, sc_w, target=-1)
    res = model.net(kp_n, sc_w, world, valid)
    return _straightened({f: res[f].astype(np.float64) for f in model.formats})


def to_skeleton(model: _Model, formats: dict[str, np.ndarray], skeleton: str) -> np.ndarray:
    """Picks or derives one skeleton's joints, relative to that skeleton's root."""
    if skeleton in formats:
        joints = formats[skeleton]
        sk = model.skeletons.get(skeleton) or skeleton_registry.get(skeleton)
    elif skeleton in DERIVED and DERIVED[skeleton][0] in formats:
        src, m = DERIVED[skeleton]
        joints = np.einsum("jk,tkd->tjd", m, formats[src])
        sk = skeleton_registry.get(skeleton)
    else:
        raise KeyError(f"the lifter cannot output {skeleton!r}; it can output {', '.join(supported_skeletons(model))}")
    root = sk.parents.index(-1)
    return joints - joints[:, root:root + 1]


def lift_keypoints(keypoints_px: np.ndarray, scores: np.ndarray, image_size: tuple[int, int] | None = None,
                   skeleton: str = MONOCAP_BODY.name, world_m: np.ndarray | None = None, causal: bool = False,
                   checkpoint: str | Path | None = None, device: str = AUTO_DEVICE,
                   fix_swaps_2d: bool = True) -> np.ndarray:
    """Lifts the detector's 2D keypoints to 3D joints of a named skeleton.

    keypoints_px (T, 33, 2) pixels in the detector's order (engine.core.skeletons.MEDIAPIPE_33),
    scores (T, 33) in [0, 1] with 0 for missing keypoints, image_size (width, height) (the input is
    normalised by the person's box, so it is only checked), world_m optional (T, 33, 3) detector
    3D (NaN rows where none). Returns (T, J, 3) metres relative to the skeleton's root, camera axes.
    """
    kp = np.asarray(keypoints_px, dtype=np.float64)
    sc = np.asarray(scores, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (33, 2) or sc.shape != kp.shape[:2]:
        raise ValueError(f"keypoints must be (T, 33, 2) and scores (T, 33); got {kp.shape} and {sc.shape}")
    if image_size is not None and (image_size[0] <= 0 or image_size[1] <= 0):
        raise ValueError(f"bad image size {image_size}")
    sc = np.where(np.isfinite(kp).all(-1), sc, 0.0)
    kp = np.nan_to_num(kp)
    world = None if world_m is None else np.asarray(world_m, dtype=np.float64)
    if fix_swaps_2d and len(kp) > 1:
        kp, sc, world = fix_swaps(kp, sc, world, causal=causal)
    model = load_model(checkpoint, device)
    return to_skeleton(model, predict_formats(model, kp, sc, world, causal), skeleton)


class NetworkLifter:
    """The "lifter" 3D mode (engine.lift.protocol.Lifter)."""

    needs_images = False

    def __init__(self, config: LiftConfig, swap_fix: SwapFixConfig | None = None,
                 detector_weight: float = 0.0, flip_fix: FlipFixConfig | None = FlipFixConfig()):
        """detector_weight: blend of the detector's own 3D (mapped to the skeleton) into the output, 0..1.

        flip_fix: the detector's front/back flips undone first (engine.lift.body_flip); swap_fix:
        the 2D limb swap fixer after it (off by default: on real footage with 3D truth it finds
        no swap the flip fixer leaves and marks correct frames of a back view as swapped)."""
        self.config = config
        self.model = load_model(config.checkpoint or None, config.device)
        if config.skeleton not in supported_skeletons(self.model):
            raise ValueError(f"the lifter cannot output {config.skeleton!r}; choose one of "
                             f"{', '.join(supported_skeletons(self.model))}")
        self.skeleton = self.model.skeletons.get(config.skeleton) or skeleton_registry.get(config.skeleton)
        self.swap_fix = swap_fix
        self.flip_fix = flip_fix
        self.detector_weight = detector_weight

    def start_live(self) -> "LiveNetworkLift":
        return LiveNetworkLift(self)

    def lift(self, detections: list[Detection | None], causal: bool = False, images=None) -> np.ndarray:
        """causal=True lifts the frames in order as a live source would, skipping the empty ones."""
        out = np.full((len(detections), self.skeleton.num_joints, 3), np.nan)
        present = [i for i, d in enumerate(detections) if d is not None]
        if not present:
            return out
        if causal:
            live = self.start_live()
            joints = np.stack([live.push(detections[i]) for i in present])
        else:
            kp, sc, world = self._arrays([detections[i] for i in present])
            if self.flip_fix is not None and len(kp) > 1 and np.isfinite(world).all():
                kp, sc, world = unflip(kp, sc, world, find_flips(kp, sc, world, self.flip_fix))
            if self.swap_fix is not None and len(kp) > 1:
                kp, sc, world = fix_swaps(kp, sc, world, causal=False, config=self.swap_fix)
            joints = to_skeleton(self.model, predict_formats(self.model, kp, sc, world, False), self.skeleton.name)
            joints = self._blend(joints, world)
        out[present] = joints
        return out

    @staticmethod
    def _arrays(dets: list[Detection]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        kp = np.stack([d.keypoints_px for d in dets]).astype(np.float64)
        sc = np.stack([d.scores for d in dets]).astype(np.float64)
        world = np.stack([d.world_m if d.world_m is not None else np.full((33, 3), np.nan) for d in dets])
        return kp, sc, world.astype(np.float64)

    def _blend(self, joints: np.ndarray, world: np.ndarray) -> np.ndarray:
        if self.detector_weight > 0 and self.skeleton.name in DETECTOR_MAPS:
            det = map_keypoints(world, self.skeleton.name)
            root = self.skeleton.parents.index(-1)
            det = det - det[:, root:root + 1]
            ok = np.isfinite(det).all(axis=(-1, -2))
            joints[ok] = (1 - self.detector_weight) * joints[ok] + self.detector_weight * det[ok]
        return joints


class LiveNetworkLift:
    """The lifter's live state: the causal flip (and, on request, swap) fixer and the network's
    window of recent frames.

    Each pushed frame is flip-fixed against the frames before it and lifted as the newest frame of
    a window of the last `window` frames with someone in view (the first repeated until there are
    enough). A person missing for `RESTART_AFTER_MISSING` frames in a row starts the state over,
    as a new person would."""

    RESTART_AFTER_MISSING = 8

    def __init__(self, lifter: NetworkLifter):
        self._lifter = lifter
        self._window = lifter.model.net.window
        self._fixer = LiveSwapFixer(lifter.swap_fix or SwapFixConfig())
        self._flips = LiveFlipFixer(lifter.flip_fix or FlipFixConfig())
        self._recent: deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = deque(maxlen=self._window)
        self._missing: int | None = None  # frames since the last detection; None before the first

    def push(self, detection: Detection | None, image_rgb: np.ndarray | None = None) -> np.ndarray:
        lifter = self._lifter
        if detection is None:
            if self._missing is not None:
                self._missing += 1
            return np.full((lifter.skeleton.num_joints, 3), np.nan)
        if self._missing is None or self._missing >= self.RESTART_AFTER_MISSING:
            self._fixer.reset()
            self._flips = LiveFlipFixer(lifter.flip_fix or FlipFixConfig())
            self._recent.clear()
        self._missing = 0
        kp, sc, world = lifter._arrays([detection])
        if lifter.flip_fix is not None and np.isfinite(world).all():
            flipped = self._flips.push(kp[0], sc[0], world[0])
            kp, sc, world = unflip(kp, sc, world, np.array([flipped]))
        if lifter.swap_fix is not None:
            swaps = self._fixer.push(kp[0], sc[0])
            masks = {g: np.array([v]) for g, v in swaps.items() if g in GROUPS}
            kp, sc, world = apply_swaps(kp, masks), apply_swaps(sc, masks), apply_swaps(world, masks)
        self._recent.append((kp[0], sc[0], world[0]))
        seq = [self._recent[0]] * (self._window - len(self._recent)) + list(self._recent)
        kp_w = np.stack([x[0] for x in seq])[None]
        sc_w = np.stack([x[1] for x in seq])[None]
        world_w = np.stack([x[2] for x in seq])[None]
        formats = predict_windows(lifter.model, kp_w, sc_w, world_w)
        return lifter._blend(to_skeleton(lifter.model, formats, lifter.skeleton.name), world_w[:, -1])[0]
