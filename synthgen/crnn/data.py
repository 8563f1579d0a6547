"""From synthgen items (or `Sample`s) to CRNN batches: grey, 32 px high, right-padded."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import torch

from .charset import Charset
from .model import HEIGHT, STRIDE

MAX_WIDTH = 512


def grey_line(rgb: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8 -> 32 x W' float32 in [0, 1] (height scaled to 32; vertical crops turned)."""
    g = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    h, w = g.shape
    if h > w * 2:  # a vertical line: read it top to bottom
        g = np.ascontiguousarray(np.rot90(g, -1))
        h, w = g.shape
    if h != HEIGHT:
        w = max(STRIDE, int(round(w * HEIGHT / h)))
        g = cv2.resize(g, (w, HEIGHT), interpolation=cv2.INTER_AREA)
    if g.shape[1] > MAX_WIDTH:
        g = cv2.resize(g, (MAX_WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    return g.astype(np.float32) / 255.0


def line_text(instances: list[Any]) -> str:
    """The transcription of a line crop (its line instance; words joined by a space otherwise)."""
    texts = [(i["text"] if isinstance(i, dict) else i.text) for i in instances
             if (i["kind"] if isinstance(i, dict) else i.kind) in ("line", "word", "field")]
    return " ".join(t for t in texts if t)


def item_image(item: dict[str, Any]) -> np.ndarray:
    img = item["image"]
    if isinstance(img, torch.Tensor):
        img = img.numpy().transpose(1, 2, 0)
        if img.dtype != np.uint8:
            img = (img * 255).round().astype(np.uint8)
    return img


def batch_from(images: list[np.ndarray], texts: list[str], charset: Charset) -> dict[str, Any]:
    """Grey lines padded to the widest (width a multiple of 4) with targets for CTC."""
    lines = [grey_line(im) for im in images]
    W = max(l.shape[1] for l in lines)
    W += -W % STRIDE
    x = torch.zeros(len(lines), 1, HEIGHT, W)
    for j, l in enumerate(lines):
        x[j, 0, :, : l.shape[1]] = torch.from_numpy(l)
    ids = [charset.encode(t) for t in texts]
    return {
        "x": x,
        "widths": torch.tensor([l.shape[1] for l in lines], dtype=torch.int64),
        "targets": torch.tensor([k for t in ids for k in t], dtype=torch.int64),
        "target_lengths": torch.tensor([len(t) for t in ids], dtype=torch.int64),
        "texts": texts,
    }


class Collate:
    """DataLoader collate for synthgen items (SynthIterable / SynthDataset / ShardDataset).

    `split=k` sorts the items by width and returns k batches of similar widths (a list): line
    widths vary 5x, and padding every batch to its widest line would waste most of the compute."""

    def __init__(self, charset: Charset, split: int = 1) -> None:
        self.charset, self.split = charset, split

    def one(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        b = batch_from([item_image(i) for i in items], [line_text(i["instances"]) for i in items], self.charset)
        b["keys"] = [i["key"] for i in items]
        return b

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
        if self.split <= 1:
            return self.one(items)
        items = sorted(items, key=lambda i: i["image"].shape[-1] / max(1, i["image"].shape[-2]))
        size = -(-len(items) // self.split)
        return [self.one(items[k : k + size]) for k in range(0, len(items), size)]
