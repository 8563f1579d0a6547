"""One error type for everything a user can get wrong.

The CLI turns a `UserError` into a single line on stderr and exit code 2; anything
else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input: a config, a path, a number, a font. The message names it and the fix."""
