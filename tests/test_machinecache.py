"""The machine cache (synthgen/machinecache.py) only ever saves time: faces, glyphs and
background banks read back from it are exactly what a process computes without it, whether
the cache is cold, warm, damaged, shared by concurrent writers, or unusable."""

import multiprocessing as mp

import numpy as np
import pytest

import synthgen.renderers.glyphs as G
from synthgen import machinecache
from synthgen.augment import photometric as P
from synthgen.renderers import backgrounds as B
from synthgen.renderers import fonts as F


def forget_caches() -> None:
    """Every in-process cache of what the machine cache holds (faces, glyphs, banks) forgotten."""
    machinecache.reset()
    F.load_faces.cache_clear()
    F._FONT_IDS.clear()
    G.close_atlases()
    G._atlases.clear()
    G._tables.clear()
    G._cached = 0
    G._pending = 0
    for fn in (B.bank, B.fractal_bank, B.paper_bank, B.stain_bank, P._noise_bank):
        fn.cache_clear()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache folder for this test; every in-process cache forgotten before and after."""
    monkeypatch.setenv(machinecache.ENV, str(tmp_path / "cache"))
    forget_caches()
    yield tmp_path / "cache" / f"v{machinecache.FORMAT}"
    monkeypatch.undo()
    forget_caches()


def _faces():
    return [(f.path, f.index, f.name, f.cmap, f.family, f.style, f.tags, f.weight, f.italic, f.scripts)
            for f in F.resolve_faces(["dejavu", "noto-cjk"], [])]


TEXTS = ("Quartz jinx 0-9", "汉字的字形", "Vex: 12.5% (a/b)")


def _draw(faces):
    out = []
    for face in faces[:3]:
        for size in (14, 28):
            for t in TEXTS:
                if face.covers(t):
                    lay = G.layout_line(face.path, face.index, size, t)
                    out.append((lay.mask.copy(), lay.boxes.copy()))
    return out


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a, b))


def test_pack_round_trip_and_damage():
    data = machinecache.pack({"k": [1, "x"]}, {"a": np.arange(7, dtype=np.int32), "b": np.ones((2, 3))})
    meta, arrays = machinecache.unpack(bytearray(data))
    assert meta == {"k": [1, "x"]} and arrays["a"].tolist() == list(range(7)) and arrays["b"].shape == (2, 3)
    assert arrays["a"].flags.writeable
    bad = bytearray(data)
    bad[-3] ^= 1
    assert machinecache.unpack(bad) is None
    assert machinecache.unpack(data[:-1]) is None
    assert machinecache.unpack(b"not an entry") is None


def test_faces_glyphs_and_banks_read_back_exactly(cache, monkeypatch):
    monkeypatch.setenv(machinecache.ENV, "off")
    machinecache.reset()
    ref_faces = _faces()
    ref = _draw(F.resolve_faces(["dejavu", "noto-cjk"], []))
    ref_bank = B.stain_bank()
    monkeypatch.setenv(machinecache.ENV, str(cache.parent))
    for attempt in ("cold", "warm"):
        machinecache.reset()
        F.load_faces.cache_clear()
        G._atlases.clear()
        G._tables.clear()
        B.stain_bank.cache_clear()
        drawn = []
        real = G._rasterise_glyph
        monkeypatch.setattr(G, "_rasterise_glyph", lambda f, size, ch: drawn.append(ch) or real(f, size, ch))
        assert _faces() == ref_faces
        assert _same(_draw(F.resolve_faces(["dejavu", "noto-cjk"], [])), ref)
        assert all(np.array_equal(a, b) for a, b in zip(B.stain_bank(), ref_bank))
        assert G.flush_atlas() == (len(drawn) if attempt == "cold" else 0)
        if attempt == "cold":
            assert drawn and (cache / "glyphs").is_dir() and (cache / "faces").is_dir() and (cache / "banks").is_dir()
        else:
            assert drawn == []  # every glyph came from the atlas


def test_noise_bank_reads_back_exactly(cache, monkeypatch):
    """The augment stage's noise bank: drawn with the cache off, then cold (drawn and written),
    warm (read back, nothing drawn) and damaged (drawn again): the same bytes each time."""
    monkeypatch.setenv(machinecache.ENV, "off")
    machinecache.reset()
    ref = P._noise_bank()
    monkeypatch.setenv(machinecache.ENV, str(cache.parent))
    real, drawn = P._draw_noise_bank, []
    monkeypatch.setattr(P, "_draw_noise_bank", lambda: drawn.append(1) or real())
    for attempt, draws in (("cold", 1), ("warm", 1), ("damaged", 2)):
        if attempt == "damaged":
            (entry,) = (cache / "banks").iterdir()
            data = bytearray(entry.read_bytes())
            data[len(data) // 2] ^= 0xFF
            entry.write_bytes(bytes(data))
        machinecache.reset()
        P._noise_bank.cache_clear()
        got = P._noise_bank()
        assert len(drawn) == draws, attempt
        assert all(np.array_equal(a, b) for a, b in zip(got, ref)) and got[0].shape == (P.NOISE_BANK, P.NOISE_BANK, 3)


def test_damaged_atlas_is_redrawn_and_rewritten(cache):
    faces = F.resolve_faces(["dejavu"], [])
    ref = _draw(faces)
    G.flush_atlas()
    for p in (cache / "glyphs").iterdir():  # flip a byte in the last mask of every entry
        b = bytearray(p.read_bytes())
        b[-1] ^= 0xFF
        p.write_bytes(bytes(b))
    G._atlases.clear()
    G._tables.clear()
    assert _same(_draw(faces), ref)
    assert G.flush_atlas() > 0  # the damaged glyphs were drawn again and written back
    G._atlases.clear()
    G._tables.clear()
    assert _same(_draw(faces), ref)
    assert all(not at.damaged for at in G._atlases.values() if at is not None)


def test_unusable_folder_falls_back(tmp_path, monkeypatch, cache):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv(machinecache.ENV, str(blocker / "cache"))  # cannot be made: a file is in the way
    machinecache.reset()
    F.load_faces.cache_clear()
    faces = F.resolve_faces(["dejavu"], [])
    assert faces and machinecache.root() is None  # the first failed write turned the cache off
    lay = G.layout_line(faces[0].path, faces[0].index, 20, "Quartz")
    assert lay.mask.any()
    G.flush_atlas()


def _writer(args):
    folder, chars = args
    import os

    os.environ[machinecache.ENV] = folder
    machinecache.reset()
    G._atlases.clear()
    G._tables.clear()
    face = F.resolve_faces(["dejavu"], [])[0]
    for k in range(0, len(chars), 3):  # many small write-backs, racing the other writers
        G.layout_line(face.path, face.index, 24, chars[k : k + 3])
        G.flush_atlas()
    return True


def test_concurrent_writers_leave_an_intact_atlas(cache):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    jobs = [(str(cache.parent), alphabet[k::4]) for k in range(4)]
    # spawn, not fork: earlier tests leave threads in this process (Ray's, tqdm's monitor), and a
    # forked pool worker can inherit a lock one of them held and hang (seen on Debian's Python 3.11.2)
    with mp.get_context("spawn").Pool(4) as pool:
        assert all(pool.map(_writer, jobs))
    face = F.resolve_faces(["dejavu"], [])[0]
    machinecache.reset()
    G._atlases.clear()
    G._tables.clear()
    at = G._atlas(face.path, face.index, 24)
    assert at is not None and at.rows  # an intact entry (some additions may be lost, never torn)
    for cp in at.rows:  # every glyph in it is the one FreeType draws
        g = at.get(chr(cp))
        ref = G._rasterise_glyph(face, 24, chr(cp))
        assert np.array_equal(g.mask, ref.mask) and (g.x0, g.y0, g.advance, g.inset) == (ref.x0, ref.y0, ref.advance, ref.inset)
