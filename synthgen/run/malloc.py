"""glibc's malloc, set for processes that render samples one after another.

A scene allocates and frees a dozen arrays of 0.25-6 MB (the 512 x 512 image, its float
copies, label maps). glibc serves blocks over its mmap threshold with fresh mappings, and
hands freed memory at the top of its heap back to the system past its trim threshold; both
thresholds adapt upwards only part of the way, so in a steady run every such array was
mapped, zero-filled page by page (~220 page faults a scene after 400 scenes, ~150 after 1,000)
and unmapped again. Raised once per worker process, the freed blocks are reused instead (~20
faults a scene, a third of the system time): ocr_scene +10% per CPU-second after 400 scenes,
+5% after 1,000 (docs/experiments/speed_native.md), the same peak RSS (the live set is the
same; what is freed stays in the heap for the next sample). Lines and cards, which fault
little, gain nothing. Samples do not change: only where their memory comes from.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # blocks under this come from the heap (glibc's largest allowed value)
TRIM_THRESHOLD = 256 << 20  # free memory at the heap's top kept for reuse, up to this
SWITCH = "SYNTHGEN_MALLOPT"  # 0: leave malloc as it is

_state: bool | None = None


def keep_freed_blocks() -> bool:
    """Set the thresholds in this process (once; later calls return the first answer): True if
    glibc took them, False elsewhere (another C library, another system, switched off)."""
    global _state
    if _state is None:
        _state = False
        if sys.platform.startswith("linux") and os.environ.get(SWITCH, "1").strip() != "0":
            try:
                mallopt = ctypes.CDLL(None).mallopt  # glibc's; musl has none
                mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
                _state = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
            except (OSError, AttributeError):
                _state = False
    return _state
