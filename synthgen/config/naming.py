"""What names a config: its fingerprint, and a dataset name that says what differs from the
defaults."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .pipeline import PipelineConfig


def sent_dump(cfg: Any) -> dict[str, Any]:
    """`cfg.model_dump(mode="json")` (a PipelineConfig or an AugmentCfg) as workers get it and
    manifests and fingerprints record it: an `augment.albumentations` file is embedded as its
    content (albu_ops.embedded), so a worker with another working directory needs no file and an
    edited file is another config. Dataset names keep the path as written (`dataset_name`)."""
    d = cfg.model_dump(mode="json")
    for sec in (d, d.get("augment")):
        if isinstance(sec, dict) and isinstance(sec.get("albumentations"), str):
            from ..augment.albu_ops import embedded

            sec["albumentations"] = embedded(sec["albumentations"])
    return d


def fingerprint(cfg: PipelineConfig) -> str:
    blob = json.dumps(sent_dump(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "-".join(_fmt(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v).replace("/", "-").replace(" ", "")


def _short(dump: dict[str, Any]) -> dict[str, Any]:
    """An albumentations Compose passed in Python (its serialised dict) names itself by a short
    hash, not by every argument of every transform."""
    aug = dump.get("augment")
    if isinstance(aug, dict) and isinstance(aug.get("albumentations"), dict):
        from ..augment.albu_ops import short_name

        aug["albumentations"] = short_name(aug["albumentations"])
    return dump


def dataset_name(cfg: PipelineConfig, base: PipelineConfig, seed: int) -> str:
    """`ocr_scene.strength_0.35.fonts_cjk.seed_7`: what differs from the pipeline's defaults."""
    # the base with the same split part, so default split settings do not enter the name
    a = _flat(_short(cfg.model_dump(mode="json")))
    b = _flat(_short(base.model_copy(update={"split": cfg.split}).model_dump(mode="json")))
    b.pop("split", None)
    parts = [cfg.name]
    for k in sorted(a):
        if k in ("seed", "name", "description") or a[k] == b.get(k):
            continue
        parts.append(f"{k.split('.')[-1]}_{_fmt(a[k])}")
    if seed != base.seed:
        parts.append(f"seed_{seed}")
    return ".".join(parts)
