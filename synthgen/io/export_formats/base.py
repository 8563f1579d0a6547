"""What every trainer format shares: options, the dataset walk, staged output, streamed JSON.

A detection format (`DetFormat`) gets one `DetImage` per source sample, its image already
copied to `images/<key>.<ext>` (bytes unchanged); a recognition format (`RecFormat`) gets one
`exports.Crop` per text line, already written to `images/<name>.<ext>`. Both then write their
own label files, streaming (memory stays flat in the dataset size: JSON documents are written
item by item with `JsonStream`), and `close(stats)` finishes them. The walk, the staging
(`OUT.partial`, renamed when complete), the progress bar and every one-line error are here.

Coordinates are the dataset's: pixel (x, y) covers [x, x+1) x [y, y+1), so (0, 0) is the
top-left corner of the image (the COCO, MMOCR, PaddleOCR and docTR convention too); quads are
clockwise on screen from the text's own top-left; nothing is clipped to the image (text cut by
the frame keeps its true vertices, like the ICDAR export).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import orjson

from ...errors import UserError
from ..exports import (Crop, ExportStats, _bar, _kinds, _refuse_crops, _round_half_up, _Staged, _text_only,  # noqa: F401
                       check_crop_options, iter_crops)
from ..readers import Dataset, StoredSample

IMAGES = "images"  # every format keeps its images in OUT/images/


@dataclass(frozen=True)
class Options:
    """The options of the trainer formats (`synthgen export` flags of the same names)."""

    height: int = 32            # rec: crop height in px
    pad: float = 0.0            # rec: margin around each word, a fraction of its height
    image_format: str = "png"   # rec: crop encoding, png or jpg
    quality: int = 95           # rec: JPEG quality
    split: str = "train"        # file names that carry a split (MMOCR: textdet_<split>.json)

    @classmethod
    def of(cls, name: str, options: dict[str, Any]) -> Options:
        known = {f.name for f in fields(cls)}
        bad = sorted(set(options) - known)
        if bad:
            raise UserError(f"export {name}: unknown option(s) {', '.join(bad)}; options are {', '.join(sorted(known))}")
        o = cls(**options)
        check_crop_options(o.height, o.pad, o.quality)
        if o.image_format not in ("png", "jpg", "jpeg"):
            raise UserError(f"unknown crop image format {o.image_format!r}; use png or jpg")
        if not isinstance(o.split, str) or not o.split or any(c in o.split for c in "/\\\0") or o.split.startswith("."):
            raise UserError(f"--split must be a plain name such as train or test, got {o.split!r}")
        return o


@dataclass
class Region:
    """One text region of a detection sample, as stored (quad 4 x 2 float64, image pixels)."""

    quad: np.ndarray
    text: str
    ignore: bool
    kind: str
    field: str | None = None

    def points(self, decimals: int = 2) -> list[list[float]]:
        """[[x, y] x 4], rounded to `decimals` (label files hold 1/100 px)."""
        return np.round(self.quad, decimals).tolist()

    def int_points(self) -> list[list[int]]:
        """[[x, y] x 4] rounded half up to whole pixels (as the ICDAR export)."""
        return [[_round_half_up(x), _round_half_up(y)] for x, y in self.quad]

    def bbox(self, decimals: int = 2) -> list[float]:
        """[x_min, y_min, x_max, y_max] of the quad."""
        return np.round(np.concatenate([self.quad.min(0), self.quad.max(0)]), decimals).tolist()

    def area(self) -> float:
        """The quad's area (shoelace)."""
        x, y = self.quad[:, 0], self.quad[:, 1]
        return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


@dataclass
class DetImage:
    """One source sample for a detection format. `file` is the image path relative to OUT
    (`images/<key>.<ext>`), `name` the file name inside `images/`."""

    key: str
    file: str
    name: str
    height: int
    width: int
    data: bytes
    regions: list[Region]


class JsonStream:
    """One JSON document written item by item: `head`, the items joined by ",\\n", `tail`.
    Items are JSON texts (bytes); `value(obj)` serialises one (UTF-8, not ASCII-escaped)."""

    def __init__(self, path: Path, head: str, tail: str) -> None:
        self.f = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.f.write(head.encode("utf-8"))
        self.tail = tail.encode("utf-8")
        self.n = 0

    @staticmethod
    def value(obj: Any) -> bytes:
        return orjson.dumps(obj)

    def item(self, data: bytes) -> None:
        self.f.write(b"\n" if self.n == 0 else b",\n")
        self.f.write(data)
        self.n += 1

    def close(self) -> None:
        if not self.f.closed:
            if self.n:
                self.f.write(b"\n")
            self.f.write(self.tail)
            self.f.close()

    def abort(self) -> None:
        self.f.close()


class ExportFormat:
    """Base of the trainer formats; see the module docstring."""

    name: ClassVar[str] = ""          # filled from the registry name when exported
    task: ClassVar[str] = ""          # "det" or "rec"
    title: ClassVar[str] = ""         # one line for --help
    text_only: ClassVar[bool] = True  # det: only text kinds (word, line, field) can be exported

    def __init__(self, root: Path, options: Options) -> None:
        self.root = root
        self.options = options
        self._open: list[Any] = []

    # helpers for subclasses
    def text_file(self, name: str) -> io.TextIOWrapper:
        f = open(self.root / name, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed by close_files
        self._open.append(f)
        return f

    def json_stream(self, name: str, head: str, tail: str) -> JsonStream:
        s = JsonStream(self.root / name, head, tail)
        self._open.append(s)
        return s

    def close_files(self) -> None:
        for f in self._open:
            f.close()
        self._open.clear()

    def abort(self) -> None:
        for f in self._open:
            (f.abort if isinstance(f, JsonStream) else f.close)()
        self._open.clear()

    def close(self, stats: ExportStats) -> None:
        self.close_files()

    @classmethod
    def export(cls, src: str, out: str, *, kinds: Iterable[str] | None = None, progress: bool = True,
               name: str | None = None, **options: Any) -> ExportStats:
        fmt = name or cls.name or cls.__name__
        opts = Options.of(fmt, options)
        ks = _kinds(kinds)
        if cls.text_only:
            _text_only(fmt, ks)
        ds = Dataset(src)
        if cls.task == "det":
            _refuse_crops(fmt, src, ds)
        stats = ExportStats(fmt, str(out), task=cls.task)
        with _Staged(out) as tmp, _bar(ds, fmt, progress) as bar:
            (tmp / IMAGES).mkdir()
            w = cls(tmp, opts)
            try:
                if cls.task == "det":
                    cls._walk_det(w, ds, src, ks, stats, bar)
                elif cls.task == "rec":
                    for c in iter_crops(ds, src, stats, ks, opts.height, opts.pad, opts.image_format, opts.quality,
                                        on_sample=lambda: bar.update(1)):
                        file = f"{IMAGES}/{c.name}.{c.ext}"
                        (tmp / file).write_bytes(c.data)
                        w.add_crop(c, file)
                        stats.records += 1
                else:
                    raise ValueError(f"export format {fmt}: task must be 'det' or 'rec', not {cls.task!r}")
                w.close(stats)
            except BaseException:
                w.abort()
                raise
        return stats

    @staticmethod
    def _walk_det(w: ExportFormat, ds: Dataset, src: str, ks: tuple[str, ...], stats: ExportStats, bar) -> None:
        for s in ds:
            stats.samples += 1
            bar.update(1)
            img = det_image(s, src, ks)
            if not w.accept(img):
                stats.left_out += 1
                continue
            (w.root / img.file).write_bytes(img.data)
            w.add_image(img)
            stats.records += len(img.regions)
            stats.ignored += sum(r.ignore for r in img.regions)

    # what a format implements
    def accept(self, img: DetImage) -> bool:
        """det: whether the format can hold this image (docTR: not without text)."""
        return True

    def add_image(self, img: DetImage) -> None:  # det
        raise NotImplementedError

    def add_crop(self, crop: Crop, file: str) -> None:  # rec
        raise NotImplementedError


class DetFormat(ExportFormat):
    task = "det"


class RecFormat(ExportFormat):
    task = "rec"


def check_det_input(fmt: str, src: str, kinds: Iterable[str] | None, text_only: bool = True) -> None:
    """The refusals of a text detection format, for one that overrides `export`: only text kinds
    (with `text_only`), and no dataset of recognition crops. One line each. (icdar2015 makes them
    in `exports.export_icdar2015` itself, the function its Python API calls too.)"""
    ks = _kinds(kinds)
    if text_only:
        _text_only(fmt, ks)
    _refuse_crops(fmt, src, Dataset(src))


def _size(s: StoredSample, src: str) -> tuple[int, int]:
    size = s.label.get("size")
    try:
        h, w = int(size[0]), int(size[1])
        if h > 0 and w > 0:
            return h, w
    except (TypeError, ValueError, IndexError):
        pass
    import cv2

    img = cv2.imdecode(np.frombuffer(s.image, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise UserError(f"{src!r}: the image of sample {s.key} in {s.shard} cannot be decoded")
    return int(img.shape[0]), int(img.shape[1])


def det_image(s: StoredSample, src: str, kinds: tuple[str, ...]) -> DetImage:
    """The detection record of a stored sample: its size and the regions of `kinds`."""
    h, w = _size(s, src)
    regions = []
    for inst in s.instances:
        kind = inst.get("kind", "word")
        if kind not in kinds:
            continue
        try:
            q = np.asarray(inst["quad"], dtype=np.float64).reshape(4, 2)
            if not np.isfinite(q).all():
                raise ValueError("quad has non-finite coordinates")
        except (KeyError, TypeError, ValueError) as e:
            raise UserError(f"{src!r}: sample {s.key} in {s.shard} has a malformed instance ({e})") from None
        regions.append(Region(q, str(inst.get("text") or ""), bool(inst.get("ignore")), str(kind), inst.get("field")))
    name = f"{s.key}.{s.image_ext}"
    return DetImage(s.key, f"{IMAGES}/{name}", name, h, w, s.image, regions)


__all__ = ["IMAGES", "DetFormat", "DetImage", "ExportFormat", "JsonStream", "Options", "RecFormat", "Region",
           "check_det_input", "det_image"]
