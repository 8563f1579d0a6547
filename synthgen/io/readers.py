"""Read a rendered dataset folder back: `manifest.json` plus `shard-*.tar`, sample by sample.

For tools (exports, checks), not for training (use the `webdataset` package there). Every
shard is checked before its samples are handed out: it must be listed in the manifest, be a
complete tar file, match the manifest's sha256 and hold the manifest's sample count. Any
problem is a `UserError` naming the folder and the shard. The folder may be any fsspec URL.
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import UserError
from .shards import MANIFEST, iter_groups, tar_end_ok, url_to_fs

IMAGE_EXTS = ("jpg", "jpeg", "png", "webp")


@dataclass
class StoredSample:
    """One sample as stored: the encoded image (bytes untouched), its label JSON, all members."""

    key: str
    image_ext: str
    image: bytes
    label: dict[str, Any]
    members: dict[str, bytes] = field(repr=False, default_factory=dict)
    shard: str = ""

    @property
    def instances(self) -> list[dict[str, Any]]:
        return list(self.label.get("instances") or [])

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.label.get("meta") or {})


class Dataset:
    """A rendered dataset folder. `Dataset(path)` checks the manifest; iterate for samples."""

    def __init__(self, path: str) -> None:
        self.path = str(path)
        self.fs, self.root = url_to_fs(self.path)
        if not self.fs.exists(self.root):
            raise UserError(f"dataset folder {self.path!r} does not exist")
        if not self.fs.isdir(self.root):
            raise UserError(f"{self.path!r} is a file; give a dataset folder (manifest.json + shard-*.tar)")
        mpath = posixpath.join(self.root, MANIFEST)
        if not self.fs.exists(mpath):
            raise UserError(f"{self.path!r} is not a synthgen dataset: it holds no manifest.json")
        try:
            with self.fs.open(mpath, "rb") as f:
                m = json.loads(f.read())
            if not isinstance(m, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as e:
            raise UserError(f"{self.path!r}: manifest.json is unreadable ({e})") from None
        self.manifest: dict[str, Any] = m
        if m.get("state") != "complete" or not isinstance(m.get("shards"), list):
            raise UserError(f"{self.path!r} is an unfinished render (manifest state {m.get('state')!r}); "
                            "rerun the same `synthgen render` command to finish it first")
        try:
            self.shards: list[dict[str, Any]] = [
                {"name": str(s["name"]), "count": int(s["count"]), "sha256": s.get("sha256")} for s in m["shards"]
            ]
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{self.path!r}: manifest.json has a malformed shard list") from None
        for s in self.shards:
            if not self.fs.exists(posixpath.join(self.root, s["name"])):
                raise UserError(f"{self.path!r}: {s['name']} is listed in manifest.json but missing; "
                                "rerun the same `synthgen render` command to remake it")

    @property
    def count(self) -> int:
        return sum(s["count"] for s in self.shards)

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.manifest.get("config") or {})

    @property
    def kind(self) -> str | None:
        """The pipeline kind from the manifest's config ("scene", "line", ...), if recorded."""
        k = self.config.get("kind")
        return str(k) if k is not None else None

    def _shard_bytes(self, s: dict[str, Any]) -> bytes:
        path = posixpath.join(self.root, s["name"])
        try:
            with self.fs.open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise UserError(f"{self.path!r}: cannot read {s['name']} ({e})") from None
        bad = f"{self.path!r}: {s['name']} is truncated or corrupt"
        fix = "; rerun the same `synthgen render` command to remake it"
        if s.get("sha256") and hashlib.sha256(data).hexdigest() != s["sha256"]:
            raise UserError(f"{bad} (sha256 differs from manifest.json){fix}")
        if not tar_end_ok(len(data), data[-1024:]):
            raise UserError(f"{bad} (incomplete tar file){fix}")
        return data

    def iter_shard(self, s: dict[str, Any]) -> Iterator[StoredSample]:
        data = self._shard_bytes(s)
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
                groups = dict(iter_groups(tar))
        except (tarfile.TarError, OSError, EOFError) as e:
            raise UserError(f"{self.path!r}: {s['name']} is not a readable tar file ({e})") from None
        if len(groups) != s["count"]:
            raise UserError(f"{self.path!r}: {s['name']} holds {len(groups)} samples, manifest.json says {s['count']}")
        for key, members in groups.items():
            ext = next((e for e in IMAGE_EXTS if e in members), None)
            if ext is None or "json" not in members:
                raise UserError(f"{self.path!r}: sample {key} in {s['name']} lacks an image or its .json label")
            try:
                label = json.loads(members["json"])
            except ValueError as e:
                raise UserError(f"{self.path!r}: sample {key} in {s['name']} has an unreadable .json label ({e})") from None
            yield StoredSample(key=key, image_ext=ext, image=members[ext], label=label, members=members, shard=s["name"])

    def __iter__(self) -> Iterator[StoredSample]:
        for s in self.shards:
            yield from self.iter_shard(s)

    def __len__(self) -> int:
        return self.count


def open_dataset(path: str) -> Dataset:
    return Dataset(path)


def iter_samples(path: str) -> Iterator[StoredSample]:
    """Every sample of the dataset folder `path`, in shard order."""
    return iter(Dataset(path))
