"""`synthgen preview PIPELINE`: a contact sheet of samples with their labels drawn."""

from __future__ import annotations

import argparse
import os

from ..errors import UserError
from ._args import add_pipeline_args, overrides_of

ORDER = 20
INTERRUPTED = "nothing was written (the sheet is written when every sample is drawn)"  # cli.py
MAX_SAMPLES = 1024
CELL = (32, 4096)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    v = sub.add_parser("preview", help="contact sheet of samples with their quads drawn",
                       description="Render samples and write a PNG contact sheet: word quads green, char quads red, "
                       "ignored text grey, first vertex of each quad yellow.")
    add_pipeline_args(v)
    v.add_argument("-n", type=int, default=16, help=f"number of samples, 1 to {MAX_SAMPLES} (default 16)")
    v.add_argument("-o", "--out", default="preview.png", help="PNG file to write (default preview.png)")
    v.add_argument("--start", type=int, default=0, help="first sample index, 0 or more (default 0)")
    v.add_argument("--cell", type=int, default=384, help=f"tile size in px, {CELL[0]} to {CELL[1]} (default 384)")
    v.add_argument("--no-chars", action="store_true", help="draw word quads only")
    return v


def check_sheet(n, start: int, cell: int, out: str) -> int:
    """The contact sheet's arguments, checked before any work (one line, exit 2): returns n."""
    from ..run.job import MAX_INDEX, parse_count

    n = parse_count(n, "-n")
    if n > MAX_SAMPLES:
        raise UserError(f"-n {n}: a contact sheet shows at most {MAX_SAMPLES} samples")
    if not CELL[0] <= cell <= CELL[1]:
        raise UserError(f"--cell {cell}: the tile size must be from {CELL[0]} to {CELL[1]} px")
    if not 0 <= start <= MAX_INDEX - n:
        raise UserError(f"--start {start}: sample indices start at 0 (and stay under 2**63)")
    if not out.lower().endswith(".png"):
        raise UserError(f"-o {out!r}: the contact sheet is a PNG; give a name ending in .png")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UserError(f"-o {out!r}: folder {folder!r} does not exist; create it or write elsewhere")
    _probe_writable(out)
    return n


def _probe_writable(out: str) -> None:
    """-o can be written, tried before any sample is drawn (mode bits do not stop root, and /proc
    stops everyone): an existing file opened for appending (unchanged), a new one created and
    removed again."""
    try:
        if os.path.lexists(out):
            if os.path.isdir(out):
                raise IsADirectoryError(21, "is a folder")
            with open(out, "ab"):
                pass
        else:
            with open(out, "xb"):
                pass
            os.remove(out)
    except OSError as e:
        raise UserError(f"-o {out!r}: cannot write there ({e.strerror or e}); give a writable .png path") from None


def write_sheet(pipe, start: int, n: int, out: str, cell: int, chars: bool) -> None:
    from ..viz import contact_sheet, save_png

    save_png(out, contact_sheet([pipe.sample(start + i) for i in range(n)], cell=cell, chars=chars))


def run(a: argparse.Namespace) -> int:
    from ..pipeline import load_pipeline
    from ..run.job import parse_seed

    n = check_sheet(a.n, a.start, a.cell, a.out)
    seed = None if a.seed is None else parse_seed(a.seed)
    pipe = load_pipeline(a.pipeline, seed=seed, **overrides_of(a))
    write_sheet(pipe, a.start, n, a.out, a.cell, not a.no_chars)
    print(f"wrote {a.out}: {n} samples of {pipe.name}")
    return 0
