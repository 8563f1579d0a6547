"""The same bytes on every x86-64 machine with AVX2: pin numpy, OpenCV and OpenBLAS below AVX-512.

numpy, OpenCV and OpenBLAS choose their kernels by CPU when they are imported, and some of
those kernels round differently in the last bit:

* numpy's AVX-512 kernels (Intel's SVML) for float64 `exp`, `log`, `power` (`x ** 0.7`),
  `arctan`, `arctan2`, `log1p`, `sinh`, ... and for float32 `power`, `arctan`, `log1p`, ...
  differ from its AVX2 and baseline kernels;
* OpenCV's AVX-512 kernels differ from its AVX2 ones (6 of 300 `ocr_line` samples);
* OpenBLAS's SkylakeX float32 matrix products differ from its Haswell / Zen ones (pinned so
  that none will differ if a sample ever makes one). The samples do call OpenBLAS, for float64
  products of a few points (`layout.oriented_quad`'s `p @ e`: a dgemv kernel that rounds
  otherwise than `x * c + y * s` in a quarter of its results); that kernel gave the same bits
  under the Haswell, Zen and SkylakeX core types and other bits under Prescott (pre-AVX2),
  measured on the 2-vCPU EPYC in session 19;
* without AVX2, numpy's float32 `exp`, `sin`, `tanh` and several OpenCV warps differ again.

A pixel on a rounding edge then lands one level apart: sample 131 of `ocr_scene` (a gradient
background through `x ** gamma`) rendered on an AVX-512 machine differs from the same sample
on an AVX2 one in 4,585 pixels (measured by disabling numpy's AVX-512 dispatch on one), and
without AVX2, 20 of 300 `passport_td3_scene` samples differ. "The same (config, seed, index)
gives the same bytes" has to hold across the nodes of a Ray cluster and across the machine a
job is resumed on, so `pin()` (run when `synthgen` is imported, before it imports numpy or
OpenCV) caps all three at the AVX2 level on a machine that has AVX-512, through the switches
each library reads at import: `NPY_DISABLE_CPU_FEATURES`, `OPENCV_CPU_DISABLE` and
`OPENBLAS_CORETYPE`. Measured cost on a 2-core AMD EPYC (AVX-512): none within this host's
+-10% drift for `ocr_line` and `ocr_scene`. Worker processes are capped too: the process pool's
forks inherit the libraries as loaded, a local Ray's workers the environment, and a Ray
cluster's workers import synthgen before numpy (the task's code), which caps them itself; a
worker that is not capped has another `level()`, and the job stops on it (`run/versions.py`).

Limits, recorded rather than hidden:
* A switch the user set (even empty) is left alone, and a library imported before `synthgen`
  keeps the kernels it chose; `level()` reports what is in effect, and it is recorded in
  manifest.json with the library versions (`run/versions.py`), so a resume or a Ray worker at
  another level is refused like another numpy version would be (`--accept-versions`).
* Machines without AVX2 (x86-64-v2) and other architectures (arm64) have other kernels and a
  level of their own: their bytes are their own.
"""

from __future__ import annotations

import os
import platform
import sys
from functools import lru_cache

# numpy >= 2.4 dispatches by x86-64 level groups; earlier numpy by feature name (an unknown
# name is only an ImportWarning there, a known but absent one is silently skipped)
_NPY_AVX512 = {"new": "X86_V4 AVX512_ICL AVX512_SPR",
               "old": "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"}
# OpenCV prints a line for every absent feature it is asked to disable: only those this CPU has
_CV_AVX512 = ("AVX512F", "AVX512-COMMON", "AVX512-SKX", "AVX512-CLX", "AVX512-CNL", "AVX512-ICL")
_CV_NEEDS = {"AVX512-COMMON": "avx512cd", "AVX512-SKX": "avx512bw", "AVX512-CLX": "avx512_vnni",
             "AVX512-CNL": "avx512vbmi", "AVX512-ICL": "avx512_vbmi2"}


@lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux x86-64: /proc/cpuinfo); empty elsewhere."""
    if sys.platform != "linux" or platform.machine().lower() not in ("x86_64", "amd64"):
        return frozenset()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@lru_cache(maxsize=1)
def _numpy_style() -> str:
    try:
        from importlib.metadata import version

        major, minor = (int(x) for x in version("numpy").split(".")[:2])
    except Exception:
        return "new"
    return "new" if (major, minor) >= (2, 4) else "old"


def switches(flags: frozenset[str] | None = None) -> dict[str, str]:
    """The environment switches that cap the libraries at AVX2 on a CPU with `flags`
    (default: this one); none where there is no AVX-512 to disable."""
    flags = _cpu_flags() if flags is None else flags
    if "avx512f" not in flags or not {"avx2", "fma"} <= flags:
        return {}
    return {"NPY_DISABLE_CPU_FEATURES": _NPY_AVX512[_numpy_style()],
            "OPENCV_CPU_DISABLE": ",".join(f for f in _CV_AVX512 if _CV_NEEDS.get(f, "avx512f") in flags),
            "OPENBLAS_CORETYPE": "Haswell"}


_OWNER = {"NPY_DISABLE_CPU_FEATURES": "numpy", "OPENCV_CPU_DISABLE": "cv2", "OPENBLAS_CORETYPE": "numpy"}


def pin() -> dict[str, str]:
    """Set the switches this CPU needs, each only where the user has not set it and its library
    is not imported yet; returns those set."""
    done = {}
    for k, v in switches().items():
        if k not in os.environ and _OWNER[k] not in sys.modules:
            os.environ[k] = done[k] = v
    return done


def late() -> str | None:
    """Why this process runs other kernels than `synthgen render` on this machine (numpy or
    OpenCV imported before synthgen on an AVX-512 CPU, so `pin` came too late), or None."""
    missed = {k: v for k, v in switches().items() if k not in os.environ and k != "OPENBLAS_CORETYPE"}
    if not missed:
        return None
    libs = sorted({_OWNER[k].replace("cv2", "OpenCV") for k in missed})
    return (f"{' and '.join(libs)} {'were' if len(libs) > 1 else 'was'} imported before synthgen on this AVX-512 machine and runs its AVX-512 kernels: "
            "some samples come out a level apart in a few pixels from the same samples rendered by "
            "`synthgen render` or on an AVX2 machine. Import synthgen first, or start Python with "
            + " ".join(f"{k}='{v}'" for k, v in missed.items()))


@lru_cache(maxsize=1)
def warn_if_late() -> None:
    """`late()` as a warning, once per process, from a job that writes shards (`run/job.py`): where
    bytes are compared across machines and resumes. A training loop that samples in-process gets
    none: its samples are as good, only not byte-equal to another machine's."""
    why = late()
    if why is not None:
        import warnings

        warnings.warn(why, RuntimeWarning, stacklevel=2)


def _numpy_kernels() -> str:
    import numpy as np

    try:
        from numpy._core import _multiarray_umath as mu
    except ImportError:  # numpy 1.x
        from numpy.core import _multiarray_umath as mu  # type: ignore[no-redef]
    feats = getattr(mu, "__cpu_features__", {})
    on = [f for f in getattr(mu, "__cpu_dispatch__", []) if feats.get(f)]
    return f"numpy {np.__version__.split('.')[0]}:{'+'.join(on) or 'baseline'}"


def _opencv_kernels() -> str:
    try:
        import cv2
    except ImportError:
        return "opencv:none"
    # "SSE SSE2 SSE3 *SSE4.1 ... *AVX2 *AVX512-SKX?": starred = dispatched, "?" = absent or disabled
    on = [t[1:] for t in cv2.getCPUFeaturesLine().split() if t.startswith("*") and not t.endswith("?")]
    return f"opencv:{'+'.join(on) or 'baseline'}"


@lru_cache(maxsize=1)
def level() -> str:
    """The kernels in effect in this process, e.g. 'x86_64 numpy 2:X86_V3 opencv:SSE4.1+SSE4.2+AVX+FP16+AVX2'.
    Two processes at the same level (and library versions) compute the same bytes; recorded in
    manifest.json as `numerics`. OpenBLAS is pinned but not recorded: no sample calls it (a
    callgrind trace of `ocr_line` and `ocr_scene` samples runs none of its kernels)."""
    return " ".join([platform.machine().lower() or "unknown", _numpy_kernels(), _opencv_kernels()])
