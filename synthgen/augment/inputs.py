"""Labelled datasets to augment: synthgen shards (manifest.json + shard-*.tar) or an ICDAR 2015
folder (images + gt_<image stem>.txt with lines `x1,y1,...,x4,y4,transcription`, `###` = don't care).

`open_input(path)` gives random access by index (`get(i)`), reading each shard at most once
in a row (a worker walks its indices in order)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..core import Instance
from ..errors import UserError
from ..io.readers import MANIFEST, Dataset

ICDAR_IMAGE_EXTS = (".jpg", ".jpeg", ".png")


@dataclass
class InputSample:
    key: str
    image: np.ndarray  # RGB uint8
    instances: list[Instance]
    meta: dict[str, Any] = field(default_factory=dict)
    image_ext: str = "jpg"
    has_score: bool = False


def decode(data: bytes, what: str) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise UserError(f"{what}: not a readable image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


class ShardInput:
    format = "synthgen"

    def __init__(self, path: str) -> None:
        self.ds = Dataset(path)
        self.path = path
        self.starts: list[int] = []
        n = 0
        for s in self.ds.shards:
            self.starts.append(n)
            n += s["count"]
        self.count = n
        self._cached: tuple[int, list] | None = None

    def fingerprint(self) -> str:
        shas = [s.get("sha256") or "" for s in self.ds.shards]
        return hashlib.sha256(json.dumps(shas).encode()).hexdigest()

    def get(self, i: int) -> InputSample:
        k = int(np.searchsorted(self.starts, i, side="right")) - 1
        if self._cached is None or self._cached[0] != k:
            self._cached = (k, sorted(self.ds.iter_shard(self.ds.shards[k]), key=lambda s: s.key))
        s = self._cached[1][i - self.starts[k]]
        inst = [Instance.from_json(x) for x in s.instances]
        return InputSample(s.key, decode(s.image, f"{self.path}: sample {s.key}"), inst, s.meta, s.image_ext,
                           "score.png" in s.members)


def parse_icdar(text: str, where: str) -> list[Instance]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        parts = line.split(",", 8)
        try:
            xy = np.array([float(v) for v in parts[:8]], np.float32).reshape(4, 2)
        except ValueError:
            raise UserError(f"{where} line {n}: expected x1,y1,...,x4,y4,text") from None
        word = parts[8] if len(parts) > 8 else ""
        out.append(Instance(quad=xy, text="" if word == "###" else word, kind="word", ignore=word == "###"))
    return out


class IcdarInput:
    format = "icdar2015"

    def __init__(self, path: str) -> None:
        self.root = Path(path)
        if not self.root.is_dir():
            raise UserError(f"input {path!r} does not exist or is not a folder")
        self.images = sorted(p for p in self.root.iterdir() if p.suffix.lower() in ICDAR_IMAGE_EXTS)
        if not self.images:
            raise UserError(f"{path!r} holds no images (.jpg/.png) and no manifest.json: give a synthgen dataset "
                            "or an ICDAR 2015 folder (images + gt_<name>.txt)")
        missing = [p.name for p in self.images if not (self.root / f"gt_{p.stem}.txt").is_file()]
        if missing:
            raise UserError(f"{path!r}: no gt_{Path(missing[0]).stem}.txt for {missing[0]} "
                            f"({len(missing)} image(s) without labels); each image needs its gt_<name>.txt")
        self.count = len(self.images)
        self.path = path

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for p in self.images:
            h.update(p.name.encode())
            h.update(p.read_bytes())
            h.update((self.root / f"gt_{p.stem}.txt").read_bytes())
        return h.hexdigest()

    def get(self, i: int) -> InputSample:
        p = self.images[i]
        gt = self.root / f"gt_{p.stem}.txt"
        inst = parse_icdar(gt.read_text(encoding="utf-8-sig"), str(gt))
        ext = "png" if p.suffix.lower() == ".png" else "jpg"
        return InputSample(p.stem, decode(p.read_bytes(), str(p)), inst, {"source_file": p.name}, ext)


def open_input(path: str):
    p = Path(path)
    if (p / MANIFEST).is_file() or "://" in str(path):
        return ShardInput(str(path))
    return IcdarInput(str(path))


__all__ = ["InputSample", "open_input"]
