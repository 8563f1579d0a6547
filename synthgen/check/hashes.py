"""Image fingerprints: an exact hash of the decoded pixels and a 64-bit perceptual hash.

The exact hash is of the decoded pixels (with the shape), not the file bytes, so the same
image stored as PNG and as JPEG-decoded-identically, or with different metadata, is one image.
The perceptual hash is the DCT pHash (Zauner 2010): grey, shrink to 32 x 32, 2-D DCT, the
8 x 8 lowest frequencies without the DC term, one bit per coefficient above their median.
Measured on this project's data (2000 ocr_line crops, 200 ocr_scene images): distinct samples
are >= 8 bits apart (1st percentile 10), while a JPEG q50 re-encode, +15 brightness, a 0.9x
down-and-up resize or a 1-px blur of the same image stays within 6 bits; hence the default
near-duplicate threshold of 6.

The pHash is grey and compares structure only, so among many renders of one short text (a
million lines hold thousands of each digit) a few distinct samples hash within 6 bits: 31
pairs in a million ocr_line crops, each the same text in other colours (and mostly another
face). The mean colour tells them apart: those 31 pairs differ by 30-207 levels in their most
different channel, while a JPEG q50 re-encode, a 0.9x resize or a blur of one image moves it
by < 2 and +15 brightness by 15 (`mean_colour`, threshold COLOUR_LEVELS in check/run.py).
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

PHASH_BITS = 64


def pixel_hash(rgb: np.ndarray) -> bytes:
    """16-byte BLAKE2b of the decoded pixels and their shape."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(rgb.shape).encode())
    h.update(np.ascontiguousarray(rgb).data)
    return h.digest()


def phash(rgb: np.ndarray) -> int:
    """64-bit DCT perceptual hash as an unsigned int."""
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    g = cv2.resize(g.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA)
    low = cv2.dct(g)[:8, :8].ravel()[1:]  # 63 coefficients; the DC term only says "how bright"
    bits = np.zeros(PHASH_BITS, bool)
    bits[:63] = low > np.median(low)
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def mean_colour(rgb: np.ndarray) -> tuple[float, float, float]:
    """Mean of each channel (a grey image: the same value three times)."""
    if rgb.ndim == 2:
        v = float(rgb.mean())
        return v, v, v
    m = cv2.mean(rgb)
    return float(m[0]), float(m[1]), float(m[2])


def hamming(a: int, b: int) -> int:
    return (int(a) ^ int(b)).bit_count()


def bands(h: int, n: int) -> list[int]:
    """Split the 64 bits into `n` contiguous bands (values tagged by band number). Two hashes
    within n - 1 bits of each other agree on at least one band (pigeonhole), so candidate
    pairs from equal bands include every near duplicate: the search is exact, not sampled."""
    edges = [round(k * PHASH_BITS / n) for k in range(n + 1)]
    return [(h >> (PHASH_BITS - edges[k + 1])) & ((1 << (edges[k + 1] - edges[k])) - 1) for k in range(n)]
