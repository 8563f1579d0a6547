"""GeneGAN inference: swap, interpolation and attribute arithmetic, batched.

Images in and out are uint8 N x 64 x 64 x 3 RGB numpy arrays (a single H x W x 3 image is
accepted too and answered in kind); CPU by default, `device="cuda"` when asked.

A checkpoint with compose "mask" composes every output with the image its background part A
came from (`base`): out = mask * decoded + (1 - mask) * base, so `decode` needs that image;
the image-level calls pass it themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..errors import UserError
from .checkpoint import load_generator
from .data import SIZE, to_tensor, to_uint8


def _batch(x: np.ndarray, name: str) -> tuple[np.ndarray, bool]:
    x = np.asarray(x)
    single = x.ndim == 3
    if single:
        x = x[None]
    if x.ndim != 4 or x.shape[1:] != (SIZE, SIZE, 3) or x.dtype != np.uint8:
        raise UserError(f"{name}: expected uint8 images of {SIZE} x {SIZE} x 3 (RGB), got {x.dtype} {x.shape}; "
                        "resize each with synthgen.gan.infer.fit(image) first (`synthgen gan swap` does this itself)")
    return x, single


def fit(img: np.ndarray) -> np.ndarray:
    """Any RGB image -> 64 x 64 (centre square crop, area resampling)."""
    from .data import _crop_resize
    return _crop_resize(np.asarray(img))


class GeneGAN:
    """A loaded generator. `GeneGAN.load()` is the shipped glasses checkpoint."""

    def __init__(self, gen, conf: dict, device: str = "cpu", batch: int = 64) -> None:
        self.gen, self.conf, self.device, self.batch = gen, conf, device, batch
        self.attr = conf.get("attr", "glasses")
        self.compose = gen.cfg.compose

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu", batch: int = 64) -> "GeneGAN":
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise UserError("--device cuda asked for, but torch sees no CUDA device; use --device cpu")
        gen, conf = load_generator(path, device)
        return cls(gen, conf, device, batch)

    # -- latent level (torch tensors) ----------------------------------------------------------
    @torch.no_grad()
    def encode(self, imgs: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 images -> (A, u) latents on the device, batched."""
        x, _ = _batch(imgs, "encode")
        parts = [self.gen.enc(to_tensor(x[i:i + self.batch], self.device)) for i in range(0, len(x), self.batch)]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    @torch.no_grad()
    def decode(self, a: torch.Tensor, u: torch.Tensor | None, base: np.ndarray | None = None,
               mask: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """(A, u) -> uint8 images; u=None is the null attribute (exact zeros). `base`: the uint8
        images A came from (needed by compose "mask", unused otherwise). mask=True also answers
        the masks as uint8 N x 64 x 64 (255 = decoded, 0 = base; all 255 without a mask)."""
        if base is not None:
            base, _ = _batch(base, "decode base")
            if len(base) != a.shape[0]:
                raise UserError(f"decode: {a.shape[0]} latents but {len(base)} base images")
        elif self.compose != "none":
            raise UserError(f"decode: this checkpoint composes its output with the input image (compose "
                            f"{self.compose!r}); pass base= the images A was encoded from")
        out, masks = [], []
        for i in range(0, a.shape[0], self.batch):
            j = slice(i, i + self.batch)
            bt = None if base is None or self.compose == "none" else to_tensor(base[j], self.device)
            img, _, m = self.gen.render(a[j], None if u is None else u[j], bt)
            out.append(to_uint8(img))
            if mask:
                m = torch.ones_like(img[:, :1]) if m is None else m
                masks.append((m[:, 0] * 255).round().to(device="cpu", dtype=torch.uint8).numpy())
        return (np.concatenate(out), np.concatenate(masks)) if mask else np.concatenate(out)

    # -- image level ---------------------------------------------------------------------------
    def swap(self, a_with: np.ndarray, b_without: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(A_u, B_0) -> (A_0, B_u): A loses the attribute, B gains A's. Pairs by position."""
        a_with, single = _batch(a_with, "swap A")
        b_without, _ = _batch(b_without, "swap B")
        if len(a_with) != len(b_without):
            raise UserError(f"swap: {len(a_with)} A images but {len(b_without)} B images; pass equal counts")
        a, u = self.encode(a_with)
        b, _ = self.encode(b_without)
        a0, bu = self.decode(a, None, a_with), self.decode(b, u, b_without)
        return (a0[0], bu[0]) if single else (a0, bu)

    def swap_masks(self, a_with: np.ndarray, b_without: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The masks of `swap` (uint8, 255 = the decoder's pixel, 0 = the input's): where the
        removal and the addition change their input. All 255 for a checkpoint without a mask."""
        a_with, single = _batch(a_with, "swap A")
        b_without, _ = _batch(b_without, "swap B")
        a, u = self.encode(a_with)
        b, _ = self.encode(b_without)
        ma, mb = self.decode(a, None, a_with, mask=True)[1], self.decode(b, u, b_without, mask=True)[1]
        return (ma[0], mb[0]) if single else (ma, mb)

    def reconstruct(self, imgs: np.ndarray, null: bool = False) -> np.ndarray:
        """Dec(Enc(x)): with its own u, or with u = 0 when `null`."""
        x, single = _batch(imgs, "reconstruct")
        a, u = self.encode(x)
        out = self.decode(a, None if null else u, x)
        return out[0] if single else out

    def interpolate(self, b: np.ndarray, donor: np.ndarray, steps: int = 5, lo: float = 0.0,
                    hi: float = 1.0) -> np.ndarray:
        """Dec(B, lambda u) for lambda in linspace(lo, hi, steps): steps x 64 x 64 x 3 per B image
        (N x steps x 64 x 64 x 3 for a batch); u comes from `donor` (an image with the attribute)."""
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise UserError(f"interpolate: steps is the number of frames, a whole number >= 1; got {steps!r}")
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise UserError(f"interpolate: lo and hi must be finite numbers; got {lo!r}, {hi!r}")
        bx, single = _batch(b, "interpolate B")
        dx, _ = _batch(donor, "interpolate donor")
        if len(dx) not in (1, len(bx)):
            raise UserError("interpolate: give one donor or one per B image")
        a, _ = self.encode(bx)
        _, u = self.encode(dx)
        u = u.expand(len(bx), -1, -1, -1) if len(dx) == 1 else u
        lams = np.linspace(lo, hi, int(steps))
        frames = np.stack([self.decode(a, u * float(lam), bx) for lam in lams], 1)
        return frames[0] if single else frames

    def arithmetic(self, b: np.ndarray, donors: Sequence[np.ndarray] | np.ndarray,
                   weights: Sequence[float] | None = None) -> np.ndarray:
        """Dec(B, sum_k w_k u_k): mix the attribute of several donors (default: their mean)."""
        bx, single = _batch(b, "arithmetic B")
        dx, _ = _batch(np.asarray(donors), "arithmetic donors")
        w = np.full(len(dx), 1.0 / len(dx)) if weights is None else np.asarray(weights, np.float64)
        if len(w) != len(dx):
            raise UserError(f"arithmetic: {len(dx)} donors but {len(w)} weights")
        a, _ = self.encode(bx)
        _, u = self.encode(dx)
        mix = (u * torch.as_tensor(w, dtype=u.dtype, device=u.device)[:, None, None, None]).sum(0, keepdim=True)
        out = self.decode(a, mix.expand(len(bx), -1, -1, -1), bx)
        return out[0] if single else out
