import hashlib
from pathlib import Path

import cv2
import numpy as np


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def shard_hashes(folder: Path) -> dict[str, str]:
    return {p.name: sha(p) for p in sorted(Path(folder).glob("shard-*.tar"))}


def inside(poly: np.ndarray, pts: np.ndarray, tol: float) -> bool:
    """Every point within `tol` px of the (convex) polygon or inside it."""
    c = np.asarray(poly, np.float32).reshape(-1, 1, 2)
    return all(cv2.pointPolygonTest(c, (float(x), float(y)), True) >= -tol for x, y in np.asarray(pts).reshape(-1, 2))


# A synthgen CLI process with test faults installed (synthgen/run/faults.py): production code
# reads no environment for them; this launcher installs them, then runs the CLI's main.
_FAULT_CLI = ("import json, sys\n"
              "from synthgen.run import faults\n"
              "faults.install(faults.Faults(**json.loads(sys.argv[1])))\n"
              "from synthgen.cli import main\n"
              "sys.exit(main(sys.argv[2:]))\n")


def fault_cli(**faults) -> list[str]:
    """argv prefix of a CLI process with faults: `[*fault_cli(kill_at=[19]), "render", ...]`
    (kill_at, stall_at: sample indices; once: [(kind, index, marker file), ...])."""
    import json
    import sys

    return [sys.executable, "-c", _FAULT_CLI, json.dumps(faults)]
