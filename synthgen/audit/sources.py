"""Where the audit gets sample i at strength s: a pipeline, or a labelled dataset.

Pipeline: `pipeline.sample(i)` with `augment.strength = s`; the render part is the same at
every strength (its factors are keyed by their own names), so strength 0 is the reference.
Dataset (synthgen shards, an ICDAR 2015 folder, or a `synthgen augment` output, which stands
for its source): the stored sample is the reference, and augmenting it with the draws of
(seed, i) at strength s gives the augmented one, exactly as `synthgen augment` would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import AugmentCfg
from ..draws import Draws
from ..renderers.registry import is_crop
from .judges import Item


class PipelineSource:
    kind = "pipeline"

    def __init__(self, pipeline: str, overrides: dict[str, Any] | None = None, seed: int | None = None) -> None:
        from ..config import dataset_name, load_config

        self.spec = pipeline
        self.cfg, self.base = load_config(pipeline, overrides or {})
        self.seed = self.cfg.seed if seed is None else int(seed)
        self.name = dataset_name(self.cfg, self.base, self.seed)
        self._pipes: dict[float, Any] = {}

    def pipeline(self, s: float):
        from ..pipeline import Pipeline

        s = round(float(s), 6)
        if s not in self._pipes:
            cfg = self.cfg.model_copy(deep=True)
            cfg.augment.strength = s
            self._pipes[s] = Pipeline(cfg, seed=self.seed, base=self.base)
        return self._pipes[s]

    def item(self, i: int, s: float) -> Item:
        pipe = self.pipeline(s)
        smp = pipe.sample(i, debug_ink=True)
        return Item(i, s, smp.image, smp.instances, smp.factors, smp.maps.get("ink"), crop=pipe.kind.crop)

    def tuned_config(self, strength: float) -> dict[str, Any]:
        from ..config import read_yaml, resolve_path

        data = read_yaml(resolve_path(self.spec))
        data.setdefault("augment", {})["strength"] = round(float(strength), 4)
        return data


class DatasetSource:
    kind = "dataset"

    def __init__(self, path: str, seed: int | None = None, aug: AugmentCfg | None = None) -> None:
        from ..augment.inputs import open_input

        self.path = path
        m = Path(path) / "manifest.json"
        src_aug: dict[str, Any] = {}
        if m.is_file():
            try:
                man = json.loads(m.read_text())
            except ValueError:
                man = {}
            src_aug = man.get("augment") or {}
        # an augmented dataset stands for its source: the audit re-augments the source
        self.source = src_aug.get("source") or path
        self.seed = int(seed if seed is not None else src_aug.get("seed", 0))
        self.aug = aug or AugmentCfg.model_validate(src_aug.get("config") or {})
        self.inp = open_input(self.source)
        # recognition crops or not: the source's renderer kind says, when its manifest names one
        # this process knows (None: the judges look at the labels)
        self.crop = is_crop(getattr(getattr(self.inp, "ds", None), "kind", None))
        self.name = Path(str(self.source).rstrip("/")).name
        self.count = self.inp.count

    def item(self, i: int, s: float) -> Item:
        from ..augment import augment

        x = self.inp.get(i % self.count)
        if s <= 0:
            return Item(i, s, x.image, x.instances, {}, None, crop=self.crop)
        d = Draws(self.seed, i)
        img, inst, _ = augment(x.image, x.instances, d, self.aug, strength=s)
        return Item(i, s, img, inst, d.factors, None, crop=self.crop)

    def tuned_config(self, strength: float) -> dict[str, Any]:
        cfg = self.aug.model_dump(mode="json")
        cfg["strength"] = round(float(strength), 4)
        return {"augment": cfg}
