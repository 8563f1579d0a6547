"""Label-aware augmentation under one `strength` (see stage.py); ops live in a registry (base.py)."""

from .base import REGISTRY, op_table
from .stage import augment

__all__ = ["REGISTRY", "augment", "op_table"]
