"""Packaging hook (the project's metadata is in pyproject.toml).

The shipped data folders `pipelines/`, `fonts/` and `templates/` (when present) stay at the
top of the repository; a built wheel (and so `pip install .`) carries a copy of each inside
the package as `synthgen/_shipped/<name>`, where `synthgen.resources.shipped` looks first.
Editable installs copy nothing: they read the checkout's folders.

`synthgen._native` (synthgen/_native.c) is optional: where no C compiler is found the build
goes on without it and synthgen runs the pure-Python reference of each kernel (the same
samples, slower; synthgen/native.py). It is one translation unit: _native.c #includes the
kernels' files in synthgen/csrc/. The module records the SHA-256 of the sources it was built
from, so an editable checkout whose C files changed later falls back instead of running stale
code.
"""

import importlib.util
import os
import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("pipelines", "fonts", "templates")


class BuildPyWithShipped(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in SHIPPED:
            src = ROOT / name
            if src.is_dir():
                dst = Path(self.build_lib) / "synthgen" / "_shipped" / name
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


NATIVE_SRC = "synthgen/_native.c"
NATIVE_PARTS = sorted((ROOT / "synthgen" / "csrc").glob("*.c"))  # #included by _native.c


def native_source_hash() -> str:
    """The hash synthgen/native.py checks the built module against (synthgen/native_source.py,
    loaded by its path: synthgen is not importable while it builds)."""
    spec = importlib.util.spec_from_file_location("_synthgen_native_source", ROOT / "synthgen" / "native_source.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.source_hash(ROOT / NATIVE_SRC)


native = Extension(
    "synthgen._native",
    [NATIVE_SRC],
    depends=[str(p.relative_to(ROOT)) for p in NATIVE_PARTS],
    define_macros=[("SYNTHGEN_NATIVE_SOURCE", '"%s"' % native_source_hash())],
    # the same float results as numpy and Python: no fused multiply-add, no fast-math
    extra_compile_args=["-O3", "-ffp-contract=off", "-fno-fast-math"] if os.name != "nt" else ["/fp:precise"],
    optional=True,
)

setup(cmdclass={"build_py": BuildPyWithShipped}, ext_modules=[native])
