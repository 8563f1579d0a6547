"""Reading image files and stored images: decoded once, RGB, or a one-line error naming the file.

`decode`: OpenCV's libjpeg writes warnings such as "Corrupt JPEG data: premature end of data
segment" straight to file descriptor 2 (C stdio, not Python's sys.stderr) and still returns an
image. A command that reads many images would print them between its own lines; `decode` catches
them instead and hands them back, so the caller reports the image as one finding or one line."""

from __future__ import annotations

import os
import sys
import tempfile
import threading

import cv2
import numpy as np

from ..errors import UserError


def read_rgb(path: str, what: str, fix: str = "") -> np.ndarray:
    """H x W x 3 uint8 RGB of the image at `path`; an undecodable file is a UserError
    "<what> '<path>' cannot be decoded[; <fix>]"."""
    im = cv2.imread(path, cv2.IMREAD_COLOR)
    if im is None:
        raise UserError(f"{what} {path!r} cannot be decoded" + (f"; {fix}" if fix else ""))
    return cv2.cvtColor(im, cv2.COLOR_BGR2RGB)


_lock = threading.Lock()
_sink: int | None = None  # one unlinked temporary file per process (made again after a fork), rewound for each decode
_sink_pid = 0


def decode(data: bytes, flags: int = cv2.IMREAD_COLOR) -> tuple[np.ndarray | None, str]:
    """`cv2.imdecode(data, flags)` with whatever the codec library writes to fd 2 caught:
    (image or None, its messages joined by "; ", "" when it said nothing)."""
    global _sink, _sink_pid
    buf = np.frombuffer(data, np.uint8)
    with _lock:
        try:
            if _sink is None or _sink_pid != os.getpid():  # a forked child shares the parent's offset
                f, path = tempfile.mkstemp(prefix="synthgen-decode-")
                os.unlink(path)  # a bare descriptor: gone with the process
                _sink, _sink_pid = f, os.getpid()
            fd = _sink
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            saved = os.dup(2)
        except OSError:  # no fd 2 to borrow (closed, or a sandbox): decode as is
            return cv2.imdecode(buf, flags), ""
        try:
            sys.stderr.flush()
        except (AttributeError, ValueError, OSError):
            pass
        try:
            os.dup2(fd, 2)
            img = cv2.imdecode(buf, flags)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        n = os.lseek(fd, 0, os.SEEK_CUR)
        said = os.pread(fd, n, 0).decode("utf-8", "replace") if n else ""
    return img, "; ".join(ln.strip() for ln in said.splitlines() if ln.strip())
