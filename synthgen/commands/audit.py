"""`synthgen audit PIPELINE|DATASET`: the bad-augmentation rate against strength, and the tuned strength."""

from __future__ import annotations

import argparse

from ._args import seed_arg

ORDER = 35
INTERRUPTED = ("audit.json is written only when the audit finishes: rerun the same command "
               "to start over")  # cli.py

EPILOG = """\
examples:
  synthgen audit ocr_line --target-error 0.05                # label judge, n=400 per strength
  synthgen audit ocr_line --judge reader --n 100             # PP-OCRv4: read right at 0, wrong augmented
  synthgen audit ocr_line --judge reader --reader tesseract
  synthgen audit ocr_line --judge reader --reader mypkg.ocr:read_line
  synthgen audit ocr_scene --confirm 2000 --write pipelines/ocr_scene.tuned.yaml
  synthgen audit runs/icdar.aug                              # a `synthgen augment` output (audits its input)
  synthgen audit ocr_line --judge human --n 40               # writes human.html: mark bad samples, export CSV
  synthgen audit ocr_line --judge human --verdicts verdicts.csv

The slides' rule: the bad-augmentation rate should not exceed the model's error rate. The
audit renders the same indices at strengths 0, 0.25, 0.5, 0.75, 1 (only augmentation differs),
puts a Wilson 95% interval on each bad rate, and bisects for the largest strength whose upper
bound stays under --target-error. The rate is the augmentation's own (paired): a sample counts
when the judge names a reason at strength s that it did not name for it unaugmented; what
fails unaugmented is the renderer's, reported apart ("unaugmented" in audit.json). Writes audit.json (tuned_strength, curve, counts per reason),
curve.png, bad_samples.png (reason on each), sheet_s0.png / sheet_s0.5.png / sheet_s1.png.
Judges: label (text lost/clipped, chars too small, contrast under the ink, blur or noise too
strong for the text), reader (paired: ppocr, the default, tesseract or module:function; a
sample the reader cannot read unaugmented gets no verdict at any strength and is reported as
"unreadable clean"), human (HTML page + CSV). Readings compare NFKC-normalised, case- and
space-insensitive. `synthgen legibility` reports how much of a pipeline the reader reads.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r = sub.add_parser("audit", help="measure the bad-augmentation rate and tune augment.strength",
                       description="Judge augmented samples at a grid of strengths, estimate the bad-augmentation "
                       "rate with a Wilson 95% interval, and tune the strength to a target error.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("source", nargs="?", default="ocr_line", metavar="PIPELINE|DATASET",
                   help="pipeline name or .yaml (default ocr_line), or a dataset folder (shards, ICDAR 2015, augment output)")
    r.add_argument("--judge", default="label", choices=["label", "reader", "tesseract", "human"],
                   help="who decides a sample is bad (default label)")
    r.add_argument("--reader", help="for --judge reader: ppocr (default; PP-OCRv4 from rapidocr-onnxruntime), tesseract, "
                   "or module:function (RGB image -> text)")
    r.add_argument("--target-error", type=float, default=0.05, help="largest acceptable bad rate (default 0.05)")
    r.add_argument("--n", type=int, default=400, help="samples per strength (default 400; for --judge human keep it small, e.g. 40)")
    r.add_argument("--grid", default="0,0.25,0.5,0.75,1", help="strengths tried before bisecting (default 0,0.25,0.5,0.75,1)")
    r.add_argument("--steps", type=int, default=4, help="bisection steps after the grid (default 4)")
    r.add_argument("--confirm", type=int, default=0, metavar="N",
                   help="then judge N fresh samples at the tuned strength (indices the tuning never saw)")
    r.add_argument("--out", help="folder for audit.json and the PNGs (default runs/audit/<name>.<judge>)")
    r.add_argument("--write", metavar="PATH", help="write the config with the tuned augment.strength here (.yaml)")
    r.add_argument("--verdicts", metavar="CSV", help="for --judge human: the CSV exported from human.html")
    r.add_argument("--seed", type=seed_arg, default=None, help="job seed, 0 to 2**64 - 1 (default: the config's; datasets: 0)")
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set augment.ops.rotate.p=0 (repeatable)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return r


def run(a: argparse.Namespace) -> int:
    from ..audit import audit
    from ..config import parse_set
    from ..errors import UserError

    try:
        grid = tuple(float(x) for x in a.grid.split(",") if x.strip())
    except ValueError:
        raise UserError(f"--grid {a.grid!r}: expected comma-separated strengths, e.g. 0,0.25,0.5,0.75,1") from None
    if not all(0 <= s <= 1 for s in grid):  # NaN fails the comparison too
        raise UserError(f"--grid {a.grid!r}: strengths lie from 0 to 1, e.g. 0,0.25,0.5,0.75,1")
    if a.verdicts is not None and a.judge != "human":
        raise UserError(f"--verdicts {a.verdicts!r} is read by --judge human only; add --judge human or drop --verdicts")
    if a.write is not None:  # checked before any work: a refusal at the end left --out behind
        from ._args import check_out_file

        if not a.write.lower().endswith((".yaml", ".yml")):
            raise UserError(f"--write {a.write!r}: the tuned config is YAML; give a name ending in .yaml")
        check_out_file(a.write, "--write")
    r = audit(a.source, judge=a.judge, target_error=a.target_error, n=a.n, grid=grid, steps=a.steps, out=a.out,
              write=a.write, confirm=a.confirm, seed=a.seed, overrides=parse_set(a.sets), reader=a.reader,
              verdicts=a.verdicts, progress=not a.quiet)
    if a.judge == "human" and a.verdicts is None:
        print(f"open {r['human_page']}, mark the bad samples, export verdicts.csv, then rerun with --verdicts verdicts.csv")
        return 0
    pts = ", ".join(f"{p['strength']:g}: {p['caused_rate']:.3f} [{p['lo']:.3f}, {p['hi']:.3f}]"
                    for p in r["curve"])
    print(f"tuned augment.strength = {r['tuned_strength']:.4f} (target {a.target_error:g}; "
          f"bad rate caused by augmentation [95% CI] {pts})")
    if "unaugmented" in r:
        u = r["unaugmented"]
        if u.get("unjudged"):
            print(f"{u['unjudged_label']}: {u['unjudged']} of {u['n']} (no verdict at any strength; "
                  f"the rates stand on the other {u['judged']})")
        why = f" {u['reasons']}" if u["reasons"] else ""
        print(f"unaugmented: {u['bad']} of {u.get('judged', u['n'])} judged fail the judge{why} "
              "(the renderer's; not counted)")
    if "confirm" in r:
        c = r["confirm"]
        print(f"fresh {c['n']} at {c['strength']:.4f}: bad rate {c['rate']:.3f} [{c['lo']:.3f}, {c['hi']:.3f}] "
              f"{'under' if c['passes'] else 'NOT under'} the target")
    if "warning" in r:
        print(f"warning: {r['warning']}")
    return 0
