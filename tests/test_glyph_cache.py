"""The per-process glyph cache stays within its budget and never changes what is drawn."""

import numpy as np

import synthgen.renderers.glyphs as G
from synthgen.draws import KeyedSeed, sample_rng
from synthgen.renderers.fonts import resolve_faces


def test_glyph_cache_is_bounded_and_transparent(monkeypatch):
    face = resolve_faces(["dejavu"], [])[0]
    first = {size: G.layout_line(face.path, face.index, size, "Quartz jinx") for size in (12, 20)}
    monkeypatch.setattr(G, "GLYPH_BUDGET", 40)
    G._tables.clear()
    monkeypatch.setattr(G, "_cached", 0)
    for size in range(8, 40):  # ~30 sizes x 10 glyphs: several times the budget
        G.layout_line(face.path, face.index, size, "Quartz jinx")
        assert G._cached <= 40
        assert sum(len(t) for t in G._tables.values()) <= 40
    for size, lay in first.items():  # after flushes the same text is drawn identically
        again = G.layout_line(face.path, face.index, size, "Quartz jinx")
        assert np.array_equal(again.mask, lay.mask) and np.array_equal(again.boxes, lay.boxes)
    G._tables.clear()


def test_eviction_keeps_the_tables_in_use(monkeypatch):
    # least recently used tables go first: a size used between every other one survives
    face = resolve_faces(["dejavu"], [])[0]
    monkeypatch.setattr(G, "GLYPH_BUDGET", 60)
    G._tables.clear()
    monkeypatch.setattr(G, "_cached", 0)
    hot = (face.path, face.index, 16)
    made = []
    real = G._make_glyph
    monkeypatch.setattr(G, "_make_glyph", lambda f, size, ch, *at: made.append(size) or real(f, size, ch, *at))
    for size in range(20, 60):
        G.layout_line(face.path, face.index, 16, "Quartz jinx")
        G.layout_line(face.path, face.index, size, "Quartz jinx")
        assert G._cached == sum(len(t) for t in G._tables.values()) <= 60
    assert hot in G._tables and (face.path, face.index, 20) not in G._tables
    assert made.count(16) == len(set("Quartz jinx"))  # rasterised once, never flushed
    G._tables.clear()


def test_keyed_seed_fills_any_request_and_separates_keys():
    a = KeyedSeed(3, 7).generate_state(40, np.uint32)  # more than one BLAKE2b block
    assert a.dtype == np.uint32 and a.shape == (40,) and len(set(a.tolist())) > 35
    assert np.array_equal(a[:8].view(np.uint64), KeyedSeed(3, 7).generate_state(4, np.uint64))
    states = {sample_rng(s, i, k).bit_generator.state["state"]["state"]
              for s in range(3) for i in range(50) for k in range(2)}
    assert len(states) == 300
