"""A small attribute classifier (has glasses / has not) for `synthgen gan eval`: it judges
whether a swap really added or removed the attribute. Trained on procedural faces only
(seeds disjoint from the GAN's training and evaluation faces); weights shipped beside the GAN.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import UserError
from .data import face_with, to_tensor

TRAIN_SEED, TEST_SEED = 1001, 1002  # GAN training uses seed 0, eval 999


def shipped() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "gan" / "glasses_classifier"


class AttrNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 3, 1, 1), nn.ReLU(inplace=True), nn.MaxPool2d(2),  # 32
            nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(inplace=True),  # 16
            nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(inplace=True),  # 8
            nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(64, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def labelled(seed: int, n: int, attr: str = "glasses") -> tuple[np.ndarray, np.ndarray]:
    """n faces of `seed`, attribute on for even indices, off for odd ones."""
    y = (np.arange(n) % 2 == 0)
    x = np.stack([face_with(seed, i, attr, bool(y[i])) for i in range(n)])
    return x, y.astype(np.float32)


@torch.no_grad()
def predict(net: AttrNet, imgs: np.ndarray, batch: int = 256) -> np.ndarray:
    """P(attribute) per uint8 image."""
    net.eval()
    out = [torch.sigmoid(net(to_tensor(imgs[i:i + batch]))).numpy() for i in range(0, len(imgs), batch)]
    return np.concatenate(out)


def train_classifier(n_train: int = 4000, n_test: int = 1000, steps: int = 1000, seed: int = 0,
                     attr: str = "glasses") -> tuple[AttrNet, float]:
    """Train on procedural faces; return (net, held-out accuracy on n_test faces of TEST_SEED)."""
    xtr, ytr = labelled(TRAIN_SEED, n_train, attr)
    xte, yte = labelled(TEST_SEED, n_test, attr)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = AttrNet()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    rng = np.random.default_rng(seed)
    xt, yt = to_tensor(xtr), torch.from_numpy(ytr)
    for _ in range(steps):
        net.train()
        i = torch.from_numpy(rng.integers(0, n_train, 64))
        loss = nn.functional.binary_cross_entropy_with_logits(net(xt[i]), yt[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc = float(((predict(net, xte) > 0.5) == (yte > 0.5)).mean())
    return net, acc


def save(net: AttrNet, folder: Path, meta: dict) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in net.state_dict().items()}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"format": "synthgen-attrnet", **meta}, indent=1))


def load(folder: Path | None = None) -> tuple[AttrNet, dict]:
    from safetensors.torch import load_file

    folder = shipped() if folder is None else Path(folder)
    try:
        meta = json.loads((folder / "config.json").read_text())
        state = load_file(str(folder / "model.safetensors"))
        net = AttrNet()
        net.load_state_dict({k: v.float() for k, v in state.items()})
    except Exception as e:  # any failure here is a broken install or copy, not a bug to trace
        raise UserError(f"{folder}: cannot load the attribute classifier ({type(e).__name__}); "
                        "rebuild it with scripts/train_gan.py --classifier-only") from None
    return net.eval(), meta
