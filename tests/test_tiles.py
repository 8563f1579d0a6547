"""tiles.window against the whole tile turned and mirrored, then cropped (the obvious way)."""

import os

import cv2
import numpy as np
import pytest

from synthgen.renderers.tiles import FileTile, turned_shape, window

ROT = (None, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_COUNTERCLOCKWISE)


def reference(tile, turn, flip, x, y, ww, wh):
    t = tile if turn == 0 else cv2.rotate(tile, ROT[turn])
    if flip:
        t = cv2.flip(t, 1)
    return t[y : y + wh, x : x + ww]


@pytest.mark.parametrize("turn", [0, 1, 2, 3])
@pytest.mark.parametrize("flip", [False, True])
def test_window_equals_turning_the_whole_tile(turn, flip):
    rng = np.random.default_rng(turn * 2 + flip)
    tile = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)  # not square: turns swap the sides
    RH, RW = turned_shape(tile, turn)
    assert (RH, RW) == reference(tile, turn, False, 0, 0, 10**4, 10**4).shape[:2]
    for _ in range(25):
        ww, wh = int(rng.integers(1, RW + 1)), int(rng.integers(1, RH + 1))
        x, y = int(rng.integers(0, RW - ww + 1)), int(rng.integers(0, RH - wh + 1))
        got = window(tile, turn, flip, x, y, ww, wh)
        assert np.array_equal(got, reference(tile, turn, flip, x, y, ww, wh)), (x, y, ww, wh)
    with pytest.raises(ValueError):
        window(tile, turn, flip, RW - 2, 0, 5, 5)


@pytest.mark.parametrize("turn", [0, 1, 2, 3])
@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("source", ["arrays", "files"])
def test_window_from_the_transposed_tile(turn, flip, source, tmp_path):
    """A quarter turn's window read from the transposed tile (the transposed tile store), as
    arrays and as FileTile reads of both tiles from one file: the same pixels as the reference."""
    rng = np.random.default_rng(100 + turn * 2 + flip)
    tile = rng.integers(0, 256, (41, 29, 3), dtype=np.uint8)
    tile_t = np.ascontiguousarray(tile.transpose(1, 0, 2))
    fd = -1
    if source == "files":
        f = tmp_path / "tiles.bin"
        f.write_bytes(b"\x07" * 13 + tile.tobytes() + tile_t.tobytes())  # odd offsets on purpose
        fd = os.open(f, os.O_RDONLY)
        tile, tile_t = FileTile(fd, 13, tile.shape), FileTile(fd, 13 + tile.nbytes, tile_t.shape)
        whole = np.frombuffer(f.read_bytes()[13 : 13 + 41 * 29 * 3], np.uint8).reshape(41, 29, 3)
    else:
        whole = tile
    try:
        RH, RW = turned_shape(tile, turn)
        for _ in range(25):
            ww, wh = int(rng.integers(1, RW + 1)), int(rng.integers(1, RH + 1))
            x, y = int(rng.integers(0, RW - ww + 1)), int(rng.integers(0, RH - wh + 1))
            got = window(tile_t, turn, flip, x, y, ww, wh, True) if turn % 2 else window(tile, turn, flip, x, y, ww, wh)
            assert np.array_equal(got, reference(whole, turn, flip, x, y, ww, wh)), (x, y, ww, wh)
        if turn % 2 == 0:
            with pytest.raises(ValueError):  # a transposed tile serves quarter turns only
                window(tile_t, turn, flip, 0, 0, 1, 1, True)
    finally:
        if fd >= 0:
            os.close(fd)
