"""The glyph atlas (synthgen/renderers/glyphs.py): its compact index reads back exactly the
glyphs FreeType draws, however its entries were appended and however often their files are
closed and reopened; it holds no Python object per indexed glyph; its key is an explicit format version, not this module's source; and it leaves
no file open at exit."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import synthgen.renderers.glyphs as G
from synthgen import machinecache
from synthgen.renderers import fonts as F

from .test_machinecache import forget_caches

LATIN = "Quartz jinx 0-9 VEX: 12.5% (a/b) fiord"
HAN = "汉字的字形中文测试天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache folder; every in-process glyph cache forgotten before and after."""
    monkeypatch.setenv(machinecache.ENV, str(tmp_path / "cache"))
    forget_caches()
    yield tmp_path / "cache"
    monkeypatch.undo()
    forget_caches()


def _forget_process():
    G.close_atlases()
    G._atlases.clear()
    G._tables.clear()
    G._cached = 0


def _ref_insets(mask):
    """edge_insets as it was written before the lookup tables (the float arithmetic itself)."""
    h, w = mask.shape
    cols, rows = mask.max(axis=0).tolist(), mask.max(axis=1).tolist()
    cl, cr, ct, cb = cols[0] / 255.0, cols[-1] / 255.0, rows[0] / 255.0, rows[-1] / 255.0
    l, r = ((1.0 - cl) / 2, (1.0 - cl) / 2) if w == 1 else (G._inset(cl), G._inset(cr))
    t, b = ((1.0 - ct) / 2, (1.0 - ct) / 2) if h == 1 else (G._inset(ct), G._inset(cb))
    return l, t, r, b


def test_insets_from_edge_bytes_are_the_float_formula():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        h, w = rng.integers(1, 6, size=2)
        m = rng.integers(0, 256, size=(h, w)).astype(np.uint8)
        m[rng.random((h, w)) < 0.5] = 0
        m[0, 0] = max(m[0, 0], 1)
        m[-1, -1] = max(m[-1, -1], 1)
        e = G._edge_bytes(m)
        ref = _ref_insets(m)
        assert G.edge_insets(m) == ref
        assert G._insets(e, w, h) == ref


def _faces():
    latin = F.resolve_faces(["dejavu"], [])[0]
    han = next(f for f in F.resolve_faces(["noto-cjk"], []) if f.covers(HAN))
    return latin, han


def _same_glyph(g, ref):
    return (np.array_equal(g.mask, ref.mask) and g.mask.dtype == np.uint8
            and (g.x0, g.y0, g.w, g.h, g.advance, g.blank, g.inset) == (ref.x0, ref.y0, ref.w, ref.h, ref.advance, ref.blank, ref.inset))


@pytest.mark.parametrize("slurp", [G.ATLAS_SLURP, 0])  # small entries read whole; every entry read by pread
def test_atlas_reads_back_every_glyph_exactly(cache, monkeypatch, slurp):
    monkeypatch.setattr(G, "ATLAS_SLURP", slurp)
    latin, han = _faces()
    jobs = [(latin, 14, LATIN), (latin, 30, LATIN), (han, 20, HAN), (han, 48, HAN)]
    # appended in several write-backs, in an order that is not code point order
    for face, size, text in jobs:
        for part in (text[::3], text[1::3], text[2::3]):
            for ch in part:
                G.glyph(face.path, face.index, size, ch)
            G.flush_atlas()
        _forget_process()
    monkeypatch.setattr(G, "ATLAS_OPEN_FILES", 2)  # entries pushed out and reopened between reads
    drawn = []
    real = G._rasterise_glyph
    monkeypatch.setattr(G, "_rasterise_glyph", lambda f, size, ch: drawn.append(ch) or real(f, size, ch))
    for k in range(max(map(len, (LATIN, HAN)))):
        for face, size, text in jobs:
            if k < len(text):
                g = G.glyph(face.path, face.index, size, text[k])
                assert _same_glyph(g, real(face, size, text[k]))
                assert len(G._open_files) <= 2
    assert drawn == []  # every glyph came from the atlas
    ats = [a for a in G._atlases.values() if a is not None]
    assert len(ats) == 4
    for at in ats:
        assert at.recs.dtype == np.int32 and at.recs.shape == (len(at.cps), 7)
        assert np.all(np.diff(at.cps.astype(np.int64)) > 0)  # sorted, one row per code point
        assert at.blob is None or at not in G._open_files.values()  # a small entry keeps no descriptor
    if slurp:
        assert any(at.blob is not None for at in ats) and not any(at._fd >= 0 for at in ats)
    else:
        assert any(at._fd >= 0 for at in ats) and not any(at.blob is not None for at in ats)


def test_small_entry_masks_are_views_of_its_bytes(cache):
    latin, _ = _faces()
    for ch in LATIN:
        G.glyph(latin.path, latin.index, 22, ch)
    G.flush_atlas()
    _forget_process()
    g = G.glyph(latin.path, latin.index, 22, "Q")
    at = G._atlas(latin.path, latin.index, 22)
    assert at.blob is not None and g.mask.base is at.blob and not g.mask.flags.writeable  # not held twice
    assert G.glyph(latin.path, latin.index, 22, " ").mask is G._BLANK  # blank glyphs share one mask


def test_missing_and_damaged_entries_fall_back_to_drawing(cache):
    latin, _ = _faces()
    ref = {ch: G._rasterise_glyph(latin, 18, ch) for ch in "Quartz"}
    for ch in "Quartz":
        G.glyph(latin.path, latin.index, 18, ch)
    G.flush_atlas()
    _forget_process()
    at = G._atlas(latin.path, latin.index, 18)
    assert at.get("W") is None  # not in the entry
    (p,) = (cache / f"v{machinecache.FORMAT}" / "glyphs").iterdir()
    b = bytearray(p.read_bytes())
    b[-1] ^= 0xFF  # the last mask written
    p.write_bytes(bytes(b))
    _forget_process()
    for ch in "Quartz":
        assert _same_glyph(G.glyph(latin.path, latin.index, 18, ch), ref[ch])
    assert G._atlas(latin.path, latin.index, 18).damaged
    assert G.flush_atlas() > 0
    _forget_process()
    for ch in "Quartz":
        assert _same_glyph(G.glyph(latin.path, latin.index, 18, ch), ref[ch])
    assert not G._atlas(latin.path, latin.index, 18).damaged


def test_atlas_key_is_the_format_version_not_the_source(cache, monkeypatch, tmp_path):
    latin, _ = _faces()
    name = G._atlas_name(latin.path, latin.index, 20)
    assert name and name != G._atlas_name(latin.path, latin.index, 21)
    edited = tmp_path / "glyphs.py"
    edited.write_text(open(G.__file__).read() + "\n# an edit\n")
    monkeypatch.setattr(G, "__file__", str(edited))
    machinecache.reset()
    assert G._atlas_name(latin.path, latin.index, 20) == name  # an edit elsewhere keeps the atlas warm
    monkeypatch.setattr(G, "ATLAS_VERSION", G.ATLAS_VERSION + 1)
    assert G._atlas_name(latin.path, latin.index, 20) != name


def test_no_atlas_file_is_left_open_at_exit(tmp_path):
    script = textwrap.dedent(f"""
        import synthgen.renderers.glyphs as G
        from synthgen.renderers.fonts import resolve_faces
        G.ATLAS_SLURP = 0  # every entry keeps its file open
        faces = resolve_faces(["dejavu", "noto-cjk"], [])[:3]
        for _ in range(2):
            for f in faces:
                for ch in {LATIN + HAN!r}:
                    if f.covers(ch):
                        G.glyph(f.path, f.index, 20, ch)
            G.flush_atlas()
            G._tables.clear()
            G._atlases.clear()
        print(len(G._open_files))
    """)
    env = {**__import__("os").environ, machinecache.ENV: str(tmp_path / "cache")}
    r = subprocess.run([sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", script],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[-1]) > 0  # files were open when the interpreter exited
    # neither the atlas's files nor the font files fontTools read for the faces (fonts._read_faces)
    assert "unclosed" not in r.stderr, r.stderr


# What an atlas entry's bytes depend on in the code, hashed as it stood at each ATLAS_VERSION.
# Editing any of these functions fails the test below until someone decides: bump
# ATLAS_VERSION (the glyphs or the entry layout change: every entry is rasterised again once)
# or, for an edit that changes no byte (a comment, a rename), record the new hash here.
ATLAS_CODE = {2: "5cc86e12641b"}  # _load compiled (same index); before: a21bc0b4f2f5


def _atlas_code_hash() -> str:
    import hashlib
    import inspect

    parts = [G._rasterise_glyph, G._rasterise, G._inset, G._insets, G._edge_bytes, G._write_atlas, G._Atlas._load,
             F.pil_font]
    src = "".join(inspect.getsource(f) for f in parts) + repr(G._ATLAS_FIELDS)
    return hashlib.sha256(src.encode()).hexdigest()[:12]


def test_atlas_version_follows_the_code_its_entries_depend_on():
    got = _atlas_code_hash()
    assert ATLAS_CODE.get(G.ATLAS_VERSION) == got, (
        f"the code behind glyph atlas entries changed (hash {got}): if glyphs or the entry layout "
        f"change, bump glyphs.ATLAS_VERSION and add {{{G.ATLAS_VERSION + 1}: {got!r}}} to ATLAS_CODE; "
        f"if no byte changes, set ATLAS_CODE[{G.ATLAS_VERSION}] = {got!r}")
