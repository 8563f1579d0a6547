"""`synthgen card DIR`: a Hugging Face dataset card (README.md) and a contact sheet for a dataset."""

from __future__ import annotations

import argparse

ORDER = 16
INTERRUPTED = ("the card (README.md, contact_sheet.png) is written only at the end: rerun the same "
               "command")  # cli.py

EPILOG = """\
examples:
  synthgen card runs/ocr_line                     # README.md + contact_sheet.png in runs/ocr_line
  synthgen card runs/ocr_scene --max-samples 500  # tables from at most 500 samples
  synthgen card runs/ocr_line --audit runs/audit/ocr_line.label --license cc-by-4.0
  synthgen render ocr_line --n 1e5 --card         # the same, at the end of a render

DIR must be a finished dataset (manifest.json says complete). The card's YAML header is a
Hugging Face dataset card (licence, task categories, size, data files, features with their
types) plus a `synthgen` block (pipeline, seed, fingerprint, samples, shards, bytes, the
licences of the fonts and texture tiles drawn, each with its number of faces or tiles). Then:
a contact sheet, the distributions of the main factors (fonts by style, backgrounds, layouts,
styles, text lengths), the licences, the audit result (audit.json in DIR or a sub-folder, or
--audit), how to load it (webdataset, datasets, synthgen.torch) and the resolved config.
A dataset of up to --max-samples samples is read whole (every shard checked); a bigger one is
sampled from shards spread over it, and the card says how many were read. Rerunning rewrites
the card; a README.md that synthgen did not write is kept unless --force.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r = sub.add_parser("card", help="write a dataset card (README.md) and contact sheet into a dataset folder",
                       description="Write README.md (a Hugging Face dataset card) and contact_sheet.png into a "
                       "finished dataset folder.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("dir", metavar="DIR", help="a finished dataset folder (or fsspec URL) that `synthgen render` wrote")
    r.add_argument("--max-samples", type=int, default=2000,
                   help="read at most this many samples for the tables (default 2000; a smaller dataset is read whole)")
    r.add_argument("--audit", metavar="PATH", help="an audit.json, or the folder `synthgen audit --out` wrote "
                   "(default: audit.json in DIR or a sub-folder of it, if any)")
    r.add_argument("--license", metavar="ID", help="Hugging Face licence id for the header, e.g. cc-by-4.0 "
                   "(default: other, with the fonts' and textures' licences listed)")
    r.add_argument("--force", action="store_true", help="replace a README.md that synthgen card did not write")
    return r


def run(a: argparse.Namespace) -> int:
    from ..card import write_card

    r = write_card(a.dir, limit=a.max_samples, audit=a.audit, license=a.license, force=a.force)
    sg = r["header"]["synthgen"]
    read = "all" if sg["sample_complete"] else f"{r['read']:,} read"
    print(f"wrote {r['readme']} and {r['sheet']} ({sg['samples']:,} samples, {read}; "
          f"{sum(x['faces'] for x in sg['font_licenses'])} font faces, "
          f"{sum(x['tiles'] for x in sg['texture_licenses'])} texture tiles drawn)")
    return 0
