"""Export formats, one registry: format name -> class (or "module:Class", imported on first use).

    from synthgen.io.export_formats import export, formats
    export("runs/ocr_scene", "paddleocr-det", "/data/scene_paddle")      # -> ExportStats
    synthgen export runs/ocr_scene --to mmocr-det /data/scene_mmocr       # the CLI, same registry

Shipped formats (one small module each, beside this file):

    icdar2015      gt_<key>.txt per image (io/exports.py)
    lmdb           clovaai/deep-text-recognition-benchmark LMDB of crops (io/exports.py)
    paddleocr-det  images/ + det_gt.txt (`image<TAB>[{"transcription", "points"}]`, ### don't-care)
    paddleocr-rec  images/ (crops) + rec_gt.txt (`image<TAB>text`) + dict.txt (characters used)
    mmocr-det      images/ + textdet_<split>.json (MMOCR 1.x: metainfo + data_list)
    mmocr-rec      images/ (crops) + textrecog_<split>.json + dict.txt
    doctr-det      images/ + labels.json ({name: {img_dimensions, img_hash, polygons}})
    doctr-rec      images/ (crops) + labels.json ({name: text})
    coco-text      images/ + annotations.json (COCO instances with polygons, COCO-Text fields)

A format class declares `task` ("det": whole images with text regions; "rec": one text line
per image, scene text cut out with `exports.crop_quad`, line datasets stored as is) and
`title` (one line for --help); detection classes implement `add_image(DetImage)`, recognition
classes `add_crop(Crop, file)`, both `close(stats)` (see `base.py`). A class may instead
override the classmethod `export(src, out, kinds=, progress=, **options)` whole (icdar2015 and
lmdb do). Every export is staged in `OUT.partial` and renamed when complete; a detection
format refuses a dataset of recognition crops (kind `line`, or a plug-in crop kind) in one line.

Plug-ins: `register("myformat", MyFormat)` (or "package.module:MyFormat") in the process, or an
entry point in the group `synthgen.exports` (`myformat = "package.module:MyFormat"`).
"""

from __future__ import annotations

import importlib
import re
from typing import Any

SHIPPED: dict[str, str] = {
    "icdar2015": "synthgen.io.export_formats.classic:Icdar2015",
    "lmdb": "synthgen.io.export_formats.classic:Lmdb",
    "paddleocr-det": "synthgen.io.export_formats.paddle:PaddleDet",
    "paddleocr-rec": "synthgen.io.export_formats.paddle:PaddleRec",
    "mmocr-det": "synthgen.io.export_formats.mmocr:MmocrDet",
    "mmocr-rec": "synthgen.io.export_formats.mmocr:MmocrRec",
    "doctr-det": "synthgen.io.export_formats.doctr:DoctrDet",
    "doctr-rec": "synthgen.io.export_formats.doctr:DoctrRec",
    "coco-text": "synthgen.io.export_formats.coco_text:CocoText",
}
# One line per shipped format for `synthgen export --help`, without importing the modules.
TITLES: dict[str, str] = {
    "icdar2015": "detection: images + gt_<key>.txt (x1,y1,...,x4,y4,text; ### don't-care)",
    "lmdb": "recognition: LMDB of crops (image-%09d, label-%09d, num-samples)",
    "paddleocr-det": "detection: images/ + det_gt.txt (image<TAB>[{transcription, points}]; ### don't-care)",
    "paddleocr-rec": "recognition: images/ crops + rec_gt.txt (image<TAB>text) + dict.txt",
    "mmocr-det": "detection: images/ + textdet_<split>.json (MMOCR 1.x)",
    "mmocr-rec": "recognition: images/ crops + textrecog_<split>.json (MMOCR 1.x) + dict.txt",
    "doctr-det": "detection: images/ + labels.json (docTR: img_dimensions, img_hash, polygons)",
    "doctr-rec": "recognition: images/ crops + labels.json (docTR: {image: text})",
    "coco-text": "detection: images/ + annotations.json (COCO polygons + COCO-Text utf8_string, legibility)",
}
FORMATS: dict[str, str | type] = dict(SHIPPED)
ENTRY_POINTS = "synthgen.exports"
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*\Z")


def _entry_points() -> dict[str, str]:
    try:
        from importlib.metadata import entry_points

        return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINTS)}
    except Exception:  # pragma: no cover - broken metadata of some other package
        return {}


def register(name: str, target: str | type, *, replace: bool = False) -> None:
    """Plug in an export format: a class (or "module:Class") as described in the module
    docstring. A shipped name is replaced only with `replace=True`."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"export format {name!r}: use a lower-case name (letters, digits, -, _, .)")
    if name in SHIPPED and not replace and FORMATS.get(name) != target:
        raise ValueError(f"export format {name!r} is shipped with synthgen; pass replace=True to replace it")
    FORMATS[name] = target


def names(entry_points: bool = True) -> list[str]:
    """Every format this process can write: shipped (in their order), registered, and (unless
    `entry_points=False`, which skips the ~50 ms scan of installed packages) entry points."""
    out = list(FORMATS)
    return out + (sorted(n for n in _entry_points() if n not in FORMATS) if entry_points else [])


def get(name: str) -> type:
    """The format class of `name`; an unknown name is a one-line UserError."""
    from ...errors import UserError

    target = FORMATS.get(name)
    if target is None:
        target = _entry_points().get(name)
        if target is None:
            raise UserError(f"unknown export format {name!r}; use one of {', '.join(names())}")
        FORMATS[name] = target
    if isinstance(target, str):
        mod, _, attr = target.partition(":")
        obj: Any = importlib.import_module(mod)
        for part in attr.split("."):
            obj = getattr(obj, part)
        FORMATS[name] = target = obj
    return target  # type: ignore[return-value]


def title(name: str) -> str:
    if name in TITLES and FORMATS.get(name) == SHIPPED.get(name):
        return TITLES[name]
    try:
        return str(getattr(get(name), "title", "") or "")
    except Exception:  # a broken plug-in: --help still works
        return ""


def export(src: str, to: str, out: str, *, kinds=None, progress: bool = True, **options: Any):
    """Export the dataset folder `src` to format `to` into the new (or empty) folder `out`;
    returns `exports.ExportStats`. `options`: height, pad, image_format, quality (crops),
    split (MMOCR file names), map_size (lmdb)."""
    cls = get(to)
    return cls.export(src, out, kinds=kinds, progress=progress, name=to, **options)


__all__ = ["ENTRY_POINTS", "FORMATS", "SHIPPED", "export", "get", "names", "register", "title"]
