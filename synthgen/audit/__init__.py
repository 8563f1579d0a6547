"""The bad-augmentation-rate audit: judges, Wilson intervals, strength tuning (see run.py).
`synthgen.audit.audit(...)` or `synthgen.audit_augmentation(...)` runs it."""

from .run import audit

__all__ = ["audit"]
