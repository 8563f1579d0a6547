"""Implementations of CLI subcommands: each module has `add_parser(subparsers)` and `run(args)`.

Modules import their heavy dependencies inside `run`, so `synthgen --help` stays fast.
"""
