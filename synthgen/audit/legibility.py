"""`legibility(...)`: how much of a pipeline's output a real reader reads, as rendered.

Recognition crops (samples of a kind whose renderer declares `crop`, one `line` each; one the
augmentation moved out of frame, marked ignore, is counted apart and not read): the reader
(PP-OCRv4 recognition by default, see judges.ppocr_read) reads the whole crop, a vertical line
as a horizontal strip of its glyphs (judges.vertical_strip); a line counts as read exactly when
`judges.canon` of the reading equals that of the label (NFKC, case-folded, spaces removed).
Shares for all lines, ASCII-only lines, the others, vertical lines, and how many lines hold a
character the reader's alphabet lacks (those cannot be read exactly).

Everything else (scenes, documents): PP-OCRv4 detection on the full image. A text instance
(`word`, `line`, `field`, not ignored) whose char height (judges.char_height) is at least
`min_height` px counts as found when one detected box covers at least half of its quad's area
and is at most 2.5 times as thick as the word (a box around a whole block does not find its
words). The IoU >= 0.5 rule is reported too (`iou_found`), stricter: PP-OCR boxes often hold
several words of one line.

Outputs in `out`: report.json (shares with Wilson 95% intervals, counts, timings, every miss)
and misses.png (each missed line: image, truth, reading; each scene with a miss: missed quads
red, found green, detections blue).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from ..errors import UserError
from ..core import TEXT_KINDS
from ..io.outpaths import out_or_default
from .judges import (DEFAULT_READER, canon, char_height, load_reader, ppocr_alphabet, ppocr_detect,
                     read_instance, vertical_strip)
from .stats import wilson

MIN_HEIGHT = 12.0  # px: scene words below this are not asked of the detector (EAST's min_text_size is 10 at 512)
COVER = 0.5  # share of the word's quad a detection must cover
THICK = 2.5  # a detection at most this many times as thick as the word
SHEET_LINES = 80
SHEET_SCENES = 24


def _share(k: int, n: int) -> dict[str, Any]:
    lo, hi = wilson(k, n)
    return {"n": n, "hits": k, "share": k / n if n else None, "lo": lo, "hi": hi}


def _poly_area(p: np.ndarray) -> float:
    return float(cv2.contourArea(p.astype(np.float32)))


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Area of the intersection of two quads' convex hulls."""
    ha = cv2.convexHull(a.astype(np.float32))
    hb = cv2.convexHull(b.astype(np.float32))
    area, _ = cv2.intersectConvexConvex(ha, hb)
    return float(area)


def _thickness(q: np.ndarray) -> float:
    q = np.asarray(q, np.float64)
    return float(min(np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1]),
                     np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2)


def match_words(quads: list[np.ndarray], boxes: list[np.ndarray]) -> list[dict[str, float | bool]]:
    """For each word quad: the best coverage (share of the word inside a detection no more than
    THICK times as thick), the best IoU, and whether each rule finds it."""
    out = []
    areas = [_poly_area(cv2.convexHull(b.astype(np.float32)).reshape(-1, 2)) for b in boxes]
    thick = [_thickness(b) for b in boxes]
    for q in quads:
        qa = max(1e-6, _poly_area(cv2.convexHull(np.asarray(q, np.float32)).reshape(-1, 2)))
        qt = _thickness(q)
        cover = iou = 0.0
        for b, ba, bt in zip(boxes, areas, thick):
            inter = _overlap(np.asarray(q), b)
            if inter <= 0:
                continue
            iou = max(iou, inter / (qa + ba - inter))
            if bt <= THICK * max(qt, 1.0):
                cover = max(cover, inter / qa)
        out.append({"coverage": round(cover, 4), "iou": round(iou, 4), "found": cover >= COVER, "iou_found": iou >= 0.5})
    return out


# -- the contact sheet of misses ---------------------------------------------------------------
_CAPTION_FONTS = ("dejavu/DejaVuSans.ttf", "wqy-microhei/wqy-microhei-subset.ttf", "noto-cjk/NotoSansSC-Subset.otf",
                  "ar-pl-uming/ar-pl-uming-subset.ttf")


class _Captions:
    """Captions in any script the shipped fonts cover: each character in the first listed font
    that has it (DejaVu Sans, then the CJK faces); '?' where none does."""

    def __init__(self, size: int = 14) -> None:
        from PIL import ImageFont

        from ..renderers.fonts import load_faces
        from ..resources import shipped

        self.fonts = []
        for rel in _CAPTION_FONTS:
            p = shipped("fonts") / rel
            if p.is_file():
                face = load_faces(str(p))[0]
                self.fonts.append((face.cmap, ImageFont.truetype(str(p), size)))

    def draw(self, draw, xy: tuple[int, int], text: str, fill) -> None:
        x, y = xy
        for c in text:
            font = next((f for cmap, f in self.fonts if ord(c) in cmap), None)
            if font is None:
                c, font = "?", self.fonts[0][1]
            draw.text((x, y), c, fill=fill, font=font)
            x += font.getlength(c)


def _sheet(tiles: list[tuple[np.ndarray, list[tuple[str, tuple]]]], path: Path, title: str, width: int = 1600) -> None:
    """Tiles in rows, each with its caption lines under it."""
    from PIL import Image, ImageDraw

    cap = _Captions()
    pad, line_h = 8, 17
    rows: list[list] = [[]]
    x = pad
    for img, lines in tiles:
        w = max(img.shape[1], min(width - 2 * pad, 8 * max(len(t) for t, _ in lines)))
        if rows[-1] and x + w + pad > width:
            rows.append([])
            x = pad
        rows[-1].append((img, lines, x))
        x += w + pad
    heights = [max([t[0].shape[0] + line_h * len(t[1]) for t in r] or [0]) + pad for r in rows]
    sheet = Image.new("RGB", (width, 30 + sum(heights) + pad), "white")
    d = ImageDraw.Draw(sheet)
    cap.draw(d, (pad, 6), title, (0, 0, 0))
    y = 30
    for r, hgt in zip(rows, heights):
        for img, lines, x in r:
            h, w = img.shape[:2]
            sheet.paste(Image.fromarray(img), (x, y))
            d.rectangle((x - 1, y - 1, x + w, y + h), outline=(200, 0, 0))
            for k, (text, colour) in enumerate(lines):
                cap.draw(d, (x, y + h + 1 + k * line_h), text, colour)
        y += hgt
    sheet.save(path)


def _line_tile(image: np.ndarray, inst, height: int = 64) -> np.ndarray:
    strip = vertical_strip(image, inst)
    img = image if strip is None else strip
    f = height / img.shape[0]
    if img.shape[1] * f > 1200:
        f = 1200 / img.shape[1]
    return cv2.resize(img, (max(1, round(img.shape[1] * f)), max(1, round(img.shape[0] * f))), interpolation=cv2.INTER_CUBIC)


def _scene_tile(image: np.ndarray, words: list[tuple[np.ndarray, bool]], boxes: list[np.ndarray], box: int = 360) -> np.ndarray:
    f = box / max(image.shape[:2])
    img = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    for b in boxes:
        cv2.polylines(img, [np.round(b * f).astype(np.int32).reshape(-1, 1, 2)], True, (40, 90, 255), 1, cv2.LINE_AA)
    for q, found in words:
        cv2.polylines(img, [np.round(np.asarray(q) * f).astype(np.int32).reshape(-1, 1, 2)], True,
                      (0, 200, 0) if found else (255, 0, 0), 2 if not found else 1, cv2.LINE_AA)
    return img


# -- the report --------------------------------------------------------------------------------
def legibility(pipeline: str = "ocr_line", n: int = 500, seed: int | None = None,
               overrides: dict[str, Any] | None = None, out: str | None = None, reader: str | None = None,
               start: int = 0, min_height: float = MIN_HEIGHT, progress: bool = True) -> dict[str, Any]:
    """Render samples start..start+n-1 of `pipeline` (with its --set / --pin overrides) and
    measure what a real reader reads: see the module docstring. Returns the report.json record."""
    from ..pipeline import load_pipeline
    from ..run.job import parse_count, parse_seed

    n = parse_count(n, "--n")
    if start < 0:
        raise UserError(f"--start {start}: sample indices start at 0")
    if not min_height > 0:
        raise UserError(f"--min-height must be > 0 px, got {min_height}")
    seed = None if seed is None else parse_seed(seed)
    pipe = load_pipeline(pipeline, seed=seed, **(overrides or {}))
    outdir = Path(out_or_default(out, Path("runs") / "legibility" / pipe.name))
    if outdir.exists() and not outdir.is_dir():
        raise UserError(f"--out {str(outdir)!r} is a file; give a folder")
    reader = reader or DEFAULT_READER
    read = load_reader(reader)
    alphabet = ppocr_alphabet() if reader == "ppocr" else None
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a read-only filesystem (/proc, a full or read-only mount): was a traceback
        raise UserError(f"--out {str(outdir)!r}: cannot create the folder ({e.strerror or e}); choose another --out") from None

    lines: list[dict[str, Any]] = []
    words: list[dict[str, Any]] = []
    small = ignored = ignored_lines = 0
    line_tiles: list = []
    scene_tiles: list = []
    t_render = t_read = t_detect = 0.0
    n_lines = n_scenes = 0
    bar = tqdm(range(start, start + n), unit="img", desc=f"legibility {pipe.name}", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    for i in bar:
        t0 = time.perf_counter()
        s = pipe.sample(i)
        t_render += time.perf_counter() - t0
        text = [x for x in s.instances if x.kind in TEXT_KINDS]
        if pipe.kind.crop:  # a recognition crop (its renderer kind says): read whole
            n_lines += 1
            inst = text[0] if len(text) == 1 else None
            if inst is None or inst.ignore:  # a crop whose line the augmentation moved out of frame
                ignored_lines += 1
                continue
            t0 = time.perf_counter()
            got = read_instance(read, s.image, inst, whole=True)
            t_read += time.perf_counter() - t0
            truth = inst.text
            row = {"index": i, "truth": truth, "reading": got, "exact": canon(got) == canon(truth),
                   "ascii": truth.isascii(), "vertical": vertical_strip(s.image, inst) is not None}
            if alphabet is not None:
                row["outside_alphabet"] = sorted({c for c in canon(truth) if c not in alphabet})
            lines.append(row)
            if not row["exact"] and len(line_tiles) < SHEET_LINES:
                line_tiles.append((_line_tile(s.image, inst), [(f"#{i} truth: {truth}", (0, 110, 0)),
                                                                 (f"read: {got}", (200, 0, 0))]))
            continue
        n_scenes += 1
        ignored += sum(1 for x in text if x.ignore)
        asked = []
        for x in text:
            if x.ignore:
                continue
            h = char_height(x)
            if h < min_height:
                small += 1
            else:
                asked.append((x, h))
        if not asked:
            continue
        t0 = time.perf_counter()
        boxes = ppocr_detect(s.image)
        t_detect += time.perf_counter() - t0
        m = match_words([x.quad for x, _ in asked], boxes)
        for (x, h), r in zip(asked, m):
            words.append({"index": i, "text": x.text, "kind": x.kind, "height": round(h, 2), **r})
        missed = [x.text for (x, _), r in zip(asked, m) if not r["found"]]
        if missed and len(scene_tiles) < SHEET_SCENES:
            cap = f"#{i} missed {len(missed)}/{len(asked)}: " + ", ".join(missed[:4]) + (" ..." if len(missed) > 4 else "")
            scene_tiles.append((_scene_tile(s.image, [(x.quad, r["found"]) for (x, _), r in zip(asked, m)], boxes),
                                [(cap[:60], (200, 0, 0))]))
    bar.close()

    record: dict[str, Any] = {"pipeline": pipeline, "name": pipe.name, "seed": pipe.seed, "start": start, "n": n,
                              "reader": reader, "detector": "ppocr", "overrides": overrides or {},
                              "seconds": {"render": round(t_render, 3), "read": round(t_read, 3),
                                          "detect": round(t_detect, 3)}}
    if n_lines:
        def part(rows):
            return _share(sum(r["exact"] for r in rows), len(rows))

        record["lines"] = {
            "rule": "read exactly: NFKC-normalised, case-folded, spaces removed, reading == label",
            "all": part(lines), "ascii": part([r for r in lines if r["ascii"]]),
            "non_ascii": part([r for r in lines if not r["ascii"]]),
            "vertical": part([r for r in lines if r["vertical"]]),
            "ignored": ignored_lines,
            "s_per_line_read": round(t_read / len(lines), 5), "s_per_line_render": round(t_render / max(1, n), 5),
            "misses": [r for r in lines if not r["exact"]],
        }
        if alphabet is not None:
            record["lines"]["outside_alphabet"] = sum(1 for r in lines if r["outside_alphabet"])
    if n_scenes:
        record["words"] = {
            "rule": (f"found: one PP-OCRv4 detection covers >= {COVER:g} of the word's quad area and is at most "
                     f"{THICK:g} x as thick; iou_found: IoU >= 0.5"),
            "min_height": min_height, "samples": n_scenes, "too_small": small, "ignored": ignored,
            "found": _share(sum(w["found"] for w in words), len(words)),
            "iou_found": _share(sum(w["iou_found"] for w in words), len(words)),
            "s_per_scene_detect": round(t_detect / max(1, n_scenes), 5),
            "misses": [w for w in words if not w["found"]],
        }
    files = ["report.json"]
    tiles = line_tiles + scene_tiles
    if tiles:
        what = "lines not read exactly (truth green, reading red)" if line_tiles else \
            "scenes with a missed word (missed red, found green, PP-OCR detections blue)"
        _sheet(tiles, outdir / "misses.png", f"{pipe.name}: {what}; first {len(tiles)} by index")
        files.append("misses.png")
    else:
        (outdir / "misses.png").unlink(missing_ok=True)
    record["files"] = files
    record["out"] = str(outdir)
    (outdir / "report.json").write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str))
    return record
