"""Tesseract on N ASCII `ocr_line` samples: exact-match rate and character error rate (CER).

A legibility check of the renderer (strength 0 by default): tesseract `--psm 7`, 2x upscaled,
reads each sample whose text is ASCII; case and inner spacing count, outer spaces do not.

    python scripts/tesseract_legibility.py --n 200 [--strength 0] [--seed 0] [--set k=v ...]
"""

from __future__ import annotations

import argparse
import json
import time

from synthgen.crnn.metrics import edit_distance


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--strength", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", dest="sets", action="append", default=[])
    ap.add_argument("--json", help="also write the per-sample readings here")
    a = ap.parse_args()

    import synthgen
    from synthgen.audit.judges import normalise, tesseract_read
    from synthgen.config import parse_set

    pipe = synthgen.load_pipeline("ocr_line", seed=a.seed, **{"augment.strength": a.strength, **parse_set(a.sets)})
    rows, i, t0 = [], 0, time.time()
    while len(rows) < a.n:
        s = pipe.sample(i)
        i += 1
        gt = normalise(s.instances[0].text)
        if not gt.isascii():
            continue
        got = normalise(tesseract_read(s.image))
        rows.append({"index": s.meta["index"], "gt": gt, "read": got, "edits": edit_distance(gt, got)})
    exact = sum(r["gt"] == r["read"] for r in rows) / len(rows)
    cer = sum(r["edits"] for r in rows) / sum(len(r["gt"]) for r in rows)
    print(f"ocr_line seed {a.seed} strength {a.strength:g}: {len(rows)} ASCII samples (of the first {i}); "
          f"tesseract exact match {exact:.1%}, CER {cer:.1%} ({time.time() - t0:.0f} s)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"exact": exact, "cer": cer, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
