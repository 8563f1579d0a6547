"""Augmenting a Ray Dataset: `augment_ray(ds, strength, ...)` -> a Ray Dataset of augmented rows.

    import synthgen.ray
    from synthgen.augment import augment_ray
    ds = synthgen.ray.read_synthetic("ocr_line", n=100_000, seed=0, **{"augment.strength": 0})
    aug = augment_ray(ds, strength=0.4, copies=2, seed=7)   # lazy, like every Ray Dataset
    for batch in aug.iter_torch_batches(batch_size=32, collate_fn=synthgen.ray.collate): ...

The input rows are `synthgen.ray.read_synthetic`'s (key, index, image H x W x 3 uint8 RGB,
instances and meta as JSON text; factors are not read). Row i (its `index`) gives the
output rows j = i * copies + c, c = 0 .. copies - 1, each augmented with the draws of
(seed, j) by the same function as `synthgen augment` (`job.augment_input`): the rows of a
rendered dataset's samples 0 .. n-1 augment into the same pixels, labels, factors and meta
as `synthgen augment DIR --strength S --copies C --seed SEED` writes (the same bytes too,
with `encode=True`, when the input pixels are the same: a PNG dataset, or rows decoded from
its shards). The output columns are read_synthetic's: key (`key_for(j)`), index (j), image,
instances, factors (the augmentation's draws) and meta (the input's, with index j,
source_key, source_index, copy and version), as JSON text; `encode=True` adds the shard
members as bytes: the image (`image_ext`: jpg or png), json, and score.png with `score=True`.

`synthgen.augment_dataset(ds, None, strength)` does the same (a Ray Dataset in, a Ray Dataset
out). A worker whose numpy, OpenCV, albucore or orjson differ from the driver's is refused in
one line unless `accept_versions=True` (run/versions.py), as for a Ray augment job.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..errors import UserError

NEEDED = ("key", "index", "image", "instances", "meta")
IMAGE_EXTS = ("jpg", "png")


def _loads(v: Any, what: str) -> Any:
    if isinstance(v, (bytes, bytearray)):
        v = v.decode("utf-8")
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError as e:
            raise UserError(f"augment_ray: a row's {what} is not JSON ({e})") from None
    return v


def _input_sample(row: dict[str, Any], image_ext: str, score: bool):
    """One input row as `inputs.InputSample` (what `synthgen augment` reads from a shard)."""
    from ..core import Instance
    from .inputs import InputSample

    img = np.asarray(row["image"])
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise UserError(f"augment_ray: row {row['key']}: image must be H x W x 3 uint8 RGB, got "
                        f"{img.dtype} {tuple(img.shape)}")
    insts = _loads(row["instances"], "instances") or []
    meta = _loads(row["meta"], "meta") or {}
    if not isinstance(insts, list) or not isinstance(meta, dict):
        raise UserError(f"augment_ray: row {row['key']}: instances must be a JSON list and meta a JSON object")
    return InputSample(str(row["key"]), np.ascontiguousarray(img), [Instance.from_json(d) for d in insts], meta,
                       image_ext, score)


def _augment_batch(batch: dict[str, Any], cfg_json: str, seed: int, copies: int, quality: int, image_ext: str,
                   score: bool, encode: bool, driver_versions: dict[str, Any] | None, libraries: tuple[str, ...],
                   accept_versions: bool) -> dict[str, Any]:
    """map_batches: input rows -> their augmented copies (copies rows per input row)."""
    import cv2

    from ..run.versions import check_worker
    from ..ray import _dumps
    from .job import _cfg, augment_input

    check_worker(driver_versions, libraries, accept_versions)
    cv2.setNumThreads(1)
    cfg = _cfg(cfg_json)
    missing = [c for c in NEEDED if c not in batch]
    if missing:
        raise UserError(f"augment_ray: the rows lack column(s) {', '.join(missing)}; give rows as "
                        "synthgen.ray.read_synthetic makes them (key, index, image, instances, meta)")
    cols: dict[str, list] = {k: [] for k in ("key", "index", "image", "instances", "factors", "meta")}
    members: dict[str, list] = {}
    for r in range(len(batch["index"])):
        row = {k: batch[k][r] for k in NEEDED}
        i = int(row["index"])
        x = _input_sample(row, image_ext, score)
        for c in range(copies):
            j = i * copies + c
            s, enc = augment_input(x, i, c, j, seed, cfg, quality, encode=encode)
            label = s.to_json(arrays=True)
            cols["key"].append(s.key)
            cols["index"].append(j)
            cols["image"].append(s.image)
            cols["instances"].append(_dumps(label["instances"]))
            cols["factors"].append(_dumps(label["factors"]))
            cols["meta"].append(_dumps(label["meta"]))
            for ext, data in enc:
                members.setdefault(ext, []).append(data)
    if len({im.shape for im in cols["image"]}) == 1:
        image: Any = np.stack(cols["image"])
    else:  # a variable-shaped tensor column (lines of different widths)
        image = np.empty(len(cols["image"]), dtype=object)
        image[:] = cols["image"]
    out = {"key": np.array(cols["key"]), "index": np.array(cols["index"], dtype=np.int64), "image": image,
           **{k: np.array(cols[k], dtype=object) for k in ("instances", "factors", "meta")}}
    for ext, vals in members.items():
        arr = np.empty(len(vals), dtype=object)
        arr[:] = vals
        out[ext] = arr
    return out


def augment_ray(ds: Any, strength: float, *, copies: int = 1, seed: int = 0, overrides: dict[str, Any] | None = None,
                quality: int = 90, image_ext: str = "jpg", score: bool = False, encode: bool = False,
                batch_size: int = 16, accept_versions: bool = False):
    """A Ray Dataset of the rows of `ds` augmented `copies` times at `strength` (see the module
    docstring). `overrides`: augment settings (`{"ops.rotate.p": 0}` or nested), as for
    `synthgen augment --set`; `quality`, `image_ext`, `score`: how `encode=True` encodes the
    members (as `synthgen augment` does for a jpg / png input with or without a score map);
    `batch_size`: input rows per Ray task."""
    from ..ray import _import_ray_data
    from ..run.job import parse_seed
    from ..run.versions import AUGMENT, versions
    from .job import augment_config

    ray = _import_ray_data()
    if not isinstance(ds, ray.data.Dataset):
        raise UserError(f"augment_ray: expected a ray.data.Dataset (e.g. synthgen.ray.read_synthetic(...)), got "
                        f"{type(ds).__name__}; a dataset folder is augmented with "
                        "synthgen.augment_dataset(DIR, OUT, ...)")
    for name, v in (("copies", copies), ("batch_size", batch_size), ("quality", quality)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 or (name == "quality" and v > 100):
            most = " and <= 100" if name == "quality" else ""
            raise UserError(f"augment_ray: {name} must be a whole number >= 1{most}, got {v!r}")
    if image_ext not in IMAGE_EXTS:
        raise UserError(f"augment_ray: image_ext must be one of {', '.join(IMAGE_EXTS)}, got {image_ext!r}")
    cfg = augment_config(strength, overrides)
    seed = parse_seed(seed, "seed")
    schema = ds.schema(fetch_if_missing=False)
    names = list(getattr(schema, "names", None) or [])
    missing = [c for c in NEEDED if names and c not in names]
    if missing:
        raise UserError(f"augment_ray: the rows lack column(s) {', '.join(missing)}; give rows as "
                        "synthgen.ray.read_synthetic makes them (key, index, image, instances, meta)")
    from ..config import sent_dump

    cfg_json = json.dumps(sent_dump(cfg), sort_keys=True)  # an albumentations file as its content
    return ds.map_batches(_augment_batch, batch_size=int(batch_size), batch_format="numpy",
                          fn_kwargs={"cfg_json": cfg_json, "seed": seed, "copies": int(copies),
                                     "quality": int(quality), "image_ext": image_ext, "score": bool(score),
                                     "encode": bool(encode), "driver_versions": versions(), "libraries": AUGMENT,
                                     "accept_versions": bool(accept_versions)})


__all__ = ["augment_ray"]
