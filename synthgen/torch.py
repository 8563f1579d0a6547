"""PyTorch datasets over `pipeline.sample(i)` and over rendered shards.

    from synthgen.torch import SynthDataset, SynthIterable, ShardDataset, collate
    ds = SynthDataset("ocr_scene", n=100_000, seed=0, maps=("score", "geo_rbox", "mask"))
    dl = DataLoader(ds, batch_size=16, num_workers=8, collate_fn=collate)

    it = SynthIterable("ocr_line", seed=0, batch_size=64)      # unbounded, yields batches
    dl = DataLoader(it, batch_size=None, num_workers=4, persistent_workers=True)

    sh = ShardDataset("runs/ocr_scene")                        # folder or fsspec URL of shards
    dl = DataLoader(sh, batch_size=16, num_workers=2, collate_fn=collate)

Item = dict(key, index, image (CHW uint8, or float32 in [0, 1] with image="float"),
instances (`synthgen.core.Instance`: quad 4 x 2 and chars n x 4 x 2 float32 at the label files'
1/100 px, text, kind, field, ignore; `.to_json()` gives the label's dict), the requested EAST
maps, factors with factors=True).

Why Instance objects and not JSON dicts: a DataLoader's main process unpickles every batch,
and the ~1000 char quads of 16 scene samples as nested Python lists cost it ~0.5 ms CPU per
sample (object creation and the garbage collector walking them), CPU the render workers need;
numpy arrays inside dicts would not do either (with batch_size=None DataLoader's
default_convert turns every array into a tensor, each sent through its own shared-memory
handle), while an Instance's arrays travel as plain bytes.

Item i is sample i of the seed, whatever the worker that renders it. `SynthIterable` hands
out blocks of indices round-robin to (rank, worker) in exactly the order DataLoader reads its
workers back, so the sequence a rank sees is the same for 0, 1 or N workers; every index is
produced by one rank only. Give it `batch_size=B` (it collates; DataLoader(batch_size=None))
or `block=B` equal to DataLoader's batch_size. `set_bias` / `set_epoch` write to a small
shared-memory buffer that every worker reads at the start of its next pass, so a curriculum
(the miner's bias) reaches `persistent_workers=True` loaders between epochs.

OpenCV: set `cv2.setNumThreads(1)` in the parent before the loader forks workers (setting it
in a forked child whose parent ran OpenCV's pool can deadlock).
"""

from __future__ import annotations

import json
import math
import posixpath
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

try:
    import torch
    from torch.utils.data import Dataset, IterableDataset, get_worker_info
except ImportError as e:  # pragma: no cover - exercised only without the extra
    from .errors import UserError

    raise UserError('synthgen.torch needs PyTorch: pip install torch==2.13.0 (or "synthgen[torch]")') from e

from .core import Instance, Sample
from .errors import UserError
from .pipeline import TEXT_KINDS, Pipeline, load_pipeline

IMAGE_MODES = ("uint8", "float")


# -- one sample -> one item ---------------------------------------------------------------
def _image_tensor(rgb: np.ndarray, mode: str) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))
    return t.float().div_(255.0) if mode == "float" else t


def _check_image_mode(mode: str) -> str:
    if mode not in IMAGE_MODES:
        raise UserError(f"image={mode!r}: use 'uint8' (CHW uint8) or 'float' (CHW float32 in [0, 1])")
    return mode


def item_from_sample(s: Sample, pipeline: Pipeline, maps: tuple[str, ...] | None = None, image: str = "uint8",
                     factors: bool = False) -> dict[str, Any]:
    """The training item of one sample. `maps=None`: the maps the sample already carries;
    a tuple: exactly those, reusing the sample's own and computing only the missing ones."""
    out: dict[str, Any] = {
        "key": s.key,
        "index": int(s.meta.get("index", -1)),
        "image": _image_tensor(s.image, image),
        "instances": [inst.as_labelled() for inst in s.instances],  # live and stored items agree
    }
    have = {k: v for k, v in s.maps.items() if k != "ink"}
    names = tuple(have) if maps is None else tuple(maps)
    missing = tuple(m for m in names if m not in have)
    if missing:  # one east_targets pass for all of them
        from .labels.east import east_targets

        lab = pipeline.cfg.labels
        text = [inst for inst in s.instances if inst.kind in TEXT_KINDS]
        have.update(east_targets(text, s.image.shape[:2], stride=lab.stride, min_text_size=lab.min_text_size,
                                 maps=missing))
    for m in names:
        out[m] = torch.from_numpy(np.ascontiguousarray(have[m], dtype=np.float32))
    if factors:
        out["factors"] = dict(s.factors)
    return out


# -- state shared with DataLoader workers -------------------------------------------------
class _Shared:
    """A JSON value in shared memory: the parent writes, workers (even persistent ones, which
    hold a copy of the dataset made when they started) read the current value."""

    def __init__(self, value: Any, capacity: int = 1 << 18) -> None:
        self._buf = torch.zeros(capacity, dtype=torch.uint8).share_memory_()
        self._head = torch.zeros(2, dtype=torch.int64).share_memory_()  # length, version
        self._seen: tuple[int, Any] = (-1, None)
        self.set(value)

    def set(self, value: Any) -> None:
        data = json.dumps(value, sort_keys=True).encode()
        if len(data) > self._buf.numel():
            raise UserError(f"bias/state of {len(data)} bytes is over the {self._buf.numel()}-byte shared buffer; "
                            "use fewer bins or factors")
        self._buf[: len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        self._head[0] = len(data)
        self._head[1] += 1

    def get(self) -> Any:
        version = int(self._head[1])
        if version != self._seen[0]:
            n = int(self._head[0])
            self._seen = (version, json.loads(bytes(self._buf[:n].numpy())))
        return self._seen[1]


class _Biased:
    """set_epoch / set_bias for the synthetic datasets (state lives in shared memory)."""

    _state: _Shared

    def set_epoch(self, epoch: int) -> None:
        self._state.set({**self._state.get(), "epoch": int(epoch)})

    def set_bias(self, bias: dict[str, Any] | None) -> None:
        """Bias the draws of every sample rendered from now on (`Draws` bias format); a
        curriculum calls this between epochs, e.g. with `synthgen.mine.Miner.bias()`."""
        self._state.set({**self._state.get(), "bias": bias or None})

    @property
    def epoch(self) -> int:
        return int(self._state.get()["epoch"])

    @property
    def bias(self) -> dict[str, Any] | None:
        return self._state.get()["bias"]


def _pipeline(pipeline: str | Pipeline, seed: int | None, overrides: dict[str, Any]) -> Pipeline:
    if isinstance(pipeline, Pipeline):
        if seed is not None or overrides:
            raise UserError("pass seed and overrides to load_pipeline, not with an already-built Pipeline")
        return pipeline
    return load_pipeline(pipeline, seed=seed, **overrides)


class SynthDataset(_Biased, Dataset):
    """Map-style dataset of `n` samples: item i of epoch e is sample start + e * n + i."""

    def __init__(self, pipeline: str | Pipeline = "ocr_scene", n: int = 10_000, seed: int | None = None,
                 maps: tuple[str, ...] | None = None, epoch: int = 0, start: int = 0, image: str = "uint8",
                 factors: bool = False, bias: dict[str, Any] | None = None, pinned: dict[str, Any] | None = None,
                 transform: Callable[[dict[str, Any]], Any] | None = None, **overrides: Any) -> None:
        if n <= 0:
            raise UserError(f"n must be > 0, got {n}")
        self.pipeline = _pipeline(pipeline, seed, overrides)
        self.n, self.start, self.maps = int(n), int(start), None if maps is None else tuple(maps)
        self.image, self.factors, self.pinned, self.transform = _check_image_mode(image), factors, pinned, transform
        self._state = _Shared({"epoch": int(epoch), "bias": bias or None})

    def __len__(self) -> int:
        return self.n

    def index_of(self, i: int) -> int:
        return self.start + self.epoch * self.n + i

    def __getitem__(self, i: int) -> Any:
        if not 0 <= i < self.n:
            raise IndexError(i)
        s = self.pipeline.sample(self.index_of(i), pinned=self.pinned, bias=self.bias)
        item = item_from_sample(s, self.pipeline, self.maps, self.image, self.factors)
        return self.transform(item) if self.transform else item


def _rank_world(rank: int | None, world_size: int | None) -> tuple[int, int]:
    if rank is None and world_size is None:
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1
    rank, world_size = int(rank or 0), int(world_size or 1)
    if not 0 <= rank < world_size:
        raise UserError(f"rank {rank} is outside world_size {world_size}")
    return rank, world_size


def _worker() -> tuple[int, int]:
    info = get_worker_info()
    return (0, 1) if info is None else (info.id, info.num_workers)


class SynthIterable(_Biased, IterableDataset):
    """Samples start, start+1, ... (unbounded, or `n` per epoch), split by rank and worker.

    Block k (indices start + k*B .. + B-1, B = batch_size or block) belongs to rank k % W and,
    within the rank, to worker (k // W) % N: DataLoader reads workers round-robin, so each rank
    sees its blocks in order whatever N. With `batch_size` the dataset yields collated batches
    (use DataLoader(batch_size=None)); otherwise single items, and `block` should equal the
    DataLoader's batch_size (a worker fills a batch from its own consecutive items). With a bias,
    `floor` is the share of indices rendered from the base distribution instead."""

    def __init__(self, pipeline: str | Pipeline = "ocr_scene", seed: int | None = None, start: int = 0,
                 n: int | None = None, batch_size: int | None = None, block: int | None = None,
                 maps: tuple[str, ...] | None = None, image: str = "uint8", factors: bool = False,
                 rank: int | None = None, world_size: int | None = None, bias: dict[str, Any] | None = None,
                 pinned: dict[str, Any] | None = None, transform: Callable[[dict[str, Any]], Any] | None = None,
                 collate_fn: Callable[[list[Any]], Any] | None = None, epoch: int = 0, floor: float = 0.0,
                 **overrides: Any) -> None:
        if batch_size is not None and block is not None:
            raise UserError("give batch_size (the dataset collates) or block (DataLoader collates), not both")
        b = batch_size if batch_size is not None else (block if block is not None else 1)
        if int(b) < 1 or (n is not None and int(n) < 1) or int(start) < 0:
            raise UserError(f"need batch_size/block >= 1, n >= 1 and start >= 0 (got {b}, {n}, {start})")
        self.pipeline = _pipeline(pipeline, seed, overrides)
        self.start, self.n, self.block = int(start), None if n is None else int(n), int(b)
        self.batched = batch_size is not None
        self.maps = None if maps is None else tuple(maps)
        self.image, self.factors, self.pinned, self.transform = _check_image_mode(image), factors, pinned, transform
        if not 0.0 <= float(floor) <= 1.0:
            raise UserError(f"floor must be a share in [0, 1], got {floor}")
        self.floor = float(floor)
        self.collate_fn = collate_fn or collate
        self.rank, self.world_size = _rank_world(rank, world_size)  # resolved now: workers have no process group
        self._state = _Shared({"epoch": int(epoch), "bias": bias or None})

    def indices(self, worker: int = 0, num_workers: int = 1) -> Iterator[list[int]]:
        """The index blocks this rank's `worker` renders, in order."""
        W, N = self.world_size, num_workers
        lo = self.start + (self.epoch * self.n if self.n else 0)
        hi = lo + self.n if self.n else None
        k = self.rank + W * worker
        while True:
            first = lo + k * self.block
            if hi is not None and first >= hi:
                return
            yield list(range(first, first + self.block if hi is None else min(first + self.block, hi)))
            k += W * N

    def is_base(self, i: int) -> bool:
        """Index i ignores the bias: an even `floor` share of indices keeps the base distribution
        (as the miner's rounds do), so a mined stream never drops a region entirely."""
        f = self.floor
        return f > 0 and math.floor((i + 1) * f) > math.floor(i * f)

    def __iter__(self) -> Iterator[Any]:
        w, N = _worker()
        bias = self.bias
        for idx in self.indices(w, N):
            items = []
            for i in idx:
                s = self.pipeline.sample(i, pinned=self.pinned, bias=None if self.is_base(i) else bias)
                item = item_from_sample(s, self.pipeline, self.maps, self.image, self.factors)
                items.append(self.transform(item) if self.transform else item)
            if self.batched:
                yield self.collate_fn(items)
            else:
                yield from items


# -- rendered shards ----------------------------------------------------------------------
def shard_urls(path_or_url: str | list[str], partial: bool = False) -> list[str]:
    """The shard files of a dataset folder (manifest order; the manifest must say `complete`
    unless `partial`), or the given tar file(s); see `synthgen.io.readers.shard_refs`."""
    from .io.readers import shard_refs

    return [r.url for r in shard_refs(path_or_url, partial=partial)]


def decode_members(key: str, members: dict[str, bytes], maps: tuple[str, ...] | None = None,
                   image: str = "uint8", factors: bool = False) -> dict[str, Any]:
    """One stored sample (tar members by extension) as a training item."""
    import cv2

    from .io.tarstream import IMAGE_EXTS

    ext = next((e for e in IMAGE_EXTS if e in members), None)
    if ext is None or "json" not in members:
        raise UserError(f"sample {key} lacks an image or its .json label")
    bgr = cv2.imdecode(np.frombuffer(members[ext], np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise UserError(f"sample {key}: its .{ext} image does not decode")
    try:
        label = json.loads(members["json"])
    except ValueError as e:
        raise UserError(f"sample {key} has an unreadable .json label ({e})") from None
    out: dict[str, Any] = {
        "key": key,
        "index": int((label.get("meta") or {}).get("index", -1)),
        "image": _image_tensor(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), image),
        "instances": [Instance.from_json(d) for d in label.get("instances") or []],
    }
    have: dict[str, np.ndarray] = {}
    if "score.png" in members:
        sc = cv2.imdecode(np.frombuffer(members["score.png"], np.uint8), cv2.IMREAD_GRAYSCALE)
        have["score"] = (sc > 127).astype(np.float32)
    if "east.npz" in members:
        import io

        with np.load(io.BytesIO(members["east.npz"]), allow_pickle=False) as z:
            have.update({k: z[k] for k in z.files})
    names = tuple(have) if maps is None else tuple(maps)
    for m in names:
        if m not in have:
            raise UserError(f"sample {key} carries no {m!r} map; render with --set labels.store=[{m}]")
        out[m] = torch.from_numpy(np.ascontiguousarray(have[m], dtype=np.float32))
    if factors:
        out["factors"] = dict(label.get("factors") or {})
    return out


class ShardDataset(IterableDataset):
    """Samples of written shards (local folder, fsspec URL, or a list of tar URLs), streamed.

    Read through synthgen's one dataset reader (`synthgen.io.readers`): a folder whose
    manifest.json is not `complete` (a render still running, or stopped) is refused when the
    dataset is made, in one line naming it, unless `partial=True` (then the shards its manifest
    lists are read; a folder or tar files without a manifest are read unchecked). Each shard is
    checked as it streams: a truncated or corrupt file raises a UserError naming the shard and
    the byte offset, and a sha256 or sample count other than manifest.json's raises naming the
    shard once its last sample has been read (its samples have been yielded by then; the next
    shard is not started).

    Shard j is read by the (rank, worker) slot j % (world_size * num_workers), so every sample
    is produced once. `shuffle=True` permutes the shard order per epoch by a keyed generator
    (seed, epoch); samples inside a shard stay in order."""

    def __init__(self, path_or_url: str | list[str], maps: tuple[str, ...] | None = None, image: str = "uint8",
                 factors: bool = False, rank: int | None = None, world_size: int | None = None,
                 shuffle: bool = False, seed: int = 0, transform: Callable[[dict[str, Any]], Any] | None = None,
                 partial: bool = False) -> None:
        from .io.readers import shard_refs

        self.refs = shard_refs(path_or_url, partial=partial)
        self.urls = [r.url for r in self.refs]
        self.partial = bool(partial)
        self.maps = None if maps is None else tuple(maps)
        self.image, self.factors, self.transform = _check_image_mode(image), factors, transform
        self.rank, self.world_size = _rank_world(rank, world_size)
        self.shuffle, self.seed, self.epoch = shuffle, int(seed), 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _order(self) -> list[Any]:
        if not self.shuffle:
            return list(self.refs)
        from .draws import sample_rng

        perm = sample_rng(self.seed, self.epoch, stream=7).permutation(len(self.refs))
        return [self.refs[j] for j in perm]

    def shard_order(self) -> list[str]:
        return [r.url for r in self._order()]

    def __iter__(self) -> Iterator[Any]:
        from .io.readers import REMAKE, ShardError, stream_shard

        w, N = _worker()
        slot, slots = self.rank * N + w, self.world_size * N
        for ref in self._order()[slot::slots]:
            folder = posixpath.dirname(ref.url) or "."
            try:
                for key, members in stream_shard(ref):
                    try:
                        item = decode_members(key, members, self.maps, self.image, self.factors)
                    except UserError as e:
                        raise UserError(f"{folder}: {ref.name}: {e}") from None
                    yield self.transform(item) if self.transform else item
            except ShardError as e:
                raise e.where(folder, REMAKE) from None


# -- batching -----------------------------------------------------------------------------
def _batch_tensor(vals: list[torch.Tensor], shape: list[int]) -> torch.Tensor:
    """A zeroed B x shape tensor; inside a DataLoader worker it lives in shared memory from the
    start, so sending it to the main process copies nothing more (as torch's default_collate)."""
    if get_worker_info() is None:
        return vals[0].new_zeros([len(vals), *shape])
    numel = len(vals) * int(np.prod(shape))
    storage = vals[0]._typed_storage()._new_shared(numel, device=vals[0].device)
    return vals[0].new(storage).view(len(vals), *shape).zero_()


def _stack(vals: list[torch.Tensor]) -> torch.Tensor:
    """Stack tensors of one rank, zero-padding every dim at its end to the largest size."""
    shape = [max(v.shape[d] for v in vals) for d in range(vals[0].dim())]
    out = _batch_tensor(vals, shape)
    for j, v in enumerate(vals):
        out[(j, *[slice(0, s) for s in v.shape])] = v
    return out


def collate(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack tensors (zero-padded at the bottom/right when sizes differ, e.g. line crops of
    different widths, with `sizes` = each image's (H, W)); keep per-sample instance lists,
    keys and factor dicts as lists (their lengths differ). `index` and `sizes` share one small
    tensor: every tensor a worker sends costs the main process a shared-memory handle."""
    out: dict[str, Any] = {}
    has_image = isinstance(batch[0].get("image"), torch.Tensor)
    small = torch.tensor([[int(b["index"]), *b["image"].shape[-2:]] if has_image else [int(b["index"]), 0, 0]
                          for b in batch], dtype=torch.int64) if "index" in batch[0] else None
    for k in batch[0]:
        vals = [b[k] for b in batch]
        if isinstance(vals[0], torch.Tensor):
            out[k] = _stack(vals)
        elif k == "index":
            out[k] = small[:, 0]
        else:
            out[k] = vals
    if has_image:
        out["sizes"] = small[:, 1:] if small is not None else \
            torch.tensor([list(b["image"].shape[-2:]) for b in batch], dtype=torch.int64)
    return out
