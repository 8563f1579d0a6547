"""`synthgen legibility PIPELINE --n N`: how much of a pipeline a real reader (PP-OCRv4) reads."""

from __future__ import annotations

import argparse

from ._args import add_pipeline_args, overrides_of

ORDER = 36
INTERRUPTED = ("report.json is written only when the measurement finishes: rerun the same "
               "command to start over")  # cli.py

EPILOG = """\
examples:
  synthgen legibility ocr_line --n 500             # share of lines PP-OCRv4 reads exactly
  synthgen legibility ocr_scene --n 100            # share of scene words >= 12 px its detector finds
  synthgen legibility ocr_line --n 200 --set augment.strength=0 --reader tesseract
  synthgen legibility ocr_line --n 500 --pin line.layout=arc --out runs/leg_arc

Samples are rendered as the pipeline makes them (its augmentation included; --set
augment.strength=0 for the renderer alone). Recognition crops: the reader reads each crop
whole, recognition only (a vertical line as a strip of its glyphs); "read exactly" compares
NFKC-normalised, case-folded strings with every space removed; shares for all lines and for
ASCII-only lines. Scenes and documents: PP-OCRv4 detection on the full image; a text
instance (not ignored) at least --min-height px tall (char height) is found when one detection
covers at least half of its quad and is at most 2.5x as thick (IoU >= 0.5 is reported too).
Writes report.json (shares with Wilson 95% intervals, timings, every miss) and misses.png
(the misses: image, truth, reading) in --out (default runs/legibility/<name>).
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r = sub.add_parser("legibility", help="share of lines a real reader reads, of scene words its detector finds",
                       description="Render N samples and measure them with a real reader (PP-OCRv4 from "
                       "rapidocr-onnxruntime, on the CPU): lines read exactly, scene words detected; "
                       "report.json and a contact sheet of the misses.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_pipeline_args(r)
    r.add_argument("--n", default="500", help="number of samples: 500, 1_000 or 1e3 (default 500)")
    r.add_argument("--start", type=int, default=0, help="first sample index (default 0)")
    r.add_argument("--out", help="folder for report.json and misses.png (default runs/legibility/<name>)")
    r.add_argument("--reader", help="line reader: ppocr (default), tesseract or module:function (RGB image -> text); "
                   "scenes are always detected with PP-OCRv4")
    r.add_argument("--min-height", type=float, default=12.0,
                   help="scene words below this char height (px) are not counted (default 12)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return r


def _fmt(p: dict) -> str:
    if not p["n"]:
        return "none"
    return f"{p['hits']} of {p['n']} ({p['share']:.1%}, 95% CI {p['lo']:.1%}-{p['hi']:.1%})"


def run(a: argparse.Namespace) -> int:
    from ..audit.legibility import legibility

    if a.out is not None and a.out.strip():  # before any work: a path under a file was a traceback at the end
        from ..io.outpaths import check_out_folder

        check_out_folder(a.out)
    r = legibility(a.pipeline, n=a.n, seed=a.seed, overrides=overrides_of(a), out=a.out, reader=a.reader,
                   start=a.start, min_height=a.min_height, progress=not a.quiet)
    if "lines" in r:
        ln = r["lines"]
        print(f"{r['name']}: {r['reader']} reads exactly {_fmt(ln['all'])} lines; "
              f"ASCII-only {_fmt(ln['ascii'])}; other {_fmt(ln['non_ascii'])}")
        extra = f"vertical {_fmt(ln['vertical'])}"
        if ln["ignored"]:
            extra += f"; {ln['ignored']} moved out of frame (ignore), not read"
        if "outside_alphabet" in ln:
            k = ln["outside_alphabet"]
            extra += f"; {k} line{' holds' if k == 1 else 's hold'} a character outside the reader's alphabet"
        print(f"  {extra}; {ln['s_per_line_read']:.4f} s a line to read, {ln['s_per_line_render']:.4f} s to render")
    if "words" in r:
        w = r["words"]
        print(f"{r['name']}: PP-OCRv4 detection finds {_fmt(w['found'])} words >= {w['min_height']:g} px "
              f"(IoU >= 0.5: {_fmt(w['iou_found'])}); {w['too_small']} smaller and {w['ignored']} ignored not counted; "
              f"{w['s_per_scene_detect']:.3f} s a scene to detect")
    print(f"wrote {', '.join(r['files'])} in {r['out']}")
    return 0
