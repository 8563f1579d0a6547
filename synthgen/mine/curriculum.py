"""Mining inside training: between epochs, judge a probe of fresh samples with the current
model and point the training dataset's bias at what it fails on.

    ds = SynthIterable("ocr_line", seed=0, n=20_000, batch_size=64)
    cur = Curriculum(ds, judge=my_fails, probe=256)
    for epoch in range(E):
        ds.set_epoch(epoch)
        train_one_epoch(DataLoader(ds, batch_size=None, num_workers=2, persistent_workers=True))
        cur.update()   # judge 256 fresh samples, update statistics, ds.set_bias(...)

The dataset's bias reaches persistent DataLoader workers through shared memory
(synthgen.torch). The bias's weights are mixed with the base distribution
(w' = floor + (1 - floor) * w per region), so no region leaves the training stream."""

from __future__ import annotations

from typing import Any

from .miner import Judge, Miner


class Curriculum:
    def __init__(self, dataset: Any, judge: Judge, probe: int = 256, floor: float = 0.3, start: int = 10**9,
                 **miner_kw: Any) -> None:
        # probe indices far from the training stream: fresh samples, never trained on
        self.dataset, self.floor = dataset, float(floor)
        self.miner = Miner(dataset.pipeline, judge, per_round=probe, start=start, floor=floor, **miner_kw)

    def mixed_bias(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        f = self.floor
        for name, b in self.miner.bias().items():
            if isinstance(b, dict) and "bins" in b:
                out[name] = {"bins": b["bins"], "weights": [f + (1 - f) * w for w in b["weights"]]}
            else:
                out[name] = {k: f + (1 - f) * w for k, w in b.items()}
        return out

    def update(self) -> dict[str, Any]:
        """One probe round; sets and returns the dataset's new bias."""
        self.miner.round()
        bias = self.mixed_bias()
        self.dataset.set_bias(bias or None)
        return bias
