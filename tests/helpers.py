import hashlib
import time
from pathlib import Path

import cv2
import numpy as np


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def shard_hashes(folder: Path) -> dict[str, str]:
    return {p.name: sha(p) for p in sorted(Path(folder).glob("shard-*.tar"))}


def inside(poly: np.ndarray, pts: np.ndarray, tol: float) -> bool:
    """Every point within `tol` px of the (convex) polygon or inside it."""
    c = np.asarray(poly, np.float32).reshape(-1, 1, 2)
    return all(cv2.pointPolygonTest(c, (float(x), float(y)), True) >= -tol for x, y in np.asarray(pts).reshape(-1, 2))


# A synthgen CLI process with test faults installed (synthgen/run/faults.py): production code
# reads no environment for them; this launcher installs them, then runs the CLI's main.
_FAULT_CLI = ("import json, sys\n"
              "from synthgen.run import faults\n"
              "faults.install(faults.Faults(**json.loads(sys.argv[1])))\n"
              "from synthgen.cli import main\n"
              "sys.exit(main(sys.argv[2:]))\n")


def fault_cli(**faults) -> list[str]:
    """argv prefix of a CLI process with faults: `[*fault_cli(kill_at=[19]), "render", ...]`
    (kill_at, stall_at: sample indices; once: [(kind, index, marker file), ...])."""
    import json
    import sys

    return [sys.executable, "-c", _FAULT_CLI, json.dumps(faults)]


def until(cond, what: str, timeout: float = 120.0) -> None:
    """Poll cond() every 50 ms; fail naming `what` after `timeout` seconds (a hang fails its test)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def quad_coverage(quad, h: int, w: int, ss: int = 4) -> np.ndarray:
    """Area coverage (uint8, 255 = covered) of each pixel of an h x w frame by the convex quad,
    from ss x ss sub-pixel samples and exact half-plane tests. Coverage (not a 0/1 raster)
    makes a comparison about the mapping, not about staircase edges. Pixel (x, y) covers
    [x, x+1) x [y, y+1) (the README's convention)."""
    q = np.asarray(quad, np.float64)
    off = (np.arange(ss) + 0.5) / ss
    yy = (np.arange(h)[:, None] + off[None, :]).reshape(-1)[:, None]
    xx = (np.arange(w)[:, None] + off[None, :]).reshape(-1)[None, :]
    inside = np.ones((h * ss, w * ss), bool)
    e1, e2 = q[1] - q[0], q[2] - q[1]
    sign = np.sign(e1[0] * e2[1] - e1[1] * e2[0])
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        inside &= sign * ((b[0] - a[0]) * (yy - a[1]) - (b[1] - a[1]) * (xx - a[0])) >= 0
    return np.round(inside.reshape(h, ss, w, ss).mean((1, 3)) * 255).astype(np.uint8)


class KernelSpy:
    """The compiled module (`synthgen.native.lib`) with one kernel wrapped, to stand in for a
    caller's `_native`: each call's result is appended to `results` (so a test can show the
    compiled path ran, not only the reference); `replace`, if given, runs instead of the kernel
    (e.g. one that declines: NotImplemented)."""

    def __init__(self, lib, kernel: str, results: list, replace=None) -> None:
        self._lib, self._kernel, self._results, self._replace = lib, kernel, results, replace

    def __getattr__(self, attr):
        f = getattr(self._lib, attr)
        if attr != self._kernel:
            return f
        run = self._replace or f

        def spied(*a):
            self._results.append(run(*a))
            return self._results[-1]

        return spied
