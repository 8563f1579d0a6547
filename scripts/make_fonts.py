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
MAX_TOTAL_BYTES = 25_000_000  # the tree travels to GPU machines: keep fonts/ small


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


# --------------------------------------------------------------------------- the wide set
#
# One entry per family: (folder under fonts/, family name, primary style, extra tags,
# Debian package, licence, source folder, [files]). At most four faces a family (regular,
# bold, italic, bold italic where they exist): weights and slants without blowing the size
# budget. Near-copies of a design already in the set (TeX Gyre Termes = Nimbus Roman, Hack =
# DejaVu Sans Mono, ...) are left out so that "families" counts designs, not names.
# Left out on purpose: Bebas Neue (caps only: "abc" would draw as "ABC", a wrong label),
# DSEG (digits only), Beteckna (plain GPL-3, no font exception).

STYLES = ("serif", "sans", "mono", "slab", "condensed", "display", "handwriting")

UF = "/usr/share/fonts"
ADF = f"{UF}/truetype/adf"
URW = f"{UF}/opentype/urw-base35"
NOTO = f"{UF}/truetype/noto"

CATALOGUE: list[tuple] = [
    # ---- serif
    ("liberation-serif", "Liberation Serif", "serif", [], "fonts-liberation2", "OFL-1.1", f"{UF}/truetype/liberation2",
     ["LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf", "LiberationSerif-Italic.ttf", "LiberationSerif-BoldItalic.ttf"]),
    ("linux-libertine", "Linux Libertine O", "serif", [], "fonts-linuxlibertine", "GPL-2+ with font exception / OFL-1.1",
     f"{UF}/opentype/linux-libertine", ["LinLibertine_R.otf", "LinLibertine_RB.otf", "LinLibertine_RI.otf", "LinLibertine_RBI.otf"]),
    ("nimbus-roman", "Nimbus Roman", "serif", [], "fonts-urw-base35", "AGPL-3 with font exception", URW,
     ["NimbusRoman-Regular.otf", "NimbusRoman-Bold.otf", "NimbusRoman-Italic.otf", "NimbusRoman-BoldItalic.otf"]),
    ("c059", "C059", "serif", ["schoolbook"], "fonts-urw-base35", "AGPL-3 with font exception", URW,
     ["C059-Roman.otf", "C059-Bold.otf", "C059-Italic.otf", "C059-BdIta.otf"]),
    ("p052", "P052", "serif", [], "fonts-urw-base35", "AGPL-3 with font exception", URW,
     ["P052-Roman.otf", "P052-Bold.otf", "P052-Italic.otf", "P052-BoldItalic.otf"]),
    ("urw-bookman", "URW Bookman", "serif", [], "fonts-urw-base35", "AGPL-3 with font exception", URW,
     ["URWBookman-Light.otf", "URWBookman-Demi.otf", "URWBookman-LightItalic.otf", "URWBookman-DemiItalic.otf"]),
    ("caladea", "Caladea", "serif", [], "fonts-crosextra-caladea", "Apache-2.0", f"{UF}/truetype/crosextra",
     ["Caladea-Regular.ttf", "Caladea-Bold.ttf", "Caladea-Italic.ttf", "Caladea-BoldItalic.ttf"]),
    ("eb-garamond", "EB Garamond", "serif", ["oldstyle"], "fonts-ebgaramond", "OFL-1.1", f"{UF}/opentype/ebgaramond",
     ["EBGaramond12-Regular.otf", "EBGaramond12-Bold.otf", "EBGaramond12-Italic.otf"]),
    ("gentium-plus", "Gentium Plus", "serif", [], "fonts-sil-gentiumplus", "OFL-1.1 (RFN)", f"{UF}/truetype/gentiumplus",
     ["GentiumPlus-Regular.ttf", "GentiumPlus-Bold.ttf", "GentiumPlus-Italic.ttf", "GentiumPlus-BoldItalic.ttf"]),
    ("charis-sil", "Charis SIL", "serif", [], "fonts-sil-charis", "OFL-1.1 (RFN)", f"{UF}/truetype/charis",
     ["CharisSIL-Regular.ttf", "CharisSIL-Bold.ttf", "CharisSIL-Italic.ttf", "CharisSIL-BoldItalic.ttf"]),
    ("noto-serif", "Noto Serif", "serif", [], "fonts-noto-core", "OFL-1.1", NOTO,
     ["NotoSerif-Regular.ttf", "NotoSerif-Bold.ttf", "NotoSerif-Italic.ttf", "NotoSerif-BoldItalic.ttf"]),
    ("old-standard", "Old Standard TT", "serif", ["didone"], "fonts-oldstandard", "OFL-1.0", f"{UF}/truetype/fonts-oldstandard",
     ["OldStandard-Regular.ttf", "OldStandard-Bold.ttf", "OldStandard-Italic.ttf"]),
    ("vollkorn", "Vollkorn", "serif", [], "fonts-vollkorn", "OFL-1.1", f"{UF}/truetype/vollkorn",
     ["Vollkorn-Regular.ttf", "Vollkorn-Bold.ttf", "Vollkorn-Italic.ttf", "Vollkorn-BoldItalic.ttf"]),
    ("fanwood", "Fanwood Text", "serif", ["oldstyle"], "fonts-fanwood", "OFL-1.1", f"{UF}/truetype/fanwood",
     ["FanwoodText.otf", "FanwoodText-Italic.otf"]),
    ("goudy-bookletter", "Goudy Bookletter 1911", "serif", ["oldstyle"], "fonts-goudybookletter", "public domain",
     f"{UF}/opentype/sortsmill", ["GoudyBookletter1911.otf"]),
    ("century-catalogue", "Century Catalogue", "serif", [], "fonts-century-catalogue", "OFL-1.0",
     f"{UF}/truetype/fonts-century-catalogue", ["Century-Catalogue.ttf"]),
    ("accanthis-adf", "Accanthis ADF Std", "serif", [], "fonts-adf-accanthis", "GPL-2+ with font exception", ADF,
     ["AccanthisADFStd-Regular.otf", "AccanthisADFStd-Bold.otf", "AccanthisADFStd-Italic.otf", "AccanthisADFStd-BoldItalic.otf"]),
    ("baskervald-adf", "Baskervald ADF Std", "serif", [], "fonts-adf-baskervald", "GPL-2+ with font exception", ADF,
     ["BaskervaldADFStd.otf", "BaskervaldADFStd-Bold.otf", "BaskervaldADFStd-Italic.otf", "BaskervaldADFStd-Heavy.otf"]),
    ("tribun-adf", "Tribun ADF Std", "serif", [], "fonts-adf-tribun", "GPL-2+ with font exception", ADF,
     ["TribunADFStd-Regular.otf", "TribunADFStd-Bold.otf", "TribunADFStd-Italic.otf", "TribunADFStd-Cond.otf"]),
    ("prociono", "Prociono", "serif", [], "fonts-prociono", "public domain / GPL-2+", f"{UF}/opentype/fonts-prociono",
     ["Prociono.otf"]),
    ("linden-hill", "Linden Hill", "serif", ["oldstyle"], "fonts-lindenhill", "OFL-1.1", f"{UF}/truetype/lindenhill",
     ["LindenHill.otf", "LindenHill-Italic.otf"]),
    ("pt-serif", "PT Serif", "serif", [], "fonts-paratype", "ParaType Free Font License", f"{UF}/truetype/paratype",
     ["PTF55F.ttf", "PTF75F.ttf", "PTF56F.ttf", "PTF76F.ttf"]),
    ("free-serif", "FreeSerif", "serif", [], "fonts-freefont-ttf", "GPL-3+ with font exception", f"{UF}/truetype/freefont",
     ["FreeSerif.ttf", "FreeSerifBold.ttf", "FreeSerifItalic.ttf"]),
    # ---- sans
    ("liberation-sans", "Liberation Sans", "sans", [], "fonts-liberation2", "OFL-1.1", f"{UF}/truetype/liberation2",
     ["LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", "LiberationSans-Italic.ttf", "LiberationSans-BoldItalic.ttf"]),
    ("linux-biolinum", "Linux Biolinum O", "sans", [], "fonts-linuxlibertine", "GPL-2+ with font exception / OFL-1.1",
     f"{UF}/opentype/linux-libertine", ["LinBiolinum_R.otf", "LinBiolinum_RB.otf", "LinBiolinum_RI.otf"]),
    ("nimbus-sans", "Nimbus Sans", "sans", ["grotesque"], "fonts-urw-base35", "AGPL-3 with font exception", URW,
     ["NimbusSans-Regular.otf", "NimbusSans-Bold.otf", "NimbusSans-Italic.otf", "NimbusSans-BoldItalic.otf"]),
    ("urw-gothic", "URW Gothic", "sans", ["geometric"], "fonts-urw-base35", "AGPL-3 with font exception", URW,
     ["URWGothic-Book.otf", "URWGothic-Demi.otf", "URWGothic-BookOblique.otf", "URWGothic-DemiOblique.otf"]),
    ("carlito", "Carlito", "sans", [], "fonts-crosextra-carlito", "OFL-1.1", f"{UF}/truetype/crosextra",
     ["Carlito-Regular.ttf", "Carlito-Bold.ttf", "Carlito-Italic.ttf", "Carlito-BoldItalic.ttf"]),
    ("cantarell", "Cantarell", "sans", [], "fonts-cantarell", "OFL-1.1", f"{UF}/opentype/cantarell",
     ["Cantarell-Regular.otf", "Cantarell-Bold.otf", "Cantarell-Light.otf", "Cantarell-ExtraBold.otf"]),
    ("roboto", "Roboto", "sans", [], "fonts-roboto-unhinted", "Apache-2.0", f"{UF}/truetype/roboto/unhinted/RobotoTTF",
     ["Roboto-Regular.ttf", "Roboto-Bold.ttf", "Roboto-Italic.ttf", "Roboto-Light.ttf"]),
    ("open-sans", "Open Sans", "sans", [], "fonts-open-sans", "Apache-2.0", f"{UF}/truetype/open-sans",
     ["OpenSans-Regular.ttf", "OpenSans-Bold.ttf", "OpenSans-Italic.ttf", "OpenSans-ExtraBold.ttf"]),
    ("lato", "Lato", "sans", [], "fonts-lato", "OFL-1.1", f"{UF}/truetype/lato",
     ["Lato-Regular.ttf", "Lato-Bold.ttf", "Lato-Italic.ttf", "Lato-Black.ttf"]),
    ("noto-sans", "Noto Sans", "sans", [], "fonts-noto-core", "OFL-1.1", NOTO,
     ["NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSans-Italic.ttf", "NotoSans-BoldItalic.ttf"]),
    ("go", "Go", "sans", [], "fonts-go", "BSD-3-clause", f"{UF}/fonts-go",
     ["Go-Regular.ttf", "Go-Bold.ttf", "Go-Italic.ttf", "Go-Medium.ttf"]),
    ("cabin", "Cabin", "sans", ["humanist"], "fonts-cabin", "OFL-1.1", f"{UF}/opentype/cabin",
     ["Cabin-Regular.otf", "Cabin-Bold.otf", "Cabin-Italic.otf", "Cabin-SemiBold.otf"]),
    ("oxygen", "Oxygen", "sans", [], "fonts-oxygen", "GPL-3+ with font exception / OFL-1.1", f"{UF}/truetype/oxygen",
     ["Oxygen-Sans.ttf", "Oxygen-Sans-Bold.ttf"]),
    ("quicksand", "Quicksand", "sans", ["rounded", "geometric"], "fonts-quicksand", "OFL-1.1", f"{UF}/truetype/quicksand",
     ["Quicksand-Regular.ttf", "Quicksand-Bold.ttf", "Quicksand-Light.ttf"]),
    ("andika", "Andika", "sans", ["humanist"], "fonts-sil-andika", "OFL-1.1 (RFN)", f"{UF}/truetype/andika",
     ["Andika-Regular.ttf", "Andika-Bold.ttf", "Andika-Italic.ttf"]),
    ("inter", "Inter", "sans", ["grotesque"], "fonts-inter", "OFL-1.1", f"{UF}/opentype/inter",
     ["Inter-Regular.otf", "Inter-Bold.otf", "Inter-Italic.otf", "Inter-Black.otf"]),
    ("b612", "B612", "sans", [], "fonts-b612", "OFL-1.1", f"{UF}/opentype/b612",
     ["B612-Regular.otf", "B612-Bold.otf", "B612-Italic.otf"]),
    ("tuffy", "Tuffy", "sans", [], "fonts-tuffy", "public domain", f"{UF}/truetype/tuffy",
     ["Tuffy.ttf", "Tuffy_Bold.ttf", "Tuffy_Italic.ttf"]),
    ("jura", "Jura", "sans", ["techno"], "fonts-jura", "GPL-3 / OFL-1.1", f"{UF}/opentype/jura",
     ["Jura-Regular.otf", "Jura-Bold.otf", "Jura-Light.otf"]),
    ("play", "Play", "sans", ["techno"], "fonts-play", "OFL-1.1", f"{UF}/truetype/play", ["Play-Regular.ttf", "Play-Bold.ttf"]),
    ("pt-sans", "PT Sans", "sans", ["humanist"], "fonts-paratype", "ParaType Free Font License", f"{UF}/truetype/paratype",
     ["PTS55F.ttf", "PTS75F.ttf", "PTS56F.ttf", "PTS76F.ttf"]),
    ("gillius-adf", "Gillius ADF", "sans", ["humanist"], "fonts-adf-gillius", "GPL-2+ with font exception", ADF,
     ["GilliusADF-Regular.otf", "GilliusADF-Bold.otf", "GilliusADF-Italic.otf"]),
    ("verana-sans", "Verana Sans", "sans", [], "fonts-adf-verana", "GPL-2+ with font exception", ADF,
     ["VeranaSans-Regular.otf", "VeranaSans-Bold.otf", "VeranaSans-Oblique.otf"]),
    ("league-spartan", "League Spartan", "sans", ["geometric", "heavy"], "fonts-league-spartan", "OFL-1.1",
     f"{UF}/opentype/league-spartan", ["LeagueSpartan-Regular.otf", "LeagueSpartan-Bold.otf", "LeagueSpartan-Light.otf"]),
    ("radis-sans", "Radis Sans", "sans", [], "fonts-radisnoir", "OFL-1.1", f"{UF}/opentype/radisnoir", ["RadisSans-medium.otf"]),
    ("free-sans", "FreeSans", "sans", [], "fonts-freefont-ttf", "GPL-3+ with font exception", f"{UF}/truetype/freefont",
     ["FreeSans.ttf", "FreeSansBold.ttf", "FreeSansOblique.ttf"]),
    # ---- mono
    ("liberation-mono", "Liberation Mono", "mono", [], "fonts-liberation2", "OFL-1.1", f"{UF}/truetype/liberation2",
     ["LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf", "LiberationMono-Italic.ttf"]),
    ("inconsolata", "Inconsolata", "mono", [], "fonts-inconsolata", "OFL-1.0", f"{UF}/truetype/inconsolata", ["Inconsolata.otf"]),
    ("fira-code", "Fira Code", "mono", [], "fonts-firacode", "OFL-1.1", f"{UF}/truetype/firacode",
     ["FiraCode-Regular.ttf", "FiraCode-Bold.ttf", "FiraCode-Light.ttf"]),
    ("go-mono", "Go Mono", "mono", ["slab"], "fonts-go", "BSD-3-clause", f"{UF}/fonts-go",
     ["Go-Mono.ttf", "Go-Mono-Bold.ttf", "Go-Mono-Italic.ttf"]),
    ("jetbrains-mono", "JetBrains Mono", "mono", [], "fonts-jetbrains-mono", "OFL-1.1 (Debian: Apache-2)",
     f"{UF}/truetype/jetbrains-mono", ["JetBrainsMono-Regular.ttf", "JetBrainsMono-Bold.ttf", "JetBrainsMono-Italic.ttf"]),
    ("nimbus-mono", "Nimbus Mono PS", "mono", ["slab", "typewriter"], "fonts-urw-base35", "AGPL-3 with font exception", URW,
     ["NimbusMonoPS-Regular.otf", "NimbusMonoPS-Bold.otf", "NimbusMonoPS-Italic.otf"]),
    ("noto-sans-mono", "Noto Sans Mono", "mono", [], "fonts-noto-mono", "OFL-1.1", NOTO,
     ["NotoSansMono-Regular.ttf", "NotoSansMono-Bold.ttf"]),
    ("anonymous-pro", "Anonymous Pro", "mono", [], "fonts-anonymous-pro", "OFL-1.1", f"{UF}/truetype/anonymous-pro",
     ["Anonymous Pro.ttf", "Anonymous Pro B.ttf", "Anonymous Pro I.ttf"]),
    ("fantasque-sans-mono", "Fantasque Sans Mono", "mono", ["informal"], "fonts-fantasque-sans", "OFL-1.1",
     f"{UF}/truetype/fantasque-sans/Normal/TTF",
     ["FantasqueSansMono-Regular.ttf", "FantasqueSansMono-Bold.ttf", "FantasqueSansMono-Italic.ttf"]),
    ("mononoki", "mononoki", "mono", [], "fonts-mononoki", "OFL-1.1", f"{UF}/truetype/mononoki",
     ["mononoki-Regular.ttf", "mononoki-Bold.ttf", "mononoki-Italic.ttf"]),
    ("hermit", "Hermit", "mono", [], "fonts-hermit", "OFL-1.1", f"{UF}/truetype/hermit",
     ["Hermit-medium.otf", "Hermit-bold.otf", "Hermit-light.otf"]),
    ("agave", "agave", "mono", [], "fonts-agave", "MIT", f"{UF}/truetype/agave", ["agave-r-autohinted.ttf", "agave-b-autohinted.ttf"]),
    ("oxygen-mono", "Oxygen Mono", "mono", [], "fonts-oxygen", "GPL-3+ with font exception / OFL-1.1", f"{UF}/truetype/oxygen",
     ["OxygenMono-Regular.ttf"]),
    ("b612-mono", "B612 Mono", "mono", [], "fonts-b612", "OFL-1.1", f"{UF}/opentype/b612",
     ["B612Mono-Regular.otf", "B612Mono-Bold.otf", "B612Mono-Italic.otf"]),
    ("pt-mono", "PT Mono", "mono", [], "fonts-paratype", "ParaType Free Font License", f"{UF}/truetype/paratype",
     ["PTM55F.ttf", "PTM75F.ttf"]),
    ("free-mono", "FreeMono", "mono", ["typewriter"], "fonts-freefont-ttf", "GPL-3+ with font exception", f"{UF}/truetype/freefont",
     ["FreeMono.ttf", "FreeMonoBold.ttf", "FreeMonoOblique.ttf"]),
    # ---- slab
    ("roboto-slab", "Roboto Slab", "slab", [], "fonts-roboto-slab", "Apache-2.0", f"{UF}/opentype/roboto/slab",
     ["RobotoSlab-Regular.otf", "RobotoSlab-Bold.otf", "RobotoSlab-Light.otf"]),
    ("courier-prime", "Courier Prime", "slab", ["mono", "typewriter"], "fonts-courier-prime", "OFL-1.1",
     f"{UF}/opentype/courier-prime", ["Courier Prime.otf", "Courier Prime Bold.otf", "Courier Prime Italic.otf"]),
    ("averia-serif", "Averia Serif GWF", "slab", ["soft"], "fonts-averia-gwf", "OFL-1.1", f"{UF}/truetype/averia-gwf",
     ["AveriaGWF-Regular.ttf", "AveriaGWF-Bold.ttf", "AveriaGWF-Italic.ttf"]),
    # ---- condensed
    ("liberation-sans-narrow", "Liberation Sans Narrow", "condensed", ["sans"], "fonts-liberation", "GPL-2 with font exception",
     f"{UF}/truetype/liberation", ["LiberationSansNarrow-Regular.ttf", "LiberationSansNarrow-Bold.ttf", "LiberationSansNarrow-Italic.ttf"]),
    ("nimbus-sans-narrow", "Nimbus Sans Narrow", "condensed", ["sans"], "fonts-urw-base35", "AGPL-3 with font exception", URW,
     ["NimbusSansNarrow-Regular.otf", "NimbusSansNarrow-Bold.otf", "NimbusSansNarrow-Oblique.otf"]),
    ("roboto-condensed", "Roboto Condensed", "condensed", ["sans"], "fonts-roboto-unhinted", "Apache-2.0",
     f"{UF}/truetype/roboto/unhinted", ["RobotoCondensed-Regular.ttf", "RobotoCondensed-Bold.ttf", "RobotoCondensed-Italic.ttf"]),
    ("open-sans-condensed", "Open Sans Condensed", "condensed", ["sans"], "fonts-open-sans", "Apache-2.0", f"{UF}/truetype/open-sans",
     ["OpenSans-CondLight.ttf", "OpenSans-CondBold.ttf", "OpenSans-CondLightItalic.ttf"]),
    ("yanone-kaffeesatz", "Yanone Kaffeesatz", "condensed", ["sans", "display"], "fonts-yanone-kaffeesatz", "OFL-1.1",
     f"{UF}/opentype/yanone-kaffeesatz", ["YanoneKaffeesatz-Regular.otf", "YanoneKaffeesatz-Bold.otf", "YanoneKaffeesatz-Light.otf"]),
    ("pt-sans-narrow", "PT Sans Narrow", "condensed", ["sans"], "fonts-paratype", "ParaType Free Font License",
     f"{UF}/truetype/paratype", ["PTN57F.ttf", "PTN77F.ttf"]),
    ("pt-sans-caption", "PT Sans Caption", "sans", ["wide"], "fonts-paratype", "ParaType Free Font License",
     f"{UF}/truetype/paratype", ["PTC55F.ttf", "PTC75F.ttf"]),
    ("gillius-adf-cond", "Gillius ADF Cond", "condensed", ["sans"], "fonts-adf-gillius", "GPL-2+ with font exception", ADF,
     ["GilliusADF-Cond.otf", "GilliusADF-BoldCond.otf", "GilliusADF-CondItalic.otf"]),
    ("dejavu-condensed", "DejaVu Sans Condensed", "condensed", ["sans"], "fonts-dejavu-extra", "Bitstream Vera (DejaVu)",
     f"{UF}/truetype/dejavu", ["DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSansCondensed-Oblique.ttf"]),
    # ---- display
    ("lobster", "Lobster", "display", ["script"], "fonts-lobster", "OFL-1.1", f"{UF}/opentype/lobster", ["lobster.otf"]),
    ("lobster-two", "Lobster Two", "display", ["script"], "fonts-lobstertwo", "OFL-1.1", f"{UF}/opentype/lobstertwo",
     ["LobsterTwo-Regular.otf", "LobsterTwo-Bold.otf", "LobsterTwo-Italic.otf"]),
    ("comfortaa", "Comfortaa", "display", ["rounded", "geometric"], "fonts-comfortaa", "OFL-1.1", f"{UF}/truetype/comfortaa",
     ["Comfortaa-Regular.ttf", "Comfortaa-Bold.ttf", "Comfortaa-Light.ttf"]),
    ("averia-sans", "Averia GWF Gruesa", "display", ["soft"], "fonts-averia-gwf", "OFL-1.1", f"{UF}/truetype/averia-gwf",
     ["AveriaGWF-Gruesa.ttf", "AveriaGWF-Light.ttf"]),
    ("blankenburg", "Blankenburg", "display", ["blackletter"], "fonts-blankenburg", "OFL-1.1", f"{UF}/truetype/blankenburg",
     ["Blankenburg_UNZ1A.ttf"]),
    ("eurofurence", "Eurofurence", "display", ["rounded"], "fonts-eurofurence", "OFL-1.1", f"{UF}/truetype/eurofurence",
     ["eurof55.ttf", "eurof75.ttf", "eurof56.ttf"]),
    ("linux-libertine-display", "Linux Libertine Display O", "display", ["serif"], "fonts-linuxlibertine",
     "GPL-2+ with font exception / OFL-1.1", f"{UF}/opentype/linux-libertine", ["LinLibertine_DR.otf"]),  # not LinBiolinum_K: keycaps, not text
    # ---- handwriting / script
    ("dancing-script", "Dancing Script", "handwriting", ["script"], "fonts-dancingscript", "OFL-1.1", f"{UF}/opentype/dancingscript",
     ["DancingScript-Regular.otf", "DancingScript-Bold.otf"]),
    ("comic-neue", "Comic Neue", "handwriting", ["casual"], "fonts-comic-neue", "OFL-1.1", f"{UF}/opentype/comic-neue",
     ["ComicNeue-Regular.otf", "ComicNeue-Bold.otf", "ComicNeue-Italic.otf", "ComicNeue-Light.otf"]),
    ("dkg-handwriting", "dkg handwriting", "handwriting", [], "fonts-dkg-handwriting", "OFL-1.1", f"{UF}/truetype/fifthhorseman",
     ["dkg.ttf", "dkgBd.ttf", "dkgIt.ttf"]),
    ("humor-sans", "Humor Sans", "handwriting", ["casual"], "fonts-humor-sans", "OFL-1.1", f"{UF}/truetype/humor-sans",
     ["Humor-Sans.ttf"]),
    ("kristi", "Kristi", "handwriting", ["script"], "fonts-kristi", "OFL-1.1", f"{UF}/truetype/kristi", ["Kristi.ttf"]),
    ("femkeklaver", "Femkeklaver", "handwriting", [], "fonts-femkeklaver", "CC-BY-SA-3.0", f"{UF}/truetype/femkeklaver",
     ["femkeklaver.ttf"]),
    ("breip", "Breip", "handwriting", [], "fonts-breip", "OFL-1.0", f"{UF}/truetype/breip", ["Breip.ttf"]),
    ("rufscript", "Rufscript", "handwriting", ["script"], "fonts-rufscript", "OFL-1.1", f"{UF}/truetype/rufscript",
     ["Rufscript010.ttf"]),
    ("z003", "Z003", "handwriting", ["script", "calligraphic"], "fonts-urw-base35", "AGPL-3 with font exception", URW,
     ["Z003-MediumItalic.otf"]),
    ("purisa", "Purisa", "handwriting", [], "fonts-tlwg-purisa-ttf", "GPL-2+ with font exception", f"{UF}/truetype/tlwg",
     ["Purisa.ttf", "Purisa-Bold.ttf", "Purisa-Oblique.ttf"]),
    ("isabella", "Isabella", "handwriting", ["script", "calligraphic"], "fonts-isabella", "OFL-1.1", f"{UF}/truetype/isabella",
     ["Isabella.ttf"]),
]

# CJK families beside the shipped noto-cjk subset (Simplified Chinese corpora). Subset to the
# corpora's characters + GB2312 level 1 (3,755 most used hanzi) + punctuation, not all of
# GB2312 like noto-cjk, to stay in the size budget; a line a family cannot draw goes to one
# that can (coverage decides, never tofu).
CJK_CATALOGUE: list[tuple] = [
    # (folder, family, style, tags, package, licence, file, family name of the face to take)
    ("noto-serif-cjk", "Noto Serif CJK SC", "serif", ["song"], "fonts-noto-cjk", "OFL-1.1",
     f"{UF}/opentype/noto/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
    ("ar-pl-uming", "AR PL UMing CN", "serif", ["song", "ming"], "fonts-arphic-uming", "Arphic Public License",
     f"{UF}/truetype/arphic/uming.ttc", "AR PL UMing CN"),
    ("ar-pl-ukai", "AR PL UKai CN", "handwriting", ["kai", "brush"], "fonts-arphic-ukai", "Arphic Public License",
     f"{UF}/truetype/arphic/ukai.ttc", "AR PL UKai CN"),
    ("wqy-zenhei", "WenQuanYi Zen Hei", "sans", ["hei"], "fonts-wqy-zenhei", "GPL-2 with font embedding exception",
     f"{UF}/truetype/wqy/wqy-zenhei.ttc", "WenQuanYi Zen Hei"),
    ("wqy-microhei", "WenQuanYi Micro Hei", "sans", ["hei", "rounded"], "fonts-wqy-microhei",
     "Apache-2.0 or GPL-3+ with font exception", f"{UF}/truetype/wqy/wqy-microhei.ttc", "WenQuanYi Micro Hei"),
    ("lxgw-wenkai", "LXGW WenKai", "handwriting", ["kai"], "fonts-lxgw-wenkai", "OFL-1.1",
     f"{UF}/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", None),
]

# The shipped originals, described in the index too (not rebuilt here: see make_dejavu / make_noto_subset).
ORIGINAL = {
    "dejavu/DejaVuSans.ttf": ("DejaVu Sans", "sans", []),
    "dejavu/DejaVuSans-Bold.ttf": ("DejaVu Sans", "sans", []),
    "dejavu/DejaVuSerif.ttf": ("DejaVu Serif", "serif", []),
    "dejavu/DejaVuSansMono.ttf": ("DejaVu Sans Mono", "mono", []),
    "noto-cjk/NotoSansSC-Subset.otf": ("Noto Sans CJK SC", "sans", ["hei"]),
    # copied by hand from fonts-ocr-b (fonts/README.md), never rebuilt here: indexed all the same
    "ocr-b/OCRB.otf": ("OCR B", "mono", []),
}
ORIGINAL_LICENCE = {"dejavu": "Bitstream Vera (DejaVu)", "noto-cjk": "OFL-1.1", "ocr-b": "public domain"}
ORIGINAL_SOURCE = {"dejavu": "fonts-dejavu-core", "noto-cjk": "fonts-noto-cjk", "ocr-b": "fonts-ocr-b"}

LATIN_EXTRA = "€£¥¢$§©®°±µ¶·×÷–—‘’‚“”„†‡•…‰‹›™№′″"


def latin_codepoints() -> list[int]:
    cps: set[int] = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))  # ASCII, Latin-1
    cps |= set(range(0x2010, 0x2028)) | set(range(0x2030, 0x203B))
    cps |= {0x20AC, 0x20A9, 0x20B9, 0x2122, 0x2116, 0x2190, 0x2191, 0x2192, 0x2193}
    cps |= {ord(c) for c in LATIN_EXTRA}
    return sorted(cps)


def corpus_chars() -> set[int]:
    sys.path.insert(0, str(ROOT))
    from synthgen.renderers.corpus import load_corpus, shipped

    return {ord(c) for name in shipped() for c in "".join(load_corpus(name))}


def cjk_codepoints() -> list[int]:
    cps = set(latin_codepoints()) | corpus_chars()
    cps.update(range(0x3000, 0x3040))
    cps.update(range(0xFF01, 0xFF5F))
    cps.update(range(0xFFE0, 0xFFE6))
    cps.update(ord(c) for c in gb2312_chars(range(1, 10)))
    cps.update(ord(c) for c in gb2312_level1())
    return sorted(cps)


def face_id(folder: str) -> str:
    """A neutral internal family name: a modified (subset) font must not carry a Reserved Font Name."""
    return "SynthGen F" + hashlib.sha1(folder.encode()).hexdigest()[:6].upper()


def _rename_generic(font, new_family: str, style: str, source_name: str) -> None:
    name = font["name"]
    orig_version = name.getDebugName(5) or ""
    name.names = [r for r in name.names if r.nameID not in (1, 2, 3, 4, 6, 16, 17, 18, 21, 22, 25)]
    ps = (new_family + "-" + style).replace(" ", "")
    for nid, s in {1: new_family, 2: style, 3: f"{ps}; subset by synthgen", 4: f"{new_family} {style}",
                   5: orig_version, 6: ps}.items():
        name.setName(s, nid, 3, 1, 0x409)
        name.setName(s, nid, 1, 0, 0)
    desc = f"Subset of {source_name}, renamed; made by synthgen scripts/make_fonts.py."
    name.setName(desc, 10, 3, 1, 0x409)
    name.setName(desc, 10, 1, 0, 0)
    if "CFF " in font:
        cff = font["CFF "].cff
        old = cff.fontNames[0]
        cff.fontNames = [ps]
        top = cff.topDictIndex[0]
        top.FullName = f"{new_family} {style}"
        top.FamilyName = new_family
        for fd in getattr(top, "FDArray", None) or []:
            fn = getattr(fd, "FontName", None)
            if fn and fn.startswith(old):
                fd.FontName = ps + fn[len(old):]


def _style_of(font) -> str:
    return (font["name"].getDebugName(17) or font["name"].getDebugName(2) or "Regular").strip()


def subset_face(src: str, number: int, dst: Path, folder: str, wanted: list[int], hinting: bool) -> dict:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(src, fontNumber=number, lazy=False)
    source_name = font["name"].getBestFullName() or Path(src).stem
    cmap = font.getBestCmap()
    present = [cp for cp in wanted if cp in cmap]
    opts = subset.Options()
    opts.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    opts.name_languages = [0x409]
    opts.name_legacy = True
    opts.notdef_outline = True
    opts.hinting = hinting
    opts.recalc_timestamp = False
    # Glyphs are placed by their advances (Pillow's BASIC layout): no OpenType layout is ever
    # applied to these scripts, so GSUB/GPOS and embedded bitmaps are dead weight.
    opts.layout_features = []
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "EBDT", "EBLC", "EBSC", "FFTM", "BASE", "JSTF", "MATH"]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=present)
    sub.subset(font)
    style = _style_of(font)
    _rename_generic(font, face_id(folder), style, source_name)
    font.recalcTimestamp = False
    font.save(str(dst))
    return {"source_face": source_name, "style_name": style}


def face_facts(path: Path) -> dict:
    from fontTools.ttLib import TTFont

    f = TTFont(str(path), lazy=True)
    os2 = f["OS/2"] if "OS/2" in f else None
    weight = int(os2.usWeightClass) if os2 is not None else 400
    weight = weight * 100 if weight < 10 else weight  # a few old fonts store 1..9
    italic = bool((os2.fsSelection & 1) if os2 is not None else 0) or bool(f["head"].macStyle & 2) \
        or abs(float(f["post"].italicAngle)) > 0.5
    cmap = set(f.getBestCmap())
    scripts = []
    if all(ord(c) in cmap for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"):
        scripts.append("latin")
    level1 = gb2312_level1()
    if sum(ord(c) in cmap for c in level1) >= 0.9 * len(level1):
        scripts.append("han")
    return {"weight": weight, "italic": italic, "scripts": scripts, "codepoints": len(cmap)}


def _licence_text(pkg: str, src_font: str, number: int, header: str) -> str:
    from fontTools.ttLib import TTFont

    nm = TTFont(src_font, fontNumber=number, lazy=True)["name"]
    parts = [header, "", "Copyright notice in the source font (name ID 0):", (nm.getDebugName(0) or "(none)").strip(), ""]
    lic = nm.getDebugName(13)
    if lic:
        parts += ["Licence text in the source font (name ID 13):", lic.strip(), ""]
    url = nm.getDebugName(14)
    if url:
        parts += [f"Licence URL in the source font (name ID 14): {url.strip()}", ""]
    parts += [f"Debian's copyright file for package {pkg} {deb_version(pkg)} (/usr/share/doc/{pkg}/copyright), "
              f"with the full licence texts, is shipped verbatim beside this folder as ../LICENSES/{pkg}.copyright "
              "(one copy per package: several families come from the same package)."]
    return "\n".join(parts) + "\n"


def copy_package_copyright(out: Path, pkg: str) -> None:
    dst = out / "LICENSES"
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(f"/usr/share/doc/{pkg}/copyright", dst / f"{pkg}.copyright")


def _ttc_index(path: str, family: str | None) -> int:
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    return _pick_face_any(Path(path), family)


def _pick_face_any(ttc: Path, family: str) -> int:
    from fontTools.ttLib import TTCollection

    coll = TTCollection(str(ttc), lazy=True)
    for i, f in enumerate(coll.fonts):
        if f["name"].getDebugName(1) == family:
            return i
    raise SystemExit(f"no face with family {family!r} in {ttc}")


def _target(folder: str, fn: str, src: str, number: int = 0) -> str:
    ext = ".otf" if "CFF " in _tables(src, number) else ".ttf"
    return f"{folder}/{Path(fn).stem.replace(' ', '-')}{ext}"


def index_rows(out: Path) -> list[dict]:
    """Index rows for the catalogue families, read from the files written by make_wide. A face's
    name is "<family> <style>" (unique: faces are drawn by name); its source face's own name is kept too."""
    from fontTools.ttLib import TTFont

    rows = []
    for folder, family, style, tags, pkg, licence, srcdir, files in CATALOGUE:
        for fn in files:
            path = out / _target(folder, fn, f"{srcdir}/{fn}")
            src_name = TTFont(f"{srcdir}/{fn}", lazy=True)["name"].getBestFullName()
            rows.append(_row(out, path, family, style, tags, licence, pkg,
                             {"name": src_name, "source_face": src_name}))
    for folder, family, style, tags, pkg, licence, src, face_family in CJK_CATALOGUE:
        number = _ttc_index(src, face_family)
        path = out / _target(folder, folder + "-subset", src, number)
        src_name = TTFont(src, fontNumber=number, lazy=True)["name"].getBestFullName()
        rows.append(_row(out, path, family, style, tags, licence, pkg,
                         {"name": src_name, "source_face": src_name}))
    # a source name shared by two faces (e.g. "B612" for B612 and B612 Mono, or weights that
    # only differ in name ID 16/17) becomes "<family> <file stem>"
    names = [r["name"] for r in rows]
    for r in rows:
        if names.count(r["name"]) > 1 or not r["name"]:
            r["name"] = f"{r['family']} {Path(r['file']).stem}"
    return rows


def make_wide(out: Path, only: list[str] | None = None) -> None:
    """Every catalogue family (or those in `only`): subset, renamed, with LICENSE."""
    latin = latin_codepoints()
    for folder, family, style, tags, pkg, licence, srcdir, files in CATALOGUE:
        if only and folder not in only:
            continue
        if (out / folder).is_dir():
            shutil.rmtree(out / folder)  # no stale faces from an older catalogue
        dst = out / folder
        dst.mkdir(parents=True, exist_ok=True)
        for fn in files:
            src = f"{srcdir}/{fn}"
            target = out / _target(folder, fn, src)
            subset_face(src, 0, target, folder, latin, hinting=False)
        header = (f"{family}: faces {', '.join(files)} from Debian package {pkg} {deb_version(pkg)} ({srcdir}).\n"
                  f"Licence: {licence}. Modified by synthgen scripts/make_fonts.py: subset to Latin "
                  "(ASCII, Latin-1, common punctuation and currency signs), hinting dropped, "
                  f"renamed to '{face_id(folder)}' (a modified font must not carry a Reserved Font Name).")
        (dst / "LICENSE").write_text(_licence_text(pkg, f"{srcdir}/{files[0]}", 0, header), encoding="utf-8")
        copy_package_copyright(out, pkg)
    cjk = cjk_codepoints()
    for folder, family, style, tags, pkg, licence, src, face_family in CJK_CATALOGUE:
        if only and folder not in only:
            continue
        dst = out / folder
        dst.mkdir(parents=True, exist_ok=True)
        number = _ttc_index(src, face_family)
        target = out / _target(folder, folder + "-subset", src, number)
        subset_face(src, number, target, folder, cjk, hinting=False)
        header = (f"{family}: face {number} of {src}, Debian package {pkg} {deb_version(pkg)}.\n"
                  f"Licence: {licence}. Modified by synthgen scripts/make_fonts.py: subset to the shipped corpora's "
                  "characters, GB2312 level 1 hanzi (3,755), GB2312 symbol rows, CJK and fullwidth punctuation and "
                  f"Latin; hinting dropped; renamed to '{face_id(folder)}'.")
        (dst / "LICENSE").write_text(_licence_text(pkg, src, number, header), encoding="utf-8")
        copy_package_copyright(out, pkg)


def _tables(src: str, number: int = 0) -> set[str]:
    from fontTools.ttLib import TTFont

    return set(TTFont(src, fontNumber=number, lazy=True).keys())


def _row(out: Path, path: Path, family: str, style: str, tags: list[str], licence: str, pkg: str, meta: dict) -> dict:
    facts = face_facts(path)
    return {"file": path.relative_to(out).as_posix(), "name": meta["name"], "family": family, "style": style, "tags": list(tags),
            "weight": facts["weight"], "italic": facts["italic"], "scripts": facts["scripts"],
            "licence": licence, "source": pkg, "source_face": meta.get("source_face", ""), "codepoints": facts["codepoints"]}


def original_rows(out: Path) -> list[dict]:
    rows = []
    for rel, (family, style, tags) in ORIGINAL.items():
        p = out / rel
        folder = rel.split("/")[0]
        pkg = ORIGINAL_SOURCE[folder]
        from fontTools.ttLib import TTFont

        full = TTFont(str(p), lazy=True)["name"].getBestFullName()
        rows.append(_row(out, p, family, style, tags, ORIGINAL_LICENCE[folder], pkg, {"name": full, "source_face": full}))
    return rows


def check_wide(out: Path, rows: list[dict]) -> None:
    """Every face: Pillow draws it, Latin faces draw a-z/A-Z/0-9 as distinct non-empty glyphs that
    differ from .notdef; lower case differs from upper case (no caps-only fonts: wrong labels)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    def mask(font, ch):
        img = Image.new("L", (96, 96), 0)
        ImageDraw.Draw(img).text((16, 8), ch, font=font, fill=255)
        return np.asarray(img) > 127

    cjk_folders = {e[0] for e in CJK_CATALOGUE} | {"noto-cjk"}
    for r in rows:
        need = "han" if r["file"].split("/")[0] in cjk_folders else "latin"
        assert need in r["scripts"], f"{r['file']}: does not cover {need} (A-Z a-z 0-9 / GB2312 level 1)"
        font = ImageFont.truetype(str(out / r["file"]), 48, layout_engine=ImageFont.Layout.BASIC)
        tofu = mask(font, "\uffff")
        probes = "aAgGe3R" if "latin" in r["scripts"] else "中文"
        ms = {c: mask(font, c) for c in probes}
        for c, m in ms.items():
            assert m.sum() > 20, f"{r['file']}: {c!r} draws empty"
            assert (m != tofu).sum() > 20, f"{r['file']}: {c!r} draws as .notdef"
        if "latin" in r["scripts"]:
            for lo, up in (("a", "A"), ("g", "G")):
                assert (ms[lo] != ms[up]).sum() > 30, f"{r['file']}: {lo!r} looks like {up!r} (caps-only font?)"
    print(f"ok: {len(rows)} faces draw their probes")


def write_index(out: Path, rows: list[dict]) -> None:
    import json

    names = [r["name"] for r in rows]
    dup = sorted({n for n in names if names.count(n) > 1})
    assert not dup, f"faces must have distinct names (synthgen draws faces by name): {dup}"
    rows = sorted(rows, key=lambda r: r["file"])
    (out / "index.json").write_text(json.dumps({"version": 1, "styles": list(STYLES), "faces": rows},
                                               indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "fonts", help="output folder (default: fonts/)")
    ap.add_argument("--no-check", action="store_true", help="skip the Pillow/cmap checks")
    ap.add_argument("--only", action="append", metavar="FOLDER", help="rebuild only this catalogue family (repeatable)")
    ap.add_argument("--index-only", action="store_true", help="only rewrite fonts/index.json from the files there")
    ap.add_argument("--wide-only", action="store_true",
                    help="rebuild only the catalogue families (keep dejavu/ and noto-cjk/ as they are)")
    args = ap.parse_args(argv)
    if not (args.wide_only or args.index_only):
        make_dejavu(args.out)
        make_noto_subset(args.out)
    if not args.index_only:
        make_wide(args.out, args.only)
    rows = original_rows(args.out) + index_rows(args.out)
    write_index(args.out, rows)
    if not args.no_check:
        if not (args.wide_only or args.index_only):
            check(args.out)
        check_wide(args.out, rows)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{len(rows)} faces, {len({r['family'] for r in rows})} families, {total:,} bytes in {args.out}")
    if total > MAX_TOTAL_BYTES:
        raise SystemExit(f"fonts/ is {total:,} bytes, over the {MAX_TOTAL_BYTES:,} budget")
    for p in sorted(args.out.rglob("*")):
        if p.is_file():
            print(f"{p.stat().st_size:>10}  {sha256(p)[:16]}  {p.relative_to(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
