"""What the audit writes besides audit.json: the curve plot, contact sheets, the human page."""

from __future__ import annotations

import base64
import csv
import html
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import UserError

TILE_H = 96  # px: thumbnails are scaled to this height (line crops) or fit in a square (scenes)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def thumb(img: np.ndarray, box: int = 160) -> np.ndarray:
    h, w = img.shape[:2]
    # text lines: `box` px high at most (3 x box wide); frames: 1.6 x box square at most
    f = min(box / h, 3 * box / w) if h < w / 2 else min(1.6 * box / h, 1.6 * box / w)
    return cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def with_quads(img: np.ndarray, instances) -> np.ndarray:
    """A copy with every label quad drawn (text: cyan, ignored: red), to check labels by eye."""
    out = img.copy()
    lw = max(1, round(max(img.shape[:2]) / 256))
    for inst in instances:
        q = np.round(np.asarray(inst.quad) * 4).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [q], True, (255, 40, 40) if inst.ignore else (0, 255, 255), lw, cv2.LINE_AA, 2)
    return out


def contact_sheet(tiles: list[tuple[np.ndarray, str, bool]], path: Path, title: str, width: int = 1400) -> None:
    """Thumbnails in rows, each with its caption below (red = bad, green = good)."""
    pad, cap = 6, 18
    rows: list[list] = [[]]
    x = pad
    for img, text, bad in tiles:
        w = max(img.shape[1], 8 * len(text))
        if rows[-1] and x + w + pad > width:
            rows.append([])
            x = pad
        rows[-1].append((img, text, bad, x))
        x += w + pad
    heights = [max([t[0].shape[0] for t in r] or [0]) + cap + pad for r in rows]
    sheet = np.full((30 + sum(heights) + pad, width, 3), 255, np.uint8)
    cv2.putText(sheet, title, (pad, 20), FONT, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    y = 30
    for r, hgt in zip(rows, heights):
        for img, text, bad, x in r:
            h, w = img.shape[:2]
            sheet[y : y + h, x : x + w] = img
            colour = (200, 0, 0) if bad else (0, 130, 0)
            cv2.rectangle(sheet, (x - 1, y - 1), (x + w, y + h), colour, 1)
            cv2.putText(sheet, text, (x, y + h + 13), FONT, 0.4, colour, 1, cv2.LINE_AA)
        y += hgt
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


def curve_plot(curve: list[dict[str, Any]], target: float, tuned: float, path: Path, title: str) -> None:
    try:
        import matplotlib
    except ImportError:
        raise UserError("the audit's curve plot needs matplotlib: pip install 'synthgen[audit]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = sorted(curve, key=lambda c: c["strength"])
    s = np.array([c["strength"] for c in pts])
    r = np.array([c["caused_rate"] for c in pts])
    raw = np.array([c["rate"] for c in pts])
    lo = np.array([c["lo"] for c in pts])
    hi = np.array([c["hi"] for c in pts])
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    ax.fill_between(s, lo, hi, alpha=0.25, label="Wilson 95% interval")
    ax.plot(s, r, "o-", label="bad rate caused by augmentation")
    if np.any(raw != r):  # samples that fail unaugmented too (the renderer's)
        ax.plot(s, raw, "x:", color="grey", label="bad rate, any cause")
    ax.axhline(target, color="r", ls="--", label=f"target {target:g}")
    ax.axvline(tuned, color="g", ls=":", label=f"tuned strength {tuned:.3f}")
    ax.set_xlabel("augment.strength")
    ax.set_ylabel("bad-augmentation rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, max(0.1, float(max(hi.max(), raw.max())) * 1.1))
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def human_page(items: list[tuple[int, float, np.ndarray]], path: Path, title: str) -> None:
    """A self-contained HTML page: one good/bad toggle per sample, exported as CSV."""
    cells = []
    for idx, s, img in items:
        ok, png = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        b64 = base64.b64encode(png.tobytes()).decode()
        cells.append(f'<div class="c" data-index="{idx}" data-strength="{s:g}"><img src="data:image/png;base64,{b64}">'
                     f'<br><button onclick="t(this)">good</button> <small>#{idx} s={s:g}</small></div>')
    page = f"""<!doctype html><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font:14px sans-serif}} .c{{display:inline-block;margin:6px;vertical-align:top}}
img{{max-width:480px;image-rendering:pixelated}} button.bad{{background:#e66}}</style>
<h3>{html.escape(title)}</h3><p>Click a button to mark a sample bad (unreadable or mislabelled). Then
<button onclick="save()">export verdicts.csv</button> and run <code>synthgen audit ... --verdicts verdicts.csv</code>.</p>
{''.join(cells)}
<script>
function t(b){{b.classList.toggle('bad');b.textContent=b.classList.contains('bad')?'bad':'good';}}
function save(){{let rows=['index,strength,verdict'];
document.querySelectorAll('.c').forEach(c=>rows.push(c.dataset.index+','+c.dataset.strength+','+c.querySelector('button').textContent));
let a=document.createElement('a');a.href=URL.createObjectURL(new Blob([rows.join('\\n')+'\\n'],{{type:'text/csv'}}));
a.download='verdicts.csv';a.click();}}
</script>"""
    path.write_text(page, encoding="utf-8")


def read_verdicts(path: str) -> dict[float, list[tuple[int, bool]]]:
    """verdicts.csv (index,strength,verdict) -> {strength: [(index, bad)]}."""
    out: dict[float, list[tuple[int, bool]]] = {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for n, row in enumerate(csv.DictReader(f), 2):
                try:
                    v = row["verdict"].strip().lower()
                    if v not in ("good", "bad"):
                        raise ValueError
                    out.setdefault(round(float(row["strength"]), 6), []).append((int(row["index"]), v == "bad"))
                except (KeyError, ValueError, AttributeError):
                    raise UserError(f"{path} line {n}: expected index,strength,verdict with verdict good or bad") from None
    except OSError as e:
        raise UserError(f"--verdicts {path!r}: cannot read it ({e.strerror or e})") from None
    if not out:
        raise UserError(f"--verdicts {path!r} holds no verdicts; export them from the audit's human.html page")
    return out
