"""Training data: two unpaired sets, images with the attribute (A_u) and without (B_0).

`ProceduralPairs` renders them with `faces` (different identities in the two sets, as the method
assumes unpaired data); `CelebAFolder` reads a CelebA-style folder for users with real faces.
Both hand out uint8 N x 64 x 64 x 3 RGB batches; `to_tensor` maps them to [-1, 1] NCHW.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..draws import Draws
from ..errors import UserError
from ..faces.procedural import ATTRIBUTES, render_face

SIZE = 64


def face_with(seed: int, index: int, attr: str, on: bool, size: int = SIZE) -> np.ndarray:
    """Face `index` of `seed` with `attr` forced on or off (other attributes as drawn)."""
    return render_face(Draws(seed, index), size, {attr: on})


class ProceduralPairs:
    """A pool of `n` faces with `attr` and `n` other faces without it, rendered once up front
    (a 64 x 64 face takes ~1 ms; a training step would otherwise wait on rendering).
    Index 2k is the k-th face with the attribute, 2k+1 the k-th without: disjoint identities."""

    def __init__(self, attr: str = "glasses", seed: int = 0, n: int = 4096, progress: bool = False) -> None:
        if attr not in ATTRIBUTES:
            raise UserError(f"unknown attribute {attr!r} for procedural faces; use one of: {', '.join(ATTRIBUTES)}")
        it = range(n)
        if progress:
            from tqdm import tqdm
            it = tqdm(it, desc="rendering faces", unit="pair", leave=False)
        self.with_attr = np.empty((n, SIZE, SIZE, 3), np.uint8)
        self.without = np.empty((n, SIZE, SIZE, 3), np.uint8)
        for k in it:
            self.with_attr[k] = face_with(seed, 2 * k, attr, True)
            self.without[k] = face_with(seed, 2 * k + 1, attr, False)

    def batch(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        i = rng.integers(0, len(self.with_attr), n)
        j = rng.integers(0, len(self.without), n)
        return self.with_attr[i], self.without[j]


def _crop_resize(img: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Centre square crop (CelebA aligned 178 x 218: the face sits in the upper square) -> size."""
    h, w = img.shape[:2]
    s = min(h, w)
    y0 = max(0, (h - s) // 2 - (h - s) // 5)  # a little above centre, like the reference crop
    x0 = (w - s) // 2
    return cv2.resize(img[y0:y0 + s, x0:x0 + s], (size, size), interpolation=cv2.INTER_AREA)


class CelebAFolder:
    """A CelebA-style folder: `list_attr_celeba.txt` (line 1: count, line 2: attribute names,
    then `<file> 1|-1 ...` per image) and the aligned images beside it or in `img_align_celeba/`.
    Images are read lazily and cached (64 x 64 each)."""

    def __init__(self, root: str | Path, attr: str = "Eyeglasses", limit: int | None = None) -> None:
        root = Path(root)
        table = root / "list_attr_celeba.txt"
        if not table.is_file():
            raise UserError(f"{root}: no list_attr_celeba.txt; point --data at a CelebA-style folder or use --data procedural")
        lines = table.read_text(encoding="utf-8", errors="replace").splitlines()
        if len(lines) < 3:
            raise UserError(f"{table}: too short for an attribute list (count line, names line, rows)")
        names = lines[1].split()
        key = {n.lower(): i for i, n in enumerate(names)}
        alias = {"glasses": "eyeglasses", "smile": "smiling"}
        col = key.get(attr.lower(), key.get(alias.get(attr.lower(), ""), None))
        if col is None:
            raise UserError(f"{table}: no attribute {attr!r}; it lists {', '.join(names[:8])}, ...")
        imgdir = root / "img_align_celeba" if (root / "img_align_celeba").is_dir() else root
        self.pos: list[Path] = []
        self.neg: list[Path] = []
        for ln, line in enumerate(lines[2:], start=3):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != len(names) + 1 or parts[col + 1] not in ("1", "-1"):
                raise UserError(f"{table}:{ln}: expected a file name and {len(names)} values of 1/-1")
            (self.pos if parts[col + 1] == "1" else self.neg).append(imgdir / parts[0])
        if limit:
            self.pos, self.neg = self.pos[:limit], self.neg[:limit]
        if not self.pos or not self.neg:
            raise UserError(f"{table}: attribute {attr!r} needs images both with (1) and without (-1) it")
        self._cache: dict[Path, np.ndarray] = {}

    def _load(self, p: Path) -> np.ndarray:
        img = self._cache.get(p)
        if img is None:
            raw = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if raw is None:
                raise UserError(f"{p}: missing or unreadable image (listed in list_attr_celeba.txt)")
            img = self._cache[p] = _crop_resize(cv2.cvtColor(raw, cv2.COLOR_BGR2RGB))
        return img

    def batch(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        i = rng.integers(0, len(self.pos), n)
        j = rng.integers(0, len(self.neg), n)
        return (np.stack([self._load(self.pos[k]) for k in i]), np.stack([self._load(self.neg[k]) for k in j]))


def to_tensor(batch: np.ndarray, device: str = "cpu"):
    """uint8 N x H x W x 3 -> float N x 3 x H x W in [-1, 1]."""
    import torch

    t = torch.from_numpy(np.ascontiguousarray(batch)).to(device)
    return t.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def to_uint8(t) -> np.ndarray:
    """float N x 3 x H x W in [-1, 1] -> uint8 N x H x W x 3 (rounded, clipped)."""
    x = ((t.detach().float().clamp(-1, 1) + 1.0) * 127.5).round_()
    return x.to(device="cpu", dtype=__import__("torch").uint8).permute(0, 2, 3, 1).contiguous().numpy()
