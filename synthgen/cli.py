"""`synthgen` command line. Bad input -> one line on stderr, exit code 2, no traceback; a job
stopped from outside (disk full, a worker killed) -> one line, exit code 1.

Subcommands live in `synthgen/commands/`, one module each, discovered at start-up."""

from __future__ import annotations

import argparse
import sys

from . import commands
from .errors import RunError, UserError
from .version import __version__


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 already; keep it to one line
        raise UserError(f"{self.prog}: {message} (see --help)")


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    ap = _Parser(prog="synthgen", description="Synthetic training data for OCR and document models.")
    ap.add_argument("--version", action="version", version=f"synthgen {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    runs = {}
    for mod in commands.modules():
        before = set(sub.choices)
        mod.add_parser(sub)
        for name in set(sub.choices) - before:
            runs[name] = mod.run
    return ap, runs


def main(argv: list[str] | None = None) -> int:
    try:
        ap, runs = build_parser()
        a = ap.parse_args(argv)
        return runs[a.cmd](a)
    except (UserError, RunError) as e:
        print(f"synthgen: error: {_one_line(e)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("synthgen: interrupted; finished shards are kept: rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split("\n")).strip() or type(e).__name__


if __name__ == "__main__":
    sys.exit(main())
