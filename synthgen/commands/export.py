"""`synthgen export DIR --to FORMAT OUT`: a rendered dataset folder to trainer formats
(the registry of `synthgen/io/export_formats/`)."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  synthgen export runs/ocr_scene --to icdar2015 /data/scene_icdar
  synthgen export runs/ocr_scene --to lmdb /data/scene_lmdb --height 32
  synthgen export runs/ocr_line --to lmdb /data/lines_lmdb       # line crops stored as is
  synthgen export runs/ocr_scene --to paddleocr-det /data/scene_paddle
  synthgen export runs/ocr_line --to paddleocr-rec /data/lines_paddle
  synthgen export runs/ocr_scene --to mmocr-det /data/scene_mmocr --split test
  synthgen export runs/ocr_scene --to doctr-rec /data/words_doctr  # word crops cut from scenes
  synthgen export runs/idcard_cn_scene --to coco-text /data/cards_coco --kinds word,line,field,photo

formats:
{formats}

Detection formats copy each image unchanged into OUT/images/ and write its text regions
(quads clockwise from the text's top-left, in image pixels; don't-care text marked as each
format marks it). They refuse a dataset of recognition crops (ocr_line) in one line.
Recognition formats hold one text line per image: scene and document text is cut out, its quad
warped upright to --height px (ignored text left out); line datasets are already crops and
their image bytes are stored as is.

icdar2015: x1,y1,x2,y2,x3,y3,x4,y4,transcription per line, UTF-8 with BOM, like the ICDAR 2015
  files; a transcription may contain commas: split each line on its first 8 commas only.
lmdb: the clovaai/deep-text-recognition-benchmark layout: image-%09d, label-%09d (from 1),
  num-samples.
The others' files and the trainer settings they need: `python -m pydoc
synthgen.io.export_formats.paddle` (mmocr, doctr, coco_text).

OUT must be new or an empty folder. The export is written into OUT.partial and renamed to
OUT when complete: an interrupted or failed export leaves no OUT behind; rerun it to start over.
"""


ORDER = 50
INTERRUPTED = ("nothing was exported (OUT appears only when an export is complete; its "
               ".partial folder was removed): rerun the same command to start over")  # cli.py


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ..io import export_formats as reg

    shown = reg.names(entry_points=False)  # `synthgen --help` builds every parser: no package scan here
    listing = "\n".join(f"  {n:<14} {reg.title(n)}" for n in shown)
    p = sub.add_parser("export", help="export a rendered dataset to trainer formats (PaddleOCR, MMOCR, docTR, "
                       "COCO-Text, ICDAR 2015, LMDB)",
                       description="Export a rendered dataset folder (manifest.json + shard-*.tar) to the label "
                       "layout an OCR trainer reads.",
                       epilog=EPILOG.format(formats=listing), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", metavar="DIR", help="rendered dataset folder (or fsspec URL)")
    p.add_argument("--to", required=True, metavar="FORMAT", help=f"output format: {', '.join(shown)}, or a plug-in's "
                   "(entry point group synthgen.exports)")
    p.add_argument("out", metavar="OUT", help="output folder: new, or empty")
    p.add_argument("--kinds", default="word,line,field",
                   help="comma-separated instance kinds to export (default word,line,field)")
    p.add_argument("--height", type=int, default=32, help="recognition formats: crop height in px, 1 to 1024 (default 32); "
                   "a crop wider than 16384 px is refused")
    p.add_argument("--pad", type=float, default=0.0,
                   help="recognition formats: margin around each word, as a fraction of its height "
                   "(default 0: tight ink quad)")
    p.add_argument("--format", dest="image_format", choices=["png", "jpg"], default="png",
                   help="recognition formats: crop encoding (default png)")
    p.add_argument("--quality", type=int, default=95,
                   help="recognition formats: JPEG quality with --format jpg (default 95)")
    p.add_argument("--split", default=None, help="mmocr-det/-rec: the split in the file name "
                   "(textdet_<split>.json; default train)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def run(a: argparse.Namespace) -> int:
    from ..io import export_formats as reg

    from ..errors import UserError

    if not a.out.strip():  # was a ValueError traceback (an empty path has no name for OUT.partial)
        raise UserError(f"OUT {a.out!r} is empty; give an output folder (new, or empty)")
    cls = reg.get(a.to)
    kinds = [k.strip() for k in a.kinds.split(",") if k.strip()]
    if not kinds:  # was every kind, silently
        raise UserError(f"--kinds {a.kinds!r} names no kind; give some, e.g. --kinds word,line,field")
    options = {}
    if getattr(cls, "task", "") == "rec":
        options.update(height=a.height, pad=a.pad, image_format=a.image_format, quality=a.quality)
    if a.split is not None and a.to not in ("icdar2015", "lmdb"):
        options["split"] = a.split
    stats = reg.export(a.dir, a.to, a.out, kinds=kinds, progress=not a.quiet, **options)
    print(stats.summary())
    return 0
