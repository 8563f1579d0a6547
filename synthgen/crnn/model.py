"""CRNN (Shi, Bai, Yao 2015): a conv stack turns a 32 px high line into a sequence of
column features (one per 4 input columns), a bidirectional LSTM reads it, a linear layer
gives per-step character scores for CTC.

Two sizes (`PRESETS`, `scripts/train_crnn.py --size`):

* `small` (the demo, ~0.3 M parameters at width 1, ~27 M multiply-adds for a 150 px line):
  a few minutes on two CPU cores train it to a useful accuracy on the narrow pipeline;
* `base` (~4 M parameters): channels 32-64-128-256-256, a second convolution in the two
  stages after the first pooling, a 2-layer BiLSTM of 256; wide enough to fit the wide
  `ocr_line` distribution (hard geometry, clutter, punctuation), meant for long schedules
  (`--steps 20000`) on a GPU."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

HEIGHT = 32
STRIDE = 4  # input columns per output step

# Keyword arguments of CRNN per size. `small` is the demo (its checkpoints carry no
# channels/double/layers and load as it).
PRESETS: dict[str, dict[str, Any]] = {
    "small": {"width": 1, "hidden": 96},
    "base": {"channels": [32, 64, 128, 256, 256], "double": True, "hidden": 256, "layers": 2},
}


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class CRNN(nn.Module):
    """`stem="stride"` (default) starts with a stride-2 convolution instead of a full-resolution
    convolution and a 2 x 2 max pool: the same output grid for ~40% less CPU per step, because
    batch norm, ReLU and pooling over the full 32 x W map cost more than the convolutions there.
    `stem="pool"` is the first version's layout (checkpoints without a stem read as it).

    `channels` (5 numbers; default 16-32-64-96-128 times `width`), `double` (a second 3 x 3
    convolution in the 8 x W/4 and 4 x W/4 stages) and `layers` (BiLSTM layers) size the
    bigger presets; their defaults give the demo's layer list, so old state dicts load."""

    def __init__(self, n_classes: int, width: int = 1, hidden: int = 96, stem: str = "stride",
                 channels: list[int] | None = None, double: bool = False, layers: int = 1) -> None:
        super().__init__()
        if stem not in ("stride", "pool"):
            raise ValueError(f"stem {stem!r}: use 'stride' or 'pool'")
        c = list(channels) if channels else [16 * width, 32 * width, 64 * width, 96 * width, 128 * width]
        if len(c) != 5:
            raise ValueError(f"channels {c}: give 5 numbers")
        self.config: dict[str, Any] = {"n_classes": n_classes, "width": width, "hidden": hidden, "stem": stem}
        if channels or double or layers != 1:  # the demo's config stays as it was
            self.config.update({"channels": c, "double": bool(double), "layers": layers})
        first = ([nn.Conv2d(1, c[0], 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU(inplace=True)]
                 if stem == "stride" else [*_block(1, c[0]), nn.MaxPool2d(2, 2)])
        more = (lambda k: _block(c[k], c[k])) if double else (lambda k: [])
        self.cnn = nn.Sequential(
            *first,                                                        # 16 x W/2
            *_block(c[0], c[1]), nn.MaxPool2d(2, 2),                       # 8 x W/4
            *_block(c[1], c[2]), *more(2), nn.MaxPool2d((2, 1), (2, 1)),   # 4 x W/4
            *_block(c[2], c[3]), *more(3), nn.MaxPool2d((2, 1), (2, 1)),   # 2 x W/4
            nn.Conv2d(c[3], c[4], (2, 1), bias=False), nn.BatchNorm2d(c[4]), nn.ReLU(inplace=True),  # 1 x W/4
        )
        self.rnn = nn.LSTM(c[4], hidden, num_layers=layers, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: B x 1 x 32 x W float in [0, 1] -> log-probabilities B x W/4 x classes."""
        f = self.cnn(x - 0.5).squeeze(2).transpose(1, 2)  # B x T x C
        f, _ = self.rnn(f)
        return self.head(f).float().log_softmax(-1)


def out_lengths(widths: torch.Tensor) -> torch.Tensor:
    """Output steps for inputs `widths` px wide (two 2x poolings along width)."""
    return torch.div(torch.div(widths, 2, rounding_mode="floor"), 2, rounding_mode="floor").clamp(min=1)
