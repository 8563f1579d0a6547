"""A window of a turned and mirrored texture tile, cut before the turn.

`_photo_background` (backgrounds.py) turns a whole 512 x 512 tile by a multiple of 90 degrees,
mirrors it, then keeps a window about the size of the output (a 32 px line: a few hundred
pixels of 262,144): ~0.3 ms a photo background. Turning and mirroring only permute pixels, so
the same window can be cut from the unturned tile first and then turned: the same bytes for
a fraction of the work.
"""

from __future__ import annotations

import cv2
import numpy as np

_ROTATE = (None, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_COUNTERCLOCKWISE)


def turned_shape(tile: np.ndarray, turn: int) -> tuple[int, int]:
    """(height, width) of `tile` turned `turn` quarter turns clockwise."""
    h, w = tile.shape[:2]
    return (w, h) if turn % 2 else (h, w)


def turned(tile: np.ndarray, turn: int, flip: bool) -> np.ndarray:
    """The whole tile turned `turn` quarter turns clockwise, then mirrored if `flip`."""
    out = tile if turn == 0 else cv2.rotate(tile, _ROTATE[turn])
    return cv2.flip(out, 1) if flip else out


def window(tile: np.ndarray, turn: int, flip: bool, x: int, y: int, ww: int, wh: int) -> np.ndarray:
    """`cv2.flip(cv2.rotate(tile, turn), 1)[y : y + wh, x : x + ww]` (flip only if `flip`; turn
    0-3 quarter turns clockwise), computed on the window alone. The window must lie inside the
    turned tile."""
    H, W = tile.shape[:2]
    RH, RW = turned_shape(tile, turn)
    if not (0 <= x and 0 <= y and x + ww <= RW and y + wh <= RH and ww > 0 and wh > 0):
        raise ValueError(f"window {x},{y} {ww}x{wh} outside the turned {RW}x{RH} tile")
    if flip:  # a mirrored column c of the turned tile is its column RW - 1 - c
        x = RW - x - ww
    if turn == 0:
        out = tile[y : y + wh, x : x + ww]
    elif turn == 1:  # R[r, c] = T[H - 1 - c, r]
        out = cv2.rotate(tile[H - x - ww : H - x, y : y + wh], _ROTATE[1])
    elif turn == 2:  # R[r, c] = T[H - 1 - r, W - 1 - c]
        out = cv2.rotate(tile[H - y - wh : H - y, W - x - ww : W - x], _ROTATE[2])
    else:  # R[r, c] = T[c, W - 1 - r]
        out = cv2.rotate(tile[x : x + ww, W - y - wh : W - y], _ROTATE[3])
    return cv2.flip(out, 1) if flip else out
