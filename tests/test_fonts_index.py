"""The wide font set: the index against the font files (read here with fontTools, not through
synthgen), licences and size budget, never-tofu for every shipped face, style shares drawn by
FontPicker, fonts.exclude, and `synthgen fonts list`."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from synthgen.cli import main
from synthgen.config import FontsCfg
from synthgen.draws import Draws
from synthgen.errors import UserError
from synthgen.pipeline import load_pipeline
from synthgen.renderers.fonts import STYLES, FontFace, FontPicker, resolve_faces

REPO = Path(__file__).resolve().parent.parent
FONTS = REPO / "fonts"
INDEX = json.loads((FONTS / "index.json").read_text(encoding="utf-8"))["faces"]
# licences that allow redistribution with the software (checked by hand against each package's
# copyright file when the catalogue was made; a new licence string must be looked at again)
ALLOWED = ("OFL", "Apache", "GPL", "public domain", "BSD", "MIT", "Bitstream Vera", "ParaType Free Font",
           "Arphic Public License", "CC-BY-SA")
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def test_index_matches_files():
    assert len(INDEX) >= 250
    for r in INDEX:
        p = FONTS / r["file"]
        assert p.is_file(), r["file"]
        f = TTFont(str(p), lazy=True)
        cmap = set(f.getBestCmap())
        assert ("latin" in r["scripts"]) == all(ord(c) in cmap for c in ALNUM), r["file"]
        assert r["weight"] == (f["OS/2"].usWeightClass if f["OS/2"].usWeightClass >= 10 else f["OS/2"].usWeightClass * 100)
        assert r["style"] in STYLES
    names = [r["name"] for r in INDEX]
    assert len(names) == len(set(names)), "faces are drawn by name: names must be unique"


def test_every_shipped_font_file_is_indexed():
    """The other way round: every font file under fonts/ has its row (fonts/ocr-b/OCRB.otf had
    none, so its licence and style were guesses), and scripts/make_fonts.py writes it."""
    import importlib.util

    from synthgen.renderers.fonts import font_files

    files = {p.relative_to(FONTS).as_posix() for p in font_files(FONTS)}
    missing = sorted(files - {r["file"] for r in INDEX})
    assert not missing, f"font files without a row in fonts/index.json: {missing} (scripts/make_fonts.py ORIGINAL)"
    spec = importlib.util.spec_from_file_location("make_fonts", REPO / "scripts" / "make_fonts.py")
    mk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mk)
    rows = {r["file"]: r for r in INDEX}
    for r in mk.original_rows(FONTS):  # the files kept as they are: their rows as make_fonts writes them
        assert rows[r["file"]] == r, r["file"]
    # the row's facts are the face's own (as a user folder's face would be guessed): no draw changes
    from synthgen.renderers.fonts import _guess

    ocrb = TTFont(str(FONTS / "ocr-b" / "OCRB.otf"), lazy=True)
    guess = _guess(ocrb, ocrb["name"].getBestFullName(), ocrb.getBestCmap())
    row = rows["ocr-b/OCRB.otf"]
    assert {k: row[k] for k in ("family", "style", "weight", "italic")} == {k: guess[k] for k in ("family", "style", "weight", "italic")}


def test_breadth_licences_and_size():
    latin = {r["family"]: r["style"] for r in INDEX if "latin" in r["scripts"] and "han" not in r["scripts"]}
    han = {r["family"] for r in INDEX if "han" in r["scripts"]}
    assert len(latin) >= 60
    assert len(han) >= 6
    per_style = Counter(latin.values())
    assert all(per_style[s] >= 3 for s in STYLES), per_style
    assert sum(r["italic"] for r in INDEX) >= 60 and sum(r["weight"] >= 600 for r in INDEX) >= 60
    for folder in {r["file"].split("/")[0] for r in INDEX}:
        assert (FONTS / folder / "LICENSE").stat().st_size > 200, folder
    for r in INDEX:
        assert any(a.lower() in r["licence"].lower() for a in ALLOWED), (r["file"], r["licence"])
    total = sum(p.stat().st_size for p in FONTS.rglob("*") if p.is_file())
    assert total < 25_500_000, f"fonts/ is {total:,} bytes: the tree must stay small enough to travel"


def _mask(font, ch: str) -> np.ndarray:
    im = Image.new("L", (72, 72), 0)
    ImageDraw.Draw(im).text((12, 4), ch, font=font, fill=255)
    return np.asarray(im) > 40


def test_every_face_draws_what_its_cmap_claims():
    """Never tofu: for every shipped face, characters its cmap has (a fixed sample, the same for
    every face) draw non-empty and unlike the face's own .notdef box."""
    probe = ALNUM[::3] + "€£¥.,-:/()" + "中国人民银行上海路号"
    for r in INDEX:
        path = str(FONTS / r["file"])
        cmap = set(TTFont(path, lazy=True).getBestCmap())
        font = ImageFont.truetype(path, 40, layout_engine=ImageFont.Layout.BASIC)
        notdef = _mask(font, "\U0010fffd")
        for ch in probe:
            if ord(ch) not in cmap:
                continue
            m = _mask(font, ch)
            assert m.sum() > 4 and (m != notdef).sum() > 4, f"{r['file']}: {ch!r} draws as tofu or nothing"


def _face(name, family, style):
    return FontFace(path=f"/x/{name}.ttf", index=0, name=name, cmap=frozenset(), family=family, style=style)


def test_picker_style_shares():
    faces = ([_face(f"s{i}{j}", f"serif{i}", "serif") for i in range(4) for j in range(3)]
             + [_face(f"h{i}", f"hand{i}", "handwriting") for i in range(2)]
             + [_face(f"m{i}", f"mono{i}", "mono") for i in range(1)]
             + [_face(f"a{i}", f"sans{i}", "sans") for i in range(5)])
    w = FontPicker({"handwriting": 0.1, "mono": 0.2}, faces).weights(faces)
    share = Counter()
    fam = Counter()
    for f, x in zip(faces, w):
        share[f.style] += x
        fam[f.family] += x
    assert share["handwriting"] == pytest.approx(0.1) and share["mono"] == pytest.approx(0.2)
    # unlisted styles share the rest by number of families: 4 serif and 5 sans families
    assert share["serif"] == pytest.approx(0.7 * 4 / 9) and share["sans"] == pytest.approx(0.7 * 5 / 9)
    assert fam["serif0"] == pytest.approx(fam["sans0"])  # families alike, whatever their face count
    # a text only some faces cover: the missing style's share goes to the others
    sub = [f for f in faces if f.style != "handwriting"]
    w2 = FontPicker({"handwriting": 0.1, "mono": 0.2}, faces).weights(sub)
    assert sum(x for f, x in zip(sub, w2) if f.style == "mono") == pytest.approx(0.2)
    # no styles given: every family alike
    w3 = FontPicker({}, faces).weights(faces)
    per_fam = Counter()
    for f, x in zip(faces, w3):
        per_fam[f.family] += x
    assert max(per_fam.values()) == pytest.approx(min(per_fam.values()))


def test_styles_config_and_exclude_errors():
    with pytest.raises(ValueError, match="unknown font style"):
        FontsCfg(styles={"gothic": 1})
    with pytest.raises(UserError, match="fonts.exclude"):
        resolve_faces(["all"], [], ["no-such-family"])
    faces = resolve_faces(["all"], [], ["lato", "Roboto Slab"])
    fams = {f.family for f in faces}
    assert "Lato" not in fams and "Roboto Slab" not in fams and "Roboto" in fams


def test_line_draws_wide_set_and_respects_exclude():
    pipe = load_pipeline("ocr_line", seed=3, **{"fonts.families": ["all"], "fonts.exclude": ["lato", "comic-neue"],
                                                "fonts.styles": {"handwriting": 0.5}, "augment.strength": 0.0})
    by_name = {f.name: f for f in pipe.renderer.faces}
    styles, fams = Counter(), set()
    for i in range(240):
        d = Draws(3, i)
        pipe.renderer.pick(d, i)
        f = by_name[d.factors["line.font"]]
        styles[f.style] += 1
        fams.add(f.family)
    assert not fams & {"Lato", "Comic Neue"}
    assert len(fams) >= 40
    assert 0.35 < styles["handwriting"] / 240 < 0.65  # asked for half


def test_fonts_list_cli(capsys):
    assert main(["fonts", "list"]) == 0
    out = capsys.readouterr().out
    assert "Liberation Serif" in out and "AR PL UKai CN" in out
    last = out.strip().splitlines()
    assert any(l.startswith("per style:") for l in last)
    n = int(next(l for l in last if "families," in l).split()[0])
    assert n >= 66
    assert main(["fonts", "list", "--style", "handwriting", "--faces"]) == 0
    out = capsys.readouterr().out
    assert "Dancing Script" in out and "Liberation Serif" not in out
