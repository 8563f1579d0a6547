"""`synthgen render PIPELINE --n N`: a dataset into WebDataset shards."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ._args import add_pipeline_args, overrides_of

ORDER = 10
INTERRUPTED = "finished shards are kept: rerun the same command to resume"  # what Ctrl-C / SIGTERM leave (cli.py)

EPILOG = """\
examples:
  synthgen render --n 1000                          # ocr_scene into runs/ocr_scene
  synthgen render ocr_scene --n 1e6 --out /data/scene --workers 16
  synthgen render ocr_scene --n 10_000 --set augment.strength=0.4 --seed 7
      # -> runs/ocr_scene.strength_0.4.seed_7

  synthgen render ocr_line --n 1e5 --split train && synthgen render ocr_line --n 1e4 --split test
      # -> runs/ocr_line.split_train, runs/ocr_line.split_test: no string in both

Rerunning the same command resumes: finished shards are kept after their sha256 is checked
against manifest.json (shards that differ are rendered again), missing ones are made. A
different config into the same folder is refused, and so is a second render into a folder
that is being rendered.

--n: up to 2**63 - 1 samples, in at most 10,000,000 shards (manifest.json lists each).
Exit codes: 0 done; 2 bad input (nothing written); 1 stopped from outside (disk full, a
worker killed; finished shards kept); 130 interrupted (Ctrl-C; finished shards kept).
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r = sub.add_parser("render", help="render a dataset into WebDataset shards",
                       description="Render N samples of a pipeline into WebDataset shards (shard-000000.tar, ...) "
                       "plus manifest.json. Sample i of seed s is the same bytes whatever the workers or shard size.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_pipeline_args(r)
    r.add_argument("--n", required=True, help="number of samples: 1000, 10_000 or 1e6")
    r.add_argument("--out", help="output folder or fsspec URL (default runs/<dataset name>)")
    r.add_argument("--shard-size", help="samples per shard (default: the config's output.shard_size)")
    r.add_argument("--workers", help="worker processes (default: CPU count)")
    r.add_argument("--executor", choices=["serial", "process", "ray"], default="process",
                   help="where shards run (default process; ray for a cluster)")
    r.add_argument("--ray-address", default=os.environ.get("RAY_ADDRESS"),
                   help="Ray cluster: auto or ray://host:port (default $RAY_ADDRESS, else a local Ray)")
    r.add_argument("--no-verify", dest="verify", action="store_false",
                   help="on resume, keep recorded shards whose size is unchanged without reading them back "
                   "(object stores: saves a download of every shard; a corrupted shard of the same size is kept)")
    r.add_argument("--accept-versions", action="store_true",
                   help="resume even though numpy, OpenCV, Pillow/FreeType, orjson, ... differ from the versions "
                   "manifest.json recorded (or a Ray worker's differ from this driver's); the difference is "
                   "recorded in manifest.json (versions_accepted). Without it such a resume is refused")
    r.add_argument("--split", metavar="PART", help="render only one part of splits.ratios (train, val, test): "
                   "strings and identities held out by a keyed hash, so parts never share one (synthgen/splits.py)")
    r.add_argument("--card", action="store_true", help="at the end, write README.md (a Hugging Face dataset card: "
                   "features, size, font and texture licences, factor distributions, how to load it) and "
                   "contact_sheet.png into the output folder, as `synthgen card OUT` does")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return r


def run(a: argparse.Namespace) -> int:
    from ..run.job import render

    # --split goes to render on its own (checked there against the config it loads once, with
    # the one line naming --split); folded into the config it was loaded and validated twice
    m = render(a.pipeline, n=a.n, out=a.out, seed=a.seed, shard_size=a.shard_size, workers=a.workers,
               executor=a.executor, overrides=overrides_of(a), progress=not a.quiet, ray_address=a.ray_address,
               verify=a.verify, accept_versions=a.accept_versions, split=a.split)
    out = a.out or str(Path("runs") / m["name"])
    print(f"{m['counts']['samples']} samples in {m['counts']['shards']} shards -> {out} ({m['name']})")
    if getattr(a, "card", False):
        from ..card import write_card

        c = write_card(out)
        print(f"wrote {c['readme']} and {c['sheet']}")
    return 0
