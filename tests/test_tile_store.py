"""tiles.TileStore: decoded tiles served from one memory-mapped machine-cache entry are exactly
what decoding gives, whether the entry is new, read back, damaged, or the cache is off; the
shipped photo tiles come back the same through backgrounds._photo."""

import cv2
import numpy as np
import pytest

from synthgen import machinecache
from synthgen.io.images import read_rgb
from synthgen.renderers import backgrounds as B
from synthgen.renderers import tiles as T


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(machinecache.ENV, str(tmp_path / "cache"))
    machinecache.reset()
    yield tmp_path / "cache" / f"v{machinecache.FORMAT}"
    monkeypatch.undo()
    machinecache.reset()


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(5)
    paths = []
    for k, (h, w) in enumerate([(37, 53), (64, 64), (5, 90)]):
        p = tmp_path / f"img{k}.png"
        cv2.imwrite(str(p), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        paths.append(str(p))
    return tuple(paths)


def _decode(path):
    return read_rgb(path, "test image")


def test_store_serves_what_decoding_gives(cache, images):
    calls = []
    store = T.TileStore.open(images, lambda p: calls.append(p) or _decode(p))
    assert store is not None and sorted(calls) == sorted(images)  # decoded once, to build the entry
    again = T.TileStore.open(images, lambda p: calls.append(p) or _decode(p))
    assert again is not None and len(calls) == len(images)  # read back: nothing decoded
    for s in (store, again):
        for _ in range(T.DROP_EVERY + 1):  # past a drop of the mapped pages: still the same pixels
            for p in images:
                a = s.get(p)
                assert a is not None and not a.flags.writeable and np.array_equal(a, _decode(p))
    assert store.get("/no/such/tile.jpg") is None


def test_damaged_pixels_and_header(cache, images):
    T.TileStore.open(images, _decode)
    (entry,) = (cache / "tiles").iterdir()
    data = bytearray(entry.read_bytes())
    data[-1] ^= 0xFF  # the last image's last byte
    entry.write_bytes(bytes(data))
    store = T.TileStore.open(images, _decode)
    assert np.array_equal(store.get(images[0]), _decode(images[0]))
    assert store.get(images[-1]) is None  # its CRC-32 does not check out: the caller decodes it
    assert store.file_tile(images[0]) is not None and store.file_tile(images[-1]) is None  # read from the file, the same
    data[20] ^= 0xFF  # the entry's head: not an entry any more, so it is built again
    entry.write_bytes(bytes(data))
    store = T.TileStore.open(images, _decode)
    assert all(np.array_equal(store.get(p), _decode(p)) for p in images)


def test_cache_off(monkeypatch, images):
    monkeypatch.setenv(machinecache.ENV, "off")
    machinecache.reset()
    assert T.TileStore.open(images, _decode) is None
    machinecache.reset()


def test_shipped_photo_tiles_are_the_decoded_files(cache):
    B._tile_store.cache_clear()
    B._decoded.cache_clear()
    try:
        tiles = B.photo_tiles()
        assert tiles and B._tile_store() is not None
        for p in tiles[:: max(1, len(tiles) // 12)]:
            assert np.array_equal(B._photo(p), read_rgb(p, "tile"))
        assert B._decoded.cache_info().currsize == 0  # every one came from the store
    finally:
        B._tile_store.cache_clear()


def test_banks_read_back_mapped(cache, monkeypatch):
    monkeypatch.setenv(machinecache.ENV, "off")
    machinecache.reset()
    B.paper_bank.cache_clear()
    ref = B.paper_bank(64)
    monkeypatch.setenv(machinecache.ENV, str(cache.parent))
    for attempt in ("cold", "warm"):
        machinecache.reset()
        B.paper_bank.cache_clear()
        got = B.paper_bank(64)
        assert len(got) == len(ref) and all(np.array_equal(a, b) for a, b in zip(got, ref))
        if attempt == "warm":  # views of the mapped entry
            assert all(not a.flags.writeable for a in got)
            for _ in range(T.DROP_EVERY + 1):
                T.used()
            assert all(np.array_equal(a, b) for a, b in zip(got, ref))  # past a drop of its pages
    B.paper_bank.cache_clear()


def test_file_tiles_read_what_the_map_holds(cache, images):
    """FileTile (regions read from the entry's file, not its map) against the mapped view: any
    band and window of it, every turn and mirror through tiles.window, single pixels."""
    store = T.TileStore.open(images, _decode)
    rng = np.random.default_rng(7)
    for p in images:
        a, ft = store.get(p), store.file_tile(p)
        assert ft is not None and ft.shape == a.shape
        H, W = a.shape[:2]
        for _ in range(40):
            r0, c0 = int(rng.integers(0, H)), int(rng.integers(0, W))
            r1, c1 = int(rng.integers(r0, H + 1)), int(rng.integers(c0, W + 1))
            assert np.array_equal(ft[r0:r1, c0:c1], a[r0:r1, c0:c1]), (p, r0, r1, c0, c1)
            r, c = int(rng.integers(0, H)), int(rng.integers(0, W))
            assert ft.pixel(r, c) == a[r, c].tolist()
        for turn in range(4):
            RH, RW = T.turned_shape(a, turn)
            for flip in (False, True):
                ww, wh = int(rng.integers(1, RW + 1)), int(rng.integers(1, RH + 1))
                x, y = int(rng.integers(0, RW - ww + 1)), int(rng.integers(0, RH - wh + 1))
                assert np.array_equal(T.window(ft, turn, flip, x, y, ww, wh), T.window(a, turn, flip, x, y, ww, wh))
    assert store.file_tile("/no/such/tile.jpg") is None
    # bands are read into one reused buffer: what a read returned stays as it was after the next
    a, ft = store.get(images[1]), store.file_tile(images[1])
    first = ft[3:9, 2:30]
    keep = first.copy()
    ft[40:64, :]
    assert np.array_equal(first, keep) and np.array_equal(first, a[3:9, 2:30])


def test_file_tile_reads_from_threads_do_not_mix(cache, images):
    """Each thread reads into its own buffer (preadv lets go of the GIL mid-read): bands read by
    four threads at once are each what the map holds."""
    import threading

    store = T.TileStore.open(images, _decode)
    p = images[1]
    a, errors = store.get(p), []

    def work(seed):
        rng = np.random.default_rng(seed)
        ft = store.file_tile(p)
        for _ in range(400):
            r0 = int(rng.integers(0, 60))
            r1 = int(rng.integers(r0 + 1, 65))
            if not np.array_equal(ft[r0:r1, 3:50], a[r0:r1, 3:50]):
                errors.append((seed, r0, r1))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
