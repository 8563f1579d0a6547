"""The errors a user sees as one line, without a traceback.

The CLI prints either as `synthgen: error: <message>` on stderr. `UserError` (bad input: a
config, a path, a number, a font) exits 2 and leaves nothing behind. `RunError` (the job was
stopped from outside: disk full, a worker killed) exits 1; finished shards are kept and
rerunning the same command resumes. Anything else is a bug and keeps its traceback.

Ctrl-C (KeyboardInterrupt) exits 130 and SIGTERM (`Terminated`, raised by the CLI's handler in
its own process only) exits 143, each with one line saying what the command keeps (its
module's `INTERRUPTED`, see synthgen/commands/__init__.py).
"""


class UserError(Exception):
    """Bad input: a config, a path, a number, a font. The message names it and the fix."""

    exit_code = 2


class RunError(Exception):
    """A job stopped by its surroundings (out of space, a worker killed); work done is kept."""

    exit_code = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM in the CLI's process (`synthgen.cli` installs the handler). A KeyboardInterrupt, so
    every clean-up that Ctrl-C runs (workers stopped, .partial files removed, the manifest
    written) runs for it too; the CLI tells the two apart: exit 130 for Ctrl-C, 143 for this."""
