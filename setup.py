"""Packaging hook (the project's metadata is in pyproject.toml).

The shipped data folders `pipelines/`, `fonts/` and `templates/` (when present) stay at the
top of the repository; a built wheel (and so `pip install .`) carries a copy of each inside
the package as `synthgen/_shipped/<name>`, where `synthgen.resources.shipped` looks first.
Editable installs copy nothing: they read the checkout's folders.
"""

import shutil
from pathlib import Path

from setuptools import setup
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


setup(cmdclass={"build_py": BuildPyWithShipped})
