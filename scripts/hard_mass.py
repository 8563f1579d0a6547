#!/usr/bin/env python
"""How much of a line pipeline's distribution sits in each hard case (issue 20's "mass").

Renders samples 0..n-1 of a `kind: line` pipeline (its augmentation included) and counts, from
each sample's recorded factors and transcription, the share of lines in each hard case below
and in at least one of them, the line length distribution, and how often each punctuation
character appears. The hard cases (thresholds: what a reader of clean straight text misses):

  curve          arc sagitta >= 0.6 x size, sine amplitude >= 0.15 x size, or an elastic bend
                 >= 0.04 x height (milder curves are not counted)
  char_rotate    characters turned one by one
  baseline       characters off the baseline (jitter, or char_rotate lift >= 0.03 x size)
  edge_crop      first and/or last glyph on the crop's edge
  spacing        extra advance <= -0.02 (tight) or >= 0.25 (wide) x size
  perspective    a tilted plane with |tilt| >= 0.1
  squeeze        glyphs squeezed or stretched (< 0.8 or > 1.25)
  clutter        a word behind the text, outline + shadow together, or a photo background that is
                 the busiest crop of its tile (cut-off neighbour lines, on 15% of straight lines
                 before and after, are not counted)
  photo_color    (reported, not a hard case) the text colour is a photo's pixel
  long           28 characters or more

    python scripts/hard_mass.py ocr_line --n 10000 [--set K=V ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import string
import sys
import time

import numpy as np


def cases(f: dict, text: str) -> dict[str, bool]:
    lay = f.get("derived.line.layout", f.get("line.layout"))
    spacing = f.get("line.style.spacing_amount", 0.0) if f.get("line.style.spacing") else 0.0
    tilt = max(abs(f.get("line.geometry.tilt_x", 0.0)), abs(f.get("line.geometry.tilt_y", 0.0))) \
        if f.get("line.geometry.perspective") else 0.0
    sq = f.get("line.geometry.squeeze_amount", 1.0) if f.get("line.geometry.squeeze") else 1.0
    c = {
        "curve": (lay == "arc" and f.get("line.layout.arc", 0) >= 0.6)
        or (lay == "sine" and f.get("line.layout.sine_amplitude", 0) >= 0.15)
        or (bool(f.get("line.style.elastic")) and f.get("line.style.elastic_amplitude", 0) >= 0.04),
        "char_rotate": bool(f.get("line.style.char_rotate")),
        "baseline": bool(f.get("line.style.jitter"))
        or (bool(f.get("line.style.char_rotate")) and f.get("line.style.char_rotate_lift", 0) >= 0.03),
        "edge_crop": bool(f.get("line.tight")),
        "spacing": spacing <= -0.02 or spacing >= 0.25,
        "perspective": tilt >= 0.1,
        "squeeze": sq < 0.8 or sq > 1.25,
        "clutter": bool(f.get("line.style.overlap")) or bool(f.get("line.style.outline_shadow"))
        or bool(f.get("background.photo_busy")),
        "photo_color": bool(f.get("derived.line.color_from_photo")),
        "long": len(text) >= 28,
    }
    return c


def main(argv=None) -> int:
    from synthgen import load_pipeline
    from synthgen.config import parse_set

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pipeline", nargs="?", default="ocr_line")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    pipe = load_pipeline(a.pipeline, parse_set(a.sets) or None)
    counts = collections.Counter()
    any_hard = ascii_lines = ignored = with_punct = 0
    lengths = []
    punct = collections.Counter()
    t0 = time.perf_counter()
    for i in range(a.n):
        s = pipe.sample(i)
        inst = [x for x in s.instances if x.kind == "line"]
        text = inst[0].text if inst else ""
        ignored += bool(inst and inst[0].ignore)
        c = cases(s.factors, text)
        counts.update(k for k, v in c.items() if v)
        any_hard += any(v for k, v in c.items() if k not in ("long", "photo_color"))
        lengths.append(len(text))
        ascii_lines += text.isascii()
        punct.update(ch for ch in text if ch in string.punctuation)
        with_punct += any(ch in string.punctuation for ch in text)
    dt = time.perf_counter() - t0
    n = a.n
    L = np.array(lengths)
    total_chars = int(L.sum())
    out = {
        "pipeline": a.pipeline, "sets": a.sets, "n": n, "seconds": round(dt, 1),
        "share": {k: round(counts[k] / n, 4) for k in cases({}, "")},
        "share_any_hard": round(any_hard / n, 4),
        "ignored": round(ignored / n, 4),
        "ascii_lines": round(ascii_lines / n, 4),
        "length": {"median": float(np.median(L)), "p90": float(np.percentile(L, 90)), "mean": round(float(L.mean()), 2),
                   "share_ge_28": round(float((L >= 28).mean()), 4)},
        "punctuation_per_1000_chars": {k: round(v * 1000 / total_chars, 2) for k, v in punct.most_common()},
        "lines_with_punctuation": round(with_punct / n, 4),
    }
    print(json.dumps(out, indent=1))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
