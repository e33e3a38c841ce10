"""The image network (engine.lift.nets.image_pose_net.ImagePoseNet) run in numpy from its
exported weights: the ResNet trunk (stages 1..4), the stride-free res5a, the latent head and the
3D regressor; the 3D pose alone (the heatmaps and the camera serve training).

Layer names and strides follow engine.lift.nets.resnet: each stage's first bottleneck strides 2
(stage 2: 1), res5a strides 1; the number of stages and blocks is read from the weights.
"""

from __future__ import annotations

import numpy as np

from engine.lift.nets import numpy_layers as nl
from engine.lift.nets.exported import ExportedNetwork


class ImagePoseNumpy:
    """`net.pose3d(images)`: (B, 3, S, S) ImageNet-normalised float32 -> (B, J, 3) metres in the
    crop's virtual camera, as ImagePoseNet's "pose3d"."""

    def __init__(self, network: ExportedNetwork):
        kw = network.kwargs
        self.w = {k: v.astype(np.float32, copy=False) for k, v in network.weights.items()}
        self.num_joints = int(kw["num_joints"])
        self.skeleton = str(kw.get("skeleton", "h36m_17"))
        self.input_size = int(kw.get("input_size", 256))
        self.stages = []
        while f"backbone.layer{len(self.stages) + 1}.0.conv1.weight" in self.w:
            i = len(self.stages) + 1
            blocks = 0
            while f"backbone.layer{i}.{blocks}.conv1.weight" in self.w:
                blocks += 1
            self.stages.append(blocks)
        if not self.stages or "res5a.conv1.weight" not in self.w:
            raise ValueError("not an ImagePoseNet's weights (no backbone stages or res5a)")

    def _bottleneck(self, x: np.ndarray, name: str, stride: int) -> np.ndarray:
        w = self.w
        identity = x
        if f"{name}.downsample.0.weight" in w:
            identity = nl.batch_norm(nl.conv2d(x, w, f"{name}.downsample.0", stride=stride), w, f"{name}.downsample.1")
        out = nl.relu(nl.batch_norm(nl.conv2d(x, w, f"{name}.conv1"), w, f"{name}.bn1"))
        out = nl.relu(nl.batch_norm(nl.conv2d(out, w, f"{name}.conv2", stride=stride, padding=1), w, f"{name}.bn2"))
        out = nl.batch_norm(nl.conv2d(out, w, f"{name}.conv3"), w, f"{name}.bn3")
        return nl.relu(out + identity)

    def pose3d(self, images: np.ndarray) -> np.ndarray:
        w = self.w
        x = np.ascontiguousarray(images, dtype=np.float32)
        x = nl.relu(nl.batch_norm(nl.conv2d(x, w, "backbone.conv1", stride=2, padding=3), w, "backbone.bn1"))
        x = nl.max_pool2d(x, 3, stride=2, padding=1)
        for i, blocks in enumerate(self.stages):
            for b in range(blocks):
                x = self._bottleneck(x, f"backbone.layer{i + 1}.{b}", 2 if i > 0 and b == 0 else 1)
        x = self._bottleneck(x, "res5a", 1)
        x = nl.relu(nl.batch_norm(nl.conv_transpose2d(x, w, "latent_head.0", stride=2, padding=1), w, "latent_head.1"))
        x = nl.relu(nl.batch_norm(nl.conv2d(x, w, "latent_head.3.0", padding=1), w, "latent_head.3.1"))
        latent = nl.conv2d(x, w, "latent_head.4")
        r = nl.relu(nl.batch_norm(nl.conv2d(latent, w, "regressor_conv.0.0", stride=2, padding=1), w, "regressor_conv.0.1"))
        r = nl.relu(nl.batch_norm(nl.conv2d(r, w, "regressor_conv.1.0", stride=2, padding=1), w, "regressor_conv.1.1"))
        r = nl.adaptive_avg_pool2d(r, 4).reshape(len(x), -1)
        r = nl.relu(nl.linear(r, w, "regressor_fc.0"))
        return nl.linear(r, w, "regressor_fc.2").reshape(len(x), self.num_joints, 3)
