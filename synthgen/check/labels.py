"""Label sanity for one stored sample (its JSON label and image size).

Rules (docs/architecture.md, data model): quads are 4 x 2 image-pixel coordinates, clockwise on screen
(image y points down, so the shoelace sum is positive), convex and not degenerate; text
quads (word, line, field) lie inside the image; per-character quads are clockwise, one per
character of the transcription, and inside their word's quad; non-ignored text has a
transcription. `tol` (px) absorbs the labels' 1/100 px rounding.

Severity: a broken rule is an error, except a text quad overshooting the image edge while
every character's centre stays inside (a warning: geometric augmentation shifted the line's
box past the crop edge, but no character is lost). A character whose centre lies outside the
image is cut off: the transcription names a character the pixels no longer show (an error,
the slides' "bad augmentation").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import TEXT_KINDS

MIN_AREA = 1.0  # px^2: a quad smaller than one pixel labels nothing


def signed_area(q: np.ndarray) -> float:
    x, y = q[:, 0], q[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _convex(q: np.ndarray, tol: float) -> bool:
    e = np.roll(q, -1, axis=0) - q
    cross = e[:, 0] * np.roll(e[:, 1], -1) - e[:, 1] * np.roll(e[:, 0], -1)
    scale = max(1.0, float(np.abs(e).max()))
    return bool(np.all(cross >= -tol * scale))


def _outside_by(points: np.ndarray, poly: np.ndarray) -> float:
    """How far (px) the farthest point lies outside the convex clockwise polygon (0 if inside)."""
    worst = 0.0
    for k in range(len(poly)):
        a, b = poly[k], poly[(k + 1) % len(poly)]
        edge = b - a
        n = np.hypot(*edge)
        if n == 0:
            continue
        # clockwise on screen (y down): the inside is to the right of each edge, cross >= 0
        d = (edge[0] * (points[:, 1] - a[1]) - edge[1] * (points[:, 0] - a[0])) / n
        worst = max(worst, float(-d.min()))
    return worst


class _Out(list):
    """(severity, message) pairs; append() adds an error."""

    def append(self, msg: str) -> None:
        super().append(("error", msg))

    def warn(self, msg: str) -> None:
        super().append(("warning", msg))


def _quad(x: Any) -> np.ndarray | None:
    try:
        q = np.asarray(x, dtype=np.float64).reshape(4, 2)
    except (TypeError, ValueError):
        return None
    return q if np.isfinite(q).all() else None


def label_problems(label: dict[str, Any], image_hw: tuple[int, int], tol: float = 1.0) -> list[str]:
    """Every error-level rule the label breaks, one short sentence each (empty list: sane)."""
    return [m for sev, m in label_findings(label, image_hw, tol) if sev == "error"]


def label_findings(label: dict[str, Any], image_hw: tuple[int, int], tol: float = 1.0) -> list[tuple[str, str]]:
    """(severity, sentence) for every rule the label breaks."""
    H, W = image_hw
    out = _Out()
    size = label.get("size")
    if size is not None and [int(v) for v in size] != [H, W]:
        out.append(f"label size {list(size)} differs from the image's {[H, W]}")
    insts = label.get("instances")
    if not isinstance(insts, list):
        out.append("label has no instance list")
        return out
    for j, inst in enumerate(insts):
        text, kind = str(inst.get("text") or ""), inst.get("kind", "word")
        name = f"instance {j} ({kind} {text[:20]!r})"
        q = _quad(inst.get("quad"))
        if q is None:
            out.append(f"{name}: quad is not 4 finite points")
            continue
        a = signed_area(q)
        if abs(a) < MIN_AREA:
            out.append(f"{name}: degenerate quad (area {a:.2f} px^2)")
            continue
        if a < 0:
            out.append(f"{name}: quad is counter-clockwise on screen")
        elif not _convex(q, tol):
            out.append(f"{name}: quad is self-intersecting or not convex")
        chars = inst.get("chars")
        c = None
        if chars is not None:
            try:
                c = np.asarray(chars, dtype=np.float64).reshape(-1, 4, 2)
            except (TypeError, ValueError):
                out.append(f"{name}: chars are not n x 4 x 2")
                continue
        if kind in TEXT_KINDS:
            over = max(-q[:, 0].min(), -q[:, 1].min(), q[:, 0].max() - W, q[:, 1].max() - H)
            if over > tol and not inst.get("ignore"):  # cut text marked don't-care is labelled right
                if c is not None and len(c):
                    m = c.mean(axis=1)
                    lost = np.flatnonzero((m[:, 0] < 0) | (m[:, 0] > W) | (m[:, 1] < 0) | (m[:, 1] > H))
                else:  # no char boxes: cut off when over half the quad's height is outside
                    short = min(np.hypot(*(q[1] - q[2])), np.hypot(*(q[0] - q[1])))
                    lost = [0] if over > short / 2 else []
                if len(lost):
                    cut = "".join(text[k] for k in lost if k < len(text)) if c is not None else "text"
                    out.append(f"{name}: text cut off at the image edge ({cut!r} outside the {W}x{H} image)")
                else:
                    out.warn(f"{name}: quad overshoots the {W}x{H} image by {over:.1f} px (no character lost)")
            if not text and not inst.get("ignore"):
                out.append(f"{name}: text instance with an empty transcription (mark it ignore)")
        if c is None:
            continue
        if text and len(c) != len(text):
            out.append(f"{name}: {len(c)} char quads for {len(text)} characters")
        bad_turn = [k for k in range(len(c)) if signed_area(c[k]) < 0]
        if bad_turn:
            out.append(f"{name}: char quads {bad_turn[:5]} are counter-clockwise")
        if a > 0 and len(c):
            over = _outside_by(c.reshape(-1, 2), q)
            if over > tol:
                out.append(f"{name}: char quads reach {over:.1f} px outside the word quad")
    return out
