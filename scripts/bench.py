"""Render benchmark: images/s per worker and peak RSS (same as `synthgen bench`).

    python scripts/bench.py                      # ocr_scene, n=2000, 1 and 2 workers
    python scripts/bench.py --n 20000 --workers 2
"""

import sys

from synthgen.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--workers" not in args:
        args += ["--workers", "1,2"]
    sys.exit(main(["bench", *args]))
