"""Pipeline configs: YAML files in `pipelines/`, validated on load.

Unknown keys and wrong types are errors that name the key path. Overrides use dotted paths
(`augment.strength=0.4`), from the CLI's `--set` or from Python keyword arguments.

One module a job: `base` (strict models, range checks), `shared` (the sections every kind
has), one module per kind's own sections (`scene`, `line`, `document`), `pipeline` (the model
of a kind's whole config), `loading` (YAML, `--set`, validation) and `naming` (fingerprint,
dataset names). The names below are the package's interface.
"""

from .base import FONTS, PIPELINES, Strict
from .line import LineCfg
from .loading import (PlainLoader, apply_overrides, available, load_config, load_yaml, parse_set, read_yaml,
                      resolve_path, validate)
from .naming import dataset_name, fingerprint, sent_dump
from .pipeline import PipelineConfig, config_model
from .scene import ImageCfg, LayoutCfg, TextCfg
from .shared import AugmentCfg, AugOpCfg, BackgroundCfg, FactorsCfg, FontsCfg, LabelsCfg, OutputCfg, SplitsCfg

__all__ = ["FONTS", "PIPELINES", "AugOpCfg", "AugmentCfg", "BackgroundCfg", "FactorsCfg", "FontsCfg", "ImageCfg",
           "LabelsCfg", "LayoutCfg", "LineCfg", "OutputCfg", "PipelineConfig", "PlainLoader", "SplitsCfg", "Strict",
           "TextCfg", "apply_overrides", "available", "config_model", "dataset_name", "fingerprint", "load_config",
           "load_yaml", "parse_set", "read_yaml", "resolve_path", "sent_dump", "validate"]
