"""The text-line pipeline (kind: line): config, text sources, permutation without replacement,
balancing, generators, styles, layouts, determinism and shards."""

from __future__ import annotations

import json
import re
import tarfile
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthgen
from synthgen.config import load_config
from synthgen.errors import UserError
from synthgen.renderers import layout as L
from synthgen.renderers.corpus import load_corpus, permutation, permute, schedule
from synthgen.renderers.fonts import resolve_faces
from synthgen.renderers.generators import GENERATORS, PHRASES

NONE = {k: 0 for k in load_config("ocr_line")[0].line.corpus.sources}  # every default source, off


AS_IS = {"as_is": 1, "lower": 0, "upper": 0, "title": 0}


def only(**weights) -> dict:
    """`line.corpus.sources` override with every shipped source off but these."""
    return {**NONE, **{k.replace("gen_", "gen:"): v for k, v in weights.items()}}


def signed_area(q):
    x, y = q[:, 0].astype(float), q[:, 1].astype(float)
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


# -- config -------------------------------------------------------------------------------------


def test_line_config_loads_with_defaults_and_refuses_scene_sections():
    cfg, _ = load_config("ocr_line")
    assert cfg.kind == "line" and cfg.line.height == 32 and cfg.line.width is None
    assert cfg.labels.store == []
    with pytest.raises(UserError, match="kind: scene"):
        load_config("ocr_line", {"text.size": [10, 20]})
    with pytest.raises(UserError, match="line.style.stroke.p"):
        load_config("ocr_line", {"line.style.stroke.p": 2})
    with pytest.raises(UserError, match="line.bogus"):
        load_config("ocr_line", {"line.bogus": 1})
    with pytest.raises(UserError, match="line"):
        load_config("ocr_scene", {"line.height": 32})
    # A scene config's dump has no line section (fingerprints of scene datasets unchanged).
    scene, _ = load_config("ocr_scene")
    assert "line" not in scene.model_dump(mode="json")


def test_crop_geometry_and_labels():
    pipe = synthgen.load_pipeline("ocr_line", **{"augment.strength": 0.0})  # the renderer's own crop
    for i in range(60):
        s = pipe.sample(i)
        H, W = s.image.shape[:2]
        inst = s.instances[0]
        assert s.meta["pipeline_kind"] == "line" and s.image.dtype == np.uint8 and s.image.shape[2] == 3
        if s.factors["derived.line.layout"] == "vertical":
            assert W == 32 and H % 4 == 0 and 16 <= H <= 512
        else:
            assert H == 32 and W % 4 == 0 and 16 <= W <= 512
        assert len(s.instances) == 1 and inst.kind == "line" and not inst.ignore
        assert inst.text and inst.text == inst.text.strip() and inst.text == s.factors["line.text"]
        assert inst.chars.shape == (len(inst.text), 4, 2)
        assert signed_area(inst.quad) > 0 and all(signed_area(q) > 0 for q in inst.chars)  # clockwise on screen
        assert (inst.quad[:, 0] >= -0.5).all() and (inst.quad[:, 0] <= W + 0.5).all()
        assert (inst.quad[:, 1] >= -0.5).all() and (inst.quad[:, 1] <= H + 0.5).all()
        assert "score" not in s.maps


def test_fixed_width_and_height():
    pipe = synthgen.load_pipeline("ocr_line", **{"line.width": 200, "line.height": 48})
    for i in range(20):
        s = pipe.sample(i)
        if s.factors["derived.line.layout"] != "vertical":
            assert s.image.shape[:2] == (48, 200)
    pipe = synthgen.load_pipeline("ocr_line", **{"line.width": 64, "line.corpus.sources": only(en_words=1),
                                                 "line.corpus.words": [3, 3]})
    s = pipe.sample(0)
    assert s.image.shape[:2] == (32, 64)
    assert len(s.instances[0].text.split()) < 3  # words were dropped to fit


def test_deterministic_and_seeded():
    a = synthgen.load_pipeline("ocr_line", seed=0)
    b = synthgen.load_pipeline("ocr_line", seed=0)
    c = synthgen.load_pipeline("ocr_line", seed=1)
    for i in (0, 7, 123):
        sa, sb = a.sample(i), b.sample(i)
        assert sa.image.tobytes() == sb.image.tobytes() and sa.to_json() == sb.to_json()
    assert [a.sample(i).instances[0].text for i in range(10)] != [c.sample(i).instances[0].text for i in range(10)]


def test_replay_from_factors():
    # (pins that touch only their own factor: tests/test_factors.py, as a property)
    pipe = synthgen.load_pipeline("ocr_line")
    s = pipe.sample(11)
    again = pipe.replay(11, s.factors)
    assert np.array_equal(again.image, s.image)


def test_style_factors_recorded_and_magnitudes_configurable():
    pipe = synthgen.load_pipeline("ocr_line", **{"line.style.stroke": {"p": 1.0, "range": [3, 3]},
                                                 "line.style.shadow.p": 1.0, "line.geometry.skew": [5, 5]})
    s = pipe.sample(3)
    f = s.factors
    for name in ("line.style.stroke_width", "line.style.shadow_dx", "line.style.spacing", "line.style.underline",
                 "line.layout", "line.geometry.rotate", "line.geometry.perspective", "line.font", "line.size"):
        assert name in f, name
    assert f["line.style.stroke"] is True and f["line.style.stroke_width"] == 3.0
    assert f["line.style.shadow"] is True and f["line.geometry.skew"] == 5.0


# -- text sources -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3000), key=st.integers(0, 2**64 - 1))
def test_permute_is_a_bijection(n, key):
    if n > 400:  # check a window for large n: distinct and in range
        out = [permute(i, n, key) for i in range(0, n, max(1, n // 300))]
        assert len(set(out)) == len(out) and all(0 <= x < n for x in out)
    else:
        assert sorted(permute(i, n, key) for i in range(n)) == list(range(n))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 700), key=st.integers(0, 2**64 - 1))
def test_tabulated_permutation_is_permute(n, key):
    # the schedule's fast path (corpus.permutation) against the Feistel walk it tabulates
    assert permutation(n, key) == [permute(i, n, key) for i in range(n)]


def test_permutation_differs_by_key():
    a = [permute(i, 1000, 1) for i in range(50)]
    b = [permute(i, 1000, 2) for i in range(50)]
    assert a != b and a != list(range(50))


@settings(max_examples=25, deadline=None)
@given(weights=st.dictionaries(st.sampled_from(list("abcdef")), st.floats(0.01, 10), min_size=1, max_size=6))
def test_schedule_shares_follow_weights(weights):
    slots, _ranks, counts = schedule(weights)
    assert len(slots) == 64 and sum(counts.values()) == 64
    assert set(counts) == set(weights) and min(counts.values()) >= 1
    total = sum(weights.values())
    for k, w in weights.items():
        assert abs(counts[k] - 64 * w / total) <= max(1.0, 0.5 * len(weights))


def test_without_replacement_within_an_epoch(tmp_path):
    words = [f"w{i:03d}" for i in range(137)]
    f = tmp_path / "w.txt"
    f.write_text("\n".join(words) + "\n", encoding="utf-8")
    over = {"line.corpus.sources": only(**{str(f): 1}), "line.corpus.words": [1, 1], "line.corpus.case": AS_IS,
            "line.layout.weights": {"straight": 1}}
    pipe = synthgen.load_pipeline("ocr_line", seed=4, **over)
    first = [pipe.sample(i).instances[0].text for i in range(137)]
    assert sorted(first) == words  # epoch 0: every string exactly once
    second = [pipe.sample(i).instances[0].text for i in range(137, 274)]
    assert sorted(second) == words and second != first  # epoch 1: again once each, new order
    other = [synthgen.load_pipeline("ocr_line", seed=5, **over).sample(i).instances[0].text for i in range(137)]
    assert other != first and sorted(other) == words


def test_no_repeats_with_several_sources_and_words():
    """Defaults (8 sources, 1-3 words): no corpus word repeats within far fewer samples than an epoch."""
    pipe = synthgen.load_pipeline("ocr_line")
    seen = Counter()
    for i in range(400):
        f = pipe.sample(i).factors
        for k in range(3):
            src = f.get(f"line.word[{k}].source")
            if src in ("en_words", "en_text", "zh_words") and f"line.word[{k}].index" in f and k < f["line.words"]:
                seen[(src, f[f"line.word[{k}].index"])] += 1
    assert len(seen) > 300 and max(seen.values()) == 1


def test_source_weights_are_exact_shares():
    pipe = synthgen.load_pipeline("ocr_line", **{"line.corpus.sources": only(en_words=3, zh_words=1),
                                                 "line.corpus.words": [1, 1]})
    srcs = Counter(pipe.sample(i).factors["line.word[0].source"] for i in range(128))
    assert srcs == {"en_words": 96, "zh_words": 32}


def test_user_text_folder(tmp_path):
    (tmp_path / "a.txt").write_text("alpha\nbeta\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("gamma\n\n  delta  \n", encoding="utf-8")
    assert load_corpus(str(tmp_path)) == ("alpha", "beta", "gamma", "delta")
    pipe = synthgen.load_pipeline("ocr_line", **{"line.corpus.sources": only(**{str(tmp_path): 1}),
                                                 "line.corpus.words": [1, 1], "line.corpus.case": AS_IS})
    assert {pipe.sample(i).instances[0].text for i in range(4)} == {"alpha", "beta", "gamma", "delta"}
    with pytest.raises(UserError, match="unknown corpus"):
        synthgen.load_pipeline("ocr_line", **{"line.corpus.sources": only(**{str(tmp_path / "nope"): 1})})
    with pytest.raises(UserError, match="unknown generator"):
        synthgen.load_pipeline("ocr_line", **{"line.corpus.sources": only(**{"gen:bogus": 1})})


def test_length_balancing(tmp_path):
    f = tmp_path / "skew.txt"
    f.write_text("\n".join([f"ab{i % 10}" for i in range(90)] + [f"abcdefg{i}" for i in range(10)]) + "\n", encoding="utf-8")
    base = {"line.corpus.sources": only(**{str(f): 1}), "line.corpus.words": [1, 1]}
    plain = synthgen.load_pipeline("ocr_line", **base)
    bal = synthgen.load_pipeline("ocr_line", **base, **{"line.corpus.balance": "length"})
    long_plain = sum(len(plain.sample(i).instances[0].text) == 8 for i in range(200))
    long_bal = sum(len(bal.sample(i).instances[0].text) == 8 for i in range(200))
    assert long_plain < 40 and 70 < long_bal < 130  # ~10% vs ~50%


def test_character_balancing_favours_rare_characters():
    """Rare characters (in at most 3 of zh_words' 20,000 words) make ~7% of the text drawn as is,
    and several times that when characters are balanced."""
    from synthgen.renderers.corpus import source

    chars, buckets = source("zh_words").by_char()
    rare = {c for c in chars if len(buckets[c]) <= 3}
    share = {}
    for bal in ("none", "chars"):
        pipe = synthgen.load_pipeline("ocr_line", **{"line.corpus.sources": only(zh_words=1), "line.corpus.words": [1, 1],
                                                     "line.corpus.balance": bal})
        text = "".join(pipe.sample(i).instances[0].text for i in range(300))
        share[bal] = sum(c in rare for c in text) / len(text)
    assert share["none"] < 0.12 and share["chars"] > 2.5 * share["none"]


def test_single_character_corpus_gives_runs():
    pipe = synthgen.load_pipeline("ocr_line", **{"line.corpus.sources": only(zh_chars=1), "line.corpus.words": [1, 1],
                                                 "line.corpus.char_run": [3, 6]})
    charset = set(load_corpus("zh_chars"))
    for i in range(20):
        t = pipe.sample(i).instances[0].text
        assert 3 <= len(t) <= 6 and set(t) <= charset


GEN_PATTERNS = {
    "numbers": r"^[+-]?[\d.,]+%?$",
    "dates": r"^(\d{4}-\d\d-\d\d|\d\d/\d\d/\d{4}|\d\d\.\d\d\.\d{4}|\d{1,2} [A-Z][a-z]{2} \d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}"
             r"|\d{4}年\d{1,2}月\d{1,2}日|\d{4}/\d{1,2}/\d{1,2}|\d\d-[A-Z]{3}-\d\d)$",
    "prices": r"^(\$|€|£|¥|￥|USD |EUR )?[\d,]+([.,]\d\d)?( €| USD| EUR|元)?$",
    "phones": r"^[+\d() .-]{10,}$",
    "codes": r"^[A-Z0-9#x/ -]{6,}$",
    # every template, its slots as what may fill them
    "phrases": "^(" + "|".join(
        re.sub(r"\\\{(\w)\\\}", lambda m: {"w": "[a-z]+", "W": "[A-Z][a-z]*", "n": "[1-9][0-9]?", "N": "[1-9][0-9]{2,3}",
                                           "y": "1[89][0-9]{2}|20[0-2][0-9]", "t": "[0-9]{1,2}:[0-5][0-9]",
                                           "d": "[0-9]{1,2}\\.[0-9]"}[m.group(1)].join("()"), re.escape(t))
        for t in PHRASES) + ")$",
}


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_generators(kind):
    pipe = synthgen.load_pipeline("ocr_line", **{"line.corpus.sources": only(**{f"gen:{kind}": 1}),
                                                 "line.corpus.words": [1, 1], "line.corpus.case": AS_IS})
    texts = [pipe.sample(i).instances[0].text for i in range(40)]
    assert len(set(texts)) > 30
    for t in texts:
        assert re.match(GEN_PATTERNS[kind], t), (kind, t)
    assert texts == [pipe.sample(i).instances[0].text for i in range(40)]


# -- scripts and faces --------------------------------------------------------------------------


def test_gb2312_level1_hanzi_are_covered():
    faces = resolve_faces(["noto-cjk"], [])
    chars = "".join(load_corpus("zh_chars"))
    assert len(chars) == 3755 and faces[0].covers(chars)


def test_mixed_latin_cjk_uses_a_face_covering_everything():
    # narrow set: Noto Sans CJK (SynthGen Sans SC) is the only face with both scripts
    pipe = synthgen.load_pipeline("ocr_line_narrow")
    s = pipe.sample(0, pinned={"line.text": "Hello 世界 2024年"})
    assert s.instances[0].text == "Hello 世界 2024年" and s.factors["line.font"] == "SynthGen Sans SC"
    # the default's wide set: whichever face is drawn has a glyph for every character
    pipe = synthgen.load_pipeline("ocr_line")
    faces = {f.name: f for f in pipe.renderer.faces}
    mixed, used = 0, set()
    for i in range(100):
        f = pipe.sample(i).factors
        assert faces[f["line.font"]].covers(f["line.text"]), (f["line.font"], f["line.text"])
        if L.has_cjk(f["line.text"]) and re.search("[A-Za-z]", f["line.text"]):
            mixed += 1
            used.add(f["line.font"])
    assert mixed >= 5 and len(used) >= 2


def test_cjk_words_join_without_spaces():
    pipe = synthgen.load_pipeline("ocr_line", **{"line.corpus.sources": only(zh_words=1), "line.corpus.words": [3, 3]})
    for i in range(10):
        t = pipe.sample(i).instances[0].text
        assert " " not in t and len(t) >= 6


# -- layouts ------------------------------------------------------------------------------------


def _reading_direction(q):
    e = q[1] - q[0]
    return np.degrees(np.arctan2(e[1], e[0]))


def test_vertical_lines():
    base = {"augment.strength": 0.0,
            "line.layout.weights": {"straight": 0, "arc": 0, "sine": 0, "vertical": 1}, "line.corpus.sources": only(zh_words=1),
            "line.geometry.rotate": 0, "line.geometry.skew": 0, "line.geometry.perspective": 0}
    s = synthgen.load_pipeline("ocr_line", **base).sample(0)
    inst = s.instances[0]
    H, W = s.image.shape[:2]
    assert s.factors["derived.line.layout"] == "vertical" and W == 32 and H > W
    assert abs(_reading_direction(inst.quad) - 90) < 1  # reads downwards; first vertex top-right
    assert inst.quad[0, 0] > inst.quad[3, 0]
    ys = inst.chars[:, :, 1].mean(axis=1)
    assert (np.diff(ys) > 0).all()  # characters go down the column
    rot = synthgen.load_pipeline("ocr_line", **base, **{"line.layout.vertical_rotate": True}).sample(0)
    assert rot.image.shape[0] == 32 and rot.image.shape[1] > 32
    assert abs(_reading_direction(rot.instances[0].quad)) < 1
    assert rot.instances[0].text == inst.text
    # Latin text never goes vertical.
    latin = synthgen.load_pipeline("ocr_line", **{**base, "line.corpus.sources": only(en_words=1)}).sample(0)
    assert latin.factors["derived.line.layout"] == "straight"


def test_vertical_layout_turns_latin_and_keeps_hanzi_upright():
    faces = resolve_faces(["noto-cjk"], [])
    lay = L.vertical(faces[0].path, faces[0].index, 24, "中A")
    up, side = lay.chars
    assert abs(_reading_direction(up)) < 1e-3  # upright hanzi: its own top-left is the screen top-left
    assert abs(_reading_direction(side) - 90) < 1e-3  # "A" turned clockwise: reads downwards
    assert side[:, 1].min() >= up[:, 1].max() - 1


@pytest.mark.parametrize("kind", ["arc", "sine"])
def test_curved_char_quads_follow_the_curve(kind):
    faces = resolve_faces(["dejavu"], [])
    lay = L.curved(faces[0].path, faces[0].index, 24, "curvedbaseline", kind, 0.5 if kind == "arc" else 0.3, 5.0)
    angles = np.array([_reading_direction(q) for q in lay.chars])
    assert np.ptp(angles) > 10  # the glyphs turn along the curve
    if kind == "arc":
        assert (np.diff(angles) > 0).all()  # steadily: an arc
    ys = lay.chars[:, :, 1].mean(axis=1)
    assert np.ptp(ys) > 3  # and move off a straight line
    from tests.test_labels_exact import contains

    assert contains(lay.quad, lay.chars)
    # The mask's ink lies in the char quads.
    from tests.test_labels_exact import union_mask

    ink = lay.mask >= 128
    assert (ink & union_mask(lay.chars, ink.shape)).sum() >= 0.99 * ink.sum()


# -- shards -------------------------------------------------------------------------------------


def test_render_line_shards(tmp_path):
    m = synthgen.render("ocr_line", n=30, out=str(tmp_path / "d"), shard_size=16, workers=1, progress=False)
    assert m["counts"]["samples"] == 30
    names = []
    with tarfile.open(tmp_path / "d" / "shard-000000.tar") as tf:
        names = tf.getnames()
        js = json.loads(tf.extractfile(names[1]).read())
    assert names[0].endswith(".jpg") and names[1].endswith(".json") and not any(n.endswith(".score.png") for n in names)
    assert js["meta"]["pipeline_kind"] == "line" and js["instances"][0]["kind"] == "line"
    assert len(js["instances"][0]["chars"]) == len(js["instances"][0]["text"])
    import webdataset as wds

    ds = wds.WebDataset([str(tmp_path / "d" / s["name"]) for s in m["shards"]], shardshuffle=False).decode("rgb8")
    texts = [s["json"]["instances"][0]["text"] for s in ds]
    pipe = synthgen.load_pipeline("ocr_line")
    assert texts == [pipe.sample(i).instances[0].text for i in range(30)]


def test_user_image_backgrounds(tmp_path):
    import cv2

    folder = tmp_path / "bg"
    folder.mkdir()
    img = np.zeros((300, 400, 3), np.uint8)
    img[:, :, 2] = 200  # BGR: a red photo
    cv2.imwrite(str(folder / "red.png"), img)
    pipe = synthgen.load_pipeline("ocr_line", **{"background.weights": {"plain": 0, "gradient": 0, "texture": 0,
                                                                        "noise": 0, "photo": 0, "paper": 0,
                                                                        "fractal": 0, "image": 1},
                                                 "background.folders": [str(folder)], "augment.strength": 0.0})
    for i in range(5):
        s = pipe.sample(i, pinned={"line.style.shadow": False, "line.style.underline": False, "line.style.box": False,
                                   "line.style.extrude": False, "line.style.distractor": False,
                                   "line.style.overlap": False, "line.style.outline_shadow": False}, debug_ink=True)
        assert s.factors["background.kind"] == "image"
        bg = s.image[s.maps["ink"] == 0]
        assert np.abs(bg.astype(int) - (200, 0, 0)).max() <= 2  # RGB everywhere: red stays red


def test_generated_lines_replay_from_their_json_record():
    """Every generator's factors survive a JSON round trip (a tuple-valued option would come
    back as a list and no longer pin its option): replay gives the same pixels."""
    import json

    pipe = synthgen.load_pipeline("ocr_line_narrow", **{"line.corpus.sources": only(**{f"gen:{k}": 1 for k in GEN_PATTERNS}),
                                                        "augment.strength": 0.0})
    kinds = set()
    for i in range(25):
        s = pipe.sample(i)
        rec = json.loads(json.dumps(s.factors))
        kinds |= {k.split(".")[2] for k in rec if k.startswith("line.word[")}
        assert np.array_equal(pipe.replay(i, rec).image, s.image), i
    assert "prices" in kinds
