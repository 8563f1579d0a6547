"""CLI subcommands, one module each: `add_parser(subparsers)` and `run(args) -> int`.

`synthgen.cli` discovers every module in this package (a new command plugs in by adding a
file, without touching the CLI). Modules import heavy dependencies inside `run`, so
`synthgen --help` stays fast. A module may set `ORDER` (int) to place itself in `--help`, and
sets `INTERRUPTED`: what Ctrl-C or SIGTERM leave behind, a text (or a function of the parsed
arguments) the CLI prints after "synthgen: interrupted; " (e.g. "finished shards are kept: rerun
the same command to resume"); it must be true for that command.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def modules() -> list[ModuleType]:
    mods = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)
            if not m.name.startswith("_")]
    mods = [m for m in mods if hasattr(m, "add_parser") and hasattr(m, "run")]
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))
