"""Issue 10, items 12-14: the quick start holds on a stock Debian/Ubuntu Python, says how a
CPU-only machine gets a CPU torch, CI keeps its pinned install and installs the system
libraries; the project documents its own contracts; hypothesis is derandomized."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _section(text: str, title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, title
    return m.group(1)


def test_quick_start_is_one_command_with_a_venv_and_no_torch() -> None:
    qs = _section((ROOT / "README.md").read_text(), "Quick start")
    first = re.search(r"```bash\n(.*?)\n```", qs, re.S).group(1).strip()
    assert "\n" not in first  # one command
    steps = [s.strip() for s in first.split("&&")]
    # sudo as a user, none as root (a container has no sudo): the same idiom as .ci/run (issue 22.14)
    assert steps[0] == 'SUDO=$([ "$(id -u)" = 0 ] || echo sudo); $SUDO apt-get update'
    assert steps[1].startswith("$SUDO apt-get install -y") and "python3-venv" in steps[1] and "libfribidi0" in steps[1]
    assert steps[2] == "python3 -m venv .venv" and steps[3] == ". .venv/bin/activate"
    assert "torch" not in first and steps[-1].startswith("synthgen render")
    assert "download.pytorch.org/whl/cpu" in qs  # how a CPU-only machine gets a CPU torch
    assert "externally-managed-environment" in qs


def test_ci_keeps_the_pinned_torch_first_and_one_apt_line() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    lines = ci.splitlines()
    torch = lines.index("python3 -m pip install -q torch==2.13.0")
    assert torch < lines.index('python3 -m pip install -q -e ".[all,test]"')
    apt = [ln for ln in lines if ln.startswith("APT_PACKAGES=")]
    assert len(apt) == 1 and "libfribidi0" in apt[0]
    assert "python3 -m pytest" in lines[-1]


def test_architecture_document_exists_and_code_points_to_it() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for contract in ("## Data model", "## Factors", "## Renderers", "## A dataset folder", "## The job layer",
                     "## Errors and exit codes", "## Shipped data and packaging"):
        assert contract in doc
    stale = [str(p.relative_to(ROOT)) for p in (ROOT / "synthgen").rglob("*.py") if "DESIGN.md" in p.read_text()]
    assert stale == [], f"docstrings point to a DESIGN.md that is not in the repository: {stale}"


def test_hypothesis_is_derandomized() -> None:
    import os

    import pytest
    from hypothesis import settings

    if os.environ.get("HYPOTHESIS_PROFILE", "ci") != "ci":
        pytest.skip("another hypothesis profile was asked for")
    assert settings.default.derandomize and settings.default.database is None
