"""Turns PoseSamples of any data set into training tensors for the image network, and mixes them.

`ImagePoseDataset` crops (with augmentation), maps joints onto the network's skeleton and puts
the 3D pose into the crop's virtual camera (perspective correction, engine/lift/image_crop.py).
`MixedSampler` draws batches with a fixed share of 3D-labelled samples, on one GPU or per rank.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from engine.core import skeletons
from engine.lift.image_crop import crop_image, make_crop, normalise_rgb, square_box
from training.image_net.augment import AugmentConfig, colour_jitter, draw_geometry, flip_sample
from training.image_net.datasets.image_samples import JointMap, PoseSample


class ImagePoseDataset(Dataset):
    """Items: dict of tensors
    image (3, S, S); joints2d (J, 2) normalised crop coords; vis2d (J,); pose3d (J, 3) root-relative
    metres in the virtual camera; valid3d (J,); has3d (); bones (B,) ground-truth bone lengths
    (zeros for 2D-only samples); index ().
    """

    def __init__(self, samples: list[PoseSample], skeleton: str = "h36m_17", input_size: int = 256,
                 box_scale: float = 1.25, augment: AugmentConfig | None = None, seed: int = 0):
        self.samples = samples
        self.skeleton = skeletons.get(skeleton)
        self.root = self.skeleton.parents.index(-1)
        self.mirror = self.skeleton.mirror_permutation()
        self.bones = np.array(self.skeleton.bones)
        self.input_size = input_size
        self.box_scale = box_scale
        self.augment = augment
        self.seed = seed
        self._maps: dict[str, JointMap] = {}

    def __len__(self) -> int:
        return len(self.samples)

    def _map(self, name: str) -> JointMap:
        if name not in self._maps:
            self._maps[name] = JointMap(name, self.skeleton.name)
        return self._maps[name]

    def crop_of(self, sample: PoseSample, geometry=None):
        centre, side = square_box(sample.person_box(), self.box_scale)
        if geometry is not None:
            centre = centre + geometry.shift * side
            side = side * geometry.scale
        return make_crop(out_size=self.input_size, K=sample.K_cam, centre_px=centre, side_px=side,
                         angle_deg=0.0 if geometry is None else geometry.angle_deg)

    def __getitem__(self, index: int) -> dict:
        s = self.samples[index]
        rng = np.random.default_rng([self.seed, index, int(torch.randint(0, 2**31 - 1, ()).item())])
        geom = draw_geometry(rng, self.augment)
        crop = self.crop_of(s, geom)
        image = colour_jitter(crop_image(s.load_image(), crop), rng, self.augment)
        jmap = self._map(s.skeleton)
        j2_px, vis = jmap(s.joints2d_px, s.visible2d)
        j2 = crop.image_to_norm(j2_px)
        vis = vis & (np.abs(j2) <= 1.0).all(axis=1)
        j = self.skeleton.num_joints
        pose3d, valid3d = np.zeros((j, 3)), np.zeros(j, dtype=bool)
        if s.has3d:
            p3, valid3d = jmap(s.joints3d_m)
            if valid3d[self.root]:
                pose3d = crop.to_virtual(p3 - p3[self.root])
            else:
                valid3d[:] = False
        if geom.flip:
            image, j2, vis, pose3d, valid3d = flip_sample(image, j2, vis, pose3d, valid3d, self.mirror)
        has3d = bool(valid3d.any())
        bones = np.zeros(len(self.bones))
        if has3d and valid3d.all():
            bones = np.linalg.norm(pose3d[self.bones[:, 1]] - pose3d[self.bones[:, 0]], axis=-1)
        return {
            "image": torch.from_numpy(normalise_rgb(image)),
            "joints2d": torch.from_numpy(j2.astype(np.float32)),
            "vis2d": torch.from_numpy(vis.astype(np.float32)),
            "pose3d": torch.from_numpy(pose3d.astype(np.float32)),
            "valid3d": torch.from_numpy(valid3d.astype(np.float32)),
            "has3d": torch.tensor(float(has3d)),
            "bones": torch.from_numpy(bones.astype(np.float32)),
            "index": torch.tensor(index),
        }


class MixedSampler(Sampler[int]):
    """Indices into ConcatDataset([data_3d, data_2d]) with `fraction_3d` of each batch from the first.

    Draws with replacement, `num_samples` per epoch and rank; under DDP give each rank its rank
    and the world size so the ranks draw different samples. Call set_epoch each epoch.
    """

    def __init__(self, len_3d: int, len_2d: int, fraction_3d: float = 0.5, num_samples: int | None = None,
                 rank: int = 0, world_size: int = 1, seed: int = 0):
        if len_3d == 0 and len_2d == 0:
            raise ValueError("no samples")
        self.len_3d, self.len_2d = len_3d, len_2d
        self.fraction_3d = 1.0 if len_2d == 0 else (0.0 if len_3d == 0 else fraction_3d)
        self.num_samples = num_samples or math.ceil((len_3d + len_2d) / world_size)
        self.rank, self.world_size, self.seed, self.epoch = rank, world_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch, self.rank, self.world_size])
        n3 = int(round(self.num_samples * self.fraction_3d))
        idx = np.concatenate([rng.integers(0, max(self.len_3d, 1), n3),
                              self.len_3d + rng.integers(0, max(self.len_2d, 1), self.num_samples - n3)])
        return iter(rng.permutation(idx).tolist())
