"""Stable Diffusion v1.4: one denoising step of the UNet (diffusers ``UNet2DConditionModel``).

``batch size`` = the side of the square image in pixels; the UNet runs on the VAE latent,
8× smaller (64 px → 8×8 latent), so it must be a multiple of 8. The UNet batch is always 2:
classifier-free guidance evaluates a conditional and an unconditional copy of the latent.

Kernel order follows the module execution order: time embedding, ``conv_in``, down blocks,
mid block, up blocks, output head. Residual adds, skip concatenations and the nearest-neighbour
upsampling itself are not kernels. Quirks of the shipped traces reproduced deliberately:

* The cross-attention (``attn2``) is recorded exactly like the self-attention: queries attend
  to the latent tokens themselves (not to the 77 text tokens of width 768).
* The GEGLU feed-forward projection is recorded with the weight width 8·C in ``layer`` but the
  gated output width 4·C in ``output`` (the GEGLU gating itself is folded into the GeLU kernel).
* Every ResNet block applies SiLU to the (2 × 1280) time embedding before its projection, so a
  small SiLU + Linear pair sits between the block's two convolutions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chiplet_dse.errors import InputError
from chiplet_dse.model.workloads._records import (
    Record,
    attention_record,
    conv2d_record,
    elementwise_record,
    feature_map_record,
    layernorm_record,
    linear_record,
)

INSTANCES = ("stable-diffusion-v1-4",)

LATENT_SCALE = 8  # VAE down-sampling factor
LATENT_CHANNELS = 4
CFG_BATCH = 2  # classifier-free guidance: conditional + unconditional
BLOCK_CHANNELS = (320, 640, 1280, 1280)
CROSS_ATTENTION = (True, True, True, False)  # per down level; up levels mirror it
LAYERS_PER_BLOCK = 2
TIME_EMBED = 1280  # 4 × BLOCK_CHANNELS[0]
HEADS = 8  # attention_head_dim = 8 in the v1 config is used as the head count
NORM_GROUPS = 32
FF_MULT = 4
ATTENTION_NOTES = "batch-size 2: classifier-free guidance (conditional + unconditional latent)"


@dataclass
class _UNet:
    """Tracks the current latent shape and the skip connections while appending records."""

    channels: int
    size: int  # latent side length
    records: list[Record] = field(default_factory=list)
    skips: list[tuple[int, int]] = field(default_factory=list)  # (channels, size) stack

    def conv(self, out_ch: int, kernel: int, stride: int = 1, in_ch: int | None = None) -> None:
        in_ch = self.channels if in_ch is None else in_ch
        rec = conv2d_record(
            CFG_BATCH,
            in_ch,
            self.size,
            self.size,
            out_ch,
            kernel=kernel,
            stride=stride,
            padding=kernel // 2,
            bias=True,
        )
        self.records.append(rec)
        self.channels, self.size = out_ch, rec["output"]["img-height"]

    def group_norm(self) -> None:
        layer = {
            "num_channels": self.channels,
            "num_groups": NORM_GROUPS,
            "params": 2 * self.channels,
        }
        self.records.append(
            feature_map_record("GroupNorm", CFG_BATCH, self.channels, self.size, self.size, layer)
        )

    def silu(self) -> None:
        self.records.append(
            elementwise_record("SiLU", CFG_BATCH * self.channels * self.size * self.size)
        )

    def resnet(self, out_ch: int) -> None:
        """``ResnetBlock2D``: two 3×3 convs, time-embedding injection, 1×1 shortcut if needed."""
        in_ch = self.channels
        self.group_norm()
        self.silu()
        self.conv(out_ch, kernel=3)
        self.records.append(elementwise_record("SiLU", CFG_BATCH * TIME_EMBED))
        self.records.append(linear_record(CFG_BATCH, TIME_EMBED, out_ch))
        self.group_norm()
        self.silu()
        self.conv(out_ch, kernel=3)
        if in_ch != out_ch:
            self.conv(out_ch, kernel=1, in_ch=in_ch)

    def transformer(self) -> None:
        """``Transformer2DModel`` with one ``BasicTransformerBlock``."""
        dim, tokens = self.channels, self.size * self.size
        self.group_norm()
        self.conv(dim, kernel=1)  # proj_in
        for _ in ("attn1", "attn2"):
            self.records.append(layernorm_record(CFG_BATCH, 0, tokens, dim))
            self.records.append(
                attention_record(
                    CFG_BATCH, 0, tokens, dim, kv_cache=0, heads=HEADS, notes=ATTENTION_NOTES
                )
            )
        self.records.append(layernorm_record(CFG_BATCH, 0, tokens, dim))
        rows, inner = CFG_BATCH * tokens, FF_MULT * dim
        self.records.append(linear_record(rows, dim, inner, layer_out_dim=2 * inner))  # GEGLU
        self.records.append(elementwise_record("GeLU", rows * inner))
        self.records.append(linear_record(rows, inner, dim))
        self.conv(dim, kernel=1)  # proj_out


def generate(instance: str, batch_size: int) -> list[Record]:
    """Kernel records of one UNet step for a ``batch_size`` × ``batch_size`` pixel image."""
    if batch_size % LATENT_SCALE:
        raise InputError(
            f"Stable Diffusion's batch size is the image side in pixels and must be a multiple "
            f"of {LATENT_SCALE} (the latent is {LATENT_SCALE}× smaller), got {batch_size}",
            field="batch-size",
        )
    unet = _UNet(LATENT_CHANNELS, batch_size // LATENT_SCALE)
    records = unet.records

    # Time embedding: sinusoidal features (not a kernel) → Linear → SiLU → Linear.
    records.append(linear_record(CFG_BATCH, BLOCK_CHANNELS[0], TIME_EMBED))
    records.append(elementwise_record("SiLU", CFG_BATCH * TIME_EMBED))
    records.append(linear_record(CFG_BATCH, TIME_EMBED, TIME_EMBED))

    unet.conv(BLOCK_CHANNELS[0], kernel=3)  # conv_in
    unet.skips.append((unet.channels, unet.size))
    last_level = len(BLOCK_CHANNELS) - 1
    for level, (channels, attention) in enumerate(
        zip(BLOCK_CHANNELS, CROSS_ATTENTION, strict=True)
    ):
        for _ in range(LAYERS_PER_BLOCK):
            unet.resnet(channels)
            if attention:
                unet.transformer()
            unet.skips.append((unet.channels, unet.size))
        if level != last_level:
            unet.conv(channels, kernel=3, stride=2)  # Downsample2D
            unet.skips.append((unet.channels, unet.size))

    unet.resnet(BLOCK_CHANNELS[-1])  # mid block
    unet.transformer()
    unet.resnet(BLOCK_CHANNELS[-1])

    for level, (channels, attention) in enumerate(
        zip(reversed(BLOCK_CHANNELS), reversed(CROSS_ATTENTION), strict=True)
    ):
        for _ in range(LAYERS_PER_BLOCK + 1):
            skip_channels, _size = unet.skips.pop()
            unet.channels += skip_channels  # concatenated with the skip connection
            unet.resnet(channels)
            if attention:
                unet.transformer()
        if level != last_level:
            # Upsample2D: nearest-neighbour resize to the next skip's size (2× when the latent
            # side is divisible by 8), then a 3×3 conv at that size.
            unet.size = unet.skips[-1][1]
            unet.conv(channels, kernel=3)

    unet.group_norm()  # conv_norm_out
    unet.silu()
    unet.conv(LATENT_CHANNELS, kernel=3)  # conv_out
    return records
