"""EAST training targets (Zhou et al., CVPR 2017): score map, RBOX / QUAD geometry, mask.

Conventions (see docs/architecture.md, "Augmentation and labels" and "Data model"):

* Quads are ``(4, 2)`` arrays in continuous image coordinates: pixel ``(row i, col j)``
  covers ``[j, j+1) x [i, i+1)``, so its centre is ``(j + 0.5, i + 0.5)``. Vertices run
  clockwise on screen from the top-left vertex of the text's reading direction.
* Maps have ``h = ceil(H / stride)`` rows and ``w = ceil(W / stride)`` columns (identical to
  ``H // stride`` for the usual multiples of 4; it is the size of the reference's
  ``full_res_map[::stride, ::stride]``). Map cell ``(i, j)`` stands for input pixel
  ``(row stride*i, col stride*j)`` and samples the geometry at that pixel's centre,
  ``cell_point(i, j) = (stride*j + 0.5, stride*i + 0.5)`` (``CELL_OFFSET = 0.5``).
  A cell belongs to a polygon when its sample point is inside it (top-left fill rule:
  left/top boundary in, right/bottom boundary out, so abutting quads never share a cell).
* Score map: every quad shrunk by ``R = 0.3`` (:func:`shrink_quad`). Like the reference
  (argman/EAST ``generate_rbox``), *ignored* and too-small text is drawn in the score map and
  given geometry; it is removed from training by the mask instead. Where shrunk quads overlap,
  the later quad owns the cell's geometry.
* RBOX (5 channels): ``(top, right, bottom, left, theta)``. ``theta`` is the direction of one
  side of the minimal-area rectangle covering the quad, folded into ``(-pi/4, pi/4]``, measured
  on screen (x right, y down: positive theta turns clockwise on screen). With
  ``e = (cos theta, sin theta)`` ("right") and ``n = (-sin theta, cos theta)`` ("down"), the
  rectangle spans ``[u_min, u_max]`` along ``e`` and ``[v_min, v_max]`` along ``n``; for a cell
  point ``p``: ``top = p.n - v_min``, ``bottom = v_max - p.n``, ``left = p.e - u_min``,
  ``right = u_max - p.e`` (input pixels). So ``top + bottom`` and ``left + right`` are the
  rectangle's extents along ``n`` and ``e``; for text rotated by more than 45 degrees the
  folded frame turns the text's height into ``left + right`` (a consequence of the folding).
  Decoded RBOX corners come back in the rectangle's frame order, not the text's.
* QUAD (8 channels): ``(dx0, dy0, dx1, dy1, dx2, dy2, dx3, dy3)`` with
  ``cell_point + (dx_k, dy_k) = vertex_k``.
* Mask: 0 at every cell inside the *unshrunk* quad of ignored text and of text whose shorter
  side (the reference's ``min`` of the four edge lengths) is ``< min_text_size``; 1 elsewhere.

:func:`score_map` returns uint8 0/1 (the renderer's hot path); :func:`east_targets` returns
float32 maps. Everything is vectorised over all quads at once (a scan-line rasteriser computes exact cell
spans for all quads in one numpy pass), so the cost hardly grows with the number of quads and
there is no 255-quad limit.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

from ..native import lib as _native

__all__ = [
    "CELL_OFFSET",
    "R_SHRINK",
    "map_shape",
    "shrink_quad",
    "shrink_quads",
    "min_area_rects",
    "score_map",
    "east_targets",
    "fold_angle",
]

CELL_OFFSET = 0.5  # cell (i, j) samples input point (stride*j + 0.5, stride*i + 0.5)
R_SHRINK = 0.3
ALL_MAPS = ("score", "geo_rbox", "geo_quad", "mask")

_EMPTY = np.zeros(0, np.int64)
_ARANGE = np.arange(1 << 16, dtype=np.int64)


def _arange(n: int) -> np.ndarray:
    return _ARANGE[:n] if n <= len(_ARANGE) else np.arange(n, dtype=np.int64)


_HALF_PI = math.pi / 2
_QUARTER_PI = math.pi / 4


# --------------------------------------------------------------------------------------------
# geometry helpers


def map_shape(image_size: Sequence[int], stride: int = 4) -> tuple[int, int]:
    """``(h, w)`` of the label maps for an image of ``image_size = (H, W)``."""
    H, W = int(image_size[0]), int(image_size[1])
    return -(-H // stride), -(-W // stride)


def fold_angle(a):
    """Fold angle(s) (radians) modulo pi/2 into ``(-pi/4, pi/4]``."""
    a = np.asarray(a, dtype=np.float64)
    return a - _HALF_PI * np.ceil((a - _QUARTER_PI) / _HALF_PI)


def _as_quads(quads) -> np.ndarray:
    """Any sequence of (4, 2) quads -> float64 array (N, 4, 2)."""
    if isinstance(quads, np.ndarray):
        q = quads.astype(np.float64, copy=False)
    else:
        q = np.asarray(list(quads), dtype=np.float64)
    if q.size == 0:
        return np.zeros((0, 4, 2), np.float64)
    if q.ndim == 2:
        q = q[None]
    if q.shape[1:] != (4, 2):
        raise ValueError(f"quads must have shape (N, 4, 2), got {q.shape}")
    return q


_NEXT = np.array([1, 2, 3, 0])
_PREV = np.array([3, 0, 1, 2])
_PART_A = np.array([1, 0, 3, 2])   # other end of edges p0p1 / p2p3
_PART_B = np.array([3, 2, 1, 0])   # other end of edges p1p2 / p3p0


def _edge_lengths(q: np.ndarray) -> np.ndarray:
    """(N, 4) lengths of edges p_k -> p_{k+1}."""
    d = np.take(q, _NEXT, axis=1) - q
    d *= d
    return np.sqrt(d[..., 0] + d[..., 1])


def shrink_quads(quads, r: float = R_SHRINK, _elen: np.ndarray | None = None) -> np.ndarray:
    """Vectorised :func:`shrink_quad` for an (N, 4, 2) array; returns float64 (N, 4, 2)."""
    return _shrink(np.array(_as_quads(quads), dtype=np.float64), r, _elen)  # a copy, shrunk in place


def _shrink(q: np.ndarray, r: float, _elen: np.ndarray | None = None) -> np.ndarray:
    """`shrink_quads` of a float64 (N, 4, 2) array the caller owns, in place; returns it."""
    n = len(q)
    if n == 0:
        return q
    elen = _edge_lengths(q) if _elen is None else _elen
    step = np.minimum(elen, np.take(elen, _PREV, axis=1))  # r_k
    step *= r
    # longer pair of opposite edges first (strict '>' as the reference: ties -> p1p2/p3p0 first)
    e2 = elen[:, :2] + elen[:, 2:]
    first = e2[:, 0] > e2[:, 1]
    base = (_arange(n) * 4)[:, None]
    fc = first[:, None]
    flat = q.reshape(-1, 2)
    # flat index of the other end of each vertex's edge in the first / second pair
    for part in (np.where(fc, _PART_A, _PART_B) + base, np.where(fc, _PART_B, _PART_A) + base):
        # every vertex moves along its edge of this pair, toward the edge's other end; the
        # second pair uses the directions of the already-shrunk quad, like the reference
        d = flat[part] - q
        d2 = d * d
        ln = np.sqrt(d2[..., 0] + d2[..., 1])
        np.maximum(ln, 1e-12, out=ln)
        d *= (step / ln)[..., None]
        q += d
    return q


def shrink_quad(quad: np.ndarray, r: float = R_SHRINK) -> np.ndarray:
    """Shrink one quad as EAST does (argman/EAST ``shrink_poly``); returns float32 (4, 2).

    ``r_i = min(|p_i p_{i+1}|, |p_i p_{i-1}|)``; the longer pair of opposite edges is shrunk
    first, then the other pair; each end ``p_i`` of an edge moves ``r * r_i`` inward along it.
    """
    q = np.asarray(quad, dtype=np.float64).reshape(1, 4, 2)
    return shrink_quads(q, r)[0].astype(np.float32)


_PAIR_A = np.array([0, 1, 2, 3, 0, 1])
_PAIR_B = np.array([1, 2, 3, 0, 2, 3])
_TIE_BREAK = 1.0 + 1e-9 * np.arange(6)


def _min_area_rects(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``theta`` (N,), ``lo = (umin, vmin)`` (N, 2), ``hi = (umax, vmax)`` (N, 2)."""
    n = len(q)
    d = np.take(q, _PAIR_B, axis=1) - np.take(q, _PAIR_A, axis=1)     # (N, 6, 2)
    th = fold_angle(np.arctan2(d[..., 1], d[..., 0]))                  # (N, 6)
    rot = np.empty((n, 6, 2, 2))                                       # columns e, n
    np.cos(th, out=rot[..., 0, 0])
    np.sin(th, out=rot[..., 1, 0])
    np.negative(rot[..., 1, 0], out=rot[..., 0, 1])
    rot[..., 1, 1] = rot[..., 0, 0]
    uv = q[:, None] @ rot                                              # (N, 6, 4, 2): u, v
    a, b, c, e = uv[:, :, 0], uv[:, :, 1], uv[:, :, 2], uv[:, :, 3]
    lo = np.minimum(np.minimum(a, b), np.minimum(c, e))                # (N, 6, 2)
    hi = np.maximum(np.maximum(a, b), np.maximum(c, e))
    ext = hi - lo
    area = ext[..., 0] * ext[..., 1]
    area *= _TIE_BREAK
    best = area.argmin(1) + _arange(n) * 6
    return th.reshape(-1)[best], lo.reshape(-1, 2)[best], hi.reshape(-1, 2)[best]


def min_area_rects(quads) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Minimal-area covering rectangles of (N, 4, 2) quads, in the RBOX frame.

    Returns ``theta`` (N,) in (-pi/4, pi/4] and the rectangle's extents ``umin, umax`` along
    ``e = (cos, sin)`` and ``vmin, vmax`` along ``n = (-sin, cos)`` (each (N,)). A side of the
    minimal rectangle lies on a hull edge; the hull edges of 4 points are among the 6 pairs
    (the 4 edges are tried first, so near-ties go to the quad's own edges).
    """
    q = _as_quads(quads)
    if len(q) == 0:
        z = np.zeros(0)
        return z, z, z, z, z
    th, lo, hi = _min_area_rects(q)
    return th, lo[:, 0], hi[:, 0], lo[:, 1], hi[:, 1]


# --------------------------------------------------------------------------------------------
# rasterisation: exact cell spans of many quads at once


def _to_map(q: np.ndarray, stride: int) -> np.ndarray:
    return (q - CELL_OFFSET) / stride


def _raster(qm: np.ndarray, h: int, w: int, owners: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Cells whose integer point lies inside each quad (even-odd, top-left rule).

    ``qm`` is (N, 4, 2) in map coordinates (cell (i, j) at point (j, i)). Returns flat cell
    indices ``i*w + j`` (K,) and the owning quad index (K,), grouped by quad in order (so the
    owners are non-decreasing; empty with ``owners=False``). A cell at (j, i) is inside when, on row ``y = i``, an odd
    number of edge crossings lie at ``x <= j``; edges are half-open in y
    (``min(ya, yb) <= y < max(ya, yb)``), so horizontal edges never cross.
    """
    n = len(qm)
    if n == 0 or h <= 0 or w <= 0:
        return _EMPTY, _EMPTY
    d = np.take(qm, _NEXT, axis=1) - qm                      # (N, 4, 2) edge vectors
    ya, dy = qm[..., 1], d[..., 1]
    par = np.empty((n, 4, 5))                                # per edge: ylo, yhi, ya, xa, dx/dy
    np.minimum(ya, ya + dy, out=par[..., 0])
    np.maximum(ya, ya + dy, out=par[..., 1])
    par[..., 2:4] = qm[..., ::-1]
    np.divide(d[..., 0], dy + (dy == 0), out=par[..., 4])
    ext = np.empty((n, 2))                                   # rows y with ymin <= y < ymax
    np.minimum(np.minimum(ya[:, 0], ya[:, 1]), np.minimum(ya[:, 2], ya[:, 3]), out=ext[:, 0])
    np.maximum(np.maximum(ya[:, 0], ya[:, 1]), np.maximum(ya[:, 2], ya[:, 3]), out=ext[:, 1])
    np.ceil(ext, out=ext)
    np.maximum(ext, 0, out=ext)
    ri = ext.astype(np.int64)
    np.minimum(ri, h, out=ri)
    r0 = ri[:, 0]
    cnt = ri[:, 1] - r0
    m = int(cnt.sum())
    if m == 0:
        return _EMPTY, _EMPTY
    qi = np.repeat(_arange(n), cnt)
    rows = _arange(m) - np.repeat(cnt.cumsum() - cnt - r0, cnt)    # (M,) int
    Y = rows.astype(np.float64)[:, None]
    P = par[qi]                                              # (M, 4, 5)
    X = Y - P[..., 2]
    X *= P[..., 4]
    X += P[..., 3]                                           # x where the edge meets row Y
    X[(Y < P[..., 0]) | (Y >= P[..., 1])] = np.inf           # edge does not cross row Y
    X.sort(axis=1)                                           # crossings: 0, 2 or 4 finite
    np.ceil(X, out=X)
    np.clip(X, 0, w, out=X)                                  # inf -> w (empty span)
    J = X.astype(np.int64)                                   # (M, 4): spans [J0, J1), [J2, J3)
    j0 = J[:, 0::2]
    ln = J[:, 1::2] - j0                                     # (M, 2) span lengths
    k = int(ln.sum())
    if k == 0:
        return _EMPTY, _EMPTY
    cs = ln.cumsum().reshape(-1, 2)
    cs -= ln                                                 # output offset of each span
    cs -= j0
    cs -= (rows * w)[:, None]                                # offset minus span's first cell
    lnf = ln.ravel()
    cells = _arange(k) - np.repeat(cs.ravel(), lnf)
    owner = np.repeat(qi, ln[:, 0] + ln[:, 1]) if owners else _EMPTY
    return cells, owner


# --------------------------------------------------------------------------------------------
# public API


def score_map(quads, ignore=None, image_size=(512, 512), stride: int = 4, *,
              include_ignored: bool = True, r: float = R_SHRINK) -> np.ndarray:
    """EAST score map: uint8 (ceil(H/stride), ceil(W/stride)), 1 inside shrunk quads, else 0.

    ``quads``: sequence / array of (4, 2) quads in input pixel coordinates. ``ignore``: sequence
    of bools (or None). Following the reference, ignored quads ARE drawn (the training mask
    removes them); pass ``include_ignored=False`` to leave them out. ``image_size = (H, W)``.
    """
    h, w = map_shape(image_size, stride)
    out = np.zeros((h, w), np.uint8)
    q = _as_quads(quads)
    if len(q) and not include_ignored and ignore is not None:
        keep = ~np.asarray(list(ignore), dtype=bool)
        q = q[keep]
    if len(q) == 0:
        return out
    if _native is not None and _native.score_quads(q, r, stride, out) is None:  # the lines below in C
        return out
    # shrunk and taken to map coordinates in place ((q - CELL_OFFSET) / stride, as _to_map)
    qm = _shrink(q if q is not quads and q.base is None else q.copy(), r)
    qm -= CELL_OFFSET
    qm /= stride
    cells, _ = _raster(qm, h, w, owners=False)
    out.reshape(-1)[cells] = 1
    return out


def _instances_arrays(instances) -> tuple[np.ndarray, np.ndarray]:
    """Quads (N, 4, 2) float64 and ignore flags (N,) from dicts or objects (or a sample dict)."""
    if isinstance(instances, dict) and "instances" in instances:
        instances = instances["instances"]
    quads, ign = [], []
    for inst in instances:
        if isinstance(inst, dict):
            quads.append(inst["quad"])
            ign.append(bool(inst.get("ignore", False)))
        else:
            quads.append(inst.quad)
            ign.append(bool(getattr(inst, "ignore", False)))
    if not quads:
        return np.zeros((0, 4, 2)), np.zeros(0, bool)
    try:
        q = np.array(quads, dtype=np.float64)
    except ValueError:                       # ragged input, e.g. flat 8-lists mixed with 4x2
        q = np.stack([np.asarray(x, dtype=np.float64).reshape(4, 2) for x in quads])
    return q.reshape(-1, 4, 2), np.array(ign, dtype=bool)


# geo = px * M[0] + py * M[1] + M[2]; RBOX rows: top = p.n - vmin, right = umax - p.e,
# bottom = vmax - p.n, left = p.e - umin with e = (c, s), n = (-s, c)
_RBOX_S = np.array([[-1.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 1.0]])   # coefficients of sin
_RBOX_C = np.array([[0.0, -1.0, 0.0, 1.0], [1.0, 0.0, -1.0, 0.0]])   # coefficients of cos
_QUAD_T = np.zeros((3, 8))
_QUAD_T[0, 0::2] = -1.0
_QUAD_T[1, 1::2] = -1.0


def _geo_coefficients(q: np.ndarray, rbox: bool, quad: bool) -> np.ndarray:
    """Per-quad affine maps (N, 3, C) float32: ``geo = px*M[:, 0] + py*M[:, 1] + M[:, 2]``."""
    n = len(q)
    m = np.empty((n, 3, (5 if rbox else 0) + (8 if quad else 0)), np.float32)
    if rbox:
        th, lo, hi = _min_area_rects(q)
        m[:, :2, :4] = np.sin(th)[:, None, None] * _RBOX_S + np.cos(th)[:, None, None] * _RBOX_C
        m[:, :2, 4] = 0.0
        m[:, 2, 1:3] = hi                    # umax, vmax
        np.negative(lo, out=m[:, 2, 3::-3])  # -umin -> left, -vmin -> top
        m[:, 2, 4] = th
    if quad:
        o = 5 if rbox else 0
        m[:, :, o:] = _QUAD_T
        m[:, 2, o:] = q.reshape(n, 8)
    return m


def east_targets(instances: Iterable[Any], image_size: Sequence[int], stride: int = 4,
                 min_text_size: float = 10, maps: Sequence[str] = ALL_MAPS,
                 ) -> dict[str, np.ndarray]:
    """Dense EAST targets for one image.

    ``instances``: a sample JSON's ``"instances"`` list (dicts with ``"quad"`` (4x2 nested
    lists) and optional ``"ignore"``), objects with ``.quad`` / ``.ignore``, or a whole sample
    dict with an ``"instances"`` key. ``image_size = (H, W)``. Returns float32 arrays for the
    requested ``maps`` (in the order asked): ``score`` (h, w), ``geo_rbox`` (h, w, 5),
    ``geo_quad`` (h, w, 8), ``mask`` (h, w), with ``h, w = ceil(H/stride), ceil(W/stride)``.
    See the module docstring for the exact conventions.
    """
    maps = tuple(maps)
    bad = set(maps) - set(ALL_MAPS)
    if bad:
        raise ValueError(f"unknown maps {sorted(bad)}; choose from {ALL_MAPS}")
    h, w = map_shape(image_size, stride)
    q, ign = _instances_arrays(instances)
    n = len(q)
    want_rbox, want_quad = "geo_rbox" in maps, "geo_quad" in maps
    need_geo = want_rbox or want_quad
    need_shrunk = need_geo or "score" in maps

    # one rasterisation pass: shrunk quads (score / geometry), then unshrunk dropped quads (mask)
    polys = []
    n_s = 0
    elen = _edge_lengths(q) if n else None
    if need_shrunk and n:
        polys.append(shrink_quads(q, R_SHRINK, elen))
        n_s = n
    if "mask" in maps and n:
        drop = ign | (elen.min(1) < min_text_size)
        if drop.any():
            polys.append(q[drop])
    if polys:
        allq = polys[0] if len(polys) == 1 else np.concatenate(polys)
        cells, owner = _raster(_to_map(allq, stride), h, w)
    else:
        cells = owner = _EMPTY
    split = int(np.searchsorted(owner, n_s)) if n_s else 0   # owners are non-decreasing
    mcells = cells[split:]
    cells, owner = cells[:split], owner[:split]

    out: dict[str, np.ndarray] = {}
    dup = n > 1 and len(cells) > 0           # may shrunk quads overlap (cells listed twice)?
    if "score" in maps:
        sc = np.zeros(h * w, np.float32)
        sc[cells] = 1.0
        out["score"] = sc.reshape(h, w)
        dup = dup and np.count_nonzero(sc) < len(cells)
    if need_geo:
        if dup:
            # overlapping shrunk quads: the later quad owns the cell
            lab = np.zeros(h * w, np.int32)
            np.maximum.at(lab, cells, owner.astype(np.int32))
            own = lab[cells] == owner
            if not own.all():
                cells, owner = cells[own], owner[own]
        iy, ix = np.divmod(cells, w)
        # float32 is plenty: |error| ~ 1e-4 px for coordinates up to ~10^3 px
        px = (ix * stride + CELL_OFFSET).astype(np.float32)[:, None]
        py = (iy * stride + CELL_OFFSET).astype(np.float32)[:, None]
        g = _geo_coefficients(q, want_rbox, want_quad)[owner]      # (K, 3, C)
        vals = g[:, 0] * px
        vals += g[:, 1] * py
        vals += g[:, 2]
        o = 0
        if want_rbox:
            geo = np.zeros((h * w, 5), np.float32)
            geo[cells] = vals[:, :5]
            out["geo_rbox"] = geo.reshape(h, w, 5)
            o = 5
        if want_quad:
            geo = np.zeros((h * w, 8), np.float32)
            geo[cells] = vals[:, o:]
            out["geo_quad"] = geo.reshape(h, w, 8)
    if "mask" in maps:
        m = np.ones(h * w, np.float32)
        m[mcells] = 0.0
        out["mask"] = m.reshape(h, w)
    return {k: out[k] for k in maps}
