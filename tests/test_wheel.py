"""Installs anywhere: a built wheel carries pipelines/, fonts/ (templates/ when present) and the
corpora, and renders from outside the checkout.

The wheel is built from a copy of the source (nothing is written into the checkout), without
build isolation and installed without dependencies into a venv that sees this interpreter's
packages (`--system-site-packages`): no network, nothing downloaded again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("synthgen", "pipelines", "fonts", "templates", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")


def _run(args, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{args}\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(wheel, the source copy it was built from)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_shipped"))
        elif p.exists():
            shutil.copy2(p, src / name)
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w", tmp / "dist"],
         cwd=src)
    (whl,) = (tmp / "dist").glob("synthgen-*.whl")
    return whl, src


def test_wheel_carries_the_shipped_folders(built) -> None:
    wheel, src = built
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("pipelines", "fonts", "templates"):
        if (src / folder).is_dir():
            inside = {n for n in names if n.startswith(f"synthgen/_shipped/{folder}/")}
            on_disk = {f"synthgen/_shipped/{folder}/{p.relative_to(src / folder).as_posix()}"
                       for p in (src / folder).rglob("*") if p.is_file() and not p.name.startswith(".")}
            assert inside == on_disk, folder
    assert "synthgen/_shipped/pipelines/ocr_scene.yaml" in names
    assert any(n.startswith("synthgen/_shipped/fonts/") and n.endswith(".ttf") for n in names)
    corpora = {p.name for p in (src / "synthgen" / "data" / "corpus").iterdir()}
    assert corpora and all(f"synthgen/data/corpus/{c}" in names for c in corpora)


def test_wheel_installs_and_renders_outside_the_checkout(built, tmp_path) -> None:
    wheel, _ = built
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", venv])
    py, exe = venv / "bin" / "python", venv / "bin" / "synthgen"
    _run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--force-reinstall", wheel])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = _run([py, "-c", "import synthgen, synthgen.resources as r; "
                  "print(synthgen.__file__); print(r.shipped('pipelines')); print(r.shipped('fonts'))"],
                 cwd=elsewhere, env=env).stdout.split()
    assert all(w.startswith(str(venv)) for w in where), where  # the wheel's copy, not the checkout
    for pipeline in ("ocr_scene", "ocr_line"):
        _run([exe, "render", pipeline, "--n", "20", "-q", "--workers", "1"], cwd=elsewhere, env=env)
        man = json.loads((elsewhere / "runs" / pipeline / "manifest.json").read_text())
        assert man["state"] == "complete" and man["counts"]["samples"] == 20
