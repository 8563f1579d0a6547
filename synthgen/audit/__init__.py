"""The bad-augmentation-rate audit: judges, Wilson intervals, strength tuning (see run.py)."""

import sys
import types

from .run import audit


class _CallableModule(types.ModuleType):
    """Importing this subpackage rebinds `synthgen.audit` from the facade's function to the
    module; calling the module still runs the audit, so `synthgen.audit(...)` always works."""

    def __call__(self, *args, **kwargs):
        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["audit"]
