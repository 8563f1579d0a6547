"""`synthgen` command line. Bad input -> one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .commands import export as _export_cmd
from .commands import fonts as _fonts_cmd
from .errors import UserError

EPILOG_RENDER = """\
examples:
  synthgen render --n 1000                          # ocr_scene into runs/ocr_scene
  synthgen render ocr_scene --n 1e6 --out /data/scene --workers 16
  synthgen render ocr_scene --n 10_000 --set augment.strength=0.4 --seed 7
      # -> runs/ocr_scene.strength_0.4.seed_7

Rerunning the same command resumes: finished shards are kept, missing ones are made.
A different config into the same folder is refused.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 already; keep it to one line
        raise UserError(f"{self.prog}: {message} (see --help)")


def _add_pipeline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("pipeline", nargs="?", default="ocr_scene",
                   help="pipeline name in pipelines/ (default ocr_scene) or a path to a .yaml config")
    p.add_argument("--seed", type=int, default=None, help="job seed (default: the config's seed)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value by dotted path, e.g. --set augment.strength=0.4 (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="synthgen", description="Synthetic training data for OCR and document models.")
    ap.add_argument("--version", action="version", version=f"synthgen {__import__('synthgen').__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    r = sub.add_parser("render", help="render a dataset into WebDataset shards",
                       description="Render N samples of a pipeline into WebDataset shards (shard-000000.tar, ...) "
                       "plus manifest.json. Sample i of seed s is the same bytes whatever the workers or shard size.",
                       epilog=EPILOG_RENDER, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_pipeline_args(r)
    r.add_argument("--n", required=True, help="number of samples: 1000, 10_000 or 1e6")
    r.add_argument("--out", help="output folder or fsspec URL (default runs/<dataset name>)")
    r.add_argument("--shard-size", help="samples per shard (default: the config's output.shard_size)")
    r.add_argument("--workers", help="worker processes (default: CPU count)")
    r.add_argument("--executor", choices=["serial", "process", "ray"], default="process",
                   help="where shards run (default process; ray for a cluster)")
    r.add_argument("--ray-address", default=os.environ.get("RAY_ADDRESS"),
                   help="Ray cluster: auto or ray://host:port (default $RAY_ADDRESS, else a local Ray)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    v = sub.add_parser("preview", help="contact sheet of samples with their quads drawn",
                       description="Render samples and write a PNG contact sheet: word quads green, char quads red, "
                       "ignored text grey, first vertex of each quad yellow.")
    _add_pipeline_args(v)
    v.add_argument("-n", type=int, default=16, help="number of samples (default 16)")
    v.add_argument("-o", "--out", default="preview.png", help="PNG file to write (default preview.png)")
    v.add_argument("--start", type=int, default=0, help="first sample index (default 0)")
    v.add_argument("--cell", type=int, default=384, help="tile size in px (default 384)")
    v.add_argument("--no-chars", action="store_true", help="draw word quads only")

    b = sub.add_parser("bench", help="throughput and peak memory of a render",
                       description="Render into a temporary folder and print images/s (per worker and total) and peak "
                       "RSS. Shared or virtual machines drift by 2x from minute to minute: each run also prints a "
                       "reference time (a fixed pure-Python loop) taken just before it, so runs can be compared, and "
                       "--repeat keeps the best run (the machine's speed when nothing else interferes).")
    _add_pipeline_args(b)
    b.add_argument("--n", default="2000", help="samples per run (default 2000)")
    b.add_argument("--workers", default="1", help="comma-separated worker counts (default 1)")
    b.add_argument("--shard-size", default="500", help="samples per shard (default 500)")
    b.add_argument("--executor", choices=["serial", "process", "ray"], default="process")
    b.add_argument("--repeat", type=int, default=1, help="runs per worker count; the best is reported too (default 1)")

    _export_cmd.add_parser(sub)
    _fonts_cmd.add_parser(sub)
    return ap


def _cmd_render(a: argparse.Namespace) -> int:
    from .config import parse_set
    from .run.job import render

    m = render(a.pipeline, n=a.n, out=a.out, seed=a.seed, shard_size=a.shard_size, workers=a.workers,
               executor=a.executor, overrides=parse_set(a.sets), progress=not a.quiet, ray_address=a.ray_address)
    out = a.out or str(Path("runs") / m["name"])
    print(f"{m['counts']['samples']} samples in {m['counts']['shards']} shards -> {out} ({m['name']})")
    return 0


def _cmd_preview(a: argparse.Namespace) -> int:
    from .config import parse_set
    from .pipeline import load_pipeline
    from .run.job import parse_count
    from .viz import contact_sheet, save_png

    n = parse_count(a.n, "-n")
    if not a.out.lower().endswith(".png"):
        raise UserError(f"-o {a.out!r}: the contact sheet is a PNG; give a name ending in .png")
    pipe = load_pipeline(a.pipeline, seed=a.seed, **parse_set(a.sets))
    samples = [pipe.sample(a.start + i) for i in range(n)]
    save_png(a.out, contact_sheet(samples, cell=a.cell, chars=not a.no_chars))
    print(f"wrote {a.out}: {n} samples of {pipe.name}")
    return 0


def _cmd_bench(a: argparse.Namespace) -> int:
    from .bench import bench_render
    from .config import parse_set
    from .run.job import parse_count

    workers = [parse_count(w, "--workers") for w in str(a.workers).split(",")]
    if a.repeat < 1:
        raise UserError(f"--repeat must be at least 1, got {a.repeat}")
    for w in workers:
        runs = [bench_render(a.pipeline, n=parse_count(a.n), workers=w, shard_size=parse_count(a.shard_size, "--shard-size"),
                             executor=a.executor, overrides=parse_set(a.sets), seed=a.seed) for _ in range(a.repeat)]
        if a.repeat > 1:
            best = max(runs, key=lambda r: r["images_per_s"])
            every = ", ".join(f"{r['images_per_s']:.1f}" for r in runs)
            print(f"  best of {a.repeat}: {best['images_per_s']:.1f} images/s ({best['images_per_s_per_worker']:.1f}/worker); "
                  f"all: {every}", flush=True)
    return 0


COMMANDS = {"render": _cmd_render, "preview": _cmd_preview, "bench": _cmd_bench,
            "export": _export_cmd.run, "fonts": _fonts_cmd.run}


def main(argv: list[str] | None = None) -> int:
    try:
        a = build_parser().parse_args(argv)
        return COMMANDS[a.cmd](a)
    except UserError as e:
        print(f"synthgen: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("synthgen: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenProcessPool:
        print("synthgen: error: a worker process died (killed, or out of memory); finished shards are kept, "
              "rerun the same command to resume (with fewer --workers if memory is short)", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
