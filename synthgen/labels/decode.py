"""Restore text boxes from EAST score + geometry maps (threshold, restore, locality-aware NMS).

The inverse of :func:`synthgen.labels.east.east_targets`, with the same conventions: map cell
``(i, j)`` samples input point ``(stride*j + 0.5, stride*i + 0.5)``; RBOX channels are
``(top, right, bottom, left, theta)``; QUAD channels are the 8 offsets ``vertex - point``.

Per positive cell a box is restored; boxes are merged as in EAST's locality-aware NMS (cells in
row-major order; a box overlapping the previous merged box by IoU > ``nms_thresh`` is merged into
it, weighted by score, scores add up) and standard NMS runs on the merged boxes. Used to prove
the targets consistent and for users' evaluation; it is not a hot path (the merge loop runs in
Python over positive cells). Polygon IoU is exact convex clipping in float64 (see
:func:`poly_iou` for why not ``cv2.intersectConvexConvex``).
"""
from __future__ import annotations

import cv2
import numpy as np

from .east import CELL_OFFSET

__all__ = ["decode", "restore_boxes", "poly_iou", "nms_locality", "nms"]

_SHIFTS = np.array([[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 0, 1], [3, 0, 1, 2]])


def _channels_last(geo: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    if geo.ndim == 3 and geo.shape[:2] != hw and geo.shape[1:] == hw:
        geo = np.moveaxis(geo, 0, -1)                        # (C, h, w) -> (h, w, C)
    if geo.ndim != 3 or geo.shape[:2] != hw:
        raise ValueError(f"geometry map shape {geo.shape} does not match score map {hw}")
    return geo


def restore_boxes(iy: np.ndarray, ix: np.ndarray, geo_vals: np.ndarray, stride: int = 4,
                  kind: str = "rbox") -> np.ndarray:
    """Boxes (K, 4, 2) float64 from cells ``(iy, ix)`` and their geometry (K, 5) or (K, 8).

    RBOX boxes are returned as rectangle corners top-left, top-right, bottom-right, bottom-left
    of the rectangle's own (folded) frame; QUAD boxes keep the quad's vertex order.
    """
    px = ix.astype(np.float64) * stride + CELL_OFFSET
    py = iy.astype(np.float64) * stride + CELL_OFFSET
    g = geo_vals.astype(np.float64)
    if kind == "quad":
        out = g.reshape(-1, 4, 2).copy()
        out[..., 0] += px[:, None]
        out[..., 1] += py[:, None]
        return out
    if kind != "rbox":
        raise ValueError(f"kind must be 'rbox' or 'quad', got {kind!r}")
    top, right, bottom, left, th = g.T
    c, s = np.cos(th), np.sin(th)
    # e = (c, s) points "right", n = (-s, c) points "down"
    us = np.stack([-left, right, right, -left], 1)          # (K, 4) along e
    vs = np.stack([-top, -top, bottom, bottom], 1)          # (K, 4) along n
    out = np.empty((len(px), 4, 2))
    out[..., 0] = px[:, None] + us * c[:, None] - vs * s[:, None]
    out[..., 1] = py[:, None] + us * s[:, None] + vs * c[:, None]
    return out


def _area(p: list) -> float:
    """Signed shoelace area of a polygon given as a list of (x, y)."""
    if len(p) < 3:
        return 0.0
    a = 0.0
    x0, y0 = p[-1]
    for x1, y1 in p:
        a += x0 * y1 - x1 * y0
        x0, y0 = x1, y1
    return 0.5 * a


def _clip(subject: list, clipper: list, orient: float) -> list:
    """Sutherland-Hodgman: ``subject`` clipped by convex ``clipper`` (orientation sign)."""
    out = subject
    cx0, cy0 = clipper[-1]
    for cx1, cy1 in clipper:
        if not out:
            break
        ex, ey = cx1 - cx0, cy1 - cy0
        inp, out = out, []
        px, py = inp[-1]
        pin = orient * (ex * (py - cy0) - ey * (px - cx0)) >= 0
        for qx, qy in inp:
            qin = orient * (ex * (qy - cy0) - ey * (qx - cx0)) >= 0
            if qin != pin:
                # intersection of segment p-q with the clip line
                dx, dy = qx - px, qy - py
                den = ex * dy - ey * dx
                t = (ey * (px - cx0) - ex * (py - cy0)) / den if den else 0.0
                out.append((px + t * dx, py + t * dy))
            if qin:
                out.append((qx, qy))
            px, py, pin = qx, qy, qin
        cx0, cy0 = cx1, cy1
    return out


def _convex(p: np.ndarray) -> list:
    p32 = np.ascontiguousarray(p, dtype=np.float32).reshape(-1, 1, 2)
    if not cv2.isContourConvex(p32):
        return [tuple(v) for v in cv2.convexHull(p32).reshape(-1, 2).astype(np.float64).tolist()]
    return [tuple(v) for v in np.asarray(p, np.float64).reshape(-1, 2).tolist()]


def poly_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two convex polygons (non-convex ones are replaced by their convex hulls).

    Not ``cv2.intersectConvexConvex``: with (nearly) coincident edges -- exactly what
    neighbouring cells restore -- OpenCV 5.0 returns half the area of two quads that differ by
    1e-6 px (IoU 0.33 instead of 1). Exact Sutherland-Hodgman clipping in float64 instead.
    """
    pa, pb = _convex(a), _convex(b)
    sa, sb = _area(pa), _area(pb)
    if sa == 0.0 or sb == 0.0:
        return 0.0
    inter = abs(_area(_clip(pa, pb, 1.0 if sb > 0 else -1.0)))
    union = abs(sa) + abs(sb) - inter
    return inter / union if union > 0 else 0.0


def _align(ref: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``q`` with its vertices cyclically shifted to best match ``ref``'s order."""
    cand = q[_SHIFTS]                                        # (4, 4, 2)
    return cand[((cand - ref) ** 2).sum((1, 2)).argmin()]


def nms(boxes: np.ndarray, scores: np.ndarray, thresh: float) -> np.ndarray:
    """Standard polygon NMS; returns kept indices, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    alive = np.ones(len(order), bool)
    for a in range(len(order)):
        if not alive[a]:
            continue
        i = order[a]
        keep.append(int(i))
        for b in range(a + 1, len(order)):
            if alive[b] and poly_iou(boxes[i], boxes[order[b]]) > thresh:
                alive[b] = False
    return np.asarray(keep, dtype=np.int64)


def nms_locality(boxes: np.ndarray, scores: np.ndarray, thresh: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """EAST locality-aware NMS: merge consecutive overlapping boxes, then standard NMS."""
    merged: list[np.ndarray] = []
    msc: list[float] = []
    cur = None
    cur_s = 0.0
    for q, s in zip(boxes, scores):
        s = float(s)
        if cur is not None and poly_iou(cur, q) > thresh:
            q = _align(cur, q)
            cur = (cur * cur_s + q * s) / (cur_s + s) if cur_s + s > 0 else cur
            cur_s += s
            continue
        if cur is not None:
            merged.append(cur)
            msc.append(cur_s)
        cur, cur_s = q, s
    if cur is not None:
        merged.append(cur)
        msc.append(cur_s)
    if not merged:
        return np.zeros((0, 4, 2)), np.zeros(0)
    mb, ms = np.stack(merged), np.asarray(msc)
    keep = nms(mb, ms, thresh)
    return mb[keep], ms[keep]


def decode(score: np.ndarray, geo: np.ndarray, stride: int = 4, kind: str = "rbox",
           score_thresh: float = 0.5, nms_thresh: float = 0.2, *,
           return_scores: bool = False):
    """Boxes (K, 4, 2) float32 in input pixel coordinates from EAST maps, best first.

    ``score``: (h, w) (a leading or trailing singleton channel is accepted). ``geo``:
    (h, w, 5) RBOX or (h, w, 8) QUAD (channels-first accepted), matching ``kind``. Cells with
    ``score > score_thresh`` each restore a box; boxes are merged by locality-aware NMS with IoU
    threshold ``nms_thresh``. With ``return_scores`` also returns the merged scores (sum of
    the merged cells' scores).
    """
    score = np.asarray(score)
    if score.ndim == 3:
        score = score[0] if score.shape[0] == 1 else score[..., 0]
    geo = _channels_last(np.asarray(geo), score.shape)
    need = 5 if kind == "rbox" else 8
    if kind not in ("rbox", "quad"):
        raise ValueError(f"kind must be 'rbox' or 'quad', got {kind!r}")
    if geo.shape[-1] != need:
        raise ValueError(f"kind={kind!r} needs {need} geometry channels, got {geo.shape[-1]}")
    iy, ix = np.nonzero(score > score_thresh)               # row-major order
    boxes = restore_boxes(iy, ix, geo[iy, ix], stride, kind)
    out, sc = nms_locality(boxes, score[iy, ix].astype(np.float64), nms_thresh)
    out = out.astype(np.float32).reshape(-1, 4, 2)
    return (out, sc) if return_scores else out
