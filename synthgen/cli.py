"""`synthgen` command line. Bad input -> one line on stderr, exit code 2, no traceback; a job
stopped from outside (disk full, a worker killed) -> one line, exit code 1; Ctrl-C -> exit code
130 and SIGTERM -> exit code 143, each with one line saying what the command keeps (the
command module's `INTERRUPTED`).

Subcommands live in `synthgen/commands/`, one module each, discovered at start-up."""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from . import commands
from .errors import RunError, Terminated, UserError
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
    a = None
    runs: dict = {}
    try:
        with _sigterm_raises():
            ap, runs = build_parser()
            a = ap.parse_args(argv)
            return runs[a.cmd](a)
    except (UserError, RunError) as e:
        print(f"synthgen: error: {_one_line(e)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (Terminated)
        term = isinstance(e, Terminated)
        kept = _kept(runs.get(getattr(a, "cmd", None)), a)
        print(f"synthgen: {'terminated' if term else 'interrupted'}{'; ' + kept if kept else ''}", file=sys.stderr)
        return 143 if term else 130
    except BrokenPipeError:
        return 0


def _kept(run, a: argparse.Namespace | None) -> str:
    """What the interrupted command keeps, from its module's `INTERRUPTED` (a text, or a function
    of the parsed arguments); "" when there is no command yet or it does not say."""
    mod = sys.modules.get(getattr(run, "__module__", "") or "")
    said = getattr(mod, "INTERRUPTED", "")
    try:
        return _one_line(said(a)) if callable(said) else str(said)
    except Exception:  # never a traceback on the way out
        return ""


_MAIN_PID = [0]  # the process whose SIGTERM raises Terminated


def _on_sigterm(signum, frame) -> None:
    """SIGTERM in the CLI's process: unwind like Ctrl-C (the same clean-up), exit 143 with one
    line. A forked child that inherited this handler (and set none of its own) dies of the
    signal as it would have without it. A second SIGTERM during the clean-up kills at once."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if os.getpid() != _MAIN_PID[0]:
        os.kill(os.getpid(), signal.SIGTERM)
        return
    raise Terminated()


_on_sigterm.synthgen_cli = True  # type: ignore[attr-defined]  # run/ray_exec.py puts it back after ray.init


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM raises `Terminated` in this process while the command runs (main thread only:
    elsewhere Python cannot set handlers); the previous handler is restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _MAIN_PID[0] = os.getpid()
    before = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if before is None else before)


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split("\n")).strip() or type(e).__name__


def entry() -> None:
    """The `synthgen` program (the console script, `python -m synthgen.cli`): main(), then the
    process ends. After a command that loaded Ray, the interpreter's own teardown (module and
    C++ destructors, Ray's core worker and gRPC among them) took 0.27-0.37 s of a per-command
    Ray's ~0.5 s tail on the 2-core VM, after everything was written; there the process ends
    once the exit handlers have run (`_end`)."""
    rc = main()
    if "ray" in sys.modules and isinstance(rc, int):  # (anything else: as sys.exit says it)
        _end(rc)
    sys.exit(rc)


def _end(rc: int) -> None:
    """Run the exit handlers (atexit: Ray's own shutdown, logging's flush, the glyph atlas),
    flush stdout and stderr, and end the process without the interpreter's teardown. Returns
    (normal exit follows) while a non-daemon thread is alive, which normal exit would wait for,
    or where this Python has no way to run the handlers."""
    if not _may_end_now():
        return
    run = getattr(atexit, "_run_exitfuncs", None)  # CPython's; what Py_Finalize calls
    if run is None:
        return
    run()
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except (OSError, ValueError):
            pass
    os._exit(rc)


def _may_end_now() -> bool:
    return not any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread())


if __name__ == "__main__":
    entry()
