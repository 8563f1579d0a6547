"""The `document:` section of a pipeline config (kind: document)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _pair(v):
    return [v, v] if isinstance(v, (int, float)) and not isinstance(v, bool) else v


def _ordered(v: tuple) -> tuple:
    if v[0] > v[1]:
        raise ValueError(f"range must be [low, high], got {list(v)}")
    return v


class PhotoSourceCfg(_Strict):
    # null: each template's own photo.source; procedural | genegan | folder overrides it
    source: Literal["procedural", "genegan", "folder"] | None = None
    folder: str | None = None  # photos for source: folder (jpg/png), or overrides a template's folder
    # 0: every portrait rendered for its card (its face factors recorded under photo.*). N > 0: a
    # per-process bank of about N portraits rendered from fixed keys (the same in every process;
    # shared among the kinds of holder: sex x age band, or x hair and eye colour where the
    # identity records them, at least 2 each), one picked per card (factor photo.bank) with its
    # own light; far cheaper.
    bank: int = Field(0, ge=0, le=4096)

    @field_validator("source")
    @classmethod
    def _torch(cls, v):
        from ..gan import genegan_source

        return genegan_source(v)


class DocSceneCfg(_Strict):
    """The card placed on a background in perspective (document.in_scene: true)."""

    width: int = Field(1024, ge=64, le=4096)
    height: int = Field(768, ge=64, le=4096)
    scale: tuple[float, float] = (0.5, 0.85)  # card width / image width
    rotate: tuple[float, float] = (-25.0, 25.0)  # degrees, counter-clockwise
    flip: float = Field(0.05, ge=0, le=1)  # chance of an upside-down card (rotated 180 degrees more)
    tilt: float = Field(0.12, ge=0, le=0.4)  # largest corner shift from perspective, x card size
    clutter: tuple[int, int] = (0, 6)  # distractor shapes on the background
    falloff: float = Field(0.5, ge=0, le=1)  # strongest light falloff across the frame
    occlusion: float = Field(0.3, ge=0, le=1)  # chance of an object over one card edge
    out_of_frame: float = Field(0.15, ge=0, le=1)  # chance the frame cuts a card corner
    shadow: float = Field(0.6, ge=0, le=1)  # chance of a soft drop shadow

    _p = field_validator("scale", "rotate", "clutter", mode="before")(_pair)
    _o = field_validator("scale", "rotate", "clutter")(_ordered)

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: tuple) -> tuple:
        if v[0] <= 0.05 or v[1] > 1.5:
            raise ValueError(f"card width / image width must be in (0.05, 1.5], got {list(v)}")
        return v


class DocumentCfg(_Strict):
    # Template name (templates/<name>/) or path to a template folder or template.yaml -> weight.
    templates: dict[str, float] = Field(default_factory=lambda: {"idcard_cn_front": 1.0})
    photo: PhotoSourceCfg = Field(default_factory=PhotoSourceCfg)
    px_per_mm: float | None = Field(None, gt=1, le=40)  # null: each template's own resolution
    specimen: bool = True  # false: no SPECIMEN marking on any card (a template may also turn its own off)
    variants: bool = True  # draw one of the template's colour variants (false: always variant 0)
    in_scene: bool = False
    scene: DocSceneCfg = Field(default_factory=DocSceneCfg)

    @field_validator("templates")
    @classmethod
    def _weights(cls, v: dict) -> dict:
        if not v or any(w < 0 for w in v.values()) or not any(w > 0 for w in v.values()):
            raise ValueError("give at least one template with weight > 0 (and none below 0)")
        return dict(sorted(v.items()))
