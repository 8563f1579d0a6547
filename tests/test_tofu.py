"""No tofu: a character no configured font has is never drawn as a box; the string is drawn
again or the render stops with a clear error (fonts.on_missing_glyph). And complex scripts
are shaped (raqm), not drawn as isolated letters."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthgen
from synthgen.config import FONTS
from synthgen.errors import UserError
from synthgen.renderers import layout as L
from synthgen.renderers import shaping
from synthgen.renderers.fonts import load_faces
from synthgen.renderers.glyphs import MissingGlyph, glyph, glyph_table

MONO = str(FONTS / "dejavu" / "DejaVuSansMono.ttf")
SANS = str(FONTS / "dejavu" / "DejaVuSans.ttf")


@pytest.fixture()
def mono_only(tmp_path):
    """A font folder holding DejaVu Sans Mono alone (no hanzi) and a corpus mixing Latin and hanzi."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy(MONO, fonts / "DejaVuSansMono.ttf")
    corpus = tmp_path / "words.txt"
    corpus.write_text("apple\n中文\nbanana\n汉字测试\ncherry\n", encoding="utf-8")
    return {"fonts.families": [], "fonts.folders": [str(fonts)],
            "line.corpus.sources": {"en_words": 0, "en_text": 0, "gen:phrases": 0, "zh_words": 0, "zh_chars": 0, "gen:numbers": 0, "gen:dates": 0,
                                    "gen:prices": 0, "gen:phones": 0, "gen:codes": 0, str(corpus): 1},
            "line.corpus.words": [1, 1]}


def test_mono_face_lacks_hanzi():
    face = load_faces(MONO)[0]
    assert face.covers("apple") and not face.covers("中")
    assert face.missing("a中b文") == ["中", "文"]


def test_glyph_refuses_a_character_the_font_lacks():
    with pytest.raises(MissingGlyph, match="U\\+4E2D"):
        glyph(MONO, 0, 24, "中")
    with pytest.raises(MissingGlyph):
        L.straight(MONO, 0, 24, "a中b")
    assert glyph(MONO, 0, 24, "a").mask.size > 0


def test_error_mode_names_the_missing_characters(mono_only):
    pipe = synthgen.load_pipeline("ocr_line", **mono_only, **{"fonts.on_missing_glyph": "error"})
    with pytest.raises(UserError) as e:
        for i in range(5):  # 5 entries, words [1, 1]: the first 5 samples are the corpus, once each
            pipe.sample(i)
    msg = str(e.value)
    assert "no configured font covers" in msg and ("中" in msg or "汉" in msg)


def test_redraw_mode_never_draws_uncovered_text(mono_only):
    pipe = synthgen.load_pipeline("ocr_line", **mono_only, **{"fonts.on_missing_glyph": "redraw"})
    texts = set()
    for i in range(30):
        s = pipe.sample(i)
        t = s.instances[0].text
        texts.add(t.lower())
        assert all(ord(c) < 0x2E80 for c in t), t
        assert s.factors["line.font"] == "DejaVu Sans Mono Book"
    assert texts == {"apple", "banana", "cherry"}


def test_pinned_uncoverable_text_is_an_error_even_in_redraw_mode(mono_only):
    pipe = synthgen.load_pipeline("ocr_line", **mono_only)
    with pytest.raises(UserError, match="中"):
        pipe.sample(0, pinned={"line.text": "a中"})


def test_scene_pipeline_also_refuses(tmp_path, mono_only):
    """The scene renderer shares the fonts' coverage rule."""
    corpus = tmp_path / "zh.txt"
    corpus.write_text("中文\n", encoding="utf-8")
    pipe = synthgen.load_pipeline("ocr_scene", **{"fonts.families": [], "fonts.folders": mono_only["fonts.folders"],
                                                  "text.corpus": [str(corpus)], "fonts.on_missing_glyph": "error",
                                                  "image.width": 128, "image.height": 128})
    with pytest.raises(UserError, match="no configured font covers"):
        pipe.sample(0)


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x9FFF, blacklist_categories=("Cs", "Cc")),
               min_size=1, max_size=8)
       | st.text(alphabet=" \u00a0\u2002\u2009\u200b\u3000", min_size=1, max_size=4))  # blanks: the no-ink refusal
def test_layout_draws_only_covered_characters(text):
    """Any string: either every character is in the face's cmap and it lays out, or the layout
    refuses it. Nothing in between (no .notdef boxes)."""
    face = load_faces(SANS)[0]
    try:
        lay = L.straight(SANS, 0, 20, text)
    except MissingGlyph:
        assert not face.covers(text)
        return
    except ValueError as e:  # only that one refusal: every character covered, none with ink
        assert "has no ink" in str(e), e
        assert face.covers(text)
        table = glyph_table(SANS, 0, 20)
        assert all(table[c].blank for c in text), text
        return
    assert face.covers(text)
    assert lay.chars.shape == (len(text), 4, 2)


# -- complex shaping ------------------------------------------------------------------------

SALAM = "سلم"  # seen, lam, meem: three joining letters without dots


def _components(mask: np.ndarray) -> int:
    return cv2.connectedComponents((mask > 127).astype(np.uint8), connectivity=8)[0] - 1


def test_raqm_is_available():
    assert shaping.available(), ("Pillow's raqm layout is unavailable: install libfribidi0 "
                                 "(Pillow's wheels load it at run time) or libraqm0")


def test_arabic_word_is_shaped_joined_not_isolated():
    assert shaping.needs_shaping(SALAM) and not shaping.needs_shaping("cafe 中文")
    joined = shaping.shaped(SANS, 0, 32, SALAM)
    isolated = L.straight(SANS, 0, 32, SALAM)  # per-character cmap glyphs: isolated forms
    assert _components(isolated.mask) == 3
    assert _components(joined.mask) == 1  # one connected stroke
    assert joined.mask.shape[1] < 0.85 * isolated.mask.shape[1]  # joined forms are narrower
    # Right to left: the first letter's box is the rightmost.
    x = joined.chars[:, :, 0].mean(axis=1)
    assert x[0] > x[1] > x[2]


def test_arabic_line_through_the_pipeline():
    pipe = synthgen.load_pipeline("ocr_line", **{"fonts.families": ["dejavu"]})
    s = pipe.sample(0, pinned={"line.text": SALAM, "line.layout": "straight", "line.geometry.rotate": 0.0,
                               "line.geometry.skew": 0.0, "line.geometry.perspective": False,
                               "line.style.underline": False, "line.style.stroke": False}, debug_ink=True)
    assert s.factors["derived.line.layout"] == "shaped"
    assert s.factors["line.font"] != "DejaVu Serif Book"  # the serif face has no Arabic
    inst = s.instances[0]
    assert inst.text == SALAM and inst.chars.shape == (3, 4, 2)
    assert _components(s.maps["ink"]) == 1
    # The char boxes tile the word's ink from right to left.
    x = inst.chars[:, :, 0].mean(axis=1)
    assert x[0] > x[1] > x[2]


def test_without_raqm_shaped_text_is_redrawn_or_refused(monkeypatch, tmp_path):
    corpus = tmp_path / "ar.txt"
    corpus.write_text(f"{SALAM}\nhello\n", encoding="utf-8")
    over = {"fonts.families": ["dejavu"], "line.corpus.words": [1, 1],
            "line.corpus.sources": {"en_words": 0, "en_text": 0, "gen:phrases": 0, "zh_words": 0, "zh_chars": 0, "gen:numbers": 0, "gen:dates": 0,
                                    "gen:prices": 0, "gen:phones": 0, "gen:codes": 0, str(corpus): 1}}
    monkeypatch.setattr(shaping, "available", lambda: False)
    pipe = synthgen.load_pipeline("ocr_line", **over)
    assert {pipe.sample(i).instances[0].text.lower() for i in range(6)} == {"hello"}
    strict = synthgen.load_pipeline("ocr_line", **over, **{"fonts.on_missing_glyph": "error"})
    with pytest.raises(UserError, match="raqm"):
        for i in range(2):
            strict.sample(i)
