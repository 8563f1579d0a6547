"""What a dataset card counts: the samples' recorded factors and labels, read from the shards.

`survey(ds, limit)` streams the dataset through its one reader (`io/readers.py`). A dataset of
at most `limit` samples is read whole, every shard checked (sha256, count) as it streams; a
bigger one is sampled: shards spread evenly over the dataset, the first samples of each, up to
`limit` in all (every sample's factors are independent draws keyed by (seed, index), so any
set of indices is a fair sample). What is counted:

* per sample: background kind (and the photo category of photo backgrounds), the line layout,
  the document template, text instances per sample;
* per text item (a scene word, a line; for documents each sample's template fonts): fonts by
  style and by face, the style effects applied (a multi-label table: an item can have several),
  and, for scenes, the placement flags (perspective, sign, block, small, several lines);
* per text instance: characters (not ignored, with text);
* licences: the font faces drawn (fonts/index.json: `licence`) and the shipped texture tiles
  drawn (synthgen/data/textures/LICENSE.md), each with the number of faces / tiles.

Only factors that decided the pixels are counted: a photo tile when the background (or a
sign's texture, or a photo-picked text colour) really was one, words that were placed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..core import TEXT_KINDS
from ..io.readers import Dataset, StoredSample

MAX_SPREAD = 64  # shards a sampled survey reads at least from (when the dataset has that many)
LENGTH_BINS = ((1, 1), (2, 3), (4, 7), (8, 15), (16, 31), (32, 63), (64, None))
COUNT_BINS = ((0, 0), (1, 1), (2, 3), (4, 7), (8, 15), (16, 31), (32, 63), (64, None))
_ITEM = re.compile(r"^(word\[\d+\])\.")
_STYLE = re.compile(r"^(word\[\d+\]|line)\.style\.([a-z_]+)$")
_FLAG = re.compile(r"^(word\[\d+\])\.([a-z_]+)$")


@dataclass
class Table:
    """One distribution: `rows` (value, count), counted per `unit`, out of `total` units.
    `exclusive`: every unit is counted in exactly one row (the counts sum to `total`);
    otherwise a unit may be in several rows or none (multi-label: shares of `total`)."""

    key: str
    title: str
    unit: str
    rows: list[tuple[str, int]]
    total: int
    exclusive: bool = True
    note: str = ""
    column: str = "value"  # what the first column holds

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "column": self.column, "unit": self.unit, "total": self.total,
                "exclusive": self.exclusive,
                "rows": [{"value": v, "count": c} for v, c in self.rows], **({"note": self.note} if self.note else {})}


@dataclass
class Survey:
    """What `survey` read and counted."""

    read: int  # samples read
    plan: str  # how they were chosen, in words
    complete: bool  # every sample read (and every shard checked)
    tables: list[Table] = field(default_factory=list)
    font_licences: list[dict[str, Any]] = field(default_factory=list)  # [{licence, faces, families}]
    texture_licences: list[dict[str, Any]] = field(default_factory=list)  # [{licence, tiles, sources}]
    user_images: int = 0  # samples on a user image background (background.folders)
    members: list[str] = field(default_factory=list)  # the first sample's tar members (extensions)
    sizes: list[tuple[int, int]] = field(default_factory=list)  # (H, W) of every sample read
    sheet: list[StoredSample] = field(default_factory=list)  # the samples for the contact sheet
    notes: list[str] = field(default_factory=list)


# -- which samples are read ------------------------------------------------------------------------
def read_plan(shards: list[dict[str, Any]], limit: int) -> list[tuple[dict[str, Any], int]]:
    """(shard record, samples to read from its start) for a survey of at most `limit` samples:
    every shard whole when the dataset fits, else shards spread evenly over it (at least
    MAX_SPREAD of them when there are that many, more when shards are small)."""
    total = sum(s["count"] for s in shards)
    if total <= limit:
        return [(s, s["count"]) for s in shards]
    avg = total / len(shards)
    m = min(len(shards), max(min(MAX_SPREAD, len(shards)), math.ceil(limit / max(avg, 1.0))))
    picks = sorted({round(k * (len(shards) - 1) / (m - 1)) for k in range(m)}) if m > 1 else [0]
    plan, left = [], limit
    for n, j in enumerate(picks):
        if left <= 0:
            break
        take = min(shards[j]["count"], math.ceil(left / (len(picks) - n)))
        plan.append((shards[j], take))
        left -= take
    return plan


def _stream(ds: Dataset, plan: list[tuple[dict[str, Any], int]]) -> Iterator[StoredSample]:
    for rec, take in plan:
        it = ds.iter_shard(rec)
        try:
            for k, s in enumerate(it):
                if k >= take:
                    break
                yield s
        finally:
            it.close()


# -- shipped facts: font index, texture tiles and their licences -----------------------------------
@lru_cache(maxsize=1)
def shipped_faces() -> dict[str, dict[str, Any]]:
    """Face name (as factors record it) -> its fonts/index.json row."""
    from ..renderers.fonts import shipped_index

    return {str(r.get("name")): r for r in shipped_index().values()}


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


@lru_cache(maxsize=1)
def texture_sources() -> dict[str, tuple[str, str]]:
    """Normalised source stem -> (licence, source as LICENSE.md names it), from the table in
    synthgen/data/textures/LICENSE.md (`| source | licence | tiles |`)."""
    from ..renderers.backgrounds import TEXTURES

    out: dict[str, tuple[str, str]] = {}
    p = TEXTURES / "LICENSE.md"
    if not p.is_file():
        return out
    for line in p.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("source", "") or set(cells[0]) <= {"-", " "}:
            continue
        source, licence = cells[0], cells[1]
        stem = Path(source.split()[-1]).stem
        short = re.split(r" \(|;", licence, maxsplit=1)[0].strip()
        out[_norm(stem)] = (short, source)
    return out


def tile_licence(path: str) -> tuple[str, str]:
    """(licence, source) of a shipped texture tile `<category>__<source>__<k>.jpg`."""
    parts = Path(path).name.split("__")
    src = parts[1] if len(parts) >= 3 else Path(path).stem
    return texture_sources().get(_norm(src), ("unknown (not in textures/LICENSE.md)", src))


def _tiles() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    from ..renderers.backgrounds import photo_categories, photo_tiles

    return photo_tiles(), photo_categories()


def _category_tile(cats: dict[str, tuple[str, ...]], cat: Any, idx: Any) -> str | None:
    names = cats.get(str(cat))
    if not names or not isinstance(idx, int):
        return None
    return names[min(max(idx, 0), len(names) - 1)]  # as backgrounds._photo_background clamps it


# -- one sample ------------------------------------------------------------------------------------
def _bin(n: int, bins) -> str:
    for lo, hi in bins:
        if hi is None and n >= lo:
            return f"{lo}+"
        if hi is not None and lo <= n <= hi:
            return str(lo) if lo == hi else f"{lo}-{hi}"
    return str(n)


def _bin_order(bins) -> list[str]:
    return [f"{lo}+" if hi is None else (str(lo) if lo == hi else f"{lo}-{hi}") for lo, hi in bins]


class _Counts:
    """Counters over the samples read."""

    def __init__(self, kind: str, template_faces: Callable[[str], list[str] | None]) -> None:
        self.kind = kind
        self.template_faces = template_faces
        self.samples = 0
        self.per_sample: dict[str, Counter] = {k: Counter() for k in ("background", "photo", "layout", "template",
                                                                      "instances")}
        self.items = 0  # text items with a font (or, for documents, template faces drawn)
        self.styled_items = 0  # items that record style effects
        self.placed_words = 0
        self.fonts: Counter = Counter()  # face name -> uses
        self.styles: Counter = Counter()
        self.unstyled = 0  # items with no style effect applied
        self.flags: Counter = Counter()
        self.scene_flags: Counter = Counter()
        self.scene_samples = 0
        self.lengths: Counter = Counter()
        self.ignored = 0
        self.tiles: Counter = Counter()  # tile path -> uses
        self.user_images = 0
        self.missing_templates: set[str] = set()

    def add(self, s: StoredSample) -> None:
        f = s.label.get("factors") or {}
        if not isinstance(f, dict):
            f = {}
        self.samples += 1
        tiles, cats = _tiles()
        bg = f.get("background.kind")
        if isinstance(bg, str):
            self.per_sample["background"][bg] += 1
            if bg == "photo":
                cat = f.get("background.photo_category")
                self.per_sample["photo"][str(cat)] += 1
                t = _category_tile(cats, cat, f.get("background.photo"))
                if t:
                    self.tiles[t] += 1
            elif bg == "image":
                self.user_images += 1
        if isinstance(f.get("line.layout"), str):
            self.per_sample["layout"][f["line.layout"]] += 1
        if f.get("derived.line.color_from_photo") is True and isinstance(f.get("line.color_photo.tile"), int):
            k = f["line.color_photo.tile"]
            if 0 <= k < len(tiles):
                self.tiles[tiles[k]] += 1
        template = f.get("document.template")
        if isinstance(template, str):
            self.per_sample["template"][template] += 1
            faces = self.template_faces(template)
            if faces is None:
                self.missing_templates.add(template)
            else:
                for name in faces:
                    self.items += 1
                    self.fonts[name] += 1
        scene_flags = {k[len("scene."):]: v for k, v in f.items() if k.startswith("scene.") and isinstance(v, bool)
                       and "." not in k[len("scene."):]}
        if scene_flags:
            self.scene_samples += 1
            self.scene_flags.update(k for k, v in scene_flags.items() if v)

        # text items: "line" (a line sample), "word[i]" (a scene word; only those placed)
        items: list[str] = ["line"] if isinstance(f.get("line.font"), str) else []
        words = sorted({m.group(1) for k in f if (m := _ITEM.match(k))}, key=lambda w: int(w[5:-1]))
        for w in words:
            if f.get(f"derived.{w}.placed") is False:
                continue
            if isinstance(f.get(f"{w}.font"), str):
                items.append(w)
        styles: dict[str, dict[str, bool]] = {}
        for k, v in f.items():
            m = _STYLE.match(k)
            if m and isinstance(v, bool):
                styles.setdefault(m.group(1), {})[m.group(2)] = v
        for it in items:
            self.items += 1
            self.fonts[f[f"{it}.font"]] += 1
            st = styles.get(it)
            if st is not None:
                self.styled_items += 1
                # a flag named <effect>_<x> beside a flag <effect> is that effect's setting
                # (box_plate, overlap_below, shadow_down), not an effect of its own
                on = [k for k, v in st.items() if v and not any(k.startswith(o + "_") for o in st if o != k)]
                self.styles.update(on)
                self.unstyled += not on
            if it.startswith("word["):
                self.placed_words += 1
                for k, v in f.items():
                    m = _FLAG.match(k)
                    if m and m.group(1) == it and isinstance(v, bool) and v:
                        self.flags[m.group(2)] += 1
                lines = f.get(f"{it}.lines")
                if isinstance(lines, int) and lines > 1:
                    self.flags["lines>1"] += 1
                if f.get(f"{it}.sign") is True and f.get(f"{it}.sign.texture") is True:
                    t = _category_tile(cats, f.get(f"{it}.sign.background.photo_category"),
                                       f.get(f"{it}.sign.background.photo"))
                    if t:
                        self.tiles[t] += 1
        text = [i for i in s.instances if isinstance(i, dict) and i.get("kind") in TEXT_KINDS]
        self.per_sample["instances"][_bin(len(text), COUNT_BINS)] += 1
        for i in text:
            if i.get("ignore"):
                self.ignored += 1
            elif i.get("text"):
                self.lengths[_bin(len(str(i["text"])), LENGTH_BINS)] += 1


# -- tables ----------------------------------------------------------------------------------------
def _ordered(c: Counter, order: list[str] | None = None) -> list[tuple[str, int]]:
    if order is not None:
        return [(k, c[k]) for k in order if c[k]] + sorted(((k, v) for k, v in c.items() if k not in order),
                                                           key=lambda kv: (-kv[1], kv[0]))
    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))


def _face_facts(name: str, other: dict[str, tuple[Any, str]]) -> tuple[str, str, str]:
    """(style, licence, family) of a face by its recorded name: fonts/index.json's row, else a
    face found in a shipped folder the index does not list or in the config's fonts.folders."""
    row = shipped_faces().get(name)
    if row is not None:
        return str(row.get("style", "?")), str(row.get("licence") or "unknown"), str(row.get("family", name))
    hit = other.get(name)
    if hit is not None:
        face, licence = hit
        return face.style, licence, face.family
    return "unknown", "unknown (a face synthgen cannot find now)", name


def _other_faces(config: dict[str, Any], names: list[str]) -> dict[str, tuple[Any, str]]:
    """Face name -> (FontFace, licence) for the faces `names` that fonts/index.json does not
    list: shipped files outside the index (their folder's LICENSE says the licence) and the
    config's fonts.folders (the font's own licence)."""
    if not names:
        return {}
    from ..config import FONTS
    from ..renderers.fonts import font_files, load_faces, shipped_index

    indexed = set(shipped_index())
    places: list[tuple[Path, str | None]] = []
    if FONTS.is_dir():
        places += [(p, None) for p in sorted(FONTS.iterdir()) if p.is_dir()]
    folders = ((config.get("fonts") or {}).get("folders") or []) if isinstance(config, dict) else []
    places += [(Path(f).expanduser(), "your font's own (fonts.folders)") for f in folders]
    want, out = set(names), {}
    for folder, licence in places:
        try:
            files = [p for p in font_files(folder) if str(p.resolve()) not in indexed]
            for p in files:
                for face in load_faces(str(p)):
                    if face.name in want and face.name not in out:
                        out[face.name] = (face, licence or f"see fonts/{folder.name}/LICENSE")
        except Exception:  # a folder gone or a file gone bad since the render: that face stays unknown
            continue
    return out


def _template_faces(config: dict[str, Any]) -> Callable[[str], list[str] | None]:
    """Template name -> the face names its fonts resolve to (None: the template cannot be loaded)."""
    cache: dict[str, list[str] | None] = {}
    specs = list(((config.get("document") or {}).get("templates") or {}) if isinstance(config, dict) else [])

    def faces(name: str) -> list[str] | None:
        if name in cache:
            return cache[name]
        from ..templates.loading import load_template

        found = None
        for spec in [name, *specs]:
            try:
                t = load_template(spec)
            except Exception:
                continue
            if t.name == name:
                found = sorted({f.name for f in t.faces.values()})
                break
        cache[name] = found
        return found

    return faces


def survey(ds: Dataset, limit: int = 2000, sheet: int = 16) -> Survey:
    """Read at most `limit` samples of `ds` and count them (see the module docstring)."""
    plan = read_plan(ds.shards, limit)
    n_read = sum(t for _, t in plan)
    complete = n_read == ds.count
    if complete:
        how = f"all {ds.count:,} samples"
    else:
        how = (f"{n_read:,} of {ds.count:,} samples: the first {max(t for _, t in plan):,} (or fewer) of each of "
               f"{len(plan):,} shards spread evenly over the {len(ds.shards):,}")
    m = min(sheet, n_read)
    want = sorted({round(k * (n_read - 1) / max(1, m - 1)) for k in range(m)})
    kind = str(ds.kind or "")
    counts = _Counts(kind, _template_faces(ds.config))
    out = Survey(read=n_read, plan=how, complete=complete)
    w = 0
    for pos, s in enumerate(_stream(ds, plan)):
        if pos == 0:
            out.members = sorted(s.members)
        counts.add(s)
        size = s.label.get("size")
        if isinstance(size, list) and len(size) == 2:
            out.sizes.append((int(size[0]), int(size[1])))
        if w < len(want) and pos == want[w]:
            out.sheet.append(s)
            w += 1
    out.tables = _tables(counts, ds.config)
    out.font_licences, out.texture_licences = _licences(counts, ds.config)
    out.user_images = counts.user_images
    if counts.missing_templates:
        out.notes.append(f"the fonts of template(s) {', '.join(sorted(counts.missing_templates))} are not counted: "
                         "they no longer load from the config's document.templates")
    return out


def _tables(c: _Counts, config: dict[str, Any]) -> list[Table]:
    n = c.samples
    tables: list[Table] = []
    user = _other_faces(config, [k for k in c.fonts if k not in shipped_faces()])
    item_unit = {"line": "lines", "scene": "words", "document": "template fonts drawn"}.get(c.kind, "text items")
    if c.fonts:
        by_style: Counter = Counter()
        for name, k in c.fonts.items():
            by_style[_face_facts(name, user)[0]] += k
        tables.append(Table("font_styles", "Fonts by style", item_unit, _ordered(by_style), c.items,
                            note="style from fonts/index.json (faces in fonts.folders: guessed from their tables)"
                            + ("; each document draws every font of its template" if c.kind == "document" else ""),
                            column="style"))
        top = _ordered(c.fonts)
        shown = top[:15]
        rest = top[15:]
        rows = [(f"{name} ({_face_facts(name, user)[0]})", k) for name, k in shown]
        if rest:
            rows.append((f"{len(rest)} other faces", sum(k for _, k in rest)))
        tables.append(Table("font_faces", f"Font faces ({len(c.fonts)} drawn)", item_unit, rows, c.items,
                            column="face (style)"))
    if c.per_sample["background"]:
        tables.append(Table("backgrounds", "Background kinds", "samples", _ordered(c.per_sample["background"]),
                            sum(c.per_sample["background"].values()),
                            note="" if sum(c.per_sample["background"].values()) == n else
                            f"{n - sum(c.per_sample['background'].values())} samples record no background kind",
                            column="kind"))
    if c.per_sample["photo"]:
        tables.append(Table("photo_categories", "Photo background categories", "photo backgrounds",
                            _ordered(c.per_sample["photo"]), sum(c.per_sample["photo"].values()), column="category"))
    if c.per_sample["layout"]:
        tables.append(Table("layouts", "Line layouts", "samples", _ordered(c.per_sample["layout"]),
                            sum(c.per_sample["layout"].values()), column="layout"))
    if c.per_sample["template"]:
        tables.append(Table("templates", "Document templates", "samples", _ordered(c.per_sample["template"]),
                            sum(c.per_sample["template"].values()), column="template"))
    if c.flags or c.placed_words:
        tables.append(Table("placement", "Word placement (a word can have several)", "placed words",
                            _ordered(c.flags), c.placed_words, exclusive=False, column="placement"))
    if c.scene_samples:
        tables.append(Table("scene", "Document scene effects (a sample can have several)", "samples",
                            _ordered(c.scene_flags), c.scene_samples, exclusive=False, column="effect"))
    if c.styled_items:
        tables.append(Table("styles", "Style effects (an item can have several)", item_unit,
                            _ordered(c.styles) + [("none", c.unstyled)], c.styled_items, exclusive=False,
                            note="the share of items with each effect applied", column="effect"))
    tables.append(Table("instances", "Text instances per sample", "samples",
                        _ordered(c.per_sample["instances"], _bin_order(COUNT_BINS)), n, column="instances"))
    if c.lengths:
        tables.append(Table("text_lengths", "Text length (characters)", "text instances",
                            _ordered(c.lengths, _bin_order(LENGTH_BINS)), sum(c.lengths.values()),
                            note=f"instances with text, not ignored ({c.ignored} ignored instances not counted)",
                            column="characters"))
    return tables


def _licences(c: _Counts, config: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    user = _other_faces(config, [k for k in c.fonts if k not in shipped_faces()])
    fonts: dict[str, set[str]] = {}
    fams: dict[str, set[str]] = {}
    for name in c.fonts:
        _, lic, fam = _face_facts(name, user)
        fonts.setdefault(lic, set()).add(name)
        fams.setdefault(lic, set()).add(fam)
    font_rows = [{"license": lic, "faces": len(v), "families": len(fams[lic])}
                 for lic, v in sorted(fonts.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    tiles: dict[str, set[str]] = {}
    srcs: dict[str, set[str]] = {}
    for t in c.tiles:
        lic, src = tile_licence(t)
        tiles.setdefault(lic, set()).add(t)
        srcs.setdefault(lic, set()).add(src)
    tex_rows = [{"license": lic, "tiles": len(v), "sources": sorted(srcs[lic])}
                for lic, v in sorted(tiles.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    return font_rows, tex_rows
