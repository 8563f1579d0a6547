"""The one reader of rendered datasets: `manifest.json` plus `shard-*.tar`, sample by sample.

Every tool that reads shards reads them here, through the streaming tar reader
(`io/tarstream.py`): `Dataset` (exports, `augment` inputs, scripts), `stream_shard` (checks,
mining, `synthgen.torch.ShardDataset`), `survey` (what `check` reports about a folder) and
`shard_refs` (the shards `ShardDataset` reads). Memory stays flat in shard size.

What is checked, and when:
* the manifest, when a folder is opened: it must be a JSON object with a shard list, and its
  `state` must be `complete`; a running or stopped render (state `running`) is refused in one
  line naming it, unless the caller asks for `partial` data (then the shards it lists are read);
* each shard as it streams: every tar header checksum and the end-of-archive blocks (a file cut
  anywhere, or overwritten with junk, raises `ShardError` naming the shard and the byte offset),
  and, once its last sample has been read, the sha256 of every byte and the number of samples
  against manifest.json (`ShardMismatch`, naming the shard). A shard's samples are handed out
  as they are read, so a consumer has seen them when a mismatch is raised; it is raised before
  the next shard starts.

Errors are `UserError`s (one line, exit 2) that name the folder and the shard. Any fsspec URL.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import UserError
from .shards import MANIFEST, url_to_fs
from .tarstream import IMAGE_EXTS, ShardError, ShardMismatch, iter_tar

__all__ = ["Dataset", "IMAGE_EXTS", "MANIFEST", "ShardError", "ShardMismatch", "ShardRef", "StoredSample",
           "iter_samples", "open_dataset", "read_manifest", "shard_refs", "stream_shard", "survey"]

REMAKE = "rerun the command that made it (`synthgen render`, `augment` or `mine`) to remake it"


# -- one shard -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShardRef:
    """One shard to read: its URL, and what manifest.json recorded of it (None: not listed,
    so only its structure can be checked)."""

    url: str
    name: str
    sha256: str | None = None
    count: int | None = None


def stream_shard(ref: ShardRef) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {ext: bytes}) per sample of one shard, read once, block by block. Raises
    `ShardError` naming the shard for a truncated or corrupt file (with the byte offset), and
    `ShardMismatch` after the last sample when its sha256 or sample count is not the one
    manifest.json recorded."""
    readers: list = []
    n = 0
    for key, members in iter_tar(ref.url, readers):
        n += 1
        yield key, members
    got = readers[0].h.hexdigest()
    if ref.sha256 and got != ref.sha256:
        raise ShardMismatch(ref.name, "is corrupt", f"its sha256 {got[:12]}... differs from manifest.json's "
                                                    f"{str(ref.sha256)[:12]}...")
    if ref.count is not None and n != ref.count:
        raise ShardMismatch(ref.name, "holds other samples", f"{n} samples, manifest.json says {ref.count}",
                            f"{ref.name} holds {n} samples, manifest.json says {ref.count}")


# -- a folder ------------------------------------------------------------------------------------
def read_manifest(fs, root: str, where: str) -> dict[str, Any] | None:
    """The folder's manifest.json as a dict, None if there is none; unreadable: UserError."""
    mpath = posixpath.join(root, MANIFEST)
    if not fs.exists(mpath):
        return None
    try:
        with fs.open(mpath, "rb") as f:
            m = json.loads(f.read())
        if not isinstance(m, dict):
            raise ValueError(f"a JSON {type(m).__name__}, not an object")
    except (OSError, ValueError) as e:
        raise UserError(f"{where!r}: manifest.json is unreadable ({e})") from None
    return m


def _records(m: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """[{name, count, sha256}] of the manifest's shard list; malformed: UserError."""
    shards = m.get("shards")
    if not isinstance(shards, list):
        raise UserError(f"{where!r}: manifest.json has no shard list")
    try:
        return [{"name": str(s["name"]), "count": int(s["count"]), "sha256": s.get("sha256")} for s in shards]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise UserError(f"{where!r}: manifest.json has a malformed shard list") from None


def unfinished(where: str, state: Any) -> UserError:
    return UserError(f"{where!r} is an unfinished render (manifest.json state {state!r}); rerun the command that "
                     "made it to finish it first, or read its finished shards with partial=True")


def _survey_records(shards: Any, problems: list[str]) -> dict[str, dict[str, Any]]:
    """The manifest's shard records by name; a malformed list is one problem (named in JSON's
    terms, not Python's) and no records, so every shard on disk is still checked."""
    def bad(what: str) -> dict[str, dict[str, Any]]:
        problems.append(f"manifest.json has a malformed shard list ({what}); the shards on disk are checked without it")
        return {}

    if shards is None:
        return {}
    if not isinstance(shards, list):
        return bad(f"'shards' is {_json_kind(shards)}, not a list")
    out: dict[str, dict[str, Any]] = {}
    for i, s in enumerate(shards):
        if not isinstance(s, dict) or not isinstance(s.get("name"), str):
            return bad(f"entry {i} is {_json_kind(s)}, not an object with a \"name\"" if not isinstance(s, dict)
                       else f"entry {i} has no \"name\" string")
        c = s.get("count")
        if c is not None and (isinstance(c, bool) or not isinstance(c, int) or c < 0):
            return bad(f"entry {i} ({s['name']}) has count {json.dumps(c)}, not a whole number")
        if s.get("sha256") is not None and not isinstance(s["sha256"], str):
            return bad(f"entry {i} ({s['name']}) has sha256 {json.dumps(s['sha256'])}, not a hex string")
        out[s["name"]] = s
    return out


def _json_kind(v: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return kinds.get(type(v), type(v).__name__)


def survey(url: str) -> tuple[list[str], dict[str, dict[str, Any]], list[str]]:
    """What a folder holds, without refusing anything (for `check`, which reports it all):
    (shard names on disk, manifest order first, then those it does not list; the manifest's
    records by name; problems: an unreadable or unfinished manifest, listed shards missing)."""
    fs, root = url_to_fs(url)
    if not fs.exists(root) or not fs.isdir(root):
        raise UserError(f"{url!r} is not a dataset folder; give the folder `synthgen render --out` wrote")
    on_disk = sorted(posixpath.basename(p) for p in fs.glob(posixpath.join(root, "*.tar")))
    recorded: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    try:
        m = read_manifest(fs, root, url)
        if m is not None:
            recorded = _survey_records(m.get("shards"), problems)
            if m.get("state") not in (None, "complete"):
                problems.append(f"manifest.json says the render is unfinished (state {m.get('state')!r})")
    except UserError as e:
        problems.append(str(e).split(": ", 1)[-1])
    if not on_disk and not recorded:
        raise UserError(f"{url!r} holds no shard .tar files; render into it with `synthgen render --out`")
    names = list(recorded) + [n for n in on_disk if n not in recorded]
    for n in recorded:
        if n not in on_disk:
            problems.append(f"{n} is listed in manifest.json but missing")
    return [n for n in names if n in on_disk], recorded, problems


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
    """A rendered dataset folder. `Dataset(path)` checks the manifest (complete, every listed
    shard present); iterate for samples, each shard checked as it streams. `partial=True`
    opens an unfinished render too (its listed shards)."""

    def __init__(self, path: str, partial: bool = False) -> None:
        self.path = str(path)
        self.fs, self.root = url_to_fs(self.path)
        if not self.fs.exists(self.root):
            raise UserError(f"dataset folder {self.path!r} does not exist")
        if not self.fs.isdir(self.root):
            raise UserError(f"{self.path!r} is a file; give a dataset folder (manifest.json + shard-*.tar)")
        m = read_manifest(self.fs, self.root, self.path)
        if m is None:
            raise UserError(f"{self.path!r} is not a synthgen dataset: it holds no manifest.json")
        self.manifest: dict[str, Any] = m
        if m.get("state") != "complete" and not (partial and m.get("state") == "running"):
            raise unfinished(self.path, m.get("state"))
        self.shards: list[dict[str, Any]] = _records(m, self.path)
        for s in self.shards:
            if not self.fs.exists(posixpath.join(self.root, s["name"])):
                raise UserError(f"{self.path!r}: {s['name']} is listed in manifest.json but missing; {REMAKE}")

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

    def ref(self, s: dict[str, Any]) -> ShardRef:
        return ShardRef(f"{self.path.rstrip('/')}/{s['name']}", s["name"], s.get("sha256"), s["count"])

    @property
    def refs(self) -> list[ShardRef]:
        return [self.ref(s) for s in self.shards]

    def iter_members(self, s: dict[str, Any]) -> Iterator[tuple[str, dict[str, bytes]]]:
        """(key, {ext: bytes}) of shard record `s`, checked as it streams (UserError naming it)."""
        try:
            yield from stream_shard(self.ref(s))
        except ShardError as e:
            raise e.where(repr(self.path), REMAKE) from None

    def iter_shard(self, s: dict[str, Any]) -> Iterator[StoredSample]:
        for key, members in self.iter_members(s):
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


def open_dataset(path: str, partial: bool = False) -> Dataset:
    return Dataset(path, partial=partial)


def iter_samples(path: str, partial: bool = False) -> Iterator[StoredSample]:
    """Every sample of the dataset folder `path`, in shard order."""
    return iter(Dataset(path, partial=partial))


# -- the shards a training reader streams -----------------------------------------------------------
def _listed_in_parent(url: str, partial: bool, manifests: dict[str, dict | None]) -> ShardRef:
    """A shard given by its URL: checked against the manifest.json beside it."""
    folder, _, name = url.rstrip("/").rpartition("/")
    folder = folder or "."
    if folder not in manifests:
        fs, root = url_to_fs(folder)
        m = read_manifest(fs, root, folder) if fs.isdir(root) else None
        if m is not None and m.get("state") != "complete" and not partial:
            raise unfinished(folder, m.get("state"))
        manifests[folder] = m
    m = manifests[folder]
    if m is None:
        if not partial:
            raise UserError(f"{url!r}: no manifest.json beside it, so its sha256 cannot be checked; give the dataset "
                            "folder, or pass partial=True to read it unchecked")
        return ShardRef(url, name)
    rec = next((s for s in _records(m, folder) if s["name"] == name), None)
    if rec is None:
        if not partial:
            raise UserError(f"{url!r} is not listed in {folder}/manifest.json; pass partial=True to read it unchecked")
        return ShardRef(url, name)
    return ShardRef(url, name, rec.get("sha256"), rec["count"])


def shard_refs(path_or_url: str | list[str] | tuple[str, ...], partial: bool = False) -> list[ShardRef]:
    """The shards of a dataset folder (manifest order; the manifest must say `complete`), or
    of the given tar file(s) (each checked against the manifest.json beside it). `partial=True`
    accepts an unfinished render (the shards its manifest lists) and shards no manifest lists
    (a folder's *.tar without manifest.json: structure checked, no sha256)."""
    if isinstance(path_or_url, (list, tuple)):
        manifests: dict[str, dict | None] = {}
        return [_listed_in_parent(str(u), partial, manifests) for u in path_or_url]
    url = str(path_or_url)
    fs, root = url_to_fs(url)
    if not fs.exists(root):
        raise UserError(f"{url!r} does not exist; give a dataset folder or a shard .tar")
    if not fs.isdir(root):
        return [_listed_in_parent(url, partial, {})]
    prefix = url.rstrip("/")
    if read_manifest(fs, root, url) is None:
        names = sorted(posixpath.basename(p) for p in fs.glob(posixpath.join(root, "*.tar")))
        if not names:
            raise UserError(f"{url!r} holds no shard .tar files; render into it with `synthgen render --out`")
        if not partial:
            raise UserError(f"{url!r} holds no manifest.json, so its shards cannot be checked; give a folder synthgen "
                            "wrote, or pass partial=True to read its .tar files unchecked")
        return [ShardRef(f"{prefix}/{n}", n) for n in names]
    refs = Dataset(url, partial=partial).refs
    if not refs:
        raise UserError(f"{url!r} holds no finished shards yet")
    return refs
