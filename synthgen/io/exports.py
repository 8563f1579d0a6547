"""Exports of a rendered dataset folder to the formats OCR trainers read.

ICDAR 2015 (`export_icdar2015`), for detection:
  * `OUT/<key>.jpg` (or `.png`): the stored image, bytes copied unchanged;
  * `OUT/gt_<key>.txt`: one line per text instance, `x1,y1,x2,y2,x3,y3,x4,y4,transcription`;
    vertices rounded to integers (half up), in stored order: clockwise on screen from the
    top-left of the text's reading direction; `###` as the transcription of don't-care text.
  * Files are UTF-8 **with a BOM** and `\\n` line ends, like the ICDAR 2015 ground truth (read
    them with `encoding="utf-8-sig"`). A transcription containing commas is written as is after
    the 8th comma: split each line on the first 8 commas only (`line.split(",", 8)`); it is not
    quoted, so a CSV reader splits such a line into more than 9 fields.
  * Coordinates are not clipped: text that runs past the image border keeps its true vertices.
  * Only text instances are written (kinds `word`, `line`, `field` by default; photo and
    document regions are not text). An image without text gets an empty file (a BOM only).

LMDB (`export_lmdb`), for recognition, in the layout of clovaai/deep-text-recognition-benchmark
(`create_lmdb_dataset.py`): keys `image-%09d` and `label-%09d` counted from 1, `num-samples`;
values are bytes (the encoded image; the label as UTF-8 text; the count as decimal text).
  * Scene samples: each non-ignored text instance with a transcription becomes one crop: its
    quad is warped to an upright rectangle `height` px high (default 32) and as wide as the
    quad's aspect ratio says, then encoded as PNG (default) or JPEG. Quads are the exact ink
    extents, so crops are tight; `pad` (a fraction of the text height) adds margin on every side.
    `height` is 1 .. MAX_CROP_HEIGHT (1024) px; a crop wider than MAX_CROP_WIDTH (16384) px (a
    very long line at a large height) is refused in one line, and so is running out of memory.
  * Line samples (the dataset's pipeline kind is `line`, or the sample's meta says
    `pipeline_kind: line`, or its only instance is a `line` covering at least half the image)
    are already recognition crops: the stored image bytes go in unchanged, with the line's text.
  * The map size starts at `map_size` and doubles whenever the map fills.

Both write into `OUT.partial` and rename it to `OUT` when complete, so an interrupted or
refused export leaves no half-written `OUT`. `OUT` must not exist or be an empty folder.

The trainer formats (PaddleOCR, MMOCR, docTR, COCO-Text) live in `io/export_formats/`, one
module each, on this module's staging, crops (`iter_crops`, `crop_quad`) and line detection
(`line_instance`); `export(src, FORMAT, out)` reaches every format of that registry.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from ..core import TEXT_KINDS
from ..errors import RunError, UserError
from .readers import Dataset, StoredSample
from .shards import PARTIAL_SUFFIX

MARKER = ".synthgen-export"  # marks a staging folder as ours, so a stale one may be removed
ICDAR_IGNORE = "###"
MAX_CROP_HEIGHT = 1024  # px: --height of recognition crops (one text line each; 32 or 48 is usual)
MAX_CROP_WIDTH = 16384  # px: a wider crop (a long line at a large --height) is refused; OpenCV warps stop at 32767


class CropTooWide(ValueError):
    """A crop wider than MAX_CROP_WIDTH: `width`, `height` in px."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width} x {height} px")
        self.width, self.height = width, height


@dataclass
class ExportStats:
    format: str
    out: str
    samples: int = 0            # source samples read
    records: int = 0            # detection: text regions written; recognition: crops stored
    ignored: int = 0            # don't-care instances (detection: written as such; recognition: skipped)
    skipped: int = 0            # recognition: instances without text or with a degenerate quad
    as_is: int = 0              # recognition: line samples stored unchanged
    task: str = ""              # "det" or "rec" (the formats of io/export_formats); "" for the two below
    left_out: int = 0           # detection: images left out (a format that cannot hold an image without text)
    notes: list[str] = field(default_factory=list)  # one-line hints printed after the summary

    def summary(self) -> str:
        if self.format == "icdar2015":
            return (f"{self.samples} images, {self.records} text lines ({self.ignored} marked ###) "
                    f"-> {self.out} (ICDAR 2015)")
        extra = f"; {self.as_is} line images stored as is" if self.as_is else ""
        if self.format == "lmdb":
            return (f"{self.records} recognition crops from {self.samples} samples -> {self.out} (LMDB; "
                    f"{self.ignored} ignored and {self.skipped} empty or degenerate instances left out{extra})")
        if self.task == "det":
            gone = f"; {self.left_out} images without text left out" if self.left_out else ""
            head = (f"{self.samples - self.left_out} images, {self.records} text regions ({self.ignored} don't-care)"
                    f" -> {self.out} ({self.format}{gone})")
        else:
            head = (f"{self.records} recognition crops from {self.samples} samples -> {self.out} ({self.format}; "
                    f"{self.ignored} ignored and {self.skipped} empty or degenerate instances left out{extra})")
        return "\n".join([head, *self.notes])


# -- output folder: staged, renamed when complete --------------------------------------------
class _Staged:
    """`with _Staged(out) as tmp:` write into `tmp` (= out + ".partial"); renamed to `out` on
    success, removed on any error."""

    def __init__(self, out: str | os.PathLike) -> None:
        self.out = Path(out).expanduser()
        self.tmp = self.out.with_name(self.out.name + PARTIAL_SUFFIX)
        if self.out.exists():
            if not self.out.is_dir():
                raise UserError(f"output {str(out)!r} is a file; give a new or empty folder")
            if any(self.out.iterdir()):
                raise UserError(f"output folder {str(out)!r} exists and is not empty; give a new or empty folder")
        if self.tmp.exists() or self.tmp.is_symlink():
            if self.tmp.is_dir() and not self.tmp.is_symlink() and (self.tmp / MARKER).is_file():
                shutil.rmtree(self.tmp)  # left by an interrupted export
            else:
                raise UserError(f"{str(self.tmp)!r} exists and was not made by synthgen export; move it away")

    def __enter__(self) -> Path:
        try:
            self.tmp.mkdir(parents=True)
            (self.tmp / MARKER).write_bytes(b"")
        except OSError as e:
            raise UserError(f"cannot create output folder {str(self.tmp)!r} ({e.strerror or e}); choose another OUT") from None
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            if isinstance(exc, OSError):  # disk full, permissions, ...
                raise UserError(f"writing the export into {str(self.tmp)!r} failed ({exc.strerror or exc}); "
                                "nothing was kept") from None
            return
        try:
            (self.tmp / MARKER).unlink()
            if self.out.is_dir():
                self.out.rmdir()  # empty (checked above)
            self.tmp.rename(self.out)
        except OSError as e:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise UserError(f"cannot move the export into {str(self.out)!r} ({e.strerror or e})") from None


def _bar(ds: Dataset, desc: str, progress: bool) -> tqdm:
    return tqdm(total=ds.count, unit="img", desc=desc, file=sys.stderr, disable=not progress,
                smoothing=0.1, dynamic_ncols=True)


def _kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    from ..core import KINDS

    ks = tuple(kinds) if kinds else TEXT_KINDS
    bad = [k for k in ks if k not in KINDS]
    if bad:
        raise UserError(f"unknown instance kind(s) {', '.join(map(repr, bad))}; kinds are {', '.join(KINDS)}")
    return ks



def _text_only(fmt: str, ks: tuple[str, ...]) -> None:
    """A format that holds text only refuses other kinds (photo, document regions) in one line."""
    other = [k for k in ks if k not in TEXT_KINDS]
    if other:
        raise UserError(f"{fmt} holds text only; {', '.join(map(repr, other))} "
                        f"{'is not a text kind' if len(other) == 1 else 'are not text kinds'} "
                        f"(text kinds: {', '.join(TEXT_KINDS)}); use coco-text for photo and document regions")


def _refuse_crops(fmt: str, src: str, ds: Dataset) -> None:
    """A detection format refuses a dataset of recognition crops (kind line, or a plug-in crop kind)."""
    from ..renderers.registry import is_crop
    from .export_formats import names

    if is_crop(ds.kind):
        rec = [n for n in names() if n.endswith("-rec")] or ["lmdb"]
        raise UserError(f"{fmt} is a detection format and {src!r} is a {ds.kind!r} dataset of recognition crops "
                        f"(one text line per image); export it with {', '.join(rec)} or lmdb")

# -- ICDAR 2015 -------------------------------------------------------------------------------
def _round_half_up(v: float) -> int:
    return int(math.floor(float(v) + 0.5))


def icdar_line(inst: dict[str, Any]) -> str:
    """One ground-truth line (no line end) for an instance dict as stored in `<key>.json`."""
    q = np.asarray(inst["quad"], dtype=np.float64).reshape(4, 2)
    if not np.isfinite(q).all():
        raise ValueError("quad has non-finite coordinates")
    coords = ",".join(str(_round_half_up(v)) for v in q.reshape(-1))
    if inst.get("ignore"):
        text = ICDAR_IGNORE
    else:
        text = str(inst.get("text") or "").replace("\r", " ").replace("\n", " ")
    return f"{coords},{text}"


def export_icdar2015(src: str, out: str, kinds: Iterable[str] | None = None, progress: bool = True) -> ExportStats:
    """Images plus `gt_<key>.txt` files of the dataset folder `src` into the new folder `out`.
    Refused in one line, nothing written: a kind that is not text, a dataset of recognition crops."""
    ks = _kinds(kinds)
    _text_only("icdar2015", ks)  # the refusals of every detection format (export_formats/base.py)
    ds = Dataset(src)
    _refuse_crops("icdar2015", src, ds)  # ICDAR 2015 is scene images with word quads
    stats = ExportStats("icdar2015", str(out))
    staged = _Staged(out)
    with staged as tmp, _bar(ds, "icdar2015", progress) as bar:
        for s in ds:
            (tmp / f"{s.key}.{s.image_ext}").write_bytes(s.image)
            lines = []
            for inst in s.instances:
                if inst.get("kind", "word") not in ks:
                    continue
                try:
                    lines.append(icdar_line(inst))
                except (KeyError, TypeError, ValueError) as e:
                    raise UserError(f"{src!r}: sample {s.key} in {s.shard} has a malformed instance ({e})") from None
                stats.records += 1
                stats.ignored += bool(inst.get("ignore"))
            body = "".join(line + "\n" for line in lines)
            (tmp / f"gt_{s.key}.txt").write_bytes(body.encode("utf-8-sig"))
            stats.samples += 1
            bar.update(1)
    return stats


# -- LMDB (recognition crops) -----------------------------------------------------------------
def _edges(q: np.ndarray) -> tuple[float, float]:
    qw = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    qh = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    return float(qw), float(qh)


def pad_quad(q: np.ndarray, pad: float) -> np.ndarray:
    """`q` grown by `pad` x its height on every side, along its own reading axes."""
    q = np.asarray(q, dtype=np.float64).reshape(4, 2)
    if pad == 0:
        return q
    _, qh = _edges(q)
    u = (q[1] - q[0]) + (q[2] - q[3])
    v = (q[3] - q[0]) + (q[2] - q[1])
    u = u / (np.linalg.norm(u) or 1.0) * pad * qh
    v = v / (np.linalg.norm(v) or 1.0) * pad * qh
    return q + np.array([-u - v, u - v, u + v, -u + v])


def crop_quad(image: np.ndarray, quad: Any, height: int = 32, pad: float = 0.0) -> np.ndarray | None:
    """The text inside `quad` warped upright to `height` px high, width from the quad's aspect
    ratio (top/bottom edge mean over left/right edge mean). None for a degenerate quad.
    `pad` grows the quad first by that fraction of its height on every side.

    Quads use the pixel-area convention (pixel (x, y) covers [x, x+1)), OpenCV puts pixel
    centres on integers: both sides are shifted by 0.5 so the warp is exact. A crop wider than
    MAX_CROP_WIDTH raises CropTooWide; OpenCV running out of memory, MemoryError."""
    q = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    if not np.isfinite(q).all():
        return None
    qw, qh = _edges(q)
    if qw < 1 or qh < 1:
        return None
    if pad:
        q = pad_quad(q, pad)
        qw, qh = _edges(q)
    width = max(1, int(round(height * qw / qh)))
    if width > MAX_CROP_WIDTH or height > MAX_CROP_WIDTH:
        raise CropTooWide(width, height)
    # Shrinking a lot: warp at the quad's own scale, then area-average down (no aliasing).
    big = qh > 2 * height
    if big:
        s = min(1.0, MAX_CROP_WIDTH / max(qw, qh))  # a huge quad: still >= 2x the crop, within OpenCV's limits
        wh = (max(1, int(round(qw * s))), max(1, int(round(qh * s))))
    else:
        wh = (width, height)
    dst = np.array([[0, 0], [wh[0], 0], [wh[0], wh[1]], [0, wh[1]]], np.float64)
    m = cv2.getPerspectiveTransform((q - 0.5).astype(np.float32), (dst - 0.5).astype(np.float32))
    try:
        out = cv2.warpPerspective(image, m, wh, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if big:
            out = cv2.resize(out, (width, height), interpolation=cv2.INTER_AREA)
    except cv2.error as e:
        if "memory" in str(e).lower() or "allocate" in str(e).lower():
            raise MemoryError(f"OpenCV could not allocate the {wh[0]} x {wh[1]} px warp") from None
        raise
    return out


def line_instance(s: StoredSample, dataset_kind: str | None) -> dict[str, Any] | None:
    """The line instance if `s` is already a recognition crop (a text-line sample), else None."""
    lines = [i for i in s.instances if i.get("kind") == "line"]
    if len(lines) != 1:
        return None
    from ..renderers.registry import is_crop

    if is_crop(dataset_kind) or is_crop(s.meta.get("pipeline_kind")):  # a crop kind (line, or a plug-in's)
        return lines[0]
    if len(s.instances) == 1:
        size = s.label.get("size") or [0, 0]
        try:
            q = np.asarray(lines[0]["quad"], np.float64).reshape(4, 2)
            h, w = float(size[0]), float(size[1])
        except (KeyError, TypeError, ValueError, IndexError):
            return None
        x0, y0 = np.clip(q.min(0), 0, [w, h])
        x1, y1 = np.clip(q.max(0), 0, [w, h])
        if h > 0 and w > 0 and (x1 - x0) * (y1 - y0) >= 0.5 * w * h:
            return lines[0]
    return None


def _encoder(fmt: str, quality: int) -> Callable[[np.ndarray], bytes]:
    if fmt == "png":
        params = [cv2.IMWRITE_PNG_COMPRESSION, 3]
    elif fmt in ("jpg", "jpeg"):
        fmt, params = "jpg", [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    else:
        raise UserError(f"unknown crop image format {fmt!r}; use png or jpg")

    def enc(img: np.ndarray) -> bytes:
        ok, buf = cv2.imencode(f".{fmt}", img, params)
        assert ok
        return buf.tobytes()

    return enc


def _import_lmdb():
    try:
        import lmdb
    except ImportError:
        raise UserError("the LMDB export needs the `lmdb` package: pip install 'synthgen[export]'") from None
    return lmdb


class _LmdbWriter:
    """Buffered puts; the map doubles on MapFullError and the batch is retried."""

    def __init__(self, path: Path, map_size: int, batch: int = 1000) -> None:
        self.lmdb = lmdb = _import_lmdb()
        self.env = lmdb.open(str(path), map_size=int(map_size), subdir=True, meminit=False)
        self.pending: list[tuple[bytes, bytes]] = []
        self.batch = batch
        self.resizes = 0

    def put(self, key: str, value: bytes) -> None:
        self.pending.append((key.encode("ascii"), value))
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        while self.pending:
            try:
                with self.env.begin(write=True) as txn:
                    for k, v in self.pending:
                        txn.put(k, v)
                self.pending.clear()
            except self.lmdb.MapFullError:  # the transaction was aborted: grow and retry it
                self.env.set_mapsize(self.env.info()["map_size"] * 2)
                self.resizes += 1

    def close(self) -> None:
        try:
            self.flush()
            self.env.sync(True)
        finally:
            self.env.close()


def check_crop_options(height: Any, pad: Any, quality: Any) -> None:
    """One-line errors for the crop options of every recognition export."""
    if isinstance(height, bool) or not isinstance(height, int) or not 1 <= height <= MAX_CROP_HEIGHT:
        raise UserError(f"--height must be a whole number of pixels from 1 to {MAX_CROP_HEIGHT} (a text line's "
                        f"crop; 32 is usual), got {height!r}")
    if isinstance(pad, bool) or not (isinstance(pad, (int, float)) and 0 <= pad <= 1):
        raise UserError(f"--pad must be a fraction of the text height in 0..1, got {pad!r}")
    if isinstance(quality, bool) or not isinstance(quality, (int, float)) or not 0 <= quality <= 100:
        raise UserError(f"--quality must be in 0..100, got {quality!r}")


@dataclass
class Crop:
    """One recognition sample: `name` is the source key (a line sample stored as is) or
    `<key>_<i>` (the crop of instance i of that sample); `data` is the encoded image."""

    name: str
    ext: str
    data: bytes
    text: str
    as_is: bool = False


def iter_crops(ds: Dataset, src: str, stats: ExportStats, kinds: tuple[str, ...], height: int = 32, pad: float = 0.0,
               image_format: str = "png", quality: int = 95, on_sample: Callable[[], Any] | None = None
               ) -> Iterator[Crop]:
    """The recognition crops of a dataset, in sample order, counting into `stats` (samples,
    ignored, skipped, as_is). Line samples (`line_instance`) are stored as is; the other
    samples give one crop per non-ignored instance of `kinds` with text (`crop_quad`)."""
    enc = _encoder(image_format, quality)
    ext = "jpg" if image_format in ("jpg", "jpeg") else "png"
    dkind = ds.kind
    for s in ds:
        stats.samples += 1
        if on_sample is not None:
            on_sample()
        line = line_instance(s, dkind)
        if line is not None:
            if line.get("ignore"):
                stats.ignored += 1
            elif not line.get("text"):
                stats.skipped += 1
            else:
                stats.as_is += 1
                yield Crop(s.key, s.image_ext, s.image, str(line["text"]), as_is=True)
            continue
        todo = [(j, i) for j, i in enumerate(s.instances) if i.get("kind", "word") in kinds]
        if not todo:
            continue
        image = cv2.imdecode(np.frombuffer(s.image, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise UserError(f"{src!r}: the image of sample {s.key} in {s.shard} cannot be decoded")
        for j, inst in todo:
            if inst.get("ignore"):
                stats.ignored += 1
                continue
            text = str(inst.get("text") or "")
            try:
                crop = crop_quad(image, inst["quad"], height, pad) if text else None
                data = None if crop is None else enc(crop)
            except CropTooWide as e:
                raise UserError(f"--height {height}: the crop of instance {j} of sample {s.key} in {s.shard} would "
                                f"be {e} (at most {MAX_CROP_WIDTH} px wide); lower --height") from None
            except MemoryError as e:
                raise RunError(f"out of memory cropping instance {j} of sample {s.key} in {s.shard} ({e or 'MemoryError'}); "
                               "lower --height or free memory, then rerun: nothing was exported") from None
            except (KeyError, TypeError, ValueError) as e:
                raise UserError(f"{src!r}: sample {s.key} in {s.shard} has a malformed instance ({e})") from None
            if data is None:
                stats.skipped += 1
                continue
            yield Crop(f"{s.key}_{j}", ext, data, text)


def export_lmdb(src: str, out: str, height: int = 32, image_format: str = "png", quality: int = 95,
                kinds: Iterable[str] | None = None, pad: float = 0.0, map_size: int = 1 << 30,
                progress: bool = True) -> ExportStats:
    """Recognition crops of the dataset folder `src` into a new LMDB folder `out`. Refused in one
    line, nothing written: a kind that is not text (photo regions have no text to read)."""
    check_crop_options(height, pad, quality)
    if map_size < 1 << 16:
        raise UserError(f"map_size must be at least 65536 bytes, got {map_size!r}")
    ks = _kinds(kinds)
    _text_only("lmdb", ks)  # as the other recognition formats
    _encoder(image_format, quality)
    _import_lmdb()
    ds = Dataset(src)
    stats = ExportStats("lmdb", str(out))
    staged = _Staged(out)
    with staged as tmp, _bar(ds, "lmdb", progress) as bar:
        w = _LmdbWriter(tmp, map_size)
        try:
            n = 0
            for c in iter_crops(ds, src, stats, ks, height, pad, image_format, quality, on_sample=lambda: bar.update(1)):
                n += 1
                w.put("image-%09d" % n, c.data)
                w.put("label-%09d" % n, c.text.encode("utf-8"))
            w.put("num-samples", str(n).encode("ascii"))
            stats.records = n
        finally:
            w.close()
    return stats


def export(src: str, to: str, out: str, *, kinds: Iterable[str] | None = None, progress: bool = True,
           **options: Any) -> ExportStats:
    """`export(src, FORMAT, out)` for any format of the registry (`synthgen.io.export_formats`):
    icdar2015, lmdb, paddleocr-det, paddleocr-rec, mmocr-det, mmocr-rec, doctr-det, doctr-rec,
    coco-text, and plug-ins. `options`: height, pad, image_format, quality (crops), map_size (lmdb)."""
    from .export_formats import export as _export

    return _export(src, to, out, kinds=kinds, progress=progress, **options)
