"""Arguments several subcommands share."""

from __future__ import annotations

import argparse


def add_pipeline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("pipeline", nargs="?", default="ocr_scene",
                   help="pipeline name in pipelines/ (default ocr_scene) or a path to a .yaml config")
    p.add_argument("--seed", type=int, default=None, help="job seed (default: the config's seed)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value by dotted path, e.g. --set augment.strength=0.4 (repeatable)")
