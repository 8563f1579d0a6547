"""styles.photo_contrasting: the first pixel along its walk over a photo tile that contrasts
with the background under the text, against the whole walk gathered with numpy."""

import contextlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen.draws import Draws
from synthgen.renderers import styles
from synthgen.renderers.backgrounds import photo_tiles

from .helpers import KernelSpy


def _walk_with_numpy(tile, u, v, lo, hi, contrast):
    """Every pixel of the walk at once (the rows and columns from the _WALK tables), luma in
    float64, the first that contrasts."""
    h, w = tile.shape[:2]
    wv, wu = np.array(styles._WALK_V), np.array(styles._WALK_U)
    p = tile[(((v + wv) % 1.0) * (h - 1)).astype(np.intp), (((u + wu) % 1.0) * (w - 1)).astype(np.intp)]
    c = p.astype(np.float64)
    y = 0.299 * c[:, 0] + 0.587 * c[:, 1] + 0.114 * c[:, 2]
    ok = np.flatnonzero((y <= lo - contrast) | (y >= hi + contrast))
    return tuple(p[ok[0]].tolist()) if ok.size else None


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 255), st.integers(0, 255), st.floats(0, 140), st.sampled_from([(1, 1), (3, 5), (64, 48)]))
def test_photo_colour_is_the_first_contrasting_pixel_of_the_walk(index, a, b, contrast, shape):
    rng = np.random.default_rng(index)
    under = np.full((6, 9), min(a, b), np.uint8)
    under[::2] = max(a, b)
    tile = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    tiles = {}

    def fake_photo(path, touch=0):
        return tiles.setdefault(path, tile)

    real = styles._photo, styles._photo_file
    styles._photo, styles._photo_file = fake_photo, lambda path: None  # the tile's array (the map's view)
    try:
        d = Draws(5, index)
        got = styles.photo_contrasting(d, "c", under, contrast)
    finally:
        styles._photo, styles._photo_file = real
    lo, hi = styles.hist_quantile(under, 0.1), styles.hist_quantile(under, 0.9)
    assert got == _walk_with_numpy(tile, d.factors["c.u"], d.factors["c.v"], lo, hi, contrast)
    assert got is None or all(type(x) is int for x in got)
    assert photo_tiles()  # the shipped tiles exist (the function returns None without them)


@contextlib.contextmanager
def _one_tile_store(tmp_path, monkeypatch, shape, seed):
    """(store, path): a tile store holding one random tile, in a machine cache of its own."""
    import cv2

    from synthgen import machinecache
    from synthgen.renderers import tiles as T

    monkeypatch.setenv(machinecache.ENV, str(tmp_path / "cache"))
    machinecache.reset()
    try:
        path = str(tmp_path / "t.png")
        cv2.imwrite(path, np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8))
        yield T.TileStore.open((path,), lambda p: cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)), path
    finally:
        monkeypatch.undo()
        machinecache.reset()


def test_photo_colour_read_from_the_store_file_is_the_one_from_its_map(tmp_path, monkeypatch):
    """The walk over a tile read pixel by pixel from the tile store's file (tiles.FileTile, what
    a machine with a cache does) picks the colour the walk over the mapped tile picks."""
    with _one_tile_store(tmp_path, monkeypatch, (40, 70, 3), 3) as (store, path):
        monkeypatch.setattr(styles, "photo_tiles", lambda: (path,))
        under = np.full((6, 9), 90, np.uint8)
        under[::2] = 160
        native = styles._native
        compiled = []  # the compiled walk's answers (so the test cannot pass on the Python loop alone)
        hits = 0
        for index in range(200):
            picks = []
            # the file's walk in C, the file's walk in Python (FileTile.pixel), the map's walk
            # (NoWalk: the compiled module with its walk declining, so the Python loop over FileTile.pixel runs)
            for ft, lib in ((store.file_tile(path), native and KernelSpy(native, "photo_walk", compiled)),
                            (store.file_tile(path), native and KernelSpy(native, "photo_walk", [], lambda *a: NotImplemented)),
                            (None, native)):
                monkeypatch.setattr(styles, "_native", lib)
                monkeypatch.setattr(styles, "_photo_file", lambda p, ft=ft: ft)
                monkeypatch.setattr(styles, "_photo", lambda p, touch=0: store.get(p, touch))
                picks.append(styles.photo_contrasting(Draws(5, index), "c", under, float(index % 200)))
            assert picks[0] == picks[1] == picks[2]
            assert picks[0] is None or all(type(x) is int for x in picks[0])
            hits += picks[0] is not None
        assert 0 < hits < 200  # both outcomes met
        if native is not None:
            assert len(compiled) == 200 and NotImplemented not in compiled


def test_compiled_walk_decides_at_the_thresholds_as_the_walk_does(tmp_path, monkeypatch):
    """The compiled walk (`_native.photo_walk`) over a tile of the store's file, against the whole
    walk gathered with numpy, with thresholds set exactly at the luma of a pixel of the walk (or
    a hair either side): a pixel's luma computed in another order, or a row or column rounded
    another way, picks another pixel here."""
    import pytest

    if styles._native is None:
        pytest.skip("no compiled module")
    rng = np.random.default_rng(11)
    with _one_tile_store(tmp_path, monkeypatch, (37, 53, 3), 12) as (store, path):
        ft, tile = store.file_tile(path), store.get(path)
        h, w = tile.shape[:2]
        n = styles.PHOTO_COLOUR_TRIES
        found = 0
        for i in range(600):
            u, v = float(rng.random()), float(rng.random())
            p = tile[(((v + np.array(styles._WALK_V)) % 1.0) * (h - 1)).astype(np.intp),
                     (((u + np.array(styles._WALK_U)) % 1.0) * (w - 1)).astype(np.intp)].astype(np.float64)
            y = 0.299 * p[:, 0] + 0.587 * p[:, 1] + 0.114 * p[:, 2]
            k = int(rng.integers(0, n))
            eps = (0.0, 1e-9, -1e-9)[i % 3]
            lo, hi = (float(y[k]) + eps, 1e9) if i % 2 else (-1e9, float(y[k]) + eps)
            got = styles._native.photo_walk(ft.fd, ft.off, h, w, 3, u, v, lo, hi, n)
            assert got == _walk_with_numpy(tile, u, v, lo, hi, 0.0), (i, u, v, lo, hi)
            found += got is not None
        assert 0 < found < 600
