"""The image 3D mode: a trained image-network checkpoint run on a crop around the person.

    frame (H, W, 3) RGB + the detector's box (or its 2D keypoints)
      -> square crop (engine/lift/image_crop.py) -> ImagePoseNet (run in numpy from its exported
         weights, engine/lift/nets/image_numpy.py) -> 3D pose in the crop's virtual
         camera -> rotated back into the real camera's axes
      -> (J, 3) root-relative metres, camera axes (x right, y down, z forward)

The skeleton is the checkpoint's (h36m_17 for the recipe in docs/IMAGE_NETWORK.md). Without the
camera's focal length, a 60-degree horizontal field of view is assumed; it only matters for the
perspective correction of people far from the image centre.

The checkpoint: an exported network (.npz, `python -m training.export_model image IN.pt OUT.npz`),
or a torch checkpoint (.pt) where torch is installed; without torch (the desktop bundle) a .pt
gives one line naming the export command. It runs on the CPU whatever `device` says.

Interface (the same shape as the other 3D modes in engine/lift/modes.py):
    lifter = ImageLifter(checkpoint_path, device="auto")
    lifter.skeleton                                      # engine.core.skeletons.Skeleton
    lifter.lift_image(image_rgb, box_xyxy) -> (J, 3)
    lifter.lift_images(images_rgb, boxes_xyxy) -> (T, J, 3)
    lifter.lift(detections, causal=False, images=frames) -> (T, J, 3), NaN where nothing is found
    lifter.start_live().push(detection, image_rgb) -> (J, 3)
    make_image_lifter(config)  # config with .checkpoint and .device, e.g. engine.lift.modes.LiftConfig
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from engine.core import skeletons
from engine.core.errors import InputError
from engine.lift.device import AUTO_DEVICE
from engine.lift.image_crop import box_from_keypoints, crop_image, default_focal_px, intrinsics, make_crop, normalise_rgb
from engine.lift.nets.image_numpy import ImagePoseNumpy
from engine.lift.nets.network_file import load_network
from engine.lift.protocol import FrameByFrame, LiveLift


class ImageLifter:
    """Runs an exported ImagePoseNet on crops. Output: root-relative metres, camera axes."""

    needs_images = True  # the pipeline passes each frame (RGB) beside its detection

    def __init__(self, checkpoint: str | Path, device: str = AUTO_DEVICE, focal_px: float | None = None,
                 box_scale: float | None = None, batch_size: int = 4):
        if not checkpoint:
            raise InputError("the image 3D mode needs a checkpoint: pass --checkpoint PATH "
                             "(train one with training/image_net/train.py, see docs/IMAGE_NETWORK.md)")
        network = load_network(checkpoint, "ImagePoseNet")
        try:
            self.model = ImagePoseNumpy(network)
        except (KeyError, ValueError) as exc:
            raise InputError(f"{checkpoint}: weights do not fit ImagePoseNet ({exc})") from None
        extra = network.meta.get("extra", {})
        self.skeleton = skeletons.get(self.model.skeleton)
        self.root = self.skeleton.parents.index(-1)
        self.input_size = int(self.model.input_size)
        self.box_scale = float(box_scale or extra.get("box_scale", 1.25))
        self.focal_px = focal_px
        self.batch_size = batch_size
        self.checkpoint_extra = extra

    def _crop(self, image: np.ndarray, box_xyxy):
        h, w = image.shape[:2]
        f = self.focal_px or default_focal_px((w, h))
        crop = make_crop(box_xyxy, self.input_size, K=intrinsics(f, (w, h)), scale=self.box_scale)
        return crop, normalise_rgb(crop_image(image, crop))

    def lift_images(self, images_rgb: Sequence[np.ndarray], boxes_xyxy: Sequence) -> np.ndarray:
        """T frames (H, W, 3) uint8 RGB and T boxes (x0, y0, x1, y1) px -> (T, J, 3) metres."""
        out = np.zeros((len(images_rgb), self.skeleton.num_joints, 3))
        for start in range(0, len(images_rgb), self.batch_size):
            crops, tensors = [], []
            for img, box in zip(images_rgb[start:start + self.batch_size], boxes_xyxy[start:start + self.batch_size]):
                crop, x = self._crop(np.asarray(img), box)
                crops.append(crop)
                tensors.append(x)
            pose = self.model.pose3d(np.stack(tensors)).astype(np.float64)
            for k, crop in enumerate(crops):
                joints = crop.from_virtual(pose[k])
                out[start + k] = joints - joints[self.root]
        return out

    def start_live(self) -> LiveLift:
        return FrameByFrame(self)

    def lift_image(self, image_rgb: np.ndarray, box_xyxy) -> np.ndarray:
        """One frame (H, W, 3) uint8 RGB and the person's box -> (J, 3) root-relative metres."""
        return self.lift_images([image_rgb], [box_xyxy])[0]

    def lift(self, detections: list, causal: bool = False, images: Sequence[np.ndarray | None] | None = None) -> np.ndarray:
        """Detections (objects with keypoints_px/scores or box_xyxy, or None) with their frames.

        -> (T, J, 3) root-relative metres, NaN where the detection or the frame is None. Each frame
        is lifted on its own, so `causal` changes nothing.
        """
        if images is None:
            raise ValueError("the image 3D mode needs the frames: pass images=[...] beside the detections")
        out = np.full((len(detections), self.skeleton.num_joints, 3), np.nan)
        idx, imgs, boxes = [], [], []
        for i, (det, img) in enumerate(zip(detections, images)):
            if det is None or img is None:
                continue
            if getattr(det, "keypoints_px", None) is not None:
                box = box_from_keypoints(np.asarray(det.keypoints_px), getattr(det, "scores", None))
            else:
                box = np.asarray(det.box_xyxy)
            idx.append(i)
            imgs.append(img)
            boxes.append(box)
        if idx:
            out[idx] = self.lift_images(imgs, boxes)
        return out


def make_image_lifter(config) -> ImageLifter:
    """The "image" mode of engine.lift.modes, from a LiftConfig."""
    return ImageLifter(config.checkpoint, device=config.device)
