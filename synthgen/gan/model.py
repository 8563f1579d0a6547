"""GeneGAN networks (Zhou et al. 2017): an encoder that splits its 8 x 8 latent map into a
background part A and an attribute part u, a decoder that joins them, and a critic per domain.

Reference (docs/architecture.md, GeneGAN): 64 x 64 input, 8 x 8 x 512 latent, last 128 channels = u, three
stride-2 4 x 4 convolutions each way. `widths` scales every layer; the shipped checkpoint uses
a quarter of the reference widths (8 x 8 x 128 latent, u = last 32 channels) so it trains on CPUs
and stays small. Group norm instead of batch norm: an image's output never depends on the
other images in its batch, so a card photo is the same bytes however photos are batched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class GeneGANConfig:
    size: int = 64  # input side (pixels)
    widths: tuple[int, int, int] = (32, 64, 128)  # reference: (128, 256, 512)
    u_channels: int = 32  # reference: 128 (the last quarter of the latent)
    d_widths: tuple[int, int, int] = (32, 64, 128)
    spectral_norm: bool = False  # critic with spectral norm (the "stable" mode)

    def __post_init__(self) -> None:
        if self.size != 64:
            raise ValueError("GeneGAN here takes 64 x 64 input (size: 64)")
        if not 0 < self.u_channels < self.widths[-1]:
            raise ValueError(f"u_channels must be in 1..{self.widths[-1] - 1}")

    @property
    def latent_channels(self) -> int:
        return self.widths[-1]

    def to_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, obj: dict) -> "GeneGANConfig":
        known = {k: obj[k] for k in cls.__dataclass_fields__ if k in obj}
        for k in ("widths", "d_widths"):
            if k in known:
                known[k] = tuple(int(x) for x in known[k])
        return cls(**known)


def _gn(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, c), c)


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
    """(A, u) -> image (N, 3, 64, 64) in [-1, 1]. u=None decodes with u = 0 (exact zeros)."""

    def __init__(self, cfg: GeneGANConfig) -> None:
        super().__init__()
        w1, w2, w3 = cfg.widths
        self.u_channels = cfg.u_channels
        self.net = nn.Sequential(
            nn.ConvTranspose2d(w3, w2, 4, 2, 1), _gn(w2), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(w2, w1, 4, 2, 1), _gn(w1), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(w1, 3, 4, 2, 1), nn.Tanh(),
        )

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


class GeneGAN(nn.Module):
    """Generator plus the two critics: d_with judges A_u (real) vs B_u (fake), d_without
    judges B_0 (real) vs A_0 (fake)."""

    def __init__(self, cfg: GeneGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.gen = Generator(cfg)
        self.d_with = Critic(cfg)
        self.d_without = Critic(cfg)
