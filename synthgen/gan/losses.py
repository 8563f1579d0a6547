"""GeneGAN loss terms, each a plain function of tensors (docs/architecture.md, Zhou et al. 2017).

Notation: A_u = image with the attribute, B_0 = image without; (A, u) = Enc(A_u), (B, e) = Enc(B_0).
Decoded: A_u' = Dec(A, u), B_0' = Dec(B, 0), A_0 = Dec(A, 0) (attribute removed), B_u = Dec(B, u)
(attribute added). Means are over every element, so weights do not depend on image size.
"""

from __future__ import annotations

import torch


def reconstruction(a_u: torch.Tensor, a_u_rec: torch.Tensor, b_0: torch.Tensor, b_0_rec: torch.Tensor) -> torch.Tensor:
    """|A_u - Dec(A, u)| + |B_0 - Dec(B, 0)| (mean absolute error of each, summed)."""
    return (a_u - a_u_rec).abs().mean() + (b_0 - b_0_rec).abs().mean()


def image_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences along x and y (N x C x H x (W-1), N x C x (H-1) x W)."""
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


def gradient_l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """mean|dx(x) - dx(y)| + mean|dy(x) - dy(y)|: an L1 alone is content with a blurred edge
    (the mean of its possible positions); matching the gradients asks for the edge itself."""
    (xx, xy), (yx, yy) = image_gradients(x), image_gradients(y)
    return (xx - yx).abs().mean() + (xy - yy).abs().mean()


def mask_sparsity(m: torch.Tensor) -> torch.Tensor:
    """mean(m): the mask (in [0, 1]) should cover as little as it can."""
    return m.mean()


def mask_area(m: torch.Tensor, budget: float) -> torch.Tensor:
    """mean over images of relu(mean(m_i) - budget): an image's mask may cover `budget` of it
    (the attribute's share) for free; beyond that every pixel costs. Unlike the plain mean, this
    does not pull a mask that covers only the attribute towards nothing."""
    return torch.relu(m.flatten(1).mean(1) - budget).mean()


def mask_tv(m: torch.Tensor) -> torch.Tensor:
    """Total variation of the mask, mean|dx m| + mean|dy m|: no isolated specks."""
    gx, gy = image_gradients(m)
    return gx.abs().mean() + gy.abs().mean()


def nulling(e: torch.Tensor) -> torch.Tensor:
    """|u(B_0)|: the attribute part of an image without the attribute should be zero."""
    return e.abs().mean()


def parallelogram(a_u: torch.Tensor, b_0: torch.Tensor, a_0: torch.Tensor, b_u: torch.Tensor) -> torch.Tensor:
    """|A_u + B_0 - A_0 - B_u|: swapping moves the same difference from one image to the other."""
    return (a_u + b_0 - a_0 - b_u).abs().mean()


# -- adversarial: weight-clipped WGAN (the reference) ------------------------------------------
def wgan_critic(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Critic loss: E[D(fake)] - E[D(real)] (minimised; clip weights after the step)."""
    return fake.mean() - real.mean()


def wgan_generator(fake: torch.Tensor) -> torch.Tensor:
    """Generator loss: -E[D(fake)]."""
    return -fake.mean()


# -- adversarial: hinge (the stable option, with a spectral-norm critic and Adam) --------------
def hinge_critic(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[relu(1 - D(real))] + E[relu(1 + D(fake))]."""
    return torch.relu(1.0 - real).mean() + torch.relu(1.0 + fake).mean()


def hinge_generator(fake: torch.Tensor) -> torch.Tensor:
    """-E[D(fake)] (same form as WGAN's)."""
    return -fake.mean()


ADVERSARIAL = {"wgan": (wgan_critic, wgan_generator), "hinge": (hinge_critic, hinge_generator)}
