"""The pipeline config: the shared sections plus the kind's own, one model per kind."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, create_model, field_validator, model_serializer, model_validator

from .shared import AugmentCfg, BackgroundCfg, FactorsCfg, FontsCfg, LabelsCfg, OutputCfg, SplitsCfg
from .base import Strict

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # a pipeline's name: it names runs/<name>... folders


# -- the pipeline config: shared sections plus the kind's own -------------------------------
#
# A renderer class declares the top-level sections its kind reads (`sections`, with their
# models: scene image/text/layout, line `line`, document `document`) and its size rules; see
# renderers/registry.py. `config_model(kind)` is PipelineConfig plus those sections, and
# `PipelineConfig.model_validate(data)` (and `validate`) picks it by `data["kind"]`. So a config
# dumps only what its kind reads: a fingerprint or dataset name never depends on sections the
# renderer ignores, and a plug-in kind brings its own section without editing this module.


class PipelineConfig(Strict):
    """The sections every kind shares. A config of kind K is an instance of `config_model(K)`,
    a subclass that adds K's sections (`kind_sections`)."""

    kind_sections: ClassVar[tuple[str, ...]] = ()

    name: str
    kind: str = "scene"
    description: str = ""
    seed: int = 0
    fonts: FontsCfg = Field(default_factory=FontsCfg)
    background: BackgroundCfg = Field(default_factory=BackgroundCfg)
    augment: AugmentCfg = Field(default_factory=AugmentCfg)
    factors: FactorsCfg = Field(default_factory=FactorsCfg)
    split: str | None = None  # render only this part of splits.ratios (train / val / test)
    splits: SplitsCfg = Field(default_factory=SplitsCfg)
    labels: LabelsCfg = Field(default_factory=LabelsCfg)
    output: OutputCfg = Field(default_factory=OutputCfg)

    @classmethod
    def model_validate(cls, obj: Any, **kw: Any) -> "PipelineConfig":
        # PipelineConfig.model_validate(data) validates with the model of data's kind
        if cls is PipelineConfig and isinstance(obj, dict):
            model = config_model(obj.get("kind", "scene"))
            if model is not None:
                return model.model_validate(obj, **kw)
            # an unknown kind: its error (and the shared sections'), not one per kind section
            obj = {k: v for k, v in obj.items() if k in cls.model_fields}
        return super().model_validate(obj, **kw)

    def __reduce__(self):
        # kind models are made at run time: pickle by kind (the unpickling process makes it again)
        return (_restore, (self.kind, self.__getstate__()))

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        # the default output folder is runs/<name>...: a name is one file-name-safe token, never a path
        if not NAME.fullmatch(v) or len(v) > 100:
            raise ValueError(f"{v!r} is not a plain name; use letters, digits, '_', '-' and '.' (not first), "
                             "at most 100 characters, e.g. my_scene")
        return v

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        from ..renderers.registry import known, kinds

        if not known(v):
            raise ValueError(f"unknown kind {v!r}; use one of {', '.join(kinds())}")
        return v

    @model_serializer(mode="wrap")
    def _drop_unsplit(self, handler):
        d = handler(self)
        if isinstance(d, dict) and self.split is None:
            # unsplit jobs keep the fingerprint they had before splits existed
            d.pop("split", None)
            d.pop("splits", None)
        return d

    @model_validator(mode="before")
    @classmethod
    def _sections_of_other_kinds(cls, data: Any) -> Any:
        # A config may not set a section its kind does not read (one given as null or {} is
        # dropped); the kind's own section given as null gets its defaults.
        if cls is PipelineConfig or not isinstance(data, dict):
            return data
        data = dict(data)
        for k in cls.kind_sections:
            if k in data and data[k] is None:
                del data[k]
        extra = sorted(k for k in data if k not in cls.model_fields)
        if not extra:
            return data
        from ..renderers.registry import section_owners

        owners = section_owners()
        foreign: dict[str, list[str]] = {}
        for k in extra:
            models = owners.get(k)
            if not models:
                continue  # no kind reads it: refused as an unknown key
            if data[k] is None or data[k] == {}:
                del data[k]  # nothing set
            else:
                foreign[k] = sorted(models)
        if foreign:
            kind = data.get("kind", "scene")
            hint = "; ".join(f"{k}: is for kind: {'/'.join(o)}" for k, o in foreign.items())
            raise ValueError(f"section(s) {sorted(foreign)} are not read by kind: {kind} ({hint}); "
                             f"see pipelines/ for a {kind} example")
        return data

    @model_validator(mode="after")
    def _canonical_order(self) -> "PipelineConfig":
        # Weighted draws walk their options in order, so a weights mapping must not depend on
        # the order keys were written in: the YAML's order and the sorted JSON a worker gets
        # would otherwise give different samples for the same config. (A kind's own weights:
        # its section's validators.)
        self.background.weights = dict(sorted(self.background.weights.items()))
        return self

    @model_validator(mode="after")
    def _known_split(self) -> "PipelineConfig":
        if self.split is not None and self.split not in self.splits.ratios:
            raise ValueError(f"split {self.split!r} is not one of splits.ratios ({', '.join(self.splits.ratios)})")
        return self

    @model_validator(mode="after")
    def _kind_rules(self) -> "PipelineConfig":
        # the kind's size rules (sizes that must be multiples of labels.stride) and own checks
        if type(self) is not PipelineConfig:
            from ..renderers.registry import check_config

            check_config(self)
        return self


_MODELS: dict[str, tuple[type, type[PipelineConfig]]] = {}


def config_model(kind: str) -> type[PipelineConfig] | None:
    """PipelineConfig plus the sections `kind`'s renderer declares; None for an unknown kind."""
    from ..renderers.registry import kind_info, known

    if not isinstance(kind, str) or not known(kind):
        return None
    info = kind_info(kind)
    hit = _MODELS.get(kind)
    if hit is not None and hit[0] is info.cls:
        return hit[1]
    fields = {s: (m, Field(default_factory=m)) for s, m in info.sections}
    model = create_model(f"{info.cls.__name__}Config", __base__=PipelineConfig, __module__=__name__, **fields)
    model.kind_sections = info.section_names
    _MODELS[kind] = (info.cls, model)
    return model


def _restore(kind: str, state: dict) -> PipelineConfig:
    model = config_model(kind)
    if model is None:
        raise ValueError(f"unknown kind {kind!r}: register its renderer before unpickling its config")
    obj = model.__new__(model)
    obj.__setstate__(state)
    return obj
