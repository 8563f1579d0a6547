"""`synthgen export DIR --to icdar2015|lmdb OUT`: a rendered dataset folder to trainer formats."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  synthgen export runs/ocr_scene --to icdar2015 /data/scene_icdar
  synthgen export runs/ocr_scene --to lmdb /data/scene_lmdb --height 32
  synthgen export runs/ocr_line --to lmdb /data/lines_lmdb       # line crops stored as is

icdar2015: OUT/<key>.jpg (bytes copied) and OUT/gt_<key>.txt, one line per text instance:
  x1,y1,x2,y2,x3,y3,x4,y4,transcription   (integer vertices, clockwise from the text's
  top-left; ### for don't-care text). UTF-8 with BOM, like the ICDAR 2015 files. A
  transcription may contain commas: split each line on its first 8 commas only.
lmdb: the clovaai/deep-text-recognition-benchmark layout: image-%09d, label-%09d (from 1),
  num-samples. Scene samples: one crop per non-ignored text instance, its quad warped upright
  to --height px. Text-line samples are already crops: their image bytes are stored as is.

OUT must be new or an empty folder. The export is written into OUT.partial and renamed to
OUT when complete: an interrupted or failed export leaves no OUT behind.
"""


ORDER = 50


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("export", help="export a rendered dataset to ICDAR 2015 text files or an LMDB",
                       description="Export a rendered dataset folder (manifest.json + shard-*.tar) to the "
                       "ICDAR 2015 detection format or to an LMDB of recognition crops.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", metavar="DIR", help="rendered dataset folder (or fsspec URL)")
    p.add_argument("--to", required=True, choices=["icdar2015", "lmdb"], help="output format")
    p.add_argument("out", metavar="OUT", help="output folder: new, or empty")
    p.add_argument("--kinds", default="word,line,field",
                   help="comma-separated instance kinds to export (default word,line,field)")
    p.add_argument("--height", type=int, default=32, help="lmdb: crop height in px (default 32)")
    p.add_argument("--pad", type=float, default=0.0,
                   help="lmdb: margin around each word, as a fraction of its height (default 0: tight ink quad)")
    p.add_argument("--format", dest="image_format", choices=["png", "jpg"], default="png",
                   help="lmdb: crop encoding (default png)")
    p.add_argument("--quality", type=int, default=95, help="lmdb: JPEG quality with --format jpg (default 95)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def run(a: argparse.Namespace) -> int:
    from ..io.exports import export_icdar2015, export_lmdb

    kinds = [k.strip() for k in a.kinds.split(",") if k.strip()]
    if a.to == "icdar2015":
        stats = export_icdar2015(a.dir, a.out, kinds=kinds, progress=not a.quiet)
    else:
        stats = export_lmdb(a.dir, a.out, height=a.height, image_format=a.image_format, quality=a.quality,
                            kinds=kinds, pad=a.pad, progress=not a.quiet)
    print(stats.summary())
    return 0
