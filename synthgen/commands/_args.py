"""Arguments several subcommands share."""

from __future__ import annotations

import argparse
from typing import Any


def seed_arg(text: str) -> int:
    """argparse `type=` of every subcommand's --seed (one parser for all: `run.job.parse_seed`): a
    whole number from 0 to 2**64 - 1 (1_000 allowed); anything else is one line naming --seed."""
    from ..run.job import parse_seed

    return parse_seed(text, "--seed")


def add_pipeline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("pipeline", nargs="?", default="ocr_scene",
                   help="pipeline name in pipelines/ (default ocr_scene) or a path to a .yaml config")
    p.add_argument("--seed", type=seed_arg, default=None,
                   help="job seed, a whole number from 0 to 2**64 - 1 (default: the config's seed)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value by dotted path, e.g. --set augment.strength=0.4 (repeatable)")
    p.add_argument("--pin", dest="pins", action="append", default=[], metavar="FACTOR=VALUE",
                   help="pin a recorded factor, e.g. --pin background.kind=plain or --pin word.font='DejaVu Serif Book' "
                   "(generic names apply to every index; `synthgen factors PIPELINE` lists them; repeatable)")


def overrides_of(a: argparse.Namespace) -> dict[str, Any]:
    """--set values plus --pin factors (as `factors.pin`), for load_pipeline / render."""
    from ..config import parse_set
    from ..errors import UserError

    out = parse_set(a.sets)
    pins = {}
    for item in getattr(a, "pins", []):
        if "=" not in item:
            raise UserError(f"--pin {item!r}: expected FACTOR=VALUE, e.g. --pin background.kind=plain")
        k, v = item.split("=", 1)
        pins[k.strip()] = parse_set([f"x={v}"])["x"]
    if pins:
        out["factors.pin"] = pins
    return out


def check_out_file(path, flag: str, image: bool = False) -> None:
    """A local output file: not a folder, under a writable folder; an image name cv2 can write
    (.png, .jpg, ...) when `image`."""
    from pathlib import Path

    from ..errors import UserError

    from ..io.outpaths import writable_parent

    p = Path(path)
    if str(path).strip() == "" or p.is_dir() or str(path).endswith(("/", "\\")):
        raise UserError(f"{flag} {str(path)!r} is a folder; give a file name" + (", e.g. out.png" if image else ""))
    if image:
        import cv2

        if not p.suffix or not cv2.haveImageWriter(str(p)):
            raise UserError(f"{flag} {str(path)!r}: not an image file name OpenCV can write; end it in .png or .jpg")
    writable_parent(p, flag)
