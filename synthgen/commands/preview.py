"""`synthgen preview PIPELINE`: a contact sheet of samples with their labels drawn."""

from __future__ import annotations

import argparse

from ..errors import UserError
from ._args import add_pipeline_args

ORDER = 20


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    v = sub.add_parser("preview", help="contact sheet of samples with their quads drawn",
                       description="Render samples and write a PNG contact sheet: word quads green, char quads red, "
                       "ignored text grey, first vertex of each quad yellow.")
    add_pipeline_args(v)
    v.add_argument("-n", type=int, default=16, help="number of samples (default 16)")
    v.add_argument("-o", "--out", default="preview.png", help="PNG file to write (default preview.png)")
    v.add_argument("--start", type=int, default=0, help="first sample index (default 0)")
    v.add_argument("--cell", type=int, default=384, help="tile size in px (default 384)")
    v.add_argument("--no-chars", action="store_true", help="draw word quads only")
    return v


def run(a: argparse.Namespace) -> int:
    from ..config import parse_set
    from ..pipeline import load_pipeline
    from ..run.job import parse_count
    from ..viz import contact_sheet, save_png

    n = parse_count(a.n, "-n")
    if not a.out.lower().endswith(".png"):
        raise UserError(f"-o {a.out!r}: the contact sheet is a PNG; give a name ending in .png")
    pipe = load_pipeline(a.pipeline, seed=a.seed, **parse_set(a.sets))
    samples = [pipe.sample(a.start + i) for i in range(n)]
    save_png(a.out, contact_sheet(samples, cell=a.cell, chars=not a.no_chars))
    print(f"wrote {a.out}: {n} samples of {pipe.name}")
    return 0
