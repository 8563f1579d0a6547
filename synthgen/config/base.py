"""The pieces every config section is built from: a strict model, range and case checks, and
where shipped pipelines and fonts live."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ..resources import shipped


PIPELINES = shipped("pipelines")
FONTS = shipped("fonts")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


def _range(v: Any) -> Any:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return [v, v]
    return v


def _ordered_pair(v: tuple) -> tuple:
    if v[0] > v[1]:
        raise ValueError(f"range must be [low, high], got {list(v)}")
    return v


def _check_cases(v: dict) -> dict:
    from ..renderers.corpus import CASES

    bad = set(v) - set(CASES)
    if bad:
        raise ValueError(f"unknown case {sorted(bad)}; use {', '.join(CASES)}")
    return v
