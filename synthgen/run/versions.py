"""The library versions a dataset's bytes depend on: recorded in manifest.json, compared on resume.

The same (config, seed, index) renders the same bytes only with the same numerical and
encoding libraries: numpy (draws, arrays), OpenCV (warps, resampling, JPEG/PNG encoding),
Pillow and the FreeType / HarfBuzz / raqm / FriBiDi it draws text with, fontTools (which font
covers which text), albucore (photometric lookup tables), orjson (the label JSON), zlib (the
`.npz` maps) and, for GeneGAN portraits, torch. `synthgen.SAMPLE_STREAM` covers synthgen's own
changes; this covers the rest.

* `versions()` is what a job records under `versions` in manifest.json (every library above
  that this process can see, plus synthgen and Python for the record; a library that is not
  installed is recorded as null).
* `compare(recorded, now, libraries)` lists the differences of the libraries a job depends on.
  A library the manifest does not mention at all (a manifest written before it was recorded)
  is not compared.
* `check(...)` refuses a difference in one line naming each package and both versions, unless
  the caller accepts it knowingly (`--accept-versions`); then the differences are returned as
  records for manifest.json's `versions_accepted`.

Resume (`run/job.py`, `augment`, `mine`) compares the manifest's record with this process;
Ray workers (`run/ray_exec.py`, `augment --executor ray`) compare theirs with the driver's.
"""

from __future__ import annotations

import platform
import socket
import zlib
from functools import lru_cache
from importlib import metadata
from typing import Any

from .. import numerics
from ..errors import UserError
from ..version import __version__

# distributions, by the name they are recorded under
_DISTRIBUTIONS = ("numpy", "pillow", "fonttools", "albucore", "orjson", "torch")
# Pillow's bundled libraries, by their PIL.features name
_PIL_FEATURES = ("freetype2", "harfbuzz", "raqm", "fribidi")

# what the bytes of each kind of job depend on
RENDER = ("numpy", "opencv", "pillow", "freetype2", "harfbuzz", "raqm", "fribidi", "fonttools", "albucore",
          "orjson", "zlib", "numerics")
RENDER_TORCH = RENDER + ("torch",)  # a pipeline with GeneGAN portraits
AUGMENT = ("numpy", "opencv", "albucore", "orjson", "numerics")

FLAG = "--accept-versions"


def _opencv() -> str | None:
    try:
        import cv2
    except ImportError:
        return None
    return str(cv2.__version__)


def versions() -> dict[str, str | None]:
    """{library: version or None} of this process (a fresh dict; computed once per process)."""
    return dict(_versions())


@lru_cache(maxsize=1)
def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"synthgen": __version__, "python": platform.python_version()}
    for pkg in _DISTRIBUTIONS:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    out["opencv"] = _opencv()
    for dist in ("opencv-python-headless", "opencv-python"):  # which wheel provides cv2 (for the record)
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    try:
        from PIL import features

        for f in _PIL_FEATURES:
            v = features.version(f)
            out[f] = None if v is None else str(v)
    except Exception:  # pragma: no cover - Pillow missing or without features
        for f in _PIL_FEATURES:
            out.setdefault(f, None)
    out["zlib"] = zlib.ZLIB_RUNTIME_VERSION
    out["numerics"] = numerics.level()  # the CPU kernels numpy, OpenCV and OpenBLAS run (synthgen/numerics.py)
    try:
        out["webdataset"] = metadata.version("webdataset")  # for the record: readers only
    except metadata.PackageNotFoundError:
        pass
    return out


def uses_torch(pipe: Any) -> bool:
    """Do this pipeline's bytes depend on torch (GeneGAN portraits, from the config or from a
    template's own photo.source)?"""
    try:
        cfg_json = pipe.cfg.model_dump_json()
    except Exception:
        cfg_json = ""
    if "genegan" in cfg_json:
        return True
    r = getattr(pipe, "renderer", None)
    dc = getattr(r, "dc", None)
    for t in getattr(r, "templates", None) or []:
        ph = getattr(getattr(t, "cfg", None), "photo", None)
        src = (getattr(getattr(dc, "photo", None), "source", None) or getattr(ph, "source", None)) if ph else None
        if src == "genegan":
            return True
    return False


def compare(recorded: Any, now: dict[str, Any], libraries: tuple[str, ...]) -> list[tuple[str, Any, Any]]:
    """(library, recorded version, this version) for each library in `libraries` whose versions
    differ. A library the record does not mention is not compared (an older manifest)."""
    if not isinstance(recorded, dict):
        return []
    return [(lib, recorded[lib], now.get(lib)) for lib in libraries
            if lib in recorded and recorded[lib] != now.get(lib)]


def describe(diffs: list[tuple[str, Any, Any]], old: str, new: str) -> str:
    """'numpy 1.26.4 (old) vs 2.4.6 (new), ...'"""
    def v(x: Any) -> str:
        return "not installed" if x is None else str(x)

    return ", ".join(f"{lib} {v(a)} ({old}) vs {v(b)} ({new})" for lib, a, b in diffs)


def accepted(diffs: list[tuple[str, Any, Any]], where: str) -> list[dict[str, Any]]:
    """manifest.json's `versions_accepted` records of differences accepted with --accept-versions."""
    return [{"package": lib, "recorded": a, "now": b, "where": where} for lib, a, b in diffs]


def check_resume(out: str, recorded: Any, libraries: tuple[str, ...], accept: bool,
                 now: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Resume into `out` whose manifest recorded `recorded`: one line naming each package and
    both versions if they differ (UserError), unless `accept`; returns the accepted records."""
    diffs = compare(recorded, versions() if now is None else now, libraries)
    if not diffs:
        return []
    if not accept:
        raise UserError(f"{out} was made with other library versions than this one has: "
                        f"{describe(diffs, 'in manifest.json', 'here')}; resumed samples could differ from its finished "
                        f"shards. Install the recorded versions, use another --out, or pass {FLAG} to resume anyway "
                        "(recorded in manifest.json)")
    return accepted(diffs, "resume")


class VersionMismatch(UserError):
    """A worker whose library versions differ from the driver's (not retried: it would differ again)."""


def check_worker(driver: dict[str, Any] | None, libraries: tuple[str, ...], accept: bool) -> list[dict[str, Any]]:
    """In a (Ray) worker: compare this process's versions with the driver's. A difference
    raises VersionMismatch naming the host, each package and both versions, unless `accept`;
    returns the accepted records (where = the worker's host)."""
    if not driver:
        return []
    diffs = compare(driver, versions(), libraries)
    if not diffs:
        return []
    host = socket.gethostname()
    if not accept:
        raise VersionMismatch(f"a Ray worker on {host} has other library versions than the driver: "
                              f"{describe(diffs, 'driver', 'worker')}; its samples could differ from the driver's. "
                              f"Install the same versions on every node, or pass {FLAG} to accept it (recorded in "
                              "manifest.json)")
    return accepted(diffs, f"ray worker {host}")


def merge(*lists: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Accepted records without repeats, in order of first appearance."""
    seen, out = set(), []
    for lst in lists:
        for rec in lst or []:
            if not isinstance(rec, dict):
                continue
            k = (rec.get("package"), str(rec.get("recorded")), str(rec.get("now")), rec.get("where"))
            if k not in seen:
                seen.add(k)
                out.append(rec)
    return out
