"""The optional compiled kernels (`synthgen/_native.c`), or None.

`lib` is the compiled module when it is importable, built from this checkout's `_native.c`
(an editable install whose C file changed since `pip install -e .` would otherwise run old
code), and not switched off with `SYNTHGEN_NATIVE=0`. Every kernel has a pure-Python
reference next to its caller, which runs when `lib` is None; `tests/test_native.py` checks
the two give the same bytes, so whether a machine has the compiled module changes only the
speed, never a sample (and so it is not part of `numerics.level()` or a job's versions).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from types import ModuleType

SWITCH = "SYNTHGEN_NATIVE"


def _load(src: Path = Path(__file__).with_name("_native.c")) -> tuple[ModuleType | None, str]:
    """(module or None, why: 'on', 'off', 'not built', 'stale'); `src`: the C source a
    checkout's module must have been built from."""
    if os.environ.get(SWITCH, "1").strip() == "0":
        return None, "off"
    try:
        from . import _native
    except ImportError:
        return None, "not built"
    if src.is_file():  # a checkout (wheels ship the compiled module only)
        if hashlib.sha256(src.read_bytes()).hexdigest() != getattr(_native, "SOURCE", None):
            print(f"synthgen: {src} changed since its compiled module was built; running the Python "
                  "reference code (same samples, slower). Rebuild with `pip install -e .`", file=sys.stderr)
            return None, "stale"
    return _native, "on"


lib, state = _load()
