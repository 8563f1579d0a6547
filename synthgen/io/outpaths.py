"""Output paths checked before any work, so that a refusal leaves nothing behind: the one
place every command (render, augment, mine, gan, audit ...) asks whether it may write there."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UserError


def out_or_default(out, default, flag: str = "--out") -> str:
    """`out` as given, or `default` where none was given (None). An empty or blank one is refused:
    it used to mean the default folder, silently."""
    if out is None:
        return str(default)
    if not str(out).strip():
        raise UserError(f"{flag} {str(out)!r} is empty; give a folder, or leave {flag} out for the default {default}")
    return str(out)


def writable_parent(path, flag: str) -> None:
    """The nearest existing folder above `path` must be a folder we may write in."""
    probe = Path(path).absolute().parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"{flag} {str(path)!r}: {str(probe)!r} is a file, not a folder; choose another {flag}")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {str(path)!r}: folder {str(probe)!r} is not writable; choose another {flag}")


def check_out_folder(path, flag: str = "--out") -> None:
    """A local output folder (new, or an existing folder) that can be made and written; checked
    before any work so that a refusal leaves nothing behind."""
    p = Path(path)
    if str(path).strip() == "":
        raise UserError(f"{flag} is empty; give a folder")
    if p.exists() and not p.is_dir():
        raise UserError(f"{flag} {str(path)!r} is a file; give a folder (new or existing)")
    if p.is_dir():
        if not os.access(p, os.W_OK | os.X_OK):
            raise UserError(f"{flag} {str(path)!r}: folder is not writable; choose another {flag}")
        return
    writable_parent(p, flag)
