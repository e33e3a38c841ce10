"""The seed-1 image network (Habibie et al., CVPR 2019): image crop -> 2D heatmaps + 3D pose + camera.

    crop (B, 3, S, S), ImageNet-normalised RGB
      -> ResNet-50 stages 1..4 (conv1 .. conv4_x, stride 16)           [pre-trainable]
      -> res5a: the first bottleneck of stage 5, stride 1, fewer output channels, from scratch
      -> latent head: x2 transposed conv -> 3x3 conv -> 1x1 conv to J + D channels (stride 8)
         latent[:, :J]  explicit 2D heatmaps of the J joints (supervised in 2D)
         latent[:, J:]  D feature channels that carry depth
      -> 3D regressor (reads all J + D channels): two stride-2 convs, 4x4 pool, two FC -> (J, 3)
      -> camera MLP (on the latent): weak-perspective scale s and principal point (cx, cy)
    intermediate 2D supervision: the first J channels of the stage-4 output and of res5a.

Conventions: 2D points are in normalised crop coordinates, u = 2 * x_px / S - 1 (x right, y down,
-1..1 across the crop). The 3D pose is root-relative, metres, in the axes of the crop's virtual
camera (x right, y down, z forward; see engine/lift/image_crop.py). The camera projects it as
uv = s * (X, Y) + (cx, cy).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from engine.lift.nets.resnet import Bottleneck, ResNet


def _conv_bn_relu(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ImagePoseNet(nn.Module):
    """Constructor arguments are plain values so a checkpoint can rebuild the network.

    num_joints: J, the joints of `skeleton` (a name in engine.core.skeletons).
    base_width: 64 for ResNet-50; tests use 4..16.
    layers: bottleneck blocks of stages 2..4, (3, 4, 6) for ResNet-50.
    res5_channels: output channels of the stride-free res5a (ResNet-50's would be 32 * base_width;
        default 8 * base_width, i.e. 512).
    depth_channels: D, feature channels of the latent space beside the J heatmaps (default 2 * J).
    latent_channels: width of the latent head's hidden layers (default 4 * base_width).
    regressor_channels / regressor_hidden: widths of the 3D regressor.
    camera_hidden: width of the camera MLP.
    """

    def __init__(self, num_joints: int = 17, skeleton: str = "h36m_17", base_width: int = 64,
                 layers: Sequence[int] = (3, 4, 6), res5_channels: int | None = None,
                 depth_channels: int | None = None, latent_channels: int | None = None,
                 regressor_channels: int | None = None, regressor_hidden: int = 1024,
                 camera_hidden: int = 256, input_size: int = 256):
        super().__init__()
        self.num_joints = j = num_joints
        self.skeleton = skeleton
        self.input_size = input_size
        self.depth_channels = d = depth_channels if depth_channels is not None else 2 * j
        res5_channels = res5_channels or 8 * base_width
        latent_channels = latent_channels or 4 * base_width
        regressor_channels = regressor_channels or 4 * base_width
        if len(layers) != 3:
            raise ValueError("layers: the blocks of stages 2, 3 and 4")
        self.backbone = ResNet(layers, base_width)
        c4 = self.backbone.out_channels
        if c4 < j or res5_channels < j:
            raise ValueError("stage 4 and res5a need at least J channels for the intermediate heatmaps")
        self.res5a = Bottleneck(c4, 8 * base_width, res5_channels, stride=1)
        self.latent_head = nn.Sequential(
            nn.ConvTranspose2d(res5_channels, latent_channels, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(latent_channels), nn.ReLU(inplace=True),
            _conv_bn_relu(latent_channels, latent_channels),
            nn.Conv2d(latent_channels, j + d, 1),
        )
        self.regressor_conv = nn.Sequential(
            _conv_bn_relu(j + d, regressor_channels, stride=2),
            _conv_bn_relu(regressor_channels, regressor_channels, stride=2),
            nn.AdaptiveAvgPool2d(4),
        )
        self.regressor_fc = nn.Sequential(
            nn.Linear(regressor_channels * 16, regressor_hidden), nn.ReLU(inplace=True),
            nn.Linear(regressor_hidden, 3 * j),
        )
        self.camera_mlp = nn.Sequential(
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),
            nn.Linear((j + d) * 16, camera_hidden), nn.ReLU(inplace=True),
            nn.Linear(camera_hidden, camera_hidden), nn.ReLU(inplace=True),
            nn.Linear(camera_hidden, 3),
        )
        for m in (self.regressor_fc[-1], self.camera_mlp[-1]):
            nn.init.normal_(m.weight, std=1e-3)
            nn.init.zeros_(m.bias)

    def pretrained_modules(self) -> list[nn.Module]:
        """Modules that come pre-trained (ImageNet / stage-1 heatmaps): the ResNet stages 1..4."""
        return [self.backbone]

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """images (B, 3, S, S) -> dict of
        heatmaps (B, J, S/8, S/8), latent (B, J+D, S/8, S/8),
        intermediate: list of two (B, J, S/16, S/16) (first J channels of stage 4 and res5a),
        pose3d (B, J, 3) root-relative metres, camera (B, 3) = (s, cx, cy), proj2d (B, J, 2).
        """
        stage4 = self.backbone(images)
        res5a = self.res5a(stage4)
        latent = self.latent_head(res5a)
        j = self.num_joints
        pose3d = self.regressor_fc(self.regressor_conv(latent).flatten(1)).view(-1, j, 3)
        raw = self.camera_mlp(latent)
        camera = torch.cat([torch.exp(raw[:, :1].clamp(-5, 5)), raw[:, 1:]], dim=1)
        return {
            "heatmaps": latent[:, :j],
            "latent": latent,
            "intermediate": [stage4[:, :j], res5a[:, :j]],
            "pose3d": pose3d,
            "camera": camera,
            "proj2d": project_weak_perspective(pose3d, camera),
        }

    def constructor_kwargs(self) -> dict:
        """The arguments this network was built with (what a checkpoint stores)."""
        return dict(self._kwargs)


def _remember_kwargs(init):
    import inspect

    sig = inspect.signature(init)

    def wrapped(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        init(self, *args, **kwargs)
        self._kwargs = {k: (list(v) if isinstance(v, tuple) else v)
                        for k, v in bound.arguments.items() if k != "self"}

    wrapped.__signature__ = sig
    wrapped.__doc__ = init.__doc__
    return wrapped


ImagePoseNet.__init__ = _remember_kwargs(ImagePoseNet.__init__)


def project_weak_perspective(pose3d: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """(B, J, 3) root-relative pose, (B, 3) camera (s, cx, cy) -> (B, J, 2) normalised crop coords."""
    return camera[:, None, :1] * pose3d[..., :2] + camera[:, None, 1:3]


def heatmap_grid(size: int, device=None, dtype=None) -> torch.Tensor:
    """(size,) centres of heatmap cells in normalised coordinates (-1..1)."""
    return (torch.arange(size, device=device, dtype=dtype) + 0.5) / size * 2 - 1


MODEL_REGISTRY = {"ImagePoseNet": ImagePoseNet}


def decode_heatmaps(heatmaps: torch.Tensor) -> torch.Tensor:
    """(B, J, H, W) -> (B, J, 2) normalised (u, v): the peak cell, refined by the weighted mean of
    the positive values in its 3x3 neighbourhood."""
    b, j, h, w = heatmaps.shape
    hm = heatmaps.float()
    flat = hm.flatten(2).argmax(-1)
    py, px = flat // w, flat % w
    pad = F.pad(hm.clamp(min=0), (1, 1, 1, 1))
    offs = torch.arange(-1, 2, device=hm.device)
    ys = (py[..., None, None] + 1 + offs[:, None]).expand(b, j, 3, 3)
    xs = (px[..., None, None] + 1 + offs[None, :]).expand(b, j, 3, 3)
    bi = torch.arange(b, device=hm.device)[:, None, None, None].expand(b, j, 3, 3)
    ji = torch.arange(j, device=hm.device)[None, :, None, None].expand(b, j, 3, 3)
    win = pad[bi, ji, ys, xs]
    wsum = win.sum((-1, -2)).clamp(min=1e-9)
    dy = (win * offs[:, None]).sum((-1, -2)) / wsum
    dx = (win * offs[None, :]).sum((-1, -2)) / wsum
    u = (px.float() + dx + 0.5) / w * 2 - 1
    v = (py.float() + dy + 0.5) / h * 2 - 1
    return torch.stack([u, v], dim=-1)
