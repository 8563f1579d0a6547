"""The real reader (PP-OCRv4 via rapidocr-onnxruntime) and `synthgen legibility`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synthgen.audit import judges
from synthgen.audit.legibility import match_words
from synthgen.cli import main
from synthgen.resources import shipped


@pytest.fixture(scope="module")
def engine():
    pytest.importorskip("rapidocr_onnxruntime")
    return judges.ppocr_engine()  # made once; every test below shares the process's engine


def _hello(size=(440, 80)) -> tuple[np.ndarray, np.ndarray]:
    """'Hello 2024' in big black DejaVu Sans on white, and its ink box as a quad."""
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("RGB", size, "white")
    font = ImageFont.truetype(str(shipped("fonts") / "dejavu" / "DejaVuSans.ttf"), 48)
    d = ImageDraw.Draw(im)
    d.text((20, 10), "Hello 2024", fill="black", font=font)
    x0, y0, x1, y1 = d.textbbox((20, 10), "Hello 2024", font=font)
    return np.array(im), np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def test_canon_is_nfkc_case_and_space_insensitive():
    assert judges.canon(" Hello  World ") == judges.canon("hello world") == "helloworld"
    assert judges.canon("￥５") == judges.canon("¥5")
    assert judges.canon("Hello.") != judges.canon("Hello")


def test_ppocr_reads_a_clear_line_and_detects_it(engine):
    img, _ = _hello()
    assert judges.ppocr_read(img).strip() == "Hello 2024"
    assert judges.ppocr_engine() is engine  # one engine per process
    img, word = _hello((512, 512))  # detection: a scene-sized frame
    boxes = judges.ppocr_detect(img)
    assert boxes and all(b.shape == (4, 2) for b in boxes)
    assert match_words([word], boxes)[0]["found"]
    assert judges.ppocr_detect(np.full((64, 64, 3), 255, np.uint8)) == []


def test_match_words_rules():
    word = np.array([[0, 0], [100, 0], [100, 20], [0, 20]], np.float32)
    same = match_words([word], [word + 1])[0]
    assert same["found"] and same["iou_found"]
    line = np.array([[0, 0], [400, 0], [400, 22], [0, 22]], np.float32)  # the word's whole line
    r = match_words([word], [line])[0]
    assert r["found"] and not r["iou_found"] and r["coverage"] == pytest.approx(1.0)
    block = np.array([[0, 0], [400, 0], [400, 300], [0, 300]], np.float32)  # a box around a whole block
    assert not match_words([word], [block])[0]["found"]
    assert not match_words([word], [])[0]["found"]


def test_vertical_lines_become_horizontal_strips():
    from synthgen.pipeline import load_pipeline

    pipe = load_pipeline("ocr_line", **{"augment.strength": 0.0, "factors.pin": {"line.layout": "vertical"}})
    strips = []
    for i in range(12):
        s = pipe.sample(i)
        st = judges.vertical_strip(s.image, s.instances[0])
        if s.image.shape[0] > 2 * s.image.shape[1]:
            assert st is not None and st.shape[1] > st.shape[0]
            strips.append(st)
        else:
            assert st is None  # a horizontal line stays as it is
    assert strips


def _report(out):
    r = json.loads((out / "report.json").read_text())
    assert r["files"][0] == "report.json"
    return r


def test_legibility_cli_on_lines_and_scenes(engine, tmp_path, capsys):
    out = tmp_path / "line"
    assert main(["legibility", "ocr_line", "--n", "8", "--out", str(out), "-q"]) == 0
    r = _report(out)
    ln = r["lines"]
    assert {"all", "ascii", "non_ascii", "vertical", "ignored", "outside_alphabet", "s_per_line_read", "misses"} <= set(ln)
    assert ln["all"]["n"] + ln["ignored"] == 8
    for part in ("all", "ascii", "non_ascii"):
        p = ln[part]
        assert p["share"] is None or 0 <= p["share"] <= 1
    assert len(ln["misses"]) == ln["all"]["n"] - ln["all"]["hits"]
    assert (out / "misses.png").is_file() == bool(ln["misses"])
    assert "reads exactly" in capsys.readouterr().out

    out = tmp_path / "scene"
    assert main(["legibility", "ocr_scene", "--n", "2", "--out", str(out), "-q"]) == 0
    w = _report(out)["words"]
    assert {"found", "iou_found", "min_height", "too_small", "ignored", "rule", "misses"} <= set(w)
    assert w["found"]["n"] > 0 and 0 <= w["found"]["share"] <= 1 and 0 <= w["iou_found"]["share"] <= 1
    assert "detection finds" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["ocr_line", "--n", "0"], ["ocr_line", "--n", "-3"], ["ocr_line", "--n", "many"],
                                  ["no_such_pipeline", "--n", "2"], ["ocr_line", "--n", "2", "--reader", "nocolon"],
                                  ["ocr_line", "--n", "2", "--set", "no.such.key=1"]])
def test_legibility_bad_input_exits_2(tmp_path, capsys, args):
    out = tmp_path / "o"
    assert main(["legibility", *args, "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and not out.exists()
