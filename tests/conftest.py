import os

import pytest

# Tests run workers with fork; keep OpenCV single-threaded inside them to avoid oversubscription.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def small():
    """Overrides that keep test renders small and fast, still exercising every stage."""
    return {"image.width": 128, "image.height": 128, "text.size": [8, 24], "text.words": [2, 5]}
