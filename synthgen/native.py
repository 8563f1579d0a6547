"""The optional compiled kernels (`synthgen/_native.c`), or None.

`lib` is the compiled module when it is importable, built from this checkout's `_native.c`
and the kernel files it includes (`csrc/*.c`; an editable install whose C files changed since
`pip install -e .` would otherwise run old code), and not switched off with
`SYNTHGEN_NATIVE=0`. Every kernel has a pure-Python reference next to its caller, which runs
when `lib` is None; `tests/test_native.py` checks the two give the same bytes, so whether a
machine has the compiled module changes only the speed, never a sample (and so it is not part
of `numerics.level()` or a job's versions).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType

from .native_source import source_hash

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
        if source_hash(src) != getattr(_native, "SOURCE", None):
            print(f"synthgen: {src} (or a file in {src.parent / 'csrc'}) changed since its compiled module was "
                  "built; running the Python reference code (same samples, slower). Rebuild with `pip install -e .`",
                  file=sys.stderr)
            return None, "stale"
    return _native, "on"


def _arrays_agree(mod: ModuleType) -> bool:
    """Turn on the kernels that read numpy arrays' fields in place (`compose`) if what they
    read for a few arrays (contiguous, a strided view, read-only bytes, another dtype, 3-D) is
    what numpy says; off (NotImplemented, the Python reference runs) for any numpy where not."""
    try:
        import numpy as np

        mod.array_setup(np.ndarray, np.dtype(np.uint8), np.zeros)
        base = np.arange(60, dtype=np.uint8).reshape(6, 10)
        probes = [base, base[1:5, 2:7], base[::2, ::3], np.ndarray((2, 3), np.uint8, bytes(range(12)), 5),
                  np.frombuffer(bytearray(8), np.uint8).reshape(2, 4), np.zeros((3, 4), np.float32),
                  np.zeros((2, 3, 3), np.uint8), np.zeros((0, 0), np.uint8)]
        for a in probes:
            want = (a.__array_interface__["data"][0], a.ndim, a.shape, a.strides, a.dtype == np.uint8)
            if mod.array_probe(a) != want:
                raise ValueError(f"numpy's array fields read differently for {a.dtype} {a.shape} {a.strides}")
        return bool(mod.array_ready(True))
    except Exception:
        try:
            mod.array_setup(None, None, None)
            mod.array_ready(False)
        except Exception:
            pass
        return False


lib, state = _load()
arrays = lib is not None and _arrays_agree(lib)  # the array kernels (compose) are on
