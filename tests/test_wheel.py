"""Installs anywhere: a built wheel carries pipelines/, fonts/ (templates/ when present) and the
corpora, and renders from outside the checkout.

The wheel is built from a copy of the source (nothing is written into the checkout), without
build isolation (setuptools >= 70.1, from the `test` extra, builds wheels itself) and installed
without dependencies into a venv that sees the packages of the interpreter running the tests:
no network, nothing downloaded again. When that interpreter is itself a venv (the README's
`.venv`), `--system-site-packages` alone would give the *base* interpreter's packages (a stock
Debian python3 has no fsspec, numpy, ...), so the running venv's site-packages are added too.
"""

from __future__ import annotations

import importlib.util
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
    try:
        import setuptools

        old = tuple(int(x) for x in setuptools.__version__.split(".")[:2]) < (70, 1)
    except ImportError:
        old = True
    if old and importlib.util.find_spec("wheel") is None:
        pytest.fail("building the wheel without network needs setuptools >= 70.1 (or the wheel package) in this "
                    "environment: pip install -e '.[test]' brings it")
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


def running_site_dirs() -> list[str]:
    """The site-packages folders this test process imports from (a venv's own included)."""
    return [p for p in dict.fromkeys(sys.path) if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]


def make_venv(venv: Path) -> Path:
    """A venv that sees this interpreter's packages; returns its python. Its own site-packages
    come first (the wheel's synthgen wins), then this process's site folders (`site.addsitedir`,
    so their .pth files work), then the base interpreter's (`--system-site-packages`)."""
    _run([sys.executable, "-m", "venv", "--system-site-packages", venv])
    py = venv / "bin" / "python"
    purelib = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    dirs = running_site_dirs()
    # one `import` line a folder: site runs each with exec (a comprehension would not see `site`)
    (purelib / "_synthgen_test_parent_env.pth").write_text("".join(f"import site; site.addsitedir({d!r})\n" for d in dirs))
    return py


def test_venv_sees_the_running_environments_packages(tmp_path) -> None:
    """Issue 22.3: run from the README's venv, the wheel's venv lacked fsspec (only the base
    interpreter's packages were visible). Every package this process has is importable there."""
    py = make_venv(tmp_path / "venv")
    need = ["numpy", "cv2", "PIL", "fontTools", "yaml", "orjson", "pydantic", "tqdm", "webdataset", "fsspec"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = _run([py, "-c", f"import importlib; [importlib.import_module(m) for m in {need!r}]"], cwd=tmp_path, env=env)
    assert "Error processing" not in r.stderr, r.stderr


def test_wheel_installs_and_renders_outside_the_checkout(built, tmp_path) -> None:
    wheel, _ = built
    venv = tmp_path / "venv"
    py, exe = make_venv(venv), venv / "bin" / "synthgen"
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
