"""`Pipeline.sample(i)`: the one pure function everything else calls.

render -> augment -> labels, drawing only from the generator keyed by (seed, i).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .augment import augment
from .config import PipelineConfig, dataset_name, load_config
from .core import TEXT_KINDS, Sample, key_for  # noqa: F401 (TEXT_KINDS re-exported: torch.py)
from .draws import DERIVED, Draws
from .factors import FactorSpec, catalogue, check_names, check_pin_values
from .labels.east import east_targets, score_map
from .renderers.registry import kind_info, make_renderer
from .version import __version__

class Pipeline:
    def __init__(self, cfg: PipelineConfig, seed: int | None = None, base: PipelineConfig | None = None) -> None:
        self.cfg = cfg
        self.base = base or cfg
        self.seed = cfg.seed if seed is None else int(seed)
        self.kind = kind_info(cfg.kind)  # what the renderer class declares about its kind
        self.renderer = make_renderer(cfg, self.seed)
        self._space: dict[str, FactorSpec] | None = None

    @property
    def name(self) -> str:
        return dataset_name(self.cfg, self.base, self.seed)

    def render_draws(self, d: Draws, index: int, want_ink: bool = False, meta: dict | None = None):
        """Render and augment with the draws `d`: (image, instances, ink). Every random
        choice of a sample happens here; `sample` adds the label maps. The renderer adds its
        own record to `meta` (document: identity)."""
        image, instances, ink = self.renderer.render(d, index, want_ink=want_ink, meta=meta)
        # label-aware: geometry moves quads, char quads and the ink with the image (synthgen/augment)
        image, instances, ink = augment(image, instances, d, self.cfg.augment, ink=ink)
        return image, instances, ink

    def sample(self, index: int, pinned: dict[str, Any] | None = None, bias: dict[str, Any] | None = None,
               debug_ink: bool = False) -> Sample:
        """Sample `index`: same (config, seed, index, pins, bias) -> same bytes, always.

        `pinned` / `bias` add to the config's `factors.pin` / `factors.bias` (see draws.py).
        A name that is no factor of this pipeline, or a derived one, is an error.
        `debug_ink=True` also returns `maps["ink"]`: the text's coverage (uint8, fill and
        stroke; not shadows or underlines) as composited, moved by the geometric augmentation
        with the image (photometric ops leave it alone). For label checks; never written to
        shards."""
        fc = self.cfg.factors
        if pinned:
            self.check_pins(pinned)
        pins = {**fc.pin, **pinned} if pinned else fc.pin
        biases = {**fc.bias, **bias} if bias else fc.bias
        d = Draws(self.seed, index, pinned=pins, bias=biases)
        # pipeline_kind: exports tell recognition crops from scenes by it
        meta = {"seed": self.seed, "index": index, "pipeline": self.cfg.name, "pipeline_kind": self.cfg.kind,
                "version": __version__}
        image, instances, ink = self.render_draws(d, index, want_ink=debug_ink, meta=meta)
        # by name: every pin or bias no draw of this sample used must be a factor of the pipeline
        # (renderers steer through overlays, so only the caller's own names are in the hits)
        missed = [k for k in pins if k not in d.pin_hits]
        if missed:
            self.check_factor_names(missed, "pin")
        missed = [k for k in biases if k not in d.bias_hits]
        if missed:
            self.check_factor_names(missed, "bias")
        lab = self.cfg.labels
        H, W = image.shape[:2]
        maps: dict[str, np.ndarray] = {}
        # Some kinds (scene) always carry the score map; others only the maps labels.store asks for.
        want_score = self.kind.score_always or "score" in lab.store
        extra = tuple(m for m in lab.store if m != "score")
        text = [inst for inst in instances if inst.kind in TEXT_KINDS]  # only text enters EAST maps
        if extra:  # one pass for every map: the quads are shrunk and rasterised once
            t = east_targets(text, (H, W), stride=lab.stride, min_text_size=lab.min_text_size,
                             maps=("score", *extra) if want_score else extra)
            if want_score:
                maps["score"] = t.pop("score").astype(np.uint8)
            maps.update(t)
        elif want_score:
            maps["score"] = score_map([inst.quad for inst in text], [inst.ignore for inst in text], (H, W),
                                      stride=lab.stride)
        if ink is not None:
            maps["ink"] = ink
        return Sample(key_for(index), image, instances, d.factors, meta, maps)

    def replay(self, index: int, factors: dict[str, Any], debug_ink: bool = False) -> Sample:
        """Sample `index` again from a recorded factor dict (a shard's `<key>.json`
        "factors"): every draw pinned to its recorded value; derived values are skipped."""
        return self.sample(index, pinned={k: v for k, v in factors.items() if not k.startswith(DERIVED)},
                           debug_ink=debug_ink)

    # -- the factor catalogue ---------------------------------------------------------------
    def factor_space(self) -> dict[str, FactorSpec]:
        """Every factor this pipeline can draw (generic names), with kind, options or range and
        config key: declared by the renderer and the augmentation ops from the resolved config,
        without rendering (a plug-in kind that declares nothing is traced; see synthgen/factors.py)."""
        if self._space is None:
            self._space = catalogue(self)
        return self._space

    def check_factor_names(self, names: list[str], what: str = "pin") -> None:
        check_names(list(names), self.factor_space(), what, self.cfg.name)

    def check_pins(self, pins: dict[str, Any]) -> None:
        """Names, then values: each pinned value inside its factor's declared domain."""
        self.check_factor_names(list(pins), "pin")
        check_pin_values(pins, self.factor_space(), self.cfg.name)


def load_pipeline(name_or_path: str = "ocr_scene", seed: int | None = None, **overrides: Any) -> Pipeline:
    """`load_pipeline("ocr_scene", seed=0, **{"augment.strength": 0.4})` or `augment={"strength": 0.4}`."""
    cfg, base = load_config(name_or_path, overrides)
    pipe = Pipeline(cfg, seed=seed, base=base)
    if cfg.factors.pin:  # refuse a name that is no factor, or a value outside it, before any work
        pipe.check_pins(cfg.factors.pin)
    if cfg.factors.bias:
        pipe.check_factor_names(list(cfg.factors.bias), "bias")
    return pipe
