"""`synthgen fonts list`: the font index (family, style, tags, weight, italic, scripts, licence).
`synthgen fonts check`: which font faces can draw how much of which corpus.

For every face (file, face name) and every corpus: the share of the corpus's characters
(occurrences; whitespace not counted, it needs no glyph) that are in the face's character map,
and the share of its lines (words, for the word lists) that the face covers completely. A line
is drawn in one face, so the "any face" row counts a line when at least one face covers all of
it; its character share counts characters that at least one face has. Then the characters no
face covers, most frequent first. A corrupt font file is a one-line error naming it (exit 2).
"""

from __future__ import annotations

import argparse
import os
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SHOW_MISSING = 40

EPILOG = """\
examples:
  synthgen fonts check                                  # shipped fonts x shipped corpora
  synthgen fonts check --corpus my_words.txt --folder ~/fonts
  synthgen fonts check --family noto-cjk --corpus zh_chars

chars: share of character occurrences the face can draw (whitespace not counted).
lines: share of lines (words) the face can draw entirely; a line is drawn in one face.
"""


ORDER = 60
INTERRUPTED = "nothing was written (fonts only reads)"  # cli.py

LIST_EPILOG = """\
examples:
  synthgen fonts list                          # every shipped family, one row each
  synthgen fonts list --style handwriting      # only one style
  synthgen fonts list --faces --family dejavu  # one row per face
  synthgen fonts list --folder ~/fonts         # shipped families and your own

weights: OS/2 weight classes of the family's faces (400 regular, 700 bold); i: italic faces.
In a config: fonts.families: [all] draws from every shipped family; fonts.styles:
{handwriting: 0.1, mono: 0.1} sets shares per style; fonts.exclude: [lato] holds one out.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("fonts", help="font tools: the font index, coverage of corpora by font faces",
                       description="Font tools. `synthgen fonts list` prints the font index (family, style, "
                       "weights, italics, scripts, licence); `synthgen fonts check` lists every font face with "
                       "the share of each corpus it can draw, and the characters no face covers.")
    fs = p.add_subparsers(dest="fonts_cmd", metavar="COMMAND", required=True, parser_class=type(p))
    ls = fs.add_parser("list", help="the font index: family, style, weights, italics, scripts, licence",
                       description="List the font families synthgen can draw from (shipped families and your "
                       "folders): style (what fonts.styles weights), tags, faces with weight and italic, "
                       "scripts covered (latin: A-Z a-z 0-9; han: >= 90% of GB2312 level 1), licence.",
                       epilog=LIST_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ls.add_argument("--family", action="append", default=[], metavar="NAME",
                    help="shipped family folder under fonts/ (repeatable; default: all)")
    ls.add_argument("--folder", action="append", default=[], metavar="DIR", help="your own font folder (repeatable)")
    ls.add_argument("--style", action="append", default=[], metavar="STYLE",
                    help="only families of this style (repeatable)")
    ls.add_argument("--exclude", action="append", default=[], metavar="NAME",
                    help="leave out a family (index name or folder), as fonts.exclude does")
    ls.add_argument("--faces", action="store_true", help="one row per face instead of per family")
    c = fs.add_parser("check", help="share of each corpus each font face covers",
                      description="List every font face (file, face name) with the share of each corpus it "
                      "covers, by characters and by lines, and the characters that no face covers.",
                      epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--corpus", action="append", default=[], metavar="FILE_OR_NAME",
                   help="shipped corpus name or UTF-8 text file, one entry a line (repeatable; "
                   "default: every shipped corpus)")
    c.add_argument("--family", action="append", default=[], metavar="NAME",
                   help="shipped font family, a folder under fonts/ (repeatable; default: every shipped "
                   "family unless --folder is given)")
    c.add_argument("--folder", action="append", default=[], metavar="DIR",
                   help="your own font folder, searched recursively for .ttf/.otf/.ttc (repeatable)")
    return p


@dataclass
class CorpusCoverage:
    name: str                    # as given (shipped name or path)
    label: str                   # short column label
    lines: int
    chars: int                   # character occurrences, whitespace not counted
    distinct: int
    faces: list[tuple[float, float]] = field(default_factory=list)  # (chars share, lines share) per face
    any_face: tuple[float, float] = (0.0, 0.0)
    missing: list[tuple[str, int]] = field(default_factory=list)    # (char, occurrences), most frequent first
    missing_lines: int = 0       # lines no single face covers


def coverage(faces: list, corpora: list[str]) -> list[CorpusCoverage]:
    """Coverage of each corpus (shipped name or path) by each face (`synthgen.renderers.fonts.FontFace`)."""
    from ..renderers.corpus import load_corpus

    out = []
    for name in corpora:
        lines = load_corpus(name)
        counts = Counter(c for line in lines for c in line)
        glyph = {c: n for c, n in counts.items() if not c.isspace()}
        total = sum(glyph.values())
        line_sets = Counter(frozenset(line) for line in lines)
        # characters each face lacks (FontFace.covers knows which characters need no glyph)
        lacks = [frozenset(c for c in counts if not f.covers(c)) for f in faces]

        def char_share(missing: frozenset) -> float:
            return 1.0 - sum(glyph.get(c, 0) for c in missing) / total if total else 1.0

        rows = []
        for miss in lacks:
            ok = sum(n for s, n in line_sets.items() if s.isdisjoint(miss))
            rows.append((char_share(miss), ok / len(lines)))
        nowhere = frozenset.intersection(*lacks) if lacks else frozenset(counts)
        drawable = sum(n for s, n in line_sets.items() if any(s.isdisjoint(m) for m in lacks))
        label = name if "/" not in name and "\\" not in name and not Path(name).suffix else Path(name).name
        out.append(CorpusCoverage(
            name=name, label=label, lines=len(lines), chars=total, distinct=len(glyph), faces=rows,
            any_face=(char_share(nowhere), drawable / len(lines)),
            missing=sorted(((c, counts[c]) for c in nowhere), key=lambda t: (-t[1], t[0])),
            missing_lines=len(lines) - drawable,
        ))
    return out


def pct(x: float) -> str:
    """Percent with one decimal; never shows 100% or 0% unless it is exact."""
    if x >= 1.0:
        return "100%"
    if x <= 0.0:
        return "0%"
    v = round(x * 100, 1)
    return "99.9%" if v >= 100 else "<0.1%" if v <= 0 else f"{v:.1f}%"


def show_char(c: str) -> str:
    cat = unicodedata.category(c)
    if c.isprintable() and not cat.startswith("M") and not c.isspace():
        return c
    return f"U+{ord(c):04X}"


def _display_path(p: str) -> str:
    try:
        rel = os.path.relpath(p)
        return p if rel.startswith("..") else rel
    except ValueError:  # another drive (Windows)
        return p


def _table(rows: list[list[str]], align: str) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(r, widths, align)]
        out.append("  " + "  ".join(cells).rstrip())
    return out


def report(faces: list, cov: list[CorpusCoverage]) -> str:
    lines = [f"font faces ({len(faces)}):"]
    rows = [["#", "face", "file", "chars in cmap"]]
    for i, f in enumerate(faces, 1):
        collection = Path(f.path).suffix.lower() in (".ttc", ".otc")
        rows.append([str(i), f.name, _display_path(f.path) + (f"#{f.index}" if collection else ""), f"{len(f.cmap):,}"])
    lines += _table(rows, "rllr")

    from ..renderers.corpus import CORPUS_DIR

    lines += ["", "corpora:"]  # a shipped name is what load_corpus reads first; anything else is the user's path
    rows = [[c.label, f"{c.lines:,} lines", f"{c.chars:,} characters", f"{c.distinct:,} distinct",
             "shipped" if (CORPUS_DIR / f"{c.name}.txt").is_file() else c.name] for c in cov]
    lines += _table(rows, "lrrrl")

    lines += ["", "share each face can draw (chars: character occurrences; lines: whole lines):"]
    head1, head2 = ["", ""], ["#", "face"]
    for c in cov:
        head1 += [c.label, ""]
        head2 += ["chars", "lines"]
    rows = [head1, head2]
    for i, f in enumerate(faces, 1):
        rows.append([str(i), f.name] + [pct(v) for c in cov for v in c.faces[i - 1]])
    rows.append(["", "any face"] + [pct(v) for c in cov for v in c.any_face])
    lines += _table(rows, "rl" + "rr" * len(cov))

    lines += ["", f"characters no face covers (most frequent first, first {SHOW_MISSING}):"]
    w = max(len(c.label) for c in cov)
    for c in cov:
        if not c.missing:
            lines.append(f"  {c.label.ljust(w)}  none")
            continue
        shown = " ".join(show_char(ch) for ch, _ in c.missing[:SHOW_MISSING])
        more = f" ... (+{len(c.missing) - SHOW_MISSING})" if len(c.missing) > SHOW_MISSING else ""
        lines.append(f"  {c.label.ljust(w)}  {len(c.missing):,} characters, {c.missing_lines:,} lines "
                     f"no face can draw: {shown}{more}")
    return "\n".join(lines)


def _check_pillow(faces: list) -> None:
    """FreeType must open each face and draw a glyph it claims: fontTools alone reads only tables."""
    from ..errors import UserError
    from ..renderers.fonts import pil_font

    for f in faces:
        probe = next((chr(c) for c in sorted(f.cmap) if chr(c).isalnum()), None)
        try:
            font = pil_font(f.path, f.index, 24)
            if probe is not None:
                font.getmask(probe)
        except (OSError, ValueError, MemoryError) as e:
            raise UserError(f"font file {f.path!r} face {f.index} cannot be drawn ({type(e).__name__}: {e}); "
                            "remove it or replace it") from None


def check(a: argparse.Namespace) -> int:
    from ..renderers.corpus import shipped
    from ..renderers.fonts import families, resolve_faces

    fams = a.family or ([] if a.folder else families())
    faces = resolve_faces(fams, a.folder)
    _check_pillow(faces)
    cov = coverage(faces, a.corpus or shipped())
    print(report(faces, cov))
    return 0


def list_fonts(a: argparse.Namespace) -> int:
    from ..errors import UserError
    from ..renderers.fonts import STYLES, resolve_faces, shipped_index

    fams = a.family or (["all"] if not a.folder else [])
    faces = resolve_faces(fams, a.folder, a.exclude)
    bad = sorted(set(a.style) - set(STYLES))
    if bad:
        raise UserError(f"unknown style {bad}; styles are {', '.join(STYLES)}")
    if a.style:
        faces = [f for f in faces if f.style in a.style]
    index = shipped_index()
    lic = {p: r.get("licence", "") for p, r in index.items()}
    if a.faces:
        rows = [["face", "family", "style", "tags", "weight", "italic", "scripts", "file"]]
        for f in faces:
            rows.append([f.name, f.family, f.style, ",".join(f.tags), str(f.weight), "yes" if f.italic else "",
                         ",".join(f.scripts), _display_path(f.path)])
        print("\n".join(_table(rows, "llllrlll")))
    else:
        by_fam: dict[str, list] = {}
        for f in faces:
            by_fam.setdefault(f.family, []).append(f)
        rows = [["family", "style", "tags", "faces", "weights", "scripts", "folder", "licence"]]
        for fam, fs in sorted(by_fam.items(), key=lambda t: (STYLES.index(t[1][0].style) if t[1][0].style in STYLES else 99, t[0].lower())):
            f0 = fs[0]
            weights = " ".join(sorted({f"{f.weight}{'i' if f.italic else ''}" for f in fs}))
            folder = Path(f0.path).parent.name
            rows.append([fam, f0.style, ",".join(f0.tags), str(len(fs)), weights, ",".join(f0.scripts), folder,
                         lic.get(str(Path(f0.path).resolve()), "(user folder)" if a.folder else "")])
        print("\n".join(_table(rows, "lllrllll")))
    by_style: dict[str, set] = {}
    for f in faces:
        by_style.setdefault(f.style, set()).add(f.family)
    latin = {f.family for f in faces if "latin" in f.scripts}
    han = {f.family for f in faces if "han" in f.scripts}
    print(f"\n{len({f.family for f in faces})} families, {len(faces)} faces; {len(latin)} families draw Latin, "
          f"{len(han)} draw Chinese (GB2312 level 1)")
    print("per style: " + ", ".join(f"{s} {len(by_style[s])}" for s in STYLES if s in by_style))
    return 0


COMMANDS = {"check": check, "list": list_fonts}


def run(a: argparse.Namespace) -> int:
    return COMMANDS[a.fonts_cmd](a)
