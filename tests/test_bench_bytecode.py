"""synthgen.bench.bytecode: counts a checkout's modules with current bytecode, and compiles the rest."""

import os
import subprocess
import sys
from importlib.util import cache_from_source

from synthgen.bench import bytecode


def _tree(tmp_path):
    pkg = tmp_path / "synthgen"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("X = 1\n")
    (pkg / "sub" / "m.py").write_text("Y = 2\n")
    return pkg


def _loads_bytecode(tmp_path, module: str) -> bool:
    """The interpreter's own answer (python -v): does importing `module` read its .pyc?"""
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    p = subprocess.run([sys.executable, "-v", "-c", f"import {module}"], capture_output=True, text=True, env=env,
                       cwd=str(tmp_path), check=True)
    pyc = cache_from_source(str(tmp_path.joinpath(*module.split(".")).with_suffix(".py")))
    return f"# code object from '{pyc}'" in p.stderr.splitlines()


def test_counts_then_compiles(tmp_path):
    pkg = _tree(tmp_path)
    assert bytecode(str(tmp_path)) == {"modules": 2, "cached": 0}
    assert bytecode(str(tmp_path), compile=True) == {"modules": 2, "cached": 2}
    tag = sys.implementation.cache_tag
    assert sorted(os.listdir(pkg / "__pycache__")) == [f"__init__.{tag}.pyc"]
    assert sorted(os.listdir(pkg / "sub" / "__pycache__")) == [f"m.{tag}.pyc"]
    assert _loads_bytecode(tmp_path, "synthgen.sub.m")


def test_a_source_newer_than_its_bytecode_is_not_counted(tmp_path):
    pkg = _tree(tmp_path)
    bytecode(str(tmp_path), compile=True)
    src = pkg / "sub" / "m.py"
    st = os.stat(src)
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert bytecode(str(tmp_path)) == {"modules": 2, "cached": 1}
    assert not _loads_bytecode(tmp_path, "synthgen.sub.m")
    assert bytecode(str(tmp_path), compile=True)["cached"] == 2


def test_the_installed_package_is_the_default(tmp_path):
    import synthgen

    n = bytecode()["modules"]
    here = os.path.dirname(synthgen.__file__)
    assert n == sum(f.endswith(".py") for _, _, fs in os.walk(here) for f in fs)
