"""`synthgen cache info`: where the machine cache is, what it holds (entries and size per kind),
its size cap and the oldest and newest use. `synthgen cache clear`: delete entries, all or by
kind or by last use. The cache itself: synthgen/machinecache.py."""

from __future__ import annotations

import argparse
import math

ORDER = 95


def INTERRUPTED(a: argparse.Namespace) -> str:  # cli.py
    if getattr(a, "cache_cmd", None) == "clear":
        return "entries deleted so far stay deleted (each is rebuilt when a process next needs it)"
    return "nothing was changed (cache info only reads)"


EPILOG = """\
what it holds (one folder per kind under v1/):
  faces    font faces' character maps (fontTools), one entry per font file
  glyphs   the glyph atlas: rasterised glyphs, one entry per font face and raster size
  banks    procedural background banks (paper, fractal, stains), one entry per bank
  tiles    the shipped photo texture tiles, decoded (mapped by every worker), and again transposed
Every entry is keyed by the code that made it, its input files' bytes and the library versions
(banks and tiles also by the CPU kernels numpy and OpenCV run, synthgen/numerics.py):
what a process reads back is what it would have computed. An edit of that code or a library
upgrade starts fresh entries; the old ones are never read again and go when the cap needs room.

where: $SYNTHGEN_CACHE_DIR, else $XDG_CACHE_HOME/synthgen, else ~/.cache/synthgen (entries in
v1/ below it). SYNTHGEN_CACHE_DIR=off (or 0, none, empty) turns the cache off; a folder that
cannot be written turns it off too, silently: everything is then computed as before.

size cap: $SYNTHGEN_CACHE_MAX_MB (MiB; default 2048, about five times what one version of the
code with every shipped pipeline warm takes). A process checks the folder's size after its
first write (at most once every ten minutes on the machine) and after each further 10% of the
cap it writes; over the cap, it deletes the least recently used entries (last read or write,
to the hour; the largest first among those of the same hour) until the folder is under 90% of
the cap. off / 0 / none: no cap; a value that is not a
positive number is ignored (the default applies), as an unusable SYNTHGEN_CACHE_DIR is: a cache
setting never makes a process fail. `synthgen cache info` shows the cap in force.

examples:
  synthgen cache info                          # where, size per kind, cap, oldest/newest use
  synthgen cache info --json
  synthgen cache clear                         # everything (the next run is a cold one)
  synthgen cache clear --kind glyphs           # only the glyph atlas
  synthgen cache clear --older-than 30         # entries not used for 30 days
  synthgen cache clear --older-than 7 --dry-run
  SYNTHGEN_CACHE_MAX_MB=500 synthgen render ocr_line --n 1000   # a smaller cap

Clearing is safe while other synthgen processes run: a process that has an entry open keeps
reading it, a write in progress (a temporary file written to in the last minute) is left alone,
and only files the cache wrote are deleted (no symbolic link is followed). A folder without a
v1/ layout is refused, so a mistaken SYNTHGEN_CACHE_DIR cannot delete anything else.
"""


def days_arg(text: str) -> float:
    """argparse `type=` of --older-than: a finite number of days >= 0."""
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"expected a number of days >= 0 (e.g. 30 or 0.5), got {text!r}")
    return v


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("cache", help="the machine cache: where it is, what it holds, clear it",
                       description="The per-machine cache of what every synthgen process would otherwise "
                       "rebuild at start-up (font character maps, the glyph atlas, background banks, decoded "
                       "photo tiles). `synthgen cache info` shows where it is, its size per kind, the cap and "
                       "the oldest and newest use; `synthgen cache clear` deletes entries. The cache only saves "
                       "time: clearing it never changes what is rendered.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    cs = p.add_subparsers(dest="cache_cmd", metavar="COMMAND", required=True, parser_class=type(p))
    i = cs.add_parser("info", help="where the cache is, entries and size per kind, the cap, oldest/newest use",
                      description="Where the machine cache is (or that it is off, and why), entries and size "
                      "per kind and in all, the size cap, the oldest and newest use of an entry.",
                      epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    i.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    c = cs.add_parser("clear", help="delete entries: all, by kind, or not used for DAYS",
                      description="Delete machine-cache entries: all of them, those of --kind, or those not "
                      "used for --older-than days. Prints what it freed.",
                      epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--kind", action="append", default=[], metavar="KIND",
                   help="only this kind (faces, glyphs, banks, tiles; repeatable; default: every kind)")
    c.add_argument("--older-than", type=days_arg, default=None, metavar="DAYS",
                   help="only entries last used (read or written) more than DAYS days ago (a fraction is fine: 0.5)")
    c.add_argument("--dry-run", action="store_true", help="say what would be deleted, delete nothing")
    return p


def _mb(n: int) -> str:
    from ..machinecache import MB

    return f"{n / MB:,.1f} MB"


def _when(t: float | None, now: float) -> str:
    import time

    if t is None:
        return "-"
    age = now - t
    if age < 3600:
        ago = f"{max(age, 0) / 60:.0f} min ago"
    elif age < 2 * 86400:
        ago = f"{age / 3600:.1f} h ago"
    else:
        ago = f"{age / 86400:.0f} days ago"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t)) + f" ({ago})"


def _iso(t: float | None) -> str | None:
    import time

    return None if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def info(a: argparse.Namespace) -> int:
    import json
    import time
    from pathlib import Path

    from .. import machinecache as mc

    now = time.time()
    w = mc.where()
    cap, cap_note = mc.max_bytes()
    out = {"dir": w["dir"], "source": w["source"], "on": w["off"] is None, "off": w["off"],
           "format": mc.FORMAT, "cap_bytes": cap, "cap": cap_note,
           "prune_to_bytes": None if cap is None else int(cap * mc.PRUNE_TO),
           "kinds": {}, "entries": 0, "bytes": 0, "temp_files": 0, "temp_bytes": 0, "other_files": [],
           "oldest_use": None, "newest_use": None}
    items: list = []
    folder = Path(w["dir"]) if w["dir"] else None
    if folder is not None and folder.is_dir():
        items, other = mc.scan(folder)
        out["other_files"] = other
        for k in mc.kinds_in(folder):
            out["kinds"][k] = {"entries": 0, "bytes": 0, "temp_files": 0, "temp_bytes": 0}
        for it in items:
            row = out["kinds"][it.kind]
            if it.temp:
                row["temp_files"] += 1
                row["temp_bytes"] += it.size
            else:
                row["entries"] += 1
                row["bytes"] += it.size
        for k in ("entries", "bytes", "temp_files", "temp_bytes"):
            out[k] = sum(r[k] for r in out["kinds"].values())
        used = [it.used for it in items if not it.temp]
        out["oldest_use"], out["newest_use"] = (min(used), max(used)) if used else (None, None)
    if a.json:
        out["oldest_use"], out["newest_use"] = _iso(out["oldest_use"]), _iso(out["newest_use"])
        print(json.dumps(out, indent=1))
        return 0
    if w["dir"] is None:
        print(f"machine cache: off ({w['off']}); every process computes everything at start-up")
        print(f"cap: {cap_note}")
        return 0
    print(f"machine cache: {w['dir']} (from {w['source']})" + (f"; OFF: {w['off']}" if w["off"] else ""))
    if folder is None or not folder.is_dir():
        print("no entries yet (the folder does not exist: the first process that needs it makes it)")
    else:
        rows = [["kind", "entries", "size", "holds"]]
        for k, r in out["kinds"].items():
            rows.append([k, f"{r['entries']:,}", _mb(r["bytes"]), mc.KINDS.get(k, "(a kind this version does not write)")])
        rows.append(["total", f"{out['entries']:,}", _mb(out["bytes"]), ""])
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for r in rows:
            print(f"  {r[0].ljust(widths[0])}  {r[1].rjust(widths[1])}  {r[2].rjust(widths[2])}  {r[3]}".rstrip())
        print(f"last use: oldest {_when(out['oldest_use'], now)}, newest {_when(out['newest_use'], now)}")
        if out["temp_files"]:
            print(f"temporary files: {out['temp_files']:,} ({_mb(out['temp_bytes'])}): writes in progress, or left "
                  "by killed writers (`synthgen cache clear` deletes those idle for a minute)")
        if out["other_files"]:
            print(f"other files: {len(out['other_files']):,} (not written by the cache: never deleted), e.g. "
                  f"{out['other_files'][0]}")
    if cap is None:
        print(f"cap: none ({cap_note})")
    else:
        print(f"cap: {_mb(cap)} ({cap_note}); over it, a process deletes the least recently used entries down to "
              f"{_mb(out['prune_to_bytes'])}")
    return 0


def clear(a: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from .. import machinecache as mc
    from ..errors import UserError

    w = mc.where()
    folder = Path(w["dir"]) if w["dir"] else None
    is_cache = folder is not None and not folder.is_symlink() and folder.is_dir()
    known = sorted(set(mc.KINDS) | set(mc.kinds_in(folder) if is_cache else ()))
    bad = [k for k in a.kind if k not in known]
    if bad:
        raise UserError(f"--kind {bad[0]!r}: unknown kind; kinds are {', '.join(known)}")
    if folder is None:
        raise UserError(f"the machine cache is off ({w['off']}): nothing to clear; set {mc.ENV} to the folder "
                        "to clear")
    base = Path(w["base"])
    if not base.exists():
        print(f"nothing to clear: {base} does not exist")
        return 0
    if not is_cache:
        raise UserError(f"{base} (from {w['source']}) is not a synthgen cache: no v{mc.FORMAT}/ folder in it; "
                        "nothing deleted")
    now = time.time()
    items, other = mc.scan(folder, set(a.kind) if a.kind else None)
    cutoff = None if a.older_than is None else now - a.older_than * 86400
    chosen, live = [], 0
    for it in items:
        if it.writing(now):
            live += 1
        elif cutoff is None or it.used < cutoff:
            chosen.append(it)
    what = ", ".join(f"--kind {k}" for k in a.kind) or "every kind"
    if a.older_than is not None:
        what += f", not used for {a.older_than:g} days"
    if a.dry_run:
        n, freed = len(chosen), sum(it.size for it in chosen)
        verb = "would free"
    else:
        n, freed = mc.remove(folder, chosen)
        verb = "freed"
    per: dict[str, int] = {}
    for it in chosen:
        per[it.kind] = per.get(it.kind, 0) + 1
    detail = ", ".join(f"{k} {v:,}" for k, v in sorted(per.items()))
    print(f"{verb} {_mb(freed)}: {n:,} files ({detail or 'none'}) from {folder} ({what})")
    if not a.dry_run and n < len(chosen):
        print(f"{len(chosen) - n:,} could not be deleted (gone meanwhile, or not permitted)")
    if live:
        print(f"kept {live:,} temporary files of writes in progress (written to in the last minute)")
    if other:
        print(f"left {len(other):,} files the cache did not write (e.g. {other[0]})")
    return 0


COMMANDS = {"info": info, "clear": clear}


def run(a: argparse.Namespace) -> int:
    return COMMANDS[a.cache_cmd](a)
