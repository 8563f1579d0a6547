"""GeneGAN networks (Zhou et al. 2017): an encoder that splits its 8 x 8 latent map into a
background part A and an attribute part u, a decoder that joins them, and a critic per domain.

Reference (docs/architecture.md, GeneGAN): 64 x 64 input, 8 x 8 x 512 latent, last 128 channels = u, three
stride-2 4 x 4 convolutions each way. `widths` scales every layer; the shipped checkpoint uses
a quarter of the reference widths (8 x 8 x 128 latent, u = last 32 channels) so it trains on CPUs
and stays small. Group norm instead of batch norm: an image's output never depends on the
other images in its batch, so a card photo is the same bytes however photos are batched.

Two ways to make the output image (`compose`):
- "none" (the reference): the decoder's image is the output.
- "mask" (issue 25): the decoder also predicts a soft mask m (one more transposed-convolution
  head beside the image head; a stretched, clipped sigmoid, so exact 0 and 1 exist), and the output is m * decoded + (1 - m) * input, where
  input is the image whose background part A was decoded. Wherever m is 0 the output is the input
  exactly (bit for bit): the swap can only change what the attribute owns.
  `mask_input` (off by default): the mask head also reads the input image and the decoded image
  (6 channels at 64 x 64, through a small 3 x 3 convolution pair added to the mask logits), so
  the mask can follow where the input's glasses are and where the decoder changes it -- the latent
  alone cannot say, since A is trained to carry no attribute. The branch's last convolution starts
  at zero, so a model given the branch computes exactly what it did without it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


COMPOSE = ("none", "mask")
MASK_BIAS = -2.5  # initial mask logit: a new mask head starts near "keep the input" (mask ~0.03)
MASK_IMAGE_HIDDEN = 8  # channels of the mask head's image branch (mask_input)
MASK_STRETCH = 0.02  # mask = clamp((1 + 2 s) sigmoid(z) - s, 0, 1): exact 0 and 1 are reachable


def mask_of(logit: torch.Tensor) -> torch.Tensor:
    """Mask logits -> mask in [0, 1], a sigmoid stretched by MASK_STRETCH each way and clipped
    (as hard-concrete gates do): a plain sigmoid is never 0, so the output would never be the
    input exactly; this one is 0 wherever sigmoid(z) < s / (1 + 2 s), about 2% (z < -3.9)."""
    return (torch.sigmoid(logit) * (1 + 2 * MASK_STRETCH) - MASK_STRETCH).clamp(0.0, 1.0)


@dataclass(frozen=True)
class GeneGANConfig:
    size: int = 64  # input side (pixels)
    widths: tuple[int, int, int] = (32, 64, 128)  # reference: (128, 256, 512)
    u_channels: int = 32  # reference: 128 (the last quarter of the latent)
    d_widths: tuple[int, int, int] = (32, 64, 128)
    spectral_norm: bool = False  # critic with spectral norm (the "stable" mode)
    compose: str = "none"  # "none": the reference (output = decoded image); "mask": see the module doc
    mask_input: bool = False  # compose "mask": the mask head also reads the input and decoded images

    def __post_init__(self) -> None:
        if self.compose not in COMPOSE:
            raise ValueError(f"compose must be one of {', '.join(COMPOSE)}, got {self.compose!r}")
        if self.mask_input and self.compose != "mask":
            raise ValueError("mask_input needs compose 'mask' (it feeds the mask head)")
        if self.size != 64:
            raise ValueError("GeneGAN here takes 64 x 64 input (size: 64)")
        if not 0 < self.u_channels < self.widths[-1]:
            raise ValueError(f"u_channels must be in 1..{self.widths[-1] - 1}")

    @property
    def latent_channels(self) -> int:
        return self.widths[-1]

    def to_json(self) -> dict:
        d = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        if not self.mask_input:
            d.pop("mask_input")  # configs without it read as off: older synthgen versions still load them
        return d

    @classmethod
    def from_json(cls, obj: dict) -> "GeneGANConfig":
        known = {k: obj[k] for k in cls.__dataclass_fields__ if k in obj}
        for k in ("widths", "d_widths"):
            if k in known:
                known[k] = tuple(int(x) for x in known[k])
        if "mask_input" in known and not isinstance(known["mask_input"], bool):
            raise ValueError(f"mask_input must be true or false, got {known['mask_input']!r}")
        return cls(**known)


class MaskHead(nn.Module):
    """Mask logits at twice the input's resolution: a 3 x 3 convolution (one output channel) of
    the nearest-neighbour upsampled features -- smooth, no transposed-convolution checkerboard --
    computed as the one stride-2 4 x 4 transposed convolution it equals (the 3 x 3 taps summed
    per output phase), which is ~9x cheaper than upsampling first."""

    # transposed-conv tap k (0..3) = the sum of these 3 x 3 taps (index = offset + 1), per axis
    _TAPS = ((2,), (1, 2), (0, 1), (0,))

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, 1, 3, 1, 1)
        m = torch.zeros(4, 3)
        for k, taps in enumerate(self._TAPS):
            m[k, list(taps)] = 1.0
        self.register_buffer("taps", m, persistent=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        k = torch.einsum("ky,oiyx,lx->iokl", self.taps, self.conv.weight, self.taps)
        return nn.functional.conv_transpose2d(h, k, self.conv.bias, stride=2, padding=1)


def _gn(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, c), c)


class MaskImage(nn.Module):
    """The image branch of the mask head (mask_input): mask logits added from the input image and
    the decoded image, both N x 3 x 64 x 64, through conv 3 x 3 (6 -> MASK_IMAGE_HIDDEN), leaky
    ReLU, conv 3 x 3 (-> 1). The last convolution starts at zero (weights and bias): adding the
    branch to a trained model changes none of its outputs until training moves it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(6, MASK_IMAGE_HIDDEN, 3, 1, 1)
        self.conv2 = nn.Conv2d(MASK_IMAGE_HIDDEN, 1, 3, 1, 1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, base: torch.Tensor, decoded: torch.Tensor) -> torch.Tensor:
        h = nn.functional.leaky_relu(self.conv1(torch.cat([base, decoded], 1)), 0.2)
        return self.conv2(h)


class Encoder(nn.Module):
    """x (N, 3, 64, 64) in [-1, 1] -> latent (N, C, 8, 8); split() gives (A, u)."""

    def __init__(self, cfg: GeneGANConfig) -> None:
        super().__init__()
        w1, w2, w3 = cfg.widths
        self.u_channels = cfg.u_channels
        self.net = nn.Sequential(
            nn.Conv2d(3, w1, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(w1, w2, 4, 2, 1), _gn(w2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(w2, w3, 4, 2, 1),  # linear: u can reach exact zero freely
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.net(x)
        return split(z, self.u_channels)


def split(z: torch.Tensor, u_channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Latent -> (A: background part, u: the last `u_channels` channels)."""
    return z[:, :-u_channels], z[:, -u_channels:]


class Decoder(nn.Module):
    """(A, u) -> image (N, 3, 64, 64) in [-1, 1]. u=None decodes with u = 0 (exact zeros).
    With compose "mask" it also has `mask_head`, read through `parts()`, and with mask_input
    `mask_image` (registered last, so the older parameters keep their order)."""

    def __init__(self, cfg: GeneGANConfig) -> None:
        super().__init__()
        w1, w2, w3 = cfg.widths
        self.u_channels = cfg.u_channels
        self.net = nn.Sequential(
            nn.ConvTranspose2d(w3, w2, 4, 2, 1), _gn(w2), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(w2, w1, 4, 2, 1), _gn(w1), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(w1, 3, 4, 2, 1), nn.Tanh(),
        )
        self.mask_head = None
        if cfg.compose == "mask":
            self.mask_head = MaskHead(w1)
            nn.init.constant_(self.mask_head.conv.bias, MASK_BIAS)
        self.mask_image = MaskImage() if cfg.mask_input else None

    def parts(self, a: torch.Tensor, u: torch.Tensor | None, base: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(decoded image, mask in [0, 1] or None when the decoder has no mask head). `base`: the
        image A came from (N x 3 x 64 x 64 in [-1, 1]); needed with mask_input, unused otherwise."""
        h = self.net[:6](self.latent(a, u))
        img = self.net[6:](h)
        if self.mask_head is None:
            return img, None
        z = self.mask_head(h)
        if self.mask_image is not None:
            if base is None:
                raise ValueError("mask_input: the mask head needs the input image the latent A came from")
            z = z + self.mask_image(base, img)
        return img, mask_of(z)

    def latent(self, a: torch.Tensor, u: torch.Tensor | None) -> torch.Tensor:
        if u is None:
            u = a.new_zeros((a.shape[0], self.u_channels, *a.shape[2:]))
        return torch.cat([a, u], 1)

    def forward(self, a: torch.Tensor, u: torch.Tensor | None) -> torch.Tensor:
        return self.net(self.latent(a, u))


class Critic(nn.Module):
    """Image -> one unbounded score per image (WGAN critic / hinge discriminator)."""

    def __init__(self, cfg: GeneGANConfig) -> None:
        super().__init__()
        w1, w2, w3 = cfg.d_widths
        sn = nn.utils.parametrizations.spectral_norm if cfg.spectral_norm else (lambda m: m)
        self.net = nn.Sequential(
            sn(nn.Conv2d(3, w1, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(w1, w2, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(w2, w3, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
        )
        self.head = sn(nn.Linear(w3 * 8 * 8, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.net(x).flatten(1)).squeeze(1)


class Generator(nn.Module):
    """Encoder + decoder: everything inference needs (what the shipped checkpoint holds)."""

    def __init__(self, cfg: GeneGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.enc = Encoder(cfg)
        self.dec = Decoder(cfg)

    def render(self, a: torch.Tensor, u: torch.Tensor | None, base: torch.Tensor | None
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(output, decoded, mask): the output image for latent (a, u) whose A came from `base`
        (N x 3 x 64 x 64 in [-1, 1]). compose "none": output = decoded, mask None (base unused);
        "mask": output = mask * decoded + (1 - mask) * base."""
        img, m = self.dec.parts(a, u, base)
        if m is None:
            return img, img, None
        if base is None:
            raise ValueError("compose 'mask' needs the input image the latent A came from")
        return torch.lerp(base, img, m), img, m  # exact at both ends: m 0 -> base, m 1 -> decoded


class GeneGAN(nn.Module):
    """Generator plus the two critics: d_with judges A_u (real) vs B_u (fake), d_without
    judges B_0 (real) vs A_0 (fake)."""

    def __init__(self, cfg: GeneGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.gen = Generator(cfg)
        self.d_with = Critic(cfg)
        self.d_without = Critic(cfg)
