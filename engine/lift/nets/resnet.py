"""ResNet-50 (He et al. 2016), written here: bottleneck blocks, stages by constructor arguments.

Stage numbering follows the paper: stage 1 is the 7x7 stem (conv1 + max-pool, stride 4),
stages 2..5 are conv2_x..conv5_x (`layers[0..3]` bottleneck blocks, strides 4, 8, 16, 32).
`ResNet(layers=(3, 4, 6, 3), base_width=64)` is ResNet-50; tests build tiny ones with e.g.
`layers=(1, 1, 1), base_width=8`. Layout and parameter names follow the usual ones
(conv1/bn1/layer1..layer4, each block conv1..conv3/bn1..bn3/downsample) so ImageNet weights saved
in that layout load with `load_state_dict(strict=False)`.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 (stride here) -> 1x1 expand, plus a projection shortcut when shapes differ."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, out_channels: int | None = None, stride: int = 1,
                 dilation: int = 1):
        super().__init__()
        out_channels = out_channels or width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A bottleneck ResNet trunk without the classifier; `layers` may stop before stage 5."""

    def __init__(self, layers: Sequence[int] = (3, 4, 6, 3), base_width: int = 64, in_channels: int = 3):
        super().__init__()
        if not 1 <= len(layers) <= 4:
            raise ValueError("layers must name 1 to 4 stages of bottleneck blocks")
        self.conv1 = nn.Conv2d(in_channels, base_width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        channels = base_width
        self.stage_channels: list[int] = []
        for i, blocks in enumerate(layers):
            width = base_width * 2 ** i
            stride = 1 if i == 0 else 2
            stage = []
            for b in range(blocks):
                block = Bottleneck(channels, width, stride=stride if b == 0 else 1)
                channels = block.out_channels
                stage.append(block)
            self.add_module(f"layer{i + 1}", nn.Sequential(*stage))
            self.stage_channels.append(channels)
        self.num_stages = len(layers)
        self.out_channels = channels
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        for m in self.modules():  # each residual branch starts near zero: stable from scratch
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)

    def forward_stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of stages 2.. (conv2_x ...), one tensor per entry of `layers`."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
            outs.append(x)
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_stages(x)[-1]


def resnet50_trunk(up_to_stage: int = 5, base_width: int = 64) -> ResNet:
    """ResNet-50 up to stage `up_to_stage` (2..5)."""
    return ResNet((3, 4, 6, 3)[: up_to_stage - 1], base_width)
