"""The bad-augmentation-rate audit: judges, Wilson intervals, strength tuning (see run.py)."""

from .run import audit

__all__ = ["audit"]
