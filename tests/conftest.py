import synthgen  # noqa: F401  (first: caps numpy's and OpenCV's kernels at AVX2 before they load, numerics.py)

import os
import signal

import pytest
from hypothesis import settings

# Tests run workers with fork; keep OpenCV single-threaded inside them to avoid oversubscription.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# A suite started in the background by a shell without job control (`su -c 'pytest &'`, `nohup`)
# inherits SIGINT ignored, and so would every child it starts: the tests that press Ctrl-C on a
# child job would see it ignored and time out. A handler here is reset to the default at exec.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Hypothesis: derandomized by default (CI and local runs test the same examples, so a failure
# is reproducible and a pass means the same thing everywhere); no example database written.
# HYPOTHESIS_PROFILE=explore searches with fresh random examples instead.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def small():
    """Overrides that keep test renders small and fast, still exercising every stage."""
    return {"image.width": 128, "image.height": 128, "text.size": [8, 24], "text.words": [2, 5]}


@pytest.fixture(autouse=True)
def _subprocess_timeout(monkeypatch):
    """Every subprocess.run in a test gets a 10-minute timeout unless it sets one: a hang
    (a CLI that never exits) fails its test instead of stalling the whole run."""
    import subprocess

    real = subprocess.run

    def run(*args, **kwargs):
        kwargs.setdefault("timeout", 600)
        return real(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
