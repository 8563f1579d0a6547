"""PyTorch datasets over `pipeline.sample(i)`: render on the fly inside a training loop.

    from synthgen.torch import SynthDataset, collate
    ds = SynthDataset("ocr_scene", n=100_000, seed=0, maps=("score", "geo_rbox", "mask"))
    dl = torch.utils.data.DataLoader(ds, batch_size=16, num_workers=8, collate_fn=collate)

Item i is sample i of the seed, whatever the worker that renders it, so a run is reproducible
and a resumed epoch sees the same data. `epoch_offset` gives each epoch fresh samples without
repeating an index (sample indices epoch * n + i).
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import torch
    from torch.utils.data import Dataset
except ImportError as e:  # pragma: no cover - exercised only without the extra
    from .errors import UserError

    raise UserError('synthgen.torch needs PyTorch: pip install torch==2.13.0 (or "synthgen[torch]")') from e

from .pipeline import Pipeline, load_pipeline


class SynthDataset(Dataset):
    """Map-style dataset of `n` samples; item = dict(image CHW uint8 tensor, instances, maps, key)."""

    def __init__(self, pipeline: str | Pipeline = "ocr_scene", n: int = 10_000, seed: int | None = None,
                 maps: tuple[str, ...] = ("score",), epoch: int = 0, **overrides: Any) -> None:
        if n <= 0:
            from .errors import UserError

            raise UserError(f"n must be > 0, got {n}")
        self.pipeline = pipeline if isinstance(pipeline, Pipeline) else load_pipeline(pipeline, seed=seed, **overrides)
        self.n, self.maps, self.epoch = int(n), tuple(maps), int(epoch)

    def __len__(self) -> int:
        return self.n

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __getitem__(self, i: int) -> dict[str, Any]:
        if not 0 <= i < self.n:
            raise IndexError(i)
        s = self.pipeline.sample(self.epoch * self.n + i)
        out: dict[str, Any] = {
            "key": s.key,
            "image": torch.from_numpy(np.ascontiguousarray(s.image.transpose(2, 0, 1))),
            "instances": [inst.to_json() for inst in s.instances],
        }
        wanted = [m for m in self.maps if m != "score"]
        if "score" in self.maps and "score" in s.maps:  # line crops carry no detection maps
            out["score"] = torch.from_numpy(s.maps["score"].astype(np.float32))
        if wanted:
            from .labels.east import east_targets

            lab = self.pipeline.cfg.labels
            t = east_targets(s.instances, s.image.shape[:2], stride=lab.stride, min_text_size=lab.min_text_size,
                             maps=tuple(wanted))
            out.update({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in t.items()})
        return out


def collate(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack tensors; keep per-sample instance lists as lists (their lengths differ)."""
    out: dict[str, Any] = {}
    for k in batch[0]:
        vals = [b[k] for b in batch]
        out[k] = torch.stack(vals) if isinstance(vals[0], torch.Tensor) else vals
    return out
