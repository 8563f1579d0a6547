"""Sections every kind of pipeline shares: fonts, background, augment, factors, splits, labels,
output."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_serializer

from .base import Strict, _range


class FontsCfg(Strict):
    families: list[str] = Field(default_factory=lambda: ["dejavu"])  # folders under fonts/, or `all`
    folders: list[str] = Field(default_factory=list)  # user folders of .ttf/.otf/.ttc files
    on_missing_glyph: Literal["error", "redraw"] = "redraw"
    # share of lines per style (serif sans mono slab condensed display handwriting); styles not
    # listed share the rest by their number of families; {} = every family alike
    styles: dict[str, float] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)  # families (index name or folder) held out

    @field_validator("styles")
    @classmethod
    def _styles(cls, v: dict) -> dict:
        known = ("serif", "sans", "mono", "slab", "condensed", "display", "handwriting")
        bad = sorted(set(v) - set(known))
        if bad:
            raise ValueError(f"unknown font style {bad}; styles are {', '.join(known)}")
        if any(w < 0 for w in v.values()):
            raise ValueError("font style weights must be >= 0")
        return v


class BackgroundCfg(Strict):
    weights: dict[str, float] = Field(
        default_factory=lambda: {"plain": 1, "gradient": 1, "texture": 3, "noise": 1}
    )  # also: fractal (Perlin fBm / turbulence / ridged), paper (grain, fibres, folds, stains),
    # photo (shipped real-photo tiles, synthgen/data/textures), image (your folders)
    folders: list[str] = Field(default_factory=list)  # user image folders ("image" kind)

    @field_validator("weights")
    @classmethod
    def _kinds(cls, v: dict) -> dict:
        bad = set(v) - {"plain", "gradient", "texture", "noise", "fractal", "paper", "photo", "image"}
        if bad:
            raise ValueError(f"unknown background kind {sorted(bad)}")
        if not any(w > 0 for w in v.values()):
            raise ValueError("at least one background weight must be > 0")
        return v


class AugOpCfg(Strict):
    """One augmentation op (synthgen/augment): chance and magnitude range at strength 1; unset = the op's default."""

    p: float | None = Field(None, ge=0, le=1)
    range: tuple[float, float] | None = None

    _ranges = field_validator("range", mode="before")(_range)


class AugmentCfg(Strict):
    strength: float = Field(0.3, ge=0.0, le=1.0)  # scales every op's magnitude towards identity
    ops: dict[str, AugOpCfg] = Field(default_factory=dict)  # per-op overrides; p: 0 turns one off
    out_of_frame: Literal["ignore", "drop"] = "ignore"  # instances mostly pushed out of the frame
    min_visible: float = Field(0.5, ge=0, le=1)  # least share of a quad's area left in the frame
    # An albumentations pipeline run as one more op (synthgen/augment/albu_ops.py): a file it
    # wrote (A.save: .yaml / .yml / .json), a shipped name (example), or in Python an A.Compose /
    # list of transforms (kept as A.to_dict). None: not run (and nothing recorded).
    albumentations: str | dict[str, Any] | None = None

    @field_validator("ops")
    @classmethod
    def _known_ops(cls, v: dict) -> dict:
        from ..augment.base import op_table

        known = [op.name for op, _, _ in op_table(None)]
        bad = sorted(set(v) - set(known))
        if bad:
            raise ValueError(f"unknown augmentation op {bad}; use {', '.join(known)}")
        return dict(sorted(v.items()))

    @field_validator("albumentations", mode="before")
    @classmethod
    def _albumentations(cls, v: Any) -> Any:
        # loaded and checked here, so a bad file fails when the config is read (one line, UserError)
        from ..augment.albu_ops import load, normalise

        v = normalise(v)
        if v is not None:
            load(v)
        return v

    @model_serializer(mode="wrap")
    def _drop_unset_albumentations(self, handler):
        d = handler(self)
        if isinstance(d, dict) and self.albumentations is None:
            d.pop("albumentations", None)  # configs without it keep their fingerprints and names
        return d


class FactorsCfg(Strict):
    """Pins and biases for the recorded factors (see synthgen/draws.py): `pin: {name: value}`,
    `bias: {name: {option: weight} | {bins: [...], weights: [...]} | {true: w, false: w}}`.
    Names are factor names (`background.kind`) or generic ones (`word.font` for every word)."""

    pin: dict[str, Any] = Field(default_factory=dict)
    bias: dict[str, Any] = Field(default_factory=dict)


class SplitsCfg(Strict):
    """Identity-segregated splits (synthgen/splits.py): `ratios` of the parts, the hash `key`
    (same key and ratios: same partition in every job), and what is held out (`by`)."""

    ratios: dict[str, float] = Field(default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1})
    key: str = "synthgen"
    by: list[Literal["strings", "identities", "fonts"]] = Field(default_factory=lambda: ["strings", "identities"])

    @field_validator("ratios")
    @classmethod
    def _positive(cls, v: dict) -> dict:
        if not v or any(not (float(r) > 0) for r in v.values()):
            raise ValueError("split ratios must be positive numbers, e.g. {train: 0.8, val: 0.1, test: 0.1}")
        return v


class LabelsCfg(Strict):
    stride: int = Field(4, ge=1, le=32)
    min_text_size: float = Field(10.0, ge=0)
    store: list[Literal["score", "geo_rbox", "geo_quad", "mask"]] = Field(default_factory=lambda: ["score"])


class OutputCfg(Strict):
    format: Literal["jpg", "png"] = "jpg"
    quality: int = Field(90, ge=1, le=100)
    shard_size: int = Field(1000, ge=1)
