#!/usr/bin/env python3
"""How many font families and which styles a pipeline actually draws.

Renders samples 0..n-1 of a pipeline (full samples: every draw as in a real job), reads the
recorded `line.font` factor (scene: every `*.font`), maps each face to its family and style
through the font index, and prints: distinct families over all lines, over lines of Latin
text only (no CJK character) and over CJK lines; the share of lines per style; the most and
least drawn families.

    python scripts/font_stats.py ocr_line --n 10000 --set 'fonts.families=[all]'
    python scripts/font_stats.py ocr_line --n 10000 --set 'fonts.families=[all]' \
        --set 'fonts.styles={handwriting: 0.1, mono: 0.1}'
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402
from tqdm import tqdm  # noqa: E402

from synthgen.pipeline import load_pipeline  # noqa: E402
from synthgen.renderers import layout as L  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("pipeline", nargs="?", default="ocr_line")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override (YAML value)")
    a = ap.parse_args(argv)
    overrides = {}
    for kv in a.set:
        k, v = kv.split("=", 1)
        overrides[k] = yaml.safe_load(v)
    pipe = load_pipeline(a.pipeline, seed=a.seed, **overrides)
    faces = {f.name: f for f in pipe.renderer.faces}
    fam_all, fam_latin, fam_cjk, styles, styles_latin = Counter(), Counter(), Counter(), Counter(), Counter()
    n_lines = 0
    for i in tqdm(range(a.n), desc="samples", mininterval=2):
        s = pipe.sample(i)
        for k, v in s.factors.items():
            if not (k == "line.font" or k.endswith(".font")):
                continue
            f = faces[v]
            text = s.factors.get(k[: -len("font")] + "text", "")
            n_lines += 1
            fam_all[f.family] += 1
            styles[f.style] += 1
            if any(L.has_cjk(c) for c in text):
                fam_cjk[f.family] += 1
            else:
                fam_latin[f.family] += 1
                styles_latin[f.style] += 1
    print(f"{a.pipeline} seed {a.seed}, samples 0..{a.n - 1}, overrides {overrides or 'none'}")
    print(f"configured: {len({f.family for f in faces.values()})} families, {len(faces)} faces")
    print(f"lines: {n_lines}; Latin-only lines {sum(fam_latin.values())}, lines with CJK {sum(fam_cjk.values())}")
    print(f"distinct families drawn: all lines {len(fam_all)}, Latin lines {len(fam_latin)}, CJK lines {len(fam_cjk)}")
    tot, totl = sum(styles.values()), sum(styles_latin.values())
    print("share per style (all lines / Latin lines):")
    for st in sorted(styles, key=lambda s: -styles[s]):
        print(f"  {st:<12} {styles[st] / tot:6.1%}   {styles_latin[st] / max(totl, 1):6.1%}")
    print("most drawn families:", ", ".join(f"{k} {v}" for k, v in fam_all.most_common(8)))
    print("least drawn families:", ", ".join(f"{k} {v}" for k, v in fam_all.most_common()[-8:]))
    print("CJK-line families:", ", ".join(f"{k} {v}" for k, v in fam_cjk.most_common()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
