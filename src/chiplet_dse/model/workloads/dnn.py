"""ImageNet CNNs (torchvision ResNet-18/50, VGG-11/19): inference on 3×224×224 images.

``batch size`` = images per inference; every batch-dependent field is linear in it.

Kernels are emitted in the order PyTorch executes the modules. Quirks of the shipped traces
reproduced deliberately (they change the model's totals):

* The residual ``Add`` is only recorded in ResNet blocks that have a down-sample branch; blocks
  with an identity shortcut end with their ReLU and no ``Add``. ``Add.elements`` counts both
  operands (2 × the block's output size).
* The down-sample 1×1 convolution re-reads the block input, not the previous kernel's output,
  so it carries the ``uncached`` hint.
* ``BatchNorm.layer.features`` is the parameter count (2 × channels), not the channel count.
* Dropout and flatten are not kernels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chiplet_dse.model.workloads._records import (
    Record,
    conv2d_record,
    conv_output_size,
    elementwise_record,
    feature_map_record,
    linear_record,
)

IMAGE_SIZE = 224
IMAGE_CHANNELS = 3
NUM_CLASSES = 1000

RESNET_STAGE_WIDTHS = (64, 128, 256, 512)
# instance -> (block type, blocks per stage)
RESNETS = {"resnet18": ("basic", (2, 2, 2, 2)), "resnet50": ("bottleneck", (3, 4, 6, 3))}
BOTTLENECK_EXPANSION = 4

# torchvision VGG configurations: conv widths, "M" = 2×2 max-pool.
VGGS: dict[str, tuple[int | str, ...]] = {
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
              512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
}  # fmt: skip
VGG_POOL_OUTPUT = 7  # AdaptiveAvgPool2d((7, 7))
VGG_HIDDEN = 4096

INSTANCES = (*RESNETS, *VGGS)


@dataclass
class _FeatureMap:
    """Tracks the current activation shape while appending kernel records."""

    batch: int
    channels: int
    height: int
    width: int
    records: list[Record] = field(default_factory=list)

    @property
    def elements(self) -> int:
        return self.batch * self.channels * self.height * self.width

    def conv(
        self,
        out_ch: int,
        kernel: int,
        stride: int = 1,
        padding: int = 0,
        *,
        bias: bool,
        uncached: bool = False,
    ) -> None:
        rec = conv2d_record(
            self.batch,
            self.channels,
            self.height,
            self.width,
            out_ch,
            kernel=kernel,
            stride=stride,
            padding=padding,
            bias=bias,
            uncached=uncached,
        )
        self.records.append(rec)
        out = rec["output"]
        self.channels, self.height, self.width = out_ch, out["img-height"], out["img-width"]

    def batchnorm(self) -> None:
        layer = {"features": 2 * self.channels, "params": 2 * self.channels}
        self.records.append(self._per_channel("BatchNorm", layer))

    def relu(self) -> None:
        self.records.append(elementwise_record("ReLU", self.elements))

    def maxpool(self, kernel: int, stride: int, padding: int = 0) -> None:
        height = conv_output_size(self.height, kernel, stride, padding)
        width = conv_output_size(self.width, kernel, stride, padding)
        self.records.append(self._per_channel("MaxPool2d", {"params": 0}, height, width))
        self.height, self.width = height, width

    def adaptive_avgpool(self, size: int) -> None:
        self.records.append(self._per_channel("AdaptiveAvgPool2d", {"params": 0}, size, size))
        self.height = self.width = size

    def _per_channel(
        self, kind: str, layer: dict[str, Any], height: int | None = None, width: int | None = None
    ) -> Record:
        return feature_map_record(
            kind, self.batch, self.channels, self.height, self.width, layer, height, width
        )


def generate(instance: str, batch_size: int) -> list[Record]:
    """Kernel records of one forward pass of ``instance`` on ``batch_size`` images."""
    fmap = _FeatureMap(batch_size, IMAGE_CHANNELS, IMAGE_SIZE, IMAGE_SIZE)
    if instance in RESNETS:
        _resnet(fmap, *RESNETS[instance])
    else:
        _vgg(fmap, VGGS[instance])
    return fmap.records


def _resnet(fmap: _FeatureMap, block: str, depths: tuple[int, ...]) -> None:
    fmap.conv(64, kernel=7, stride=2, padding=3, bias=False)
    fmap.batchnorm()
    fmap.relu()
    fmap.maxpool(kernel=3, stride=2, padding=1)
    expansion = BOTTLENECK_EXPANSION if block == "bottleneck" else 1
    for stage, (width, depth) in enumerate(zip(RESNET_STAGE_WIDTHS, depths, strict=True)):
        for index in range(depth):
            stride = 2 if stage > 0 and index == 0 else 1
            downsample = stride != 1 or fmap.channels != width * expansion
            block_input = (fmap.channels, fmap.height, fmap.width)
            if block == "bottleneck":  # torchvision v1.5: the stride sits on the 3×3 conv
                fmap.conv(width, kernel=1, bias=False)
                fmap.batchnorm()
                fmap.relu()
                fmap.conv(width, kernel=3, stride=stride, padding=1, bias=False)
                fmap.batchnorm()
                fmap.relu()
                fmap.conv(width * expansion, kernel=1, bias=False)
            else:
                fmap.conv(width, kernel=3, stride=stride, padding=1, bias=False)
                fmap.batchnorm()
                fmap.relu()
                fmap.conv(width, kernel=3, padding=1, bias=False)
            fmap.batchnorm()
            if downsample:
                # The shortcut branch starts again from the block input.
                fmap.channels, fmap.height, fmap.width = block_input
                fmap.conv(width * expansion, kernel=1, stride=stride, bias=False, uncached=True)
                fmap.batchnorm()
                fmap.records.append(elementwise_record("Add", 2 * fmap.elements))
            fmap.relu()
    fmap.adaptive_avgpool(1)
    fmap.records.append(linear_record(fmap.batch, fmap.channels, NUM_CLASSES))


def _vgg(fmap: _FeatureMap, config: tuple[int | str, ...]) -> None:
    for item in config:
        if item == "M":
            fmap.maxpool(kernel=2, stride=2)
        else:
            assert isinstance(item, int)
            fmap.conv(item, kernel=3, padding=1, bias=True)
            fmap.relu()
    fmap.adaptive_avgpool(VGG_POOL_OUTPUT)
    batch, features = fmap.batch, fmap.channels * fmap.height * fmap.width
    for out_dim in (VGG_HIDDEN, VGG_HIDDEN):
        fmap.records.append(linear_record(batch, features, out_dim))
        fmap.records.append(elementwise_record("ReLU", batch * out_dim))
        features = out_dim
    fmap.records.append(linear_record(batch, features, NUM_CLASSES))
