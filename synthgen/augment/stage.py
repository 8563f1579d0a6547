"""The augmentation stage: `augment(image, instances, d, cfg)`.

Every op in the registry gets one chance draw (`aug.<op>.apply`, chance p x strength) and
draws its parameters once (magnitudes scaled towards identity by strength). Both scale with
the one strength, and both are keyed uniforms, so raising the strength only adds ops and
grows magnitudes: sample i at strength s deforms continuously into itself at s' > s. Geometric ops compose into one matrix, the elastic op adds one
displacement field, and the image (and the optional ink mask) is resampled once; quads and
char quads go through the same mapping. Then the photometric ops run in registry order, with
consecutive tone ops fused into one lookup table. Then, when `augment.albumentations` is set,
its albumentations pipeline runs as one more op (albu_ops.py: p x strength per transform, quads
as keypoints, seeded by the factor aug.albu.seed). Strength 0 returns the inputs untouched.
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


@lru_cache(maxsize=64)
def _drawn(overrides: tuple) -> tuple[tuple[Op, float, tuple[float, float], str], ...]:
    """_table's ops with a chance, each with the name of its `apply` factor (made once, not per sample)."""
    return tuple((op, p, rng, f"aug.{op.name}.apply") for op, p, rng in _table(overrides) if p > 0)


@lru_cache(maxsize=64)
def _chances(overrides: tuple) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The `apply` factor names and chances of _drawn's ops, as Draws.bernoullis takes them."""
    drawn = _drawn(overrides)
    return tuple(a for _, _, _, a in drawn), tuple(float(p) for _, p, _, _ in drawn)


_EYE3 = np.eye(3)  # read-only; a copy costs 0.15 us in a loop, np.eye(3) (a Python function) 1.0 us
_EYE3.flags.writeable = False


def plan(d: Draws, strength: float, cfg: Any, W: int, H: int, instances: list[Instance]):
    """Draw every op's chance and parameters: (mapping, [(photometric op, params)])."""
    ctx = Ctx(W, H, [inst.quad for inst in instances if not inst.ignore])
    M = None  # no geometric op has fired: the identity (np.eye(3), made when one fires)
    fields: list = []
    photo: list[tuple[Op, dict]] = []
    overrides = _overrides(cfg)
    drawn = _drawn(overrides)
    # every op's chance in one call (~22 a sample: ~0.5 us each one by one), then the ops that
    # fired, in order, with the ops it did not draw (none, unless traced, pinned or biased)
    taken, fired = d.bernoullis(*_chances(overrides), strength)
    for i in (*fired, *range(taken, len(drawn))):
        op, p, rng, apply = drawn[i]
        # parameters are drawn only for ops that fire: draws are keyed by factor name, so
        # skipping them moves no other value (pinning `apply` changes only this op)
        if i >= taken and not d.bernoulli(apply, p * strength):
            continue
        params = op.draw(d, rng, strength, ctx)
        if not op.useful(params):
            continue
        if op.kind == "geometric":
            M = op.matrix(params, ctx) @ (_EYE3 if M is None else M)
        elif op.kind == "field":
            fields.append((op, params))
        else:
            photo.append((op, params))
    return Mapping(_EYE3.copy() if M is None else M, fields, ctx, plain=M is None), photo


def declare(cat, cfg: Any, strength: float | None = None) -> None:
    """Declare what `plan` draws at `cfg.strength` (or `strength`; synthgen/factors.py): every
    op with a chance > 0 draws `aug.<op>.apply` and, when it fires, its parameters. Nothing at
    strength 0. `cat.instances` (set by the renderer's declaration) bounds `aug.crop.keep`."""
    s = float(cfg.strength if strength is None else strength)
    if s <= 0:
        return
    for op, p, rng in _table(_overrides(cfg)):
        if p <= 0:
            continue
        key = f"augment.ops.{op.name}"
        cat.bernoulli(f"aug.{op.name}.apply", src=f"{key}.p x augment.strength")
        op.factors(cat, rng, s, getattr(cat, "instances", None))
        # the config key of each: the magnitude scales with the op's range, the rest (where,
        # which way, a noise seed) has a fixed range and is drawn when the op fires
        scaled = tuple(float(v) for v in op.scaled(rng, s)) if rng is not None else None
        for name, spec in cat.specs.items():
            if name.startswith(f"aug.{op.name}.") and not spec.src:
                spec.src = (f"{key}.range x augment.strength"
                            if name == f"aug.{op.name}.{op.param}" or (spec.lo, spec.hi) == scaled
                            else f"(fixed range; drawn when {key} fires)")
    if getattr(cfg, "albumentations", None) is not None:
        from .albu_ops import declare as declare_albumentations

        declare_albumentations(cat, cfg.albumentations)


CHAR_VISIBLE = 0.75  # text with a character less visible than this becomes don't-care
EDGE_SAMPLES = 7  # points inside each edge of a quad mapped through a field (1/8 .. 7/8 of the edge)
GROW_MIN = 0.005  # px: less than the labels' 1/100 px rounding is left alone


def _edge_samples(quad: np.ndarray) -> np.ndarray:
    q = np.asarray(quad, np.float64).reshape(4, 2)
    t = (np.arange(1, EDGE_SAMPLES + 1) / (EDGE_SAMPLES + 1))[:, None]
    return np.concatenate([q[e] + t * (q[(e + 1) % 4] - q[e]) for e in range(4)])


def grow_to_hold(quad: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """The quad with each edge moved outward, parallel to itself, just enough to hold `pts`
    (corner order and reading direction kept); unchanged when every point is inside already.
    Clockwise on screen (y down): the inside lies to the right of each edge."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    pts = np.asarray(pts, np.float64).reshape(-1, 2)
    if not len(pts):
        return quad
    e = np.roll(q, -1, axis=0) - q  # edge k runs from corner k to corner k + 1
    n = np.hypot(e[:, 0], e[:, 1])
    if (n < 1e-9).any():
        return quad
    inward = np.stack([-e[:, 1], e[:, 0]], 1) / n[:, None]
    d = (pts[None, :, 0] - q[:, None, 0]) * inward[:, None, 0] + (pts[None, :, 1] - q[:, None, 1]) * inward[:, None, 1]
    shift = np.maximum(0.0, -d.min(axis=1))  # how far each edge must move out
    if shift.max() < GROW_MIN:
        return quad
    a = q - shift[:, None] * inward  # a point on each moved edge
    out = np.empty_like(q)
    for k in range(4):  # corner k: where edge k - 1 meets edge k
        p_, n_ = a[k - 1], inward[k - 1]
        den = float(e[k] @ n_)
        if abs(den) < 1e-9:  # parallel neighbours (degenerate quad): move the corner out along both
            out[k] = q[k] - shift[k - 1] * inward[k - 1] - shift[k] * inward[k]
        else:
            out[k] = a[k] + e[k] * (float((p_ - a[k]) @ n_) / den)
    return out.astype(np.asarray(quad).dtype)


def move_instances(instances: list[Instance], mapping: Mapping, cfg: Any) -> list[Instance]:
    """Every quad and char quad through the mapping; mostly-out-of-frame ones become ignore (or go)."""
    if not instances:
        return instances
    parts = [inst.quad for inst in instances] + [inst.chars.reshape(-1, 2) for inst in instances
                                                  if inst.chars is not None and len(inst.chars)]
    pts = mapping.points(np.concatenate([p.reshape(-1, 2) for p in parts]))
    # A field (elastic) bends straight edges, so the 4 mapped corners alone make a quad that cuts
    # into its own bent text (char quads, mapped at every corner, reached up to ~1.5 px out of
    # their word at strength 1): points along each edge go through the field too (a call of
    # their own: the corners' values stay exactly what they were) and the quad grows to hold them.
    edge_pts = mapping.points(np.concatenate([_edge_samples(inst.quad) for inst in instances])) \
        if getattr(mapping, "fields", None) else None
    return place_instances(instances, pts, edge_pts, mapping.W, mapping.H, cfg)


def place_instances(instances: list[Instance], pts: np.ndarray, edge_pts: np.ndarray | None, W: int, H: int,
                    cfg: Any, mirrored: list[bool] | None = None) -> list[Instance]:
    """The instances at their mapped points (`pts`: 4 per quad, then 4 per char quad of each
    instance that has them; `edge_pts`: EDGE_SAMPLES per quad edge, or None), each quad grown to
    hold its mapped edge samples and char quads, and judged against the W x H frame: mostly out
    becomes ignore (or goes), a character cut by the frame makes it ignore. `mirrored[j]`
    (albu_ops: a flip turned the corner order): not grown, and ignore."""
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
        flipped = bool(mirrored and mirrored[j])
        if edge_pts is not None and not flipped:
            held = edge_pts[EDGE_SAMPLES * 4 * j : EDGE_SAMPLES * 4 * (j + 1)]
            quad = grow_to_hold(quad, held if chars is None or not len(chars) else
                                np.concatenate([held, chars.reshape(-1, 2)]))
        ignore = inst.ignore or flipped
        inside = _inside(quad, W, H)
        if not inside and visible_fraction(quad, W, H) < min_visible:
            if drop:
                continue
            ignore = True
        elif not inside and chars is not None and inst.text and _a_char_is_cut(chars, W, H):
            # a character cut by the frame: the transcription no longer matches what is visible
            ignore = True
        out.append(Instance(quad=quad, text=inst.text, chars=chars, kind=inst.kind, field=inst.field, ignore=ignore))
    return out


def _inside(quad: np.ndarray, W: int, H: int) -> bool:
    """Every corner of `quad` (4 x 2) in the frame [0, W] x [0, H] (NaN is outside): numpy's
    np.all((x >= 0) & (x <= W) & (y >= 0) & (y <= H)) in plain Python, ~4x cheaper on 4 points
    (the float32 values compare exactly as doubles, W and H exactly as float32)."""
    return all(0 <= x <= W and 0 <= y <= H for x, y in quad.tolist())


def _a_char_is_cut(chars: np.ndarray, W: int, H: int) -> bool:
    """Whether a char quad is less than CHAR_VISIBLE inside the W x H frame. A quad with every
    corner inside is whole (visible_fraction 1): only the others are measured."""
    x, y = chars[..., 0], chars[..., 1]
    out = ~np.all((x >= 0) & (x <= W) & (y >= 0) & (y <= H), axis=1)
    return any(visible_fraction(chars[k], W, H) < CHAR_VISIBLE for k in np.flatnonzero(out).tolist())


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
    if getattr(cfg, "albumentations", None) is not None:  # one more op: the configured albumentations pipeline
        from .albu_ops import apply as albumentations_op

        image, instances, ink = albumentations_op(cfg.albumentations, image, instances, ink, d, s, cfg)
    return image, instances, ink
