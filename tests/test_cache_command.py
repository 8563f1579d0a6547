"""`synthgen cache info` / `synthgen cache clear` and the machine cache's size cap
(synthgen/machinecache.py), on a temporary SYNTHGEN_CACHE_DIR (never the machine's own cache):
info counts what os.walk counts; clear deletes all, by kind or by last use, and nothing else
(not a folder that is not a cache, not a writer's young temporary file, not through a link);
the cap deletes the least recently used first, down to 90%, on a process's first write and
after each tenth of the cap it writes, and an error in it never reaches the process."""

from __future__ import annotations

import json
import mmap
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

from synthgen import machinecache as mc
from synthgen.cli import main

DAY = 86400


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache folder (its v<FORMAT> folder is returned); the cap from the environment unset."""
    monkeypatch.setenv(mc.ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(mc.MAX_ENV, raising=False)
    mc.reset()
    yield tmp_path / "cache" / f"v{mc.FORMAT}"
    monkeypatch.undo()
    mc.reset()


def _put(kind: str, i: int, size: int = 1000, used: float | None = None) -> Path:
    """Write entry number `i` of `kind` with a `size`-byte payload; last use set to `used`."""
    name = mc.key(kind, i)
    assert mc.write(kind, name, {"i": i}, {"a": np.full(size, i % 251, np.uint8)})
    p = mc.path(kind, name)
    if used is not None:
        os.utime(p, (used, used))
    return p


def _walk(folder: Path) -> dict[str, tuple[int, int]]:
    """kind -> (entries, bytes), counted independently: every regular file one level below a kind
    folder whose name is 32 hex digits."""
    out: dict[str, list[int]] = {}
    for dirpath, dirs, files in os.walk(folder):
        rel = os.path.relpath(dirpath, folder)
        if rel == ".":
            for d in dirs:
                out.setdefault(d, [0, 0])
            continue
        for f in files:
            p = os.path.join(dirpath, f)
            if re.fullmatch(r"[0-9a-f]{32}", f) and not os.path.islink(p):
                out[rel][0] += 1
                out[rel][1] += os.path.getsize(p)
    return {k: tuple(v) for k, v in out.items()}


def _files(folder: Path) -> dict[str, int]:
    return {os.path.relpath(os.path.join(d, f), folder): os.lstat(os.path.join(d, f)).st_size
            for d, _, fs in os.walk(folder) for f in fs}


def _run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(["cache", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def _one_line_error(rc: int, err: str, needle: str) -> None:
    assert rc == 2, err
    assert err.count("\n") == 1 and err.startswith("synthgen: error: "), err
    assert needle in err, err


# -- info ---------------------------------------------------------------------------------------


def test_info_counts_and_sizes_match_an_independent_count(cache, capsys):
    for i in range(7):
        _put("faces", i, 500 + 37 * i)
    for i in range(3):
        _put("glyphs", i, 20000 + i)
    _put("banks", 0, 123456)
    (cache / "faces" / "README").write_text("not the cache's\n")  # another file: not counted
    rc, out, _ = _run(capsys, "info", "--json")
    assert rc == 0
    got = json.loads(out)
    want = _walk(cache)
    assert {k: (r["entries"], r["bytes"]) for k, r in got["kinds"].items()} == want
    assert got["entries"] == sum(n for n, _ in want.values()) == 11
    assert got["bytes"] == sum(b for _, b in want.values())
    assert got["dir"] == str(cache) and got["on"] and got["off"] is None
    assert got["cap_bytes"] == mc.DEFAULT_MAX_MB * mc.MB
    assert got["other_files"] == ["faces/README"]
    assert got["oldest_use"] <= got["newest_use"]

    rc, out, _ = _run(capsys, "info")
    assert rc == 0 and str(cache) in out
    for kind, (n, b) in want.items():
        row = next(ln for ln in out.splitlines() if ln.split()[:1] == [kind])
        assert f" {n:,} " in row and f"{b / mc.MB:,.1f} MB" in row, row
    assert re.search(r"total\s+11\s", out), out
    assert "cap: 2,048.0 MB" in out and "last use: oldest" in out


def test_info_off_missing_and_cap_settings(cache, capsys, monkeypatch, tmp_path):
    rc, out, _ = _run(capsys, "info")
    assert rc == 0 and "no entries yet" in out  # nothing written: the folder does not exist yet
    monkeypatch.setenv(mc.ENV, "off")
    mc.reset()
    rc, out, _ = _run(capsys, "info")
    assert rc == 0 and out.startswith("machine cache: off (SYNTHGEN_CACHE_DIR='off' turns it off)"), out
    rc, out, _ = _run(capsys, "info", "--json")
    assert json.loads(out)["on"] is False and json.loads(out)["dir"] is None
    # unusable folder: off, and why
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv(mc.ENV, str(tmp_path / "afile"))
    mc.reset()
    rc, out, _ = _run(capsys, "info")
    assert rc == 0 and "is a file, not a folder" in out, out
    # the cap: a number, off, or ignored
    for value, cap in [("500", 500 * mc.MB), ("0.5", mc.MB // 2), ("off", None), ("0", None), ("", None),
                       ("lots", mc.DEFAULT_MAX_MB * mc.MB), ("-3", mc.DEFAULT_MAX_MB * mc.MB),
                       ("nan", mc.DEFAULT_MAX_MB * mc.MB), ("inf", mc.DEFAULT_MAX_MB * mc.MB)]:
        monkeypatch.setenv(mc.MAX_ENV, value)
        assert mc.max_bytes()[0] == cap, value
    monkeypatch.setenv(mc.MAX_ENV, "lots")
    rc, out, _ = _run(capsys, "info")
    assert "SYNTHGEN_CACHE_MAX_MB='lots' is not a positive number of MB: ignored, default 2048 MB" in out


# -- clear --------------------------------------------------------------------------------------


def test_clear_all_by_kind_and_unknown_kind(cache, capsys):
    for kind in ("faces", "glyphs", "banks"):
        for i in range(4):
            _put(kind, i, 3000)
    before = _walk(cache)
    rc, out, err = _run(capsys, "clear", "--kind", "nope")
    _one_line_error(rc, err, "--kind 'nope': unknown kind; kinds are banks, faces, glyphs, tiles")
    assert _walk(cache) == before and out == ""

    rc, out, _ = _run(capsys, "clear", "--kind", "faces", "--kind", "banks", "--dry-run")
    assert rc == 0 and out.startswith("would free") and _walk(cache) == before
    rc, out, _ = _run(capsys, "clear", "--kind", "faces", "--kind", "banks")
    freed = before["faces"][1] + before["banks"][1]
    assert rc == 0 and out.startswith(f"freed {freed / mc.MB:,.1f} MB: 8 files (banks 4, faces 4)"), out
    assert _walk(cache) == {"faces": (0, 0), "banks": (0, 0), "glyphs": before["glyphs"]}
    rc, out, _ = _run(capsys, "clear")
    assert rc == 0 and "4 files (glyphs 4)" in out
    assert all(v == (0, 0) for v in _walk(cache).values())


def test_clear_older_than_goes_by_last_use(cache, capsys):
    now = time.time()
    old = [_put("faces", i, 100, now - 10 * DAY) for i in range(3)]
    new = [_put("faces", 10 + i, 100, now - 1 * DAY) for i in range(2)]
    read_lately = _put("faces", 20, 100, now - 10 * DAY)
    os.utime(read_lately, (now - 3600, now - 10 * DAY))  # written long ago, read an hour ago
    rc, out, _ = _run(capsys, "clear", "--older-than", "5")
    assert rc == 0 and "3 files (faces 3)" in out and "not used for 5 days" in out, out
    assert not any(p.exists() for p in old)
    assert all(p.exists() for p in new) and read_lately.exists()
    rc, out, _ = _run(capsys, "clear", "--older-than", "0.5")
    assert rc == 0 and not any(p.exists() for p in new) and read_lately.exists()
    for bad in ("-1", "x", "nan", "inf"):
        rc, out, err = _run(capsys, "clear", "--older-than", bad)
        _one_line_error(rc, err, "--older-than")
    assert read_lately.exists()


def test_clear_refuses_a_folder_that_is_not_a_cache(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    (home / "docs").mkdir(parents=True)
    (home / "docs" / "thesis.tex").write_text("years of work\n")
    (home / ("ab" * 16)).write_text("a file named like an entry\n")
    snap = _files(home)
    monkeypatch.setenv(mc.ENV, str(home))
    mc.reset()
    try:
        rc, out, err = _run(capsys, "clear")
        _one_line_error(rc, err, f"{home} (from $SYNTHGEN_CACHE_DIR) is not a synthgen cache: no v1/ folder")
        assert _files(home) == snap and out == ""
        monkeypatch.setenv(mc.ENV, "off")
        mc.reset()
        rc, out, err = _run(capsys, "clear")
        _one_line_error(rc, err, "the machine cache is off (SYNTHGEN_CACHE_DIR='off' turns it off)")
        monkeypatch.setenv(mc.ENV, str(tmp_path / "nosuch"))
        mc.reset()
        rc, out, err = _run(capsys, "clear")
        assert rc == 0 and out.startswith("nothing to clear") and not (tmp_path / "nosuch").exists()
        # a v1 folder of the user's own: only files the cache writes would go; these stay
        (home / "v1" / "photos").mkdir(parents=True)
        (home / "v1" / "photos" / "cat.jpg").write_bytes(b"\xff\xd8 cat")
        (home / "v1" / "notes.txt").write_text("mine\n")
        snap = _files(home)
        monkeypatch.setenv(mc.ENV, str(home))
        mc.reset()
        rc, out, err = _run(capsys, "clear")
        assert rc == 0 and "0 files" in out and "left 2 files the cache did not write" in out, out
        assert _files(home) == snap
    finally:
        mc.reset()


def test_young_temporary_files_are_kept_old_ones_go(cache, capsys):
    p = _put("glyphs", 0, 100)
    young = p.parent / f".{p.name}.abc123_x.tmp"
    stale = p.parent / f".{mc.key('other')}.zz9.tmp"
    young.write_bytes(b"half an entry")
    stale.write_bytes(b"left by a killed writer")
    t = time.time() - 2 * mc.TEMP_GRACE_S
    os.utime(stale, (t, t))
    rc, out, _ = _run(capsys, "info", "--json")
    assert json.loads(out)["kinds"]["glyphs"]["temp_files"] == 2
    rc, out, _ = _run(capsys, "clear")
    assert rc == 0 and "kept 1 temporary files of writes in progress" in out, out
    assert young.exists() and not stale.exists() and not p.exists()
    # the cap leaves a live writer's file alone too
    assert mc.prune(cache, 1) == (0, 0) and young.exists()


def test_clear_never_follows_a_link_out_of_the_cache(cache, tmp_path, capsys):
    _put("faces", 0, 100)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / mc.key("looks like an entry")
    target.write_bytes(b"precious")
    (outside / mc.key("another")).write_bytes(b"precious too")
    (cache / "evil").symlink_to(outside, target_is_directory=True)  # a kind folder that is a link
    (cache / "faces" / mc.key("link")).symlink_to(target)  # an entry that is a link
    snap = _files(outside)
    rc, out, _ = _run(capsys, "clear")
    assert rc == 0 and "1 files (faces 1)" in out and "left 2 files the cache did not write" in out, out
    assert _files(outside) == snap
    assert (cache / "evil").is_symlink() and (cache / "faces" / mc.key("link")).is_symlink()
    rc, out, err = _run(capsys, "clear", "--kind", "evil")
    _one_line_error(rc, err, "unknown kind")
    assert _files(outside) == snap


def test_a_reader_with_the_entry_mapped_keeps_reading_it(cache, capsys):
    p = _put("tiles", 0, 1 << 20)
    with open(p, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        rc, out, _ = _run(capsys, "clear")
        assert rc == 0 and not p.exists()
        meta, arrays = mc.unpack(memoryview(mm))
        assert meta == {"i": 0} and arrays["a"].shape == (1 << 20,)
    finally:
        del meta, arrays
        mm.close()
    assert mc.read("tiles", p.name) is None  # gone for a new reader: rebuilt by whoever needs it


# -- the cap ------------------------------------------------------------------------------------


def test_the_cap_prunes_least_recently_used_first_to_under_90_percent(cache):
    now = time.time()
    paths = [_put("banks", i, 100_000, now - (20 - i) * 3600) for i in range(20)]  # i = 19 the most recent
    size = paths[0].stat().st_size
    cap = 10 * size
    n, freed = mc.prune(cache, cap)
    kept = [p for p in paths if p.exists()]
    total = sum(p.stat().st_size for p in kept)
    assert total <= mc.PRUNE_TO * cap and total + size > mc.PRUNE_TO * cap  # no more deleted than needed
    assert kept == paths[-len(kept):], "the most recently used stay"
    assert n == 20 - len(kept) and freed == n * size
    assert mc.prune(cache, cap) == (0, 0)  # under the cap: nothing to do


def test_within_an_hour_of_last_use_the_largest_entries_go_first(cache):
    # Last use is refreshed hourly, so within an hour the stamps say when an entry was written,
    # not how recently it was read: the pruner does not trust them there, and deletes the few
    # large entries (a tile store, rebuilt in a second) before many small ones (the atlas's).
    now = time.time()
    small = [_put("glyphs", i, 20_000, now - 600 + i) for i in range(30)]  # written over 10 minutes
    big = _put("tiles", 0, 300_000, now - 60)  # the most recently stamped of all
    s, b = small[0].stat().st_size, big.stat().st_size
    cap = 30 * s + b - 1  # over by a byte: 10% to free, five of the small entries' worth
    assert mc.prune(cache, cap, now=now) == (1, b)
    assert not big.exists() and all(p.exists() for p in small)
    # an older hour still goes first, however small: recency across hours is kept
    old = [_put("glyphs", 100 + i, 20_000, now - 3 * 3600 - i) for i in range(3)]
    big = _put("tiles", 1, 300_000, now - 60)
    cap = 33 * s + b - 1  # the three old ones are not enough: then the big one
    assert mc.prune(cache, cap, now=now) == (4, 3 * s + b)
    assert not any(p.exists() for p in old + [big]) and all(p.exists() for p in small)


def test_the_cap_is_checked_after_a_first_write_and_after_each_tenth_of_it(cache, monkeypatch):
    now = time.time()
    old = [_put("banks", i, 100_000, now - DAY - i) for i in range(8)]
    size = old[0].stat().st_size
    cap = int(4.5 * size)
    stamp = cache / ".last-prune"
    stamp.unlink()  # the fills' own check ran under the default cap; a fresh process, an old stamp
    mc.reset()
    monkeypatch.setenv(mc.MAX_ENV, str(cap / mc.MB))
    fresh = _put("banks", 100, 100_000)  # the process's first write: it checks
    left = [p for p in old if p.exists()]
    assert fresh.exists() and left == old[:3], "the most recently used stay"
    assert sum(p.stat().st_size for p in left + [fresh]) <= mc.PRUNE_TO * cap and stamp.exists()

    def overfill(tag):  # over the cap again, by files the process did not write through the cache
        made = [cache / "banks" / mc.key(tag, i) for i in range(4)]
        for i, p in enumerate(made):
            p.write_bytes(fresh.read_bytes())
            os.utime(p, (now - 2 * DAY - i,) * 2)
        return made

    more = overfill("a")
    small = _put("banks", 200, 100)  # under a tenth of the cap: no check
    assert all(p.exists() for p in more + left + [small])
    big = _put("banks", 201, 50_000)  # over a tenth of the cap written since the check: it checks
    assert not any(p.exists() for p in more) and big.exists()

    mc.reset()  # a new process, but another checked a moment ago (the machine-wide stamp)
    more = overfill("b")
    _put("banks", 300, 100)
    assert all(p.exists() for p in more)
    os.utime(stamp, (now - mc.PRUNE_EVERY_S - 1,) * 2)
    mc.reset()
    last = _put("banks", 400, 100)
    assert last.exists() and not any(p.exists() for p in more)
    assert sum(p.stat().st_size for p in cache.joinpath("banks").iterdir()) <= mc.PRUNE_TO * cap


def test_an_error_in_pruning_never_reaches_the_process(cache, monkeypatch):
    monkeypatch.setenv(mc.MAX_ENV, "0.001")

    def broken(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(mc, "scan", broken)
    p = _put("faces", 0, 5000)
    assert mc.read("faces", p.name)[0] == {"i": 0}
    monkeypatch.undo()
    monkeypatch.setenv(mc.ENV, str(cache.parent))
    mc.reset()
    monkeypatch.setattr(mc, "remove", broken)
    monkeypatch.setenv(mc.MAX_ENV, "0.001")
    assert mc.write("faces", mc.key(1), {"i": 1}, {"a": np.zeros(5000, np.uint8)})
    (cache / ".last-prune").unlink()
    mc.reset()
    (cache / ".last-prune").mkdir()  # the stamp cannot be written: no check, no error
    assert mc.write("faces", mc.key(2), {"i": 2}, {"a": np.zeros(5000, np.uint8)})
    monkeypatch.setenv(mc.MAX_ENV, "not a number")
    mc.reset()
    assert mc.write("faces", mc.key(3), {"i": 3})


def test_read_refreshes_a_stale_atime_and_keeps_mtime(cache):
    old = time.time() - 3 * DAY
    p = _put("faces", 0, 100, old)
    mtime_ns = p.stat().st_mtime_ns
    assert mc.read("faces", p.name) is not None
    st = p.stat()
    assert st.st_mtime_ns == mtime_ns and time.time() - st.st_atime < 60


def test_the_atlas_and_the_mapped_stores_refresh_their_last_use(cache, monkeypatch):
    """Readers that open entries themselves (the glyph atlas, mapped tile stores and banks) pass
    each entry they open to `refresh`, which sets a last use over TOUCH_EVERY_S old to now and
    keeps mtime (the atlas identifies its file by it), and leaves a fresher one alone. (Linux's
    relatime also moves atime after a utime, so the decision is checked on `refresh` itself.)"""
    from synthgen.renderers import fonts as F
    from synthgen.renderers import glyphs as G
    from synthgen.renderers import tiles as T

    from .test_machinecache import forget_caches

    forget_caches()
    try:
        face = F.resolve_faces(["dejavu"], [])[0]
        for ch in "Quartz":
            G.glyph(face.path, face.index, 18, ch)
        G.flush_atlas()
        (atlas,) = (cache / "glyphs").iterdir()
        store = _put("tiles", 0, 4096)
        seen = []
        real = mc.refresh
        monkeypatch.setattr(mc, "refresh", lambda fd, st: seen.append(os.fstat(fd).st_ino) or real(fd, st))
        forget_caches()
        assert G.glyph(face.path, face.index, 18, "Q").w > 0  # read from the atlas entry
        assert T.mapped("tiles", store.name) is not None
        ours = [ino for ino in seen if ino in (atlas.stat().st_ino, store.stat().st_ino)]  # (faces' reads too)
        assert ours == [atlas.stat().st_ino, store.stat().st_ino]
    finally:
        forget_caches()

    calls = []
    monkeypatch.setattr(mc.os, "utime", lambda fd, ns: calls.append((fd, ns)))
    monkeypatch.setattr(mc.os, "supports_fd", {mc.os.utime})
    now = time.time()
    for age, touched in ((2 * mc.TOUCH_EVERY_S, True), (mc.TOUCH_EVERY_S / 4, False)):
        calls.clear()
        st = os.stat_result((0o100644, 1, 2, 1, 0, 0, 10, int(now - age), int(now - 2 * age), 0,
                             now - age, now - 2 * age, 0, int(now - age) * 10**9, 123456789, 0))
        mc.refresh(7, st)
        assert [(fd, ns[1]) for fd, ns in calls] == ([(7, 123456789)] if touched else []), age  # mtime kept
        assert all(abs(ns[0] / 1e9 - time.time()) < 60 for _, ns in calls)


def test_help_explains_the_cache(capsys):
    with pytest.raises(SystemExit):
        main(["cache", "--help"])
    out = capsys.readouterr().out
    for word in (*mc.KINDS, mc.ENV, mc.MAX_ENV, "XDG_CACHE_HOME", "~/.cache/synthgen", "synthgen cache clear --kind",
                 "--older-than", str(mc.DEFAULT_MAX_MB), "90%"):
        assert word in out, word
