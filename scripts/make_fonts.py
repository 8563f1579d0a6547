#!/usr/bin/env python3
"""Rebuild the shipped fonts in ``fonts/`` from Debian's font packages.

What it makes
-------------
``fonts/dejavu/``
    DejaVuSans.ttf, DejaVuSans-Bold.ttf, DejaVuSerif.ttf, DejaVuSansMono.ttf copied
    byte for byte from the Debian package ``fonts-dejavu-core``
    (``/usr/share/fonts/truetype/dejavu/``), and ``LICENSE``: the licence text the fonts
    carry in their own name table (Bitstream Vera + Arev terms; DejaVu changes are public
    domain) followed by Debian's ``/usr/share/doc/fonts-dejavu-core/copyright``.

``fonts/noto-cjk/``
    ``NotoSansSC-Subset.otf``: a subset of face "Noto Sans CJK SC" (Regular) taken from
    ``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc`` (Debian package
    ``fonts-noto-cjk``); the face is picked by its family name, not by a fixed index.
    It keeps the glyphs for:

    * printable ASCII (U+0020..U+007E) and Latin-1 (U+00A0..U+00FF);
    * general punctuation U+2010..U+2027, U+2030..U+203B, CJK symbols and punctuation
      U+3000..U+303F, fullwidth forms U+FF01..U+FF5E and U+FFE0..U+FFE5 (incl. ￥);
    * every character of GB2312 (bytes 0xA1A1..0xF7FE decoded with Python's ``gb2312``
      codec, undefined code points skipped): the symbol rows 1-9 and all 6,763 hanzi
      (level 1 = rows 16-55, 3,755 hanzi; level 2 = rows 56-87, 3,008 hanzi).

    Subsetting is ``fontTools.subset`` with its default options (default OpenType layout
    features, hinting kept, CFF subroutines kept) except that the licence / copyright /
    designer name records are kept. The family is then renamed "SynthGen Sans SC"
    (PostScript name ``SynthGenSansSC-Regular``) so that the modified font cannot be
    mistaken for the official Noto Sans CJK SC. Neither the font nor Debian's copyright
    file declares a Reserved Font Name; some distributions of the same fonts declare
    'Source' (Adobe), which the new name does not use either.
    ``LICENSE`` is the copyright notice plus the SIL OFL 1.1 text from Debian's
    ``/usr/share/doc/fonts-noto-cjk/copyright``.

After writing, the script checks that Pillow loads each font and that the subset's cmap
covers every requested character and draws "中文测试" as four distinct, non-empty glyphs.

Usage
-----
    apt-get install fonts-dejavu-core fonts-noto-cjk   # Debian 12: 2.37-6, 1:20220127+repack1-1
    pip install fonttools pillow
    python scripts/make_fonts.py [--out fonts]

The output is deterministic for the same package versions and fontTools version.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
DEJAVU_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf"]
DEJAVU_COPYRIGHT = Path("/usr/share/doc/fonts-dejavu-core/copyright")

NOTO_TTC = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NOTO_FAMILY = "Noto Sans CJK SC"
NOTO_COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
CJK_OUT_NAME = "NotoSansSC-Subset.otf"

NEW_FAMILY = "SynthGen Sans SC"
NEW_STYLE = "Regular"
NEW_PS_NAME = "SynthGenSansSC-Regular"

MAX_CJK_BYTES = 10 * 1024 * 1024


# --------------------------------------------------------------------------- characters


def gb2312_chars(rows: range) -> list[str]:
    """Characters of GB2312 rows ``rows`` (1-based), in code order; undefined cells skipped."""
    out = []
    for row in rows:
        for cell in range(1, 95):
            try:
                out.append(bytes([0xA0 + row, 0xA0 + cell]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return out


def gb2312_level1() -> list[str]:
    return gb2312_chars(range(16, 56))


def gb2312_level2() -> list[str]:
    return gb2312_chars(range(56, 88))


def subset_codepoints() -> list[int]:
    cps: set[int] = set()
    cps.update(range(0x20, 0x7F))  # printable ASCII
    cps.update(range(0xA0, 0x100))  # Latin-1 supplement
    cps.update(range(0x2010, 0x2028))  # dashes, quotes, bullets, ellipsis
    cps.update(range(0x2030, 0x203C))  # per mille, primes, ※
    cps.update(range(0x3000, 0x3040))  # CJK symbols and punctuation: 、。《》【】「」〔〕…
    cps.update(range(0xFF01, 0xFF5F))  # fullwidth ASCII forms ，．：；？！（）
    cps.update(range(0xFFE0, 0xFFE6))  # fullwidth ￠￡￢￣￤￥
    cps.update(ord(c) for c in "·×÷—―‖…‘’“”〃々〆〇￥•●○■□▲△◆◇★☆→←↑↓№℃")
    cps.update(ord(c) for c in gb2312_chars(range(1, 10)))  # GB2312 symbol rows
    cps.update(ord(c) for c in gb2312_level1() + gb2312_level2())
    return sorted(cps)


# --------------------------------------------------------------------------- helpers


def deb_version(pkg: str) -> str:
    try:
        return subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def debian_license_block(copyright_file: Path, name: str) -> str:
    """The body of a ``License: <name>`` stanza of a DEP-5 copyright file, unwrapped."""
    lines = copyright_file.read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    inside = False
    for line in lines:
        if not inside:
            # A stand-alone stanza; a "License:" field inside a "Files:" stanza has no body.
            inside = line.strip() == f"License: {name}"
            continue
        if not line.startswith(" "):
            if out:
                break
            inside = False
            continue
        body = line[1:]
        out.append("" if body.strip() == "." else body)
    if not out:
        raise SystemExit(f"no 'License: {name}' text in {copyright_file}")
    return "\n".join(out).strip("\n") + "\n"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- DejaVu


def make_dejavu(out: Path) -> None:
    from fontTools.ttLib import TTFont

    dst = out / "dejavu"
    dst.mkdir(parents=True, exist_ok=True)
    for fn in DEJAVU_FILES:
        shutil.copyfile(DEJAVU_DIR / fn, dst / fn)
    embedded = TTFont(str(DEJAVU_DIR / "DejaVuSans.ttf"), lazy=True)["name"].getDebugName(13)
    text = (
        "DejaVu fonts 2.37 - licence\n"
        "===========================\n\n"
        "Part 1: the licence text embedded in the fonts (name table, nameID 13), which is\n"
        "upstream's LICENSE file (https://dejavu-fonts.github.io/License.html).\n\n"
        + embedded.strip()
        + "\n\n\n"
        "Part 2: Debian's copyright file for package fonts-dejavu-core "
        f"{deb_version('fonts-dejavu-core')}\n"
        "(/usr/share/doc/fonts-dejavu-core/copyright), verbatim.\n\n"
        + DEJAVU_COPYRIGHT.read_text(encoding="utf-8")
    )
    (dst / "LICENSE").write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- Noto CJK subset


def _pick_face(ttc: Path, family: str) -> int:
    from fontTools.ttLib import TTCollection

    coll = TTCollection(str(ttc), lazy=True)
    for i, f in enumerate(coll.fonts):
        if f["name"].getDebugName(1) == family and f["name"].getDebugName(2) == "Regular":
            return i
    raise SystemExit(f"no face with family {family!r} in {ttc}")


def _rename(font, version_note: str) -> None:
    """Give the subset its own family name (name table and CFF)."""
    name = font["name"]
    orig_unique = name.getDebugName(3) or ""
    orig_version = name.getDebugName(5) or ""
    # Drop every record that carries a font name; keep copyright, designer, licence, URLs.
    name.names = [r for r in name.names if r.nameID not in (1, 2, 3, 4, 6, 7, 16, 17, 18, 21, 22, 25)]
    new = {
        1: NEW_FAMILY,
        2: NEW_STYLE,
        3: f"{NEW_PS_NAME}; subset of {orig_unique}",
        4: NEW_FAMILY,
        5: f"{orig_version}; {version_note}",
        6: NEW_PS_NAME,
    }
    for nid, s in new.items():
        name.setName(s, nid, 3, 1, 0x409)
        name.setName(s, nid, 1, 0, 0)
    desc = (
        "Subset of Noto Sans CJK SC Regular (GB2312 + ASCII + CJK punctuation), renamed; "
        "made by synthgen scripts/make_fonts.py. Noto is a trademark of Google Inc."
    )
    name.setName(desc, 10, 3, 1, 0x409)
    name.setName(desc, 10, 1, 0, 0)

    cff = font["CFF "].cff
    old_ps = cff.fontNames[0]
    cff.fontNames = [NEW_PS_NAME]
    top = cff.topDictIndex[0]
    top.FullName = NEW_FAMILY
    top.FamilyName = NEW_FAMILY
    if hasattr(top, "FDArray"):
        for fd in top.FDArray:
            fn = getattr(fd, "FontName", None)
            if fn and fn.startswith(old_ps):
                fd.FontName = NEW_PS_NAME + fn[len(old_ps):]


def make_noto_subset(out: Path) -> Path:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    dst = out / "noto-cjk"
    dst.mkdir(parents=True, exist_ok=True)
    index = _pick_face(NOTO_TTC, NOTO_FAMILY)
    font = TTFont(str(NOTO_TTC), fontNumber=index, lazy=False)
    cmap = font.getBestCmap()
    wanted = subset_codepoints()
    present = [cp for cp in wanted if cp in cmap]
    missing = [cp for cp in wanted if cp not in cmap]
    if missing:
        print(f"note: {len(missing)} requested code points not in the source font: "
              + " ".join(f"U+{cp:04X}" for cp in missing[:40]), file=sys.stderr)

    opts = subset.Options()
    opts.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    opts.name_languages = [0x409]
    opts.name_legacy = True
    opts.notdef_outline = True
    opts.recalc_timestamp = False  # reproducible bytes
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=present)
    sub.subset(font)

    _rename(font, "subset by synthgen scripts/make_fonts.py")
    path = dst / CJK_OUT_NAME
    font.recalcTimestamp = False  # keep the source's head.modified: reproducible bytes
    font.save(str(path))
    font.close()
    if path.stat().st_size > MAX_CJK_BYTES:
        raise SystemExit(f"{path} is {path.stat().st_size} bytes, over the {MAX_CJK_BYTES} limit")

    ofl = debian_license_block(NOTO_COPYRIGHT, "SIL-1.1")
    src_notice = TTFont(str(NOTO_TTC), fontNumber=index, lazy=True)["name"].getDebugName(0)
    text = (
        f"Copyright notice of the source font: {src_notice}\n"
        "Noto is a trademark of Google Inc.\n\n"
        "Reserved Font Name: neither the font's name table nor Debian's copyright file\n"
        "declares one; other distributions of these fonts (e.g. Google Fonts' Noto Sans SC)\n"
        "state \"Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name\n"
        "'Source'\".\n\n"
        f"{CJK_OUT_NAME} is a Modified Version (a subset) of Noto Sans CJK SC Regular from\n"
        f"Debian package fonts-noto-cjk {deb_version('fonts-noto-cjk')}, renamed to\n"
        f"\"{NEW_FAMILY}\", a name containing neither 'Source' nor 'Noto'. Like the original it\n"
        "is distributed under the SIL Open Font License 1.1, reproduced below (text from\n"
        "Debian's /usr/share/doc/fonts-noto-cjk/copyright).\n\n"
        + ofl
    )
    (dst / "LICENSE").write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- checks


def check(out: Path) -> None:
    import numpy as np
    from fontTools.ttLib import TTFont
    from PIL import Image, ImageDraw, ImageFont

    for fn in DEJAVU_FILES:
        f = ImageFont.truetype(str(out / "dejavu" / fn), 32)
        assert f.getbbox("Hello")[2] > 0, fn

    path = out / "noto-cjk" / CJK_OUT_NAME
    tt = TTFont(str(path), lazy=True)
    cmap = tt.getBestCmap()
    want = set(subset_codepoints())
    src = TTFont(str(NOTO_TTC), fontNumber=_pick_face(NOTO_TTC, NOTO_FAMILY), lazy=True).getBestCmap()
    lost = sorted(cp for cp in want if cp in src and cp not in cmap)
    assert not lost, f"subset lost {len(lost)} code points, e.g. {lost[:10]}"
    hanzi = gb2312_level1() + gb2312_level2()
    assert all(ord(c) in cmap for c in hanzi), "not every GB2312 hanzi is covered"

    font = ImageFont.truetype(str(path), 48, layout_engine=ImageFont.Layout.BASIC)
    masks = []
    for ch in "中文测试":
        img = Image.new("L", (64, 64), 0)
        ImageDraw.Draw(img).text((8, 0), ch, font=font, fill=255)
        a = np.asarray(img) > 127
        assert a.sum() > 50, f"{ch!r} renders empty"
        masks.append(a)
    for i in range(len(masks)):
        for j in range(i + 1, len(masks)):
            assert (masks[i] != masks[j]).sum() > 50, "two different hanzi render alike (tofu?)"
    # .notdef (the tofu box) must differ from every real glyph
    img = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(img).text((8, 0), "\uac00", font=font, fill=255)  # Hangul: not in the subset
    tofu = np.asarray(img) > 127
    assert all((tofu != m).sum() > 50 for m in masks), "hanzi render as .notdef"
    print(f"ok: {path.name}: {len(cmap)} code points, {len(hanzi)} GB2312 hanzi, "
          f"{path.stat().st_size} bytes")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "fonts", help="output folder (default: fonts/)")
    ap.add_argument("--no-check", action="store_true", help="skip the Pillow/cmap checks")
    args = ap.parse_args(argv)
    make_dejavu(args.out)
    make_noto_subset(args.out)
    if not args.no_check:
        check(args.out)
    for p in sorted(args.out.rglob("*")):
        if p.is_file():
            print(f"{p.stat().st_size:>10}  {sha256(p)[:16]}  {p.relative_to(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
