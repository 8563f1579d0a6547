"""`synthgen factors PIPELINE`: the factor catalogue (every random choice a sample records)."""

from __future__ import annotations

import argparse

from ._args import add_pipeline_args, overrides_of

ORDER = 30
INTERRUPTED = "nothing was written (factors only reads)"  # cli.py

EPILOG = """\
examples:
  synthgen factors ocr_line
  synthgen factors ocr_scene --json > factors.json
  synthgen render ocr_scene --n 100 --pin background.kind=plain      # pin one factor
  synthgen preview ocr_scene --pin word.font='DejaVu Serif Book'      # generic name: every word

The catalogue is declared by the renderer and the augmentation ops from the resolved config
(nothing is rendered). Kinds: choice (options), uniform and integer (range; "(bound)" when the
range or options follow other factors: a crop offset follows the tile, a font the text),
bernoulli, assigned (chosen by a rule, e.g. the dataset-wide corpus walk; pinnable), derived
(computed from draws; not pinnable). Names are shown with [*] where a sample has an index
(word[*].font: word[3].font); pin either form, the generic one (word.font) for every index.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("factors", help="list a pipeline's factors (what can be pinned and biased)",
                       description="Print the factor catalogue of a pipeline: every random choice its samples "
                       "record, with kind, options or range and the config key it comes from, as the renderer and "
                       "the augmentation ops declare them for the resolved config (nothing is rendered).", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_pipeline_args(p)
    p.add_argument("--json", action="store_true", help="JSON list instead of a table")
    return p


def run(a: argparse.Namespace) -> int:
    import json

    from ..factors import format_table
    from ..pipeline import load_pipeline

    pipe = load_pipeline(a.pipeline, seed=a.seed, **overrides_of(a))
    space = pipe.factor_space()
    if a.json:
        print(json.dumps([s.to_json() for s in space.values()], indent=1, default=str))
    else:
        print(format_table(space))
        n_pin = sum(s.pinnable for s in space.values())
        print(f"{len(space)} factors of {pipe.cfg.name} ({n_pin} pinnable, {len(space) - n_pin} derived)")
    return 0
