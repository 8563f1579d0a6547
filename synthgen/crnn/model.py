"""CRNN (Shi, Bai, Yao 2015): a conv stack turns a 32 px high line into a sequence of
column features (one per 4 input columns), a bidirectional LSTM reads it, a linear layer
gives per-step character scores for CTC. Kept small (~0.3 M parameters at width 1, ~27 M multiply-adds for a 150 px line) so a
few minutes on two CPU cores train it to a useful accuracy."""

from __future__ import annotations

import torch
from torch import nn

HEIGHT = 32
STRIDE = 4  # input columns per output step


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class CRNN(nn.Module):
    """`stem="stride"` (default) starts with a stride-2 convolution instead of a full-resolution
    convolution and a 2 x 2 max pool: the same output grid for ~40% less CPU per step, because
    batch norm, ReLU and pooling over the full 32 x W map cost more than the convolutions there.
    `stem="pool"` is the first version's layout (checkpoints without a stem read as it)."""

    def __init__(self, n_classes: int, width: int = 1, hidden: int = 96, stem: str = "stride") -> None:
        super().__init__()
        if stem not in ("stride", "pool"):
            raise ValueError(f"stem {stem!r}: use 'stride' or 'pool'")
        c = [16 * width, 32 * width, 64 * width, 96 * width, 128 * width]
        self.config = {"n_classes": n_classes, "width": width, "hidden": hidden, "stem": stem}
        first = ([nn.Conv2d(1, c[0], 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU(inplace=True)]
                 if stem == "stride" else [*_block(1, c[0]), nn.MaxPool2d(2, 2)])
        self.cnn = nn.Sequential(
            *first,                                                  # 16 x W/2
            *_block(c[0], c[1]), nn.MaxPool2d(2, 2),                 # 8 x W/4
            *_block(c[1], c[2]), nn.MaxPool2d((2, 1), (2, 1)),       # 4 x W/4
            *_block(c[2], c[3]), nn.MaxPool2d((2, 1), (2, 1)),       # 2 x W/4
            nn.Conv2d(c[3], c[4], (2, 1), bias=False), nn.BatchNorm2d(c[4]), nn.ReLU(inplace=True),  # 1 x W/4
        )
        self.rnn = nn.LSTM(c[4], hidden, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: B x 1 x 32 x W float in [0, 1] -> log-probabilities B x W/4 x classes."""
        f = self.cnn(x - 0.5).squeeze(2).transpose(1, 2)  # B x T x C
        f, _ = self.rnn(f)
        return self.head(f).log_softmax(-1)


def out_lengths(widths: torch.Tensor) -> torch.Tensor:
    """Output steps for inputs `widths` px wide (two 2x poolings along width)."""
    return torch.div(torch.div(widths, 2, rounding_mode="floor"), 2, rounding_mode="floor").clamp(min=1)
