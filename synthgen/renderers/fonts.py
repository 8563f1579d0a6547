"""Fonts: discovery, the font index (family, style, weight, italic, scripts), coverage
(fontTools cmap), style-weighted choice and cached Pillow faces.

A font is only ever chosen for text whose every character is in its cmap, so a missing
glyph is never drawn as a box ("tofu").

Shipped fonts are described by `fonts/index.json` (written by scripts/make_fonts.py); a face
in a user folder gets its family, style, weight and slant from its own tables (name, OS/2
weight and PANOSE, post.isFixedPitch).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
from PIL import ImageFont

from .. import machinecache
from ..config import FONTS
from ..errors import UserError

FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".otc"}
# Characters that need no glyph of their own (layout only).
_NO_GLYPH = {ord(" "), ord("\u3000"), ord("\t")}


STYLES = ("serif", "sans", "mono", "slab", "condensed", "display", "handwriting")
_CHARS: dict[frozenset, frozenset] = {}  # cmap -> FontFace.chars, shared by faces with one cmap
_CMAPS: dict[bytes, frozenset] = {}  # cmap digest -> the one frozenset of it (faces from the machine cache)
_FONT_IDS: dict[str, str] = {}  # font file path -> digest of its bytes (keys the glyph atlas)


@dataclass(frozen=True)
class FontFace:
    path: str
    index: int
    name: str
    cmap: frozenset[int]
    family: str = ""
    style: str = "sans"              # primary style, one of STYLES (what fonts.styles weights)
    tags: tuple[str, ...] = ()       # further tags: slab, rounded, kai, song, script, ...
    weight: int = 400                # OS/2 usWeightClass
    italic: bool = False
    scripts: tuple[str, ...] = ()    # "latin" (A-Z a-z 0-9), "han" (>= 90% of GB2312 level 1)

    def covers(self, text: str) -> bool:
        # a set test in C: this runs for every word drawn
        return self.chars.issuperset(text)

    @cached_property
    def chars(self) -> frozenset[str]:
        """The characters this face can draw: its cmap, plus those that need no glyph (one
        set shared by every face with the same cmap: a family's weights and styles)."""
        c = _CHARS.get(self.cmap)
        if c is None:
            c = _CHARS[self.cmap] = frozenset(map(chr, self.cmap)) | {chr(c) for c in _NO_GLYPH}
        return c

    def missing(self, text: str) -> list[str]:
        return sorted({c for c in text if ord(c) not in self.cmap and ord(c) not in _NO_GLYPH})


@lru_cache(maxsize=1)
def shipped_index() -> dict[str, dict]:
    """fonts/index.json as {resolved file path: row}; empty when there is no index."""
    p = FONTS / "index.json"
    if not p.is_file():
        return {}
    rows = json.loads(p.read_text(encoding="utf-8"))["faces"]
    return {_resolved(FONTS / r["file"]): r for r in rows}


@lru_cache(maxsize=4096)
def _real_dir(folder: str) -> str:
    return os.path.realpath(folder)


def _resolved(p: Path) -> str:
    """str(p.resolve()), resolving each folder once per process (a font folder holds many files)."""
    if p.is_symlink():
        return str(p.resolve())
    return os.path.join(_real_dir(str(p.parent)), p.name)


_HAN_PROBE = frozenset(range(0x4E00, 0x9FA6))


def _guess(f, name: str, cmap: dict) -> dict:
    """Index facts for a face with no index row (user folders), from its own tables."""
    nm = f["name"]
    family = nm.getDebugName(16) or nm.getDebugName(1) or name
    os2 = f["OS/2"] if "OS/2" in f else None
    weight = int(getattr(os2, "usWeightClass", 400) or 400)
    italic = bool(getattr(os2, "fsSelection", 0) & 1) or bool(f["head"].macStyle & 2)
    pan = getattr(os2, "panose", None)
    style = "sans"
    if "post" in f and f["post"].isFixedPitch:
        style = "mono"
    elif pan is not None:
        # PANOSE 1.0: family kind 3 = script, 4 = decorative; serif style 2-10 serifed (6 square =
        # slab), 11-13 sans; proportion 6-8 condensed.
        if pan.bFamilyType == 3:
            style = "handwriting"
        elif pan.bFamilyType == 4:
            style = "display"
        elif pan.bProportion in (6, 7, 8):
            style = "condensed"
        elif pan.bSerifStyle == 6:
            style = "slab"
        elif 2 <= pan.bSerifStyle <= 10:
            style = "serif"
    scripts = []
    if all(ord(c) in cmap for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"):
        scripts.append("latin")
    if len(_HAN_PROBE.intersection(cmap)) >= 3400:
        scripts.append("han")
    return {"family": str(family), "style": style, "tags": (), "weight": weight, "italic": italic,
            "scripts": tuple(scripts)}


@lru_cache(maxsize=1024)
def load_faces(path: str) -> tuple[FontFace, ...]:
    """All faces in one font file (a .ttc holds several). Corrupt file -> UserError naming it.
    Read through the machine cache (synthgen/machinecache.py): fontTools builds a cmap with
    glyph names, ~2 ms a face; the cached entry, keyed by the file's path, size and mtime
    and by this module's source and the library versions, holds the same faces."""
    p = Path(path)
    rp = _resolved(p)
    row = shipped_index().get(rp)
    ck = _faces_key(p, rp)
    if ck is not None:
        hit = machinecache.read("faces", ck)
        if hit is not None:
            meta, arrays = hit
            try:
                faces = tuple(FontFace(path=str(p), index=i, name=r["name"], cmap=_shared_cmap(arrays[f"cmap{i}"]),
                                       family=r["family"], style=r["style"], tags=tuple(r["tags"]),
                                       weight=int(r["weight"]), italic=bool(r["italic"]), scripts=tuple(r["scripts"]))
                              for i, r in enumerate(meta["faces"]))
                _FONT_IDS[str(p)] = str(meta["font_id"])
                return faces
            except (KeyError, TypeError, ValueError):  # not an entry this code wrote: build it again
                pass
    faces = _read_faces(p, row)
    with open(p, "rb") as f:
        _FONT_IDS[str(p)] = font_id = hashlib.blake2b(f.read(), digest_size=16).hexdigest()
    if ck is not None:
        rows = [{"name": f.name, "family": f.family, "style": f.style, "tags": list(f.tags), "weight": f.weight,
                 "italic": f.italic, "scripts": list(f.scripts)} for f in faces]
        machinecache.write("faces", ck, {"font_id": font_id, "faces": rows},
                           {f"cmap{i}": np.array(sorted(f.cmap), np.uint32) for i, f in enumerate(faces)})
    return faces


def font_id(path: str) -> str:
    """A digest of the font file's bytes (what its glyphs depend on besides the libraries)."""
    fid = _FONT_IDS.get(path)
    if fid is None:
        load_faces(path)
        fid = _FONT_IDS.get(path)
        if fid is None:  # load_faces was cached before this path was recorded (another spelling)
            with open(path, "rb") as f:
                fid = _FONT_IDS[path] = hashlib.blake2b(f.read(), digest_size=16).hexdigest()
    return fid


def _shared_cmap(a: np.ndarray) -> frozenset[int]:
    b = a.tobytes()
    c = _CMAPS.get(b)
    if c is None:
        c = _CMAPS[b] = frozenset(a.tolist())
    return c


@lru_cache(maxsize=1)
def _library_versions() -> tuple[str, ...]:
    import PIL
    import fontTools

    return (PIL.__version__, str(getattr(ImageFont.core, "freetype2_version", "")), fontTools.version)


def _faces_key(p: Path, resolved: str) -> str | None:
    if machinecache.root() is None:
        return None
    try:
        st = p.stat()
        index = FONTS / "index.json"  # the shipped faces' facts come from it
        src = machinecache.source_key(__file__, *([str(index)] if index.is_file() else []))
    except OSError:
        return None
    return machinecache.key("faces", resolved, st.st_size, st.st_mtime_ns, src, _library_versions())


def _read_faces(p: Path, row: dict | None) -> tuple[FontFace, ...]:
    # imported here: ~20 ms a process, and a warm machine cache never reads a font's tables
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    path = str(p)
    fonts: list = []
    try:
        if p.suffix.lower() in (".ttc", ".otc"):
            fonts = list(TTCollection(path, lazy=True).fonts)
        else:
            fonts = [TTFont(path, lazy=True)]
        faces = []
        for i, f in enumerate(fonts):
            cmap = f.getBestCmap()
            if not cmap:
                raise UserError(f"font {path!r} face {i} has no usable character map")
            name = f["name"].getBestFullName() or p.stem
            if row is not None and len(fonts) == 1:
                # shipped subsets carry neutral internal names (a modified font must not use a
                # Reserved Font Name); the index keeps the source face's name for people
                name = row.get("name") or name
                facts = {"family": row["family"], "style": row["style"], "tags": tuple(row.get("tags", ())),
                         "weight": int(row.get("weight", 400)), "italic": bool(row.get("italic")),
                         "scripts": tuple(row.get("scripts", ()))}
            else:
                facts = _guess(f, str(name), cmap)
            faces.append(FontFace(path=str(p), index=i, name=str(name), cmap=frozenset(cmap), **facts))
            # FreeType must open it too: fontTools reads tables lazily and can accept files it cannot draw.
            ImageFont.truetype(str(p), size=12, index=i)
        return tuple(faces)
    except UserError:
        raise
    except (TTLibError, OSError, AssertionError, KeyError, ValueError, IndexError) as e:  # fontTools raises many kinds
        raise UserError(f"font file {path!r} is corrupt or not a font ({type(e).__name__}: {e}); remove it or replace it") from None
    finally:
        for f in fonts:  # lazy readers keep the file open (a collection's faces share one reader)
            f.close()


def font_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file())


def _has_fonts(folder: Path) -> bool:
    return any(p.suffix.lower() in FONT_SUFFIXES and p.is_file() for p in folder.rglob("*"))  # stops at the first


def families() -> list[str]:
    return sorted(p.name for p in FONTS.iterdir() if p.is_dir() and _has_fonts(p)) if FONTS.is_dir() else []


def _expand(family_names: list[str]) -> list[str]:
    """`all` stands for every shipped family folder; order kept, duplicates dropped."""
    out: list[str] = []
    for fam in family_names:
        for f in (families() if fam == "all" else [fam]):
            if f not in out:
                out.append(f)
    return out


def resolve_faces(family_names: list[str], folders: list[str], exclude: list[str] | tuple = ()) -> list[FontFace]:
    """Faces from shipped families (`fonts/<family>/`, or `all`) and user folders, in a stable
    order, less those whose folder or family name is in `exclude` (case-insensitive)."""
    faces: list[FontFace] = []
    for fam in _expand(family_names):
        folder = FONTS / fam
        files = font_files(folder) if folder.is_dir() else []
        if not files:
            raise UserError(f"unknown font family {fam!r}; shipped families: {', '.join(families()) or 'none'}")
        for f in files:
            faces.extend(load_faces(str(f)))
    for user in folders:
        folder = Path(user).expanduser()
        if not folder.is_dir():
            raise UserError(f"font folder {user!r} does not exist (fonts.folders)")
        files = font_files(folder)
        if not files:
            raise UserError(f"font folder {user!r} holds no .ttf/.otf/.ttc files (fonts.folders)")
        for f in files:
            faces.extend(load_faces(str(f)))
    if exclude:
        ex = {e.lower() for e in exclude}
        known = {f.family.lower() for f in faces} | {Path(f.path).parent.name.lower() for f in faces}
        unknown = sorted(ex - known)
        if unknown:
            raise UserError(f"fonts.exclude names {unknown} but no configured face has that family or folder; "
                            "see `synthgen fonts list`")
        faces = [f for f in faces if f.family.lower() not in ex and Path(f.path).parent.name.lower() not in ex]
    if not faces:
        raise UserError("no fonts configured: set fonts.families or fonts.folders"
                        + (" (fonts.exclude removed every face)" if exclude else ""))
    seen: dict[str, FontFace] = {}
    for f in faces:
        if f.name in seen and seen[f.name] != f:
            # faces are drawn by name (the recorded factor): two faces may not share one
            raise UserError(f"two font faces are both named {f.name!r} ({seen[f.name].path}, {f.path}); "
                            "remove one of them from fonts.families / fonts.folders")
        seen[f.name] = f
    return list(seen.values())


class FaceCoverage:
    """Which of `faces` have a glyph for every character of a text, fast for many faces: a bit
    mask over the faces per character (faces with the same character set, a family's weights
    and styles, share one test: 74 sets for the 284 shipped faces), ANDed over the text; the
    covering faces, their names and draw weights are cached per mask (texts rarely repeat,
    masks do)."""

    def __init__(self, faces: list[FontFace], picker: "FontPicker") -> None:
        self.faces, self.picker = faces, picker
        groups: dict[frozenset, int] = {}
        for k, f in enumerate(faces):
            groups[f.chars] = groups.get(f.chars, 0) | 1 << k
        self._sets = list(groups.items())
        self._chars: dict[str, int] = {}
        self._masks: dict[int, tuple[list[FontFace], list[str], list[float]]] = {}

    def mask(self, text: str) -> int:
        mask = (1 << len(self.faces)) - 1
        for c in set(text):
            m = self._chars.get(c)
            if m is None:
                m = self._chars[c] = sum(bits for chars, bits in self._sets if c in chars)
            mask &= m
        return mask

    def of(self, mask: int) -> tuple[list[FontFace], list[str], tuple[float, ...]]:
        """(faces, their names, their draw weights) of a mask from `mask`."""
        hit = self._masks.get(mask)
        if hit is None:
            faces = [f for k, f in enumerate(self.faces) if mask >> k & 1]
            # weights as a tuple: Draws.choice bisects a tuple's cached running sums (same draw)
            hit = self._masks[mask] = (faces, [f.name for f in faces],
                                       tuple(self.picker.weights(faces)) if faces else ())
        return hit


class FontPicker:
    """Weights for drawing a face among those covering a text: the shares of `fonts.styles`
    per style (styles not listed share what is left, in proportion to their number of
    families), then every family of a style alike, then every face of a family alike.
    Weights are computed per set of covering faces (cached), so a style a text's faces lack
    gives its share to the others."""

    def __init__(self, styles: dict[str, float] | None = None, faces: list[FontFace] = ()) -> None:
        self.styles = dict(styles or {})
        self.by_name = {f.name: f for f in faces}  # lets weights() take face names
        bad = set(self.styles) - set(STYLES)
        if bad:
            raise UserError(f"fonts.styles: unknown style {sorted(bad)}; styles are {', '.join(STYLES)}")
        self._cache: dict[tuple[str, ...], list[float]] = {}

    def weights(self, faces: list) -> list[float]:
        """One weight per item of `faces` (FontFace objects, or names of faces given at init)."""
        key = tuple(f if isinstance(f, str) else f.name for f in faces)
        w = self._cache.get(key)
        if w is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            w = self._cache[key] = self._weights([self.by_name[f] if isinstance(f, str) else f for f in faces])
        return w

    def _weights(self, faces: list[FontFace]) -> list[float]:
        fam_faces: dict[str, int] = {}
        style_fams: dict[str, set[str]] = {}
        for f in faces:
            fam_faces[f.family] = fam_faces.get(f.family, 0) + 1
            style_fams.setdefault(f.style, set()).add(f.family)
        listed = {s: w for s, w in self.styles.items() if s in style_fams}
        rest = [s for s in style_fams if s not in self.styles]
        left = max(0.0, 1.0 - sum(listed.values()))
        n_rest = sum(len(style_fams[s]) for s in rest)
        share = dict(listed)
        for s in rest:
            share[s] = left * len(style_fams[s]) / n_rest
        if not sum(share.values()) > 0:  # every present style weighted 0: draw families alike
            share = {s: len(v) for s, v in style_fams.items()}
        return [share[f.style] / len(style_fams[f.style]) / fam_faces[f.family] for f in faces]


@lru_cache(maxsize=1024)
def pil_font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    # Basic layout: glyphs are placed by their advances, exactly as our labels assume.
    return ImageFont.truetype(path, size=size, index=index, layout_engine=ImageFont.Layout.BASIC)
