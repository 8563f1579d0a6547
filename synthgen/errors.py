"""The errors a user sees as one line, without a traceback.

The CLI prints either as `synthgen: error: <message>` on stderr. `UserError` (bad input: a
config, a path, a number, a font) exits 2 and leaves nothing behind. `RunError` (the job was
stopped from outside: disk full, a worker killed) exits 1; finished shards are kept and
rerunning the same command resumes. Anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input: a config, a path, a number, a font. The message names it and the fix."""

    exit_code = 2


class RunError(Exception):
    """A job stopped by its surroundings (out of space, a worker killed); work done is kept."""

    exit_code = 1
