"""`synthgen mine PIPELINE --model module:function`: hunt the cases a model gets wrong."""

from __future__ import annotations

import argparse
import json

from ._args import add_pipeline_args

ORDER = 45
MAX_PER_ROUND = 100_000
INTERRUPTED = "finished rounds are kept: rerun the same command to resume"  # what Ctrl-C / SIGTERM leave (cli.py)

EPILOG = """\
The function gets a list of Sample objects (as pipeline.sample returns them) and returns one
failure flag (bool) or loss (float) per sample; a sample fails when its value is >= --fail-at.

Each round renders --per-round fresh sample indices, judges them, estimates the failure rate
of every factor region (options of choices, true/false, --bins equal bins of continuous
factors; from the factor catalogue, `synthgen factors PIPELINE`), smoothed toward the pooled
rate, and biases the next round's draws toward the failing regions, while a --floor share of
every round stays on the base distribution. The first round is a plain random sample.

Writes to --out (default runs/<dataset name>.mined_<function>): one shard per round (a normal
synthgen dataset: ShardDataset, check and export read it; each label's meta.mine has round,
biased, score), manifest.json, report.json (factors ranked by failure-rate lift, Wilson lower
bound, with per-region tables; failure rate random vs mined) and top_errors.png.
Rerunning the same command resumes after the last finished round.

examples:
  synthgen mine ocr_line --model synthgen.crnn.judge:fails --rounds 4 --per-round 1000 \\
      --set line.corpus.sources.zh_words=0 --set line.corpus.sources.zh_chars=0
      # the demo CRNN (checkpoint from $SYNTHGEN_CRNN, default runs/crnn/crnn.pt)
  synthgen mine ocr_scene --model mypkg.detector:loss --fail-at 0.7 --rounds 3 --per-round 500
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("mine", help="find factor regions a model fails on; render more of them",
                       description="Corner-case mining: render, judge with your model, bias the draws toward "
                       "failing factor regions, write the mined samples and a ranked report.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_pipeline_args(p)
    p.add_argument("--model", required=True, metavar="MODULE:FUNCTION",
                   help="the judge, e.g. synthgen.crnn.judge:fails; MODULE is imported from the installed packages, "
                   "PYTHONPATH, or the working directory (./mymod.py for mymod:fn)")
    p.add_argument("--rounds", type=int, default=3, help="rounds (default 3; the first is random)")
    p.add_argument("--per-round", type=int, default=500, help="samples per round (default 500)")
    p.add_argument("--out", help="output folder or fsspec URL (default runs/<name>.mined_<function>)")
    p.add_argument("--start", type=int, default=0, help="first sample index, >= 0 (round r uses start + r * per-round ...)")
    p.add_argument("--floor", type=float, default=0.2, help="share of each round from the base distribution (default 0.2)")
    p.add_argument("--bins", type=int, default=5, help="bins per continuous factor, 2 or more (default 5)")
    p.add_argument("--top", type=int, default=8, help="most factors biased at once (default 8)")
    p.add_argument("--fail-at", type=float, default=0.5, help="a score >= this is a failure (default 0.5)")
    p.add_argument("--sheet", type=int, default=24, help="samples on top_errors.png (default 24, 0: none)")
    p.add_argument("--accept-versions", action="store_true",
                   help="resume although numpy, OpenCV, Pillow/FreeType, orjson, ... differ from the versions "
                   "manifest.json recorded (recorded in manifest.json: versions_accepted); refused without it")
    p.add_argument("--json", action="store_true", help="print report.json instead of a summary")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def run(a: argparse.Namespace) -> int:
    from ..mine.job import mine
    from ._args import overrides_of

    if a.per_round > MAX_PER_ROUND:  # a round is held in memory whole (and written as one shard)
        from ..errors import UserError

        raise UserError(f"--per-round {a.per_round:,}: at most {MAX_PER_ROUND:,} samples a round (each round is "
                        "held in memory and written as one shard); use more --rounds")
    rep = mine(a.pipeline, a.model, rounds=a.rounds, per_round=a.per_round, out=a.out, seed=a.seed,
               overrides=overrides_of(a), start=a.start, floor=a.floor, bins=a.bins, top=a.top,
               fail_at=a.fail_at, sheet=a.sheet, progress=not a.quiet and not a.json,
               accept_versions=a.accept_versions)
    if a.json:
        print(json.dumps(rep, indent=2, default=str))
        return 0
    print(f"{rep['dataset']}: failure rate random {rep['fail_rate_random']} (n={rep['n_random']}), "
          f"mined {rep['fail_rate_mined']} (n={rep['n_mined']}), lift {rep['lift_mined_vs_random']}")
    for r in rep["rounds"]:
        print(f"  round {r['round']}: n={r['n']} biased={r['biased']} fail rate {r['fail_rate']}"
              f" (base {r['fail_rate_base']}, biased {r['fail_rate_biased']})")
    print("top factors (worst region, failure-rate lift [95% lower bound], z):")
    for row in rep["factors"][:8]:
        print(f"  {row['factor']:32s} {row['worst_region']:24s} lift {row['lift']:.2f} [{row['score']:.2f}] "
              f"z {row['z']:.1f}{'' if row['biasable'] else '  (reported, not biasable)'}")
    return 0
