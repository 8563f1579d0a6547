"""The SHA-256 that ties the compiled kernels to their C sources: setup.py builds it into the
module (`_native.SOURCE`) and native.py compares it with the checkout's files. Standard library
only: setup.py loads this file by its path, before synthgen is importable."""

from __future__ import annotations

import hashlib
from pathlib import Path


def source_hash(src: Path) -> str:
    """SHA-256 of `src` (_native.c) and the kernel files it #includes (csrc/*.c, by name)."""
    h = hashlib.sha256(src.read_bytes())
    for part in sorted(src.with_name("csrc").glob("*.c")):
        h.update(part.read_bytes())
    return h.hexdigest()
