"""Fonts: discovery, coverage (fontTools cmap) and cached Pillow faces.

A font is only ever chosen for text whose every character is in its cmap, so a missing
glyph is never drawn as a box ("tofu").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont, TTLibError
from PIL import ImageFont

from ..config import FONTS
from ..errors import UserError

FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".otc"}
# Characters that need no glyph of their own (layout only).
_NO_GLYPH = {ord(" "), ord("\u3000"), ord("\t")}


@dataclass(frozen=True)
class FontFace:
    path: str
    index: int
    name: str
    cmap: frozenset[int]

    def covers(self, text: str) -> bool:
        # a set test in C: this runs for every word drawn
        return self.chars.issuperset(text)

    @cached_property
    def chars(self) -> frozenset[str]:
        """The characters this face can draw: its cmap, plus those that need no glyph."""
        return frozenset(map(chr, self.cmap)) | {chr(c) for c in _NO_GLYPH}

    def missing(self, text: str) -> list[str]:
        return sorted({c for c in text if ord(c) not in self.cmap and ord(c) not in _NO_GLYPH})


@lru_cache(maxsize=256)
def load_faces(path: str) -> tuple[FontFace, ...]:
    """All faces in one font file (a .ttc holds several). Corrupt file -> UserError naming it."""
    p = Path(path)
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
            faces.append(FontFace(path=str(p), index=i, name=str(name), cmap=frozenset(cmap)))
            # FreeType must open it too: fontTools reads tables lazily and can accept files it cannot draw.
            ImageFont.truetype(str(p), size=12, index=i)
        return tuple(faces)
    except UserError:
        raise
    except (TTLibError, OSError, AssertionError, KeyError, ValueError, IndexError) as e:  # fontTools raises many kinds
        raise UserError(f"font file {path!r} is corrupt or not a font ({type(e).__name__}: {e}); remove it or replace it") from None


def font_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file())


def families() -> list[str]:
    return sorted(p.name for p in FONTS.iterdir() if p.is_dir() and font_files(p)) if FONTS.is_dir() else []


def resolve_faces(family_names: list[str], folders: list[str]) -> list[FontFace]:
    """Faces from shipped families (`fonts/<family>/`) and user folders, in a stable order."""
    faces: list[FontFace] = []
    for fam in family_names:
        folder = FONTS / fam
        if not folder.is_dir() or not font_files(folder):
            raise UserError(f"unknown font family {fam!r}; shipped families: {', '.join(families()) or 'none'}")
        for f in font_files(folder):
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
    if not faces:
        raise UserError("no fonts configured: set fonts.families or fonts.folders")
    return faces


@lru_cache(maxsize=1024)
def pil_font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    # Basic layout: glyphs are placed by their advances, exactly as our labels assume.
    return ImageFont.truetype(path, size=size, index=index, layout_engine=ImageFont.Layout.BASIC)
