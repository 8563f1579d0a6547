"""The CRNN as a judge for the miner and the audit: `fails(samples) -> [bool]`.

    synthgen mine ocr_line --model synthgen.crnn.judge:fails ...

The checkpoint comes from $SYNTHGEN_CRNN (default runs/crnn/crnn.pt). A sample fails when
the greedy transcription differs from its label."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

DEFAULT = os.path.join("runs", "crnn", "crnn.pt")


@lru_cache(maxsize=2)
def _loaded(path: str):
    import torch

    from .train import load

    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    return load(path)


def checkpoint() -> str:
    return os.environ.get("SYNTHGEN_CRNN", DEFAULT)


def predict(samples: list[Any]) -> list[str]:
    from .train import predict as _predict

    model, charset, _ = _loaded(checkpoint())
    return _predict(model, charset, [s.image for s in samples])


def fails(samples: list[Any]) -> list[bool]:
    from .data import line_text

    return [p != line_text(s.instances) for p, s in zip(predict(samples), samples)]


def cer(samples: list[Any]) -> list[float]:
    """Character error rate per sample (a loss rather than a flag)."""
    from .data import line_text
    from .metrics import edit_distance

    out = []
    for p, s in zip(predict(samples), samples):
        t = line_text(s.instances)
        out.append(edit_distance(p, t) / max(1, len(t)))
    return out
