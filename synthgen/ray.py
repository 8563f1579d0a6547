"""Ray Data over `pipeline.sample(i)`: synthetic samples as a `ray.data.Dataset`.

    import synthgen.ray
    ds = synthgen.ray.read_synthetic("ocr_scene", n=100_000, seed=0, **{"augment.strength": 0.3})
    for batch in ds.iter_torch_batches(batch_size=32, collate_fn=synthgen.ray.collate):
        images = batch["image"]            # B x 3 x H x W uint8 (a list when sizes differ)
        ...                                # batch["instances"]: B lists of core.Instance

Row i (0 <= i < n) is sample `start + i` of the pipeline and seed, rendered lazily by Ray
tasks in parallel (`batch_size` samples per task), the same bytes as `pipeline.sample(start + i)`
on any worker (a worker whose library versions differ from the driver's is refused in one line,
unless `accept_versions=True`). Columns:

    key        str          zero-padded index, as in the shards
    index      int64        the sample index
    image      uint8        H x W x 3 RGB (a variable-shaped tensor column when sizes differ: ocr_line)
    instances  str          JSON: the instance list as in `<key>.json` (quad, text, chars, kind, field, ignore)
    factors    str          JSON: every recorded draw ({name: value}; `pipe.replay(i, factors)`)
    meta       str          JSON: the sample's meta (seed, index, pipeline, identity of documents, ...)

The labels travel as JSON text because Arrow would merge the per-sample factor names of a block
into one struct (every row gaining the others' names as nulls) and re-type them between blocks;
`rows(batch)`, `instances(row)` and `collate` decode them. Row order follows Ray's execution
(set `DataContext.get_current().execution_options.preserve_order = True` to keep index order);
every row carries its index.

Ray Data needs pandas and pyarrow (`pip install "synthgen[ray]"`, i.e. ray[data]). A Ray that
is already initialised is used; otherwise Ray Data starts a local one. The module is named after
the package it adapts, like `synthgen.torch`; inside it `import ray` is Ray itself (absolute
imports), and nothing in synthgen imports this module under a bare name.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .errors import UserError

COLUMNS = ("key", "index", "image", "instances", "factors", "meta")


def _import_ray_data():
    try:
        import ray
        import ray.data  # noqa: F401 - needs pandas and pyarrow
    except ImportError as e:
        raise UserError(f'synthgen.ray needs Ray Data ({e.name or e} is missing): pip install "synthgen[ray]" '
                        '(ray[data]: Ray with pandas and pyarrow)') from None
    return ray


def _spec(pipeline: Any, seed: int | None, overrides: dict[str, Any]) -> tuple[str, int, tuple[str, ...]]:
    """(config JSON, seed, version libraries) that rebuild the pipeline in a worker."""
    from .config import sent_dump
    from .pipeline import Pipeline, load_pipeline
    from .run.versions import RENDER, RENDER_TORCH, uses_torch

    if isinstance(pipeline, Pipeline):
        if seed is not None or overrides:
            raise UserError("pass seed and overrides to load_pipeline, not with an already-built Pipeline")
        pipe = pipeline
    else:
        pipe = load_pipeline(pipeline, seed=seed, **overrides)
    config_json = json.dumps(sent_dump(pipe.cfg), sort_keys=True)  # an albumentations file as its content
    return config_json, int(pipe.seed), RENDER_TORCH if uses_torch(pipe) else RENDER


def _pipeline(config_json: str, seed: int):
    """One Pipeline per config in each worker process (Ray reuses its workers): the render
    workers' own cache (run/worker.py)."""
    import cv2

    from .run.worker import _pipeline as cached

    cv2.setNumThreads(1)  # one sample at a time per task: OpenCV's pool only adds overhead
    return cached(config_json, seed)


def _dumps(obj: Any) -> str:
    import orjson

    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()


def _render_batch(batch: dict[str, np.ndarray], config_json: str, seed: int, start: int,
                  driver_versions: dict[str, Any] | None, libraries: tuple[str, ...],
                  accept_versions: bool) -> dict[str, Any]:
    """map_batches: {"id": positions} -> the columns of those samples."""
    from .run.versions import check_worker

    check_worker(driver_versions, libraries, accept_versions)
    pipe = _pipeline(config_json, seed)
    keys, index, images, insts, factors, metas = [], [], [], [], [], []
    for pos in batch["id"]:
        s = pipe.sample(start + int(pos))
        label = s.to_json(arrays=True)
        keys.append(s.key)
        index.append(start + int(pos))
        images.append(s.image)
        insts.append(_dumps(label["instances"]))
        factors.append(_dumps(label["factors"]))
        metas.append(_dumps(label["meta"]))
    if len({im.shape for im in images}) == 1:
        image: Any = np.stack(images)
    else:  # variable-shaped tensor column (lines of different widths)
        image = np.empty(len(images), dtype=object)
        image[:] = images
    return {"key": np.array(keys), "index": np.array(index, dtype=np.int64), "image": image,
            "instances": np.array(insts, dtype=object), "factors": np.array(factors, dtype=object),
            "meta": np.array(metas, dtype=object)}


def read_synthetic(pipeline: Any = "ocr_scene", n: int = 1000, seed: int | None = None, *, start: int = 0,
                   batch_size: int = 16, blocks: int | None = None, accept_versions: bool = False,
                   **overrides: Any):
    """A `ray.data.Dataset` of samples `start .. start + n - 1` of `pipeline` (a name, a
    .yaml path, or a built `Pipeline`), rendered lazily in parallel: one Ray task renders
    `batch_size` samples. `seed` and dotted `overrides` (`**{"augment.strength": 0.3}`) are
    as for `load_pipeline`. `blocks`: how many blocks the index range is cut into (Ray's
    default when None). See the module docstring for the columns."""
    for name, v, lo in (("n", n, 0), ("start", start, 0), ("batch_size", batch_size, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise UserError(f"{name} must be a whole number >= {lo}, got {v!r}")
    if blocks is not None and (isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 1):
        raise UserError(f"blocks must be a positive whole number, got {blocks!r}")
    config_json, seed_, libraries = _spec(pipeline, seed, overrides)
    ray = _import_ray_data()
    from .run.versions import versions

    ds = ray.data.range(int(n), override_num_blocks=blocks)
    return ds.map_batches(_render_batch, batch_size=int(batch_size), batch_format="numpy",
                          fn_kwargs={"config_json": config_json, "seed": seed_, "start": int(start),
                                     "driver_versions": versions(), "libraries": libraries,
                                     "accept_versions": bool(accept_versions)})


# -- decoding rows and batches ---------------------------------------------------------------------
def instances(row: dict[str, Any]) -> list:
    """The row's instances as `core.Instance` objects (quads 4 x 2, chars n x 4 x 2 float32)."""
    from .core import Instance

    return [Instance.from_json(d) for d in json.loads(row["instances"])]


def rows(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """A numpy batch (`iter_batches`) as rows with decoded labels: key, index, image (H x W x 3),
    instances (list of dicts as in `<key>.json`), factors and meta (dicts)."""
    out = []
    for i in range(len(batch["index"])):
        out.append({"key": str(batch["key"][i]), "index": int(batch["index"][i]), "image": batch["image"][i],
                    "instances": json.loads(batch["instances"][i]), "factors": json.loads(batch["factors"][i]),
                    "meta": json.loads(batch["meta"][i])})
    return out


def collate_batch(batch: dict[str, Any]) -> dict[str, Any]:
    """A numpy batch as torch values: image -> B x 3 x H x W uint8 tensor (a list of 3 x H x W
    tensors when sizes differ), index -> int64 tensor, key -> list of str, instances -> B lists
    of `core.Instance`, factors and meta -> B dicts (as `synthgen.torch` items hold them)."""
    import torch

    from .core import Instance

    imgs = [torch.from_numpy(np.array(np.asarray(im).transpose(2, 0, 1), order="C")) for im in batch["image"]]
    same = len({tuple(t.shape) for t in imgs}) <= 1
    return {"key": [str(k) for k in batch["key"]],
            "index": torch.tensor([int(i) for i in batch["index"]], dtype=torch.int64),
            "image": torch.stack(imgs) if same and imgs else imgs,
            "instances": [[Instance.from_json(d) for d in json.loads(s)] for s in batch["instances"]],
            "factors": [json.loads(s) for s in batch["factors"]],
            "meta": [json.loads(s) for s in batch["meta"]]}


def _make_collate():
    """`collate`: `collate_batch` as Ray's NumpyBatchCollateFn (Ray >= 2.47 deprecates plain
    functions as collate_fn), or the function itself on older Rays."""
    try:
        from ray.data.collate_fn import NumpyBatchCollateFn
    except ImportError:
        return collate_batch

    class Collate(NumpyBatchCollateFn):
        def __call__(self, batch):
            return collate_batch(batch)

        def __reduce__(self):  # pickles by name: the class is made at run time
            return (_make_collate, ())

    return Collate()


def __getattr__(name: str) -> Any:
    # `collate` (for iter_torch_batches(collate_fn=...)) subclasses a Ray class: made on first use,
    # so that importing this module does not import Ray
    if name == "collate":
        _import_ray_data()
        c = globals()["collate"] = _make_collate()
        return c
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["COLUMNS", "collate", "collate_batch", "instances", "read_synthetic", "rows"]
