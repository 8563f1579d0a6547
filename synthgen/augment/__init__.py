"""Label-aware augmentation under one `strength` (see stage.py); ops live in a registry (base.py).
`augment_ray` augments a Ray Dataset's rows (raydata.py; Ray is imported when it is called)."""

from .base import REGISTRY, op_table
from .raydata import augment_ray
from .stage import augment

__all__ = ["REGISTRY", "augment", "augment_ray", "op_table"]
