"""`synthgen augment IN --out OUT --strength S`: augment a labelled dataset into new shards."""

from __future__ import annotations

import argparse
import os

from ._args import seed_arg

ORDER = 30
INTERRUPTED = "finished shards are kept: rerun the same command to resume"  # what Ctrl-C / SIGTERM leave (cli.py)

EPILOG = """\
examples:
  synthgen augment runs/ocr_scene --out runs/ocr_scene.aug --strength 0.4
  synthgen augment /data/icdar2015/train --out runs/icdar.aug --strength 0.3 --copies 4
  synthgen augment runs/ocr_line --out runs/line.aug --strength 0.5 --set ops.rotate.p=0 --set out_of_frame=drop
  synthgen augment runs/ocr_scene --out s3://bucket/aug --strength 0.4 --executor ray --ray-address auto

IN is a synthgen dataset (manifest.json + shard-*.tar) or an ICDAR 2015 folder (images and
gt_<image name>.txt, lines x1,y1,...,x4,y4,text; ### = don't care). Quads and char quads move
with the image; a score map is recomputed from the final quads when IN had one. Output sample
j = copy c of input i (j = i * copies + c) uses the draws of (seed, j): the same bytes whatever
the executor or the workers. Rerunning the same command resumes. `synthgen audit OUT` audits
the job (it re-augments IN at a grid of strengths and tunes the strength).
Ops (each: --set ops.<op>.p=P, --set ops.<op>.range=[LO,HI] at strength 1):
  crop scale rotate shear perspective translate elastic brightness contrast gamma hue
  saturation shadow glare erode dilate blur motion_blur defocus downscale noise jpeg
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r = sub.add_parser("augment", help="augment a labelled dataset (shards or ICDAR 2015) into new shards",
                       description="Augment every sample of a labelled dataset at one strength (labels follow the "
                       "geometry), writing WebDataset shards and manifest.json; deterministic and resumable.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("input", metavar="IN", help="a synthgen dataset folder or an ICDAR 2015 folder")
    r.add_argument("--out", required=True, help="output folder or fsspec URL (new, empty, or this job's own to resume)")
    r.add_argument("--strength", type=float, required=True, help="augmentation strength in [0, 1]")
    r.add_argument("--copies", type=int, default=1, help="augmented copies per input sample (default 1)")
    r.add_argument("--seed", type=seed_arg, default=0, help="job seed, 0 to 2**64 - 1 (default 0)")
    r.add_argument("--shard-size", type=int, default=1000, help="samples per output shard (default 1000)")
    r.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    r.add_argument("--executor", choices=["serial", "process", "ray"], default="process",
                   help="where shards run (default process; ray: one Ray task per output shard)")
    r.add_argument("--ray-address", default=os.environ.get("RAY_ADDRESS"),
                   help="Ray cluster: auto or ray://host:port (default $RAY_ADDRESS, else a local Ray)")
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="augmentation setting, e.g. --set ops.rotate.p=0.5 or --set out_of_frame=drop (repeatable)")
    r.add_argument("--accept-versions", action="store_true",
                   help="resume although numpy, OpenCV, albucore or orjson differ from the versions manifest.json "
                   "recorded (or a Ray worker's differ from this driver's); recorded in manifest.json "
                   "(versions_accepted). Refused without it")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return r


def run(a: argparse.Namespace) -> int:
    from ..augment.job import augment_dataset
    from ..config import parse_set

    sets = parse_set(a.sets)
    # dotted op settings become nested: ops.rotate.p=0.5 -> {"ops": {"rotate": {"p": 0.5}}}
    nested: dict = {}
    for k, v in sets.items():
        node = nested
        parts = k.removeprefix("augment.").split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = v
    m = augment_dataset(a.input, a.out, a.strength, copies=a.copies, seed=a.seed, executor=a.executor,
                        workers=a.workers, shard_size=a.shard_size, overrides=nested, progress=not a.quiet,
                        ray_address=a.ray_address, accept_versions=a.accept_versions)
    print(f"{m['counts']['samples']} samples in {m['counts']['shards']} shards -> {a.out} "
          f"(strength {a.strength:g}, {a.copies} cop{'y' if a.copies == 1 else 'ies'} of {m['augment']['source_count']})")
    return 0
