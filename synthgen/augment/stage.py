"""The augmentation stage: `augment(image, instances, d, cfg)`.

Every op in the registry gets one chance draw (`aug.<op>.apply`, chance p x strength) and
draws its parameters once (magnitudes scaled towards identity by strength). Both scale with
the one strength, and both are keyed uniforms, so raising the strength only adds ops and
grows magnitudes: sample i at strength s deforms continuously into itself at s' > s. Geometric ops compose into one matrix, the elastic op adds one
displacement field, and the image (and the optional ink mask) is resampled once; quads and
char quads go through the same mapping. Then the photometric ops run in registry order, with
consecutive tone ops fused into one lookup table. Strength 0 returns the inputs untouched.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..core import Instance
from ..draws import Draws
from .albu import lut
from .base import Ctx, Op, op_table
from .geometric import Mapping, visible_fraction
from .photometric import ToneOp, tone_lut


def _overrides(cfg: Any) -> tuple:
    ops = getattr(cfg, "ops", None) or {}
    out = []
    for name, o in sorted(ops.items()):
        o = o if isinstance(o, dict) else o.model_dump()
        rng = o.get("range")
        out.append((name, o.get("p"), None if rng is None else tuple(rng)))
    return tuple(out)


@lru_cache(maxsize=64)
def _table(overrides: tuple) -> tuple[tuple[Op, float, tuple[float, float]], ...]:
    return tuple(op_table({n: {"p": p, "range": r} for n, p, r in overrides}))


def plan(d: Draws, strength: float, cfg: Any, W: int, H: int, instances: list[Instance]):
    """Draw every op's chance and parameters: (mapping, [(photometric op, params)])."""
    ctx = Ctx(W, H, [inst.quad for inst in instances if not inst.ignore])
    M = np.eye(3)
    fields: list = []
    photo: list[tuple[Op, dict]] = []
    for op, p, rng in _table(_overrides(cfg)):
        if p <= 0:
            continue
        # parameters are drawn only for ops that fire: draws are keyed by factor name, so
        # skipping them moves no other value (pinning `apply` changes only this op)
        if not d.bernoulli(f"aug.{op.name}.apply", p * strength):
            continue
        params = op.draw(d, rng, strength, ctx)
        if not op.useful(params):
            continue
        if op.kind == "geometric":
            M = op.matrix(params, ctx) @ M
        elif op.kind == "field":
            fields.append((op, params))
        else:
            photo.append((op, params))
    return Mapping(M, fields, ctx), photo


CHAR_VISIBLE = 0.75  # text with a character less visible than this becomes don't-care


def move_instances(instances: list[Instance], mapping: Mapping, cfg: Any) -> list[Instance]:
    """Every quad and char quad through the mapping; mostly-out-of-frame ones become ignore (or go)."""
    if not instances:
        return instances
    parts = [inst.quad for inst in instances] + [inst.chars.reshape(-1, 2) for inst in instances
                                                  if inst.chars is not None and len(inst.chars)]
    pts = mapping.points(np.concatenate([p.reshape(-1, 2) for p in parts]))
    out, k = [], 4 * len(instances)
    min_visible = getattr(cfg, "min_visible", 0.5)
    drop = getattr(cfg, "out_of_frame", "ignore") == "drop"
    for j, inst in enumerate(instances):
        quad = pts[4 * j : 4 * j + 4]
        chars = inst.chars
        if chars is not None and len(chars):
            n = 4 * len(chars)
            chars = pts[k : k + n].reshape(-1, 4, 2)
            k += n
        ignore = inst.ignore
        W, H = mapping.W, mapping.H
        inside = bool(np.all((quad[:, 0] >= 0) & (quad[:, 0] <= W) & (quad[:, 1] >= 0) & (quad[:, 1] <= H)))
        if not inside and visible_fraction(quad, W, H) < min_visible:
            if drop:
                continue
            ignore = True
        elif not inside and chars is not None and inst.text and any(
                visible_fraction(c, W, H) < CHAR_VISIBLE for c in chars):
            # a character cut by the frame: the transcription no longer matches what is visible
            ignore = True
        out.append(Instance(quad=quad, text=inst.text, chars=chars, kind=inst.kind, field=inst.field, ignore=ignore))
    return out


def apply_photometric(img: np.ndarray, photo: list[tuple[Op, dict]]) -> np.ndarray:
    tones: list = []
    for op, params in photo:
        if isinstance(op, ToneOp):
            tones.append((op, params))
            continue
        if tones:
            img, tones = lut(img, tone_lut(tones)), []
        img = op.apply(img, params)
    if tones:
        img = lut(img, tone_lut(tones))
    return img


def augment(image: np.ndarray, instances: list[Instance], d: Draws, cfg: Any, ink: np.ndarray | None = None,
            strength: float | None = None) -> tuple[np.ndarray, list[Instance], np.ndarray | None]:
    """(image, instances, ink) after augmentation at `cfg.strength` (or `strength`).

    `cfg` is an `AugmentCfg` (strength, ops, out_of_frame, min_visible). `ink`, an optional
    uint8 mask of the text (H x W or H x W x C), follows the geometry only (for judges and tests)."""
    s = float(cfg.strength if strength is None else strength)
    if s <= 0:
        return image, instances, ink
    H, W = image.shape[:2]
    mapping, photo = plan(d, s, cfg, W, H, instances)
    if not mapping.is_identity():
        image = mapping.image(image)
        if ink is not None:
            ink = mapping.image(ink)
        instances = move_instances(instances, mapping, cfg)
    if photo:
        image = apply_photometric(image, photo)
    return image, instances, ink
