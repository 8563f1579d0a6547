"""`Pipeline.sample(i)`: the one pure function everything else calls.

render -> augment -> labels, drawing only from the generator keyed by (seed, i).
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import cv2
import numpy as np
import orjson

from . import __version__
from .augment.photometric import photometric
from .config import PipelineConfig, dataset_name, load_config
from .core import Sample, key_for
from .draws import Draws, sample_rng
from .labels.east import east_targets, score_map
from .renderers.registry import make_renderer

# Instance kinds that are text: only these enter EAST maps (photo and document quads are
# labels of their own).
TEXT_KINDS = frozenset({"word", "line", "field"})


class Pipeline:
    def __init__(self, cfg: PipelineConfig, seed: int | None = None, base: PipelineConfig | None = None) -> None:
        self.cfg = cfg
        self.base = base or cfg
        self.seed = cfg.seed if seed is None else int(seed)
        self.renderer = make_renderer(cfg, self.seed)

    @property
    def name(self) -> str:
        return dataset_name(self.cfg, self.base, self.seed)

    def sample(self, index: int, pinned: dict[str, Any] | None = None, bias: dict[str, Any] | None = None,
               debug_ink: bool = False) -> Sample:
        """Sample `index`: same (config, seed, index, pins, bias) -> same bytes, always.

        `debug_ink=True` (line pipelines) also returns `maps["ink"]`: the text's coverage
        (uint8, fill and stroke; not shadows or underlines) exactly as composited, before
        photometric augmentation. For label checks; never written to shards."""
        d = Draws(sample_rng(self.seed, index), pinned=pinned, bias=bias)
        # pipeline_kind: exports tell recognition crops from scenes by it
        meta = {"seed": self.seed, "index": index, "pipeline": self.cfg.name, "pipeline_kind": self.cfg.kind,
                "version": __version__}
        image, instances, ink = self.renderer.render(d, index, want_ink=debug_ink)
        image = photometric(image, d, self.cfg.augment.strength)
        lab = self.cfg.labels
        H, W = image.shape[:2]
        maps: dict[str, np.ndarray] = {}
        # Some kinds (scene) always carry the score map; others only the maps labels.store asks for.
        want_score = getattr(self.renderer, "score_always", False) or "score" in lab.store
        extra = tuple(m for m in lab.store if m != "score")
        text = [inst for inst in instances if inst.kind in TEXT_KINDS]
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

    # -- serialisation for shards ---------------------------------------------------------
    def encode(self, s: Sample) -> list[tuple[str, bytes]]:
        """(extension, bytes) pairs in a fixed order: the tar members of one sample."""
        out = self.cfg.output
        bgr = cv2.cvtColor(s.image, cv2.COLOR_RGB2BGR)
        if out.format == "jpg":
            ok, img = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, out.quality])
        else:
            ok, img = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        assert ok
        # orjson: compact, key-sorted UTF-8 JSON (floats in shortest round-trip form), ~10x faster than json
        js = orjson.dumps(s.to_json(arrays=True), option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY)
        members = [(out.format, img.tobytes()), ("json", js)]
        if "score" in s.maps:
            # 1-bit PNG: 4x faster to write than 8-bit, decodes to the same 0/255 uint8 (PIL: mode "1")
            ok, score = cv2.imencode(".png", (s.maps["score"] * 255).astype(np.uint8), [cv2.IMWRITE_PNG_BILEVEL, 1])
            members.append(("score.png", score.tobytes()))
        extra = {k: v.astype(np.float16) for k, v in s.maps.items() if k not in ("score", "ink")}
        if extra:
            members.append(("east.npz", npz_bytes(extra)))
        return members


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz that `np.load(..., allow_pickle=False)` reads, with fixed zip timestamps so
    shards stay byte-reproducible (np.savez stamps the current time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for k in sorted(arrays):
            info = zipfile.ZipInfo(f"{k}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, np.ascontiguousarray(arrays[k]), allow_pickle=False)
    return buf.getvalue()


def load_pipeline(name_or_path: str = "ocr_scene", seed: int | None = None, **overrides: Any) -> Pipeline:
    """`load_pipeline("ocr_scene", seed=0, **{"augment.strength": 0.4})` or `augment={"strength": 0.4}`."""
    cfg, base = load_config(name_or_path, overrides)
    return Pipeline(cfg, seed=seed, base=base)
