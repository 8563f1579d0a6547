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
