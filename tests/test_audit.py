"""The bad-augmentation audit: Wilson intervals, bisection, judges, outputs, CLI."""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest

from synthgen.audit import audit
from synthgen.audit.judges import Item, LabelJudge, ReaderJudge
from synthgen.audit.report import read_verdicts
from synthgen.audit.stats import tune, wilson
from synthgen.cli import main
from synthgen.config import load_config
from synthgen.core import Instance
from synthgen.errors import UserError


def test_wilson_matches_published_values():
    # Wilson (1927) / Newcombe (1998) table: 0/10 -> (0, 0.2775); 5/10 -> (0.2366, 0.7634); 81/263 -> (0.2553, 0.3662)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_bisection_finds_the_crossing_of_a_known_curve():
    calls = []

    def upper(s):
        calls.append(s)
        return s  # the upper bound equals the strength: crosses 0.3 at 0.3

    tuned, tried = tune(upper, [0, 0.25, 0.5, 0.75, 1], 0.3, steps=5)
    assert 0.3 - 0.25 / 32 <= tuned < 0.3 and tried == calls
    assert tune(lambda s: 0.5, [0, 0.5, 1], 0.3)[0] == 0  # fails everywhere: the lowest strength
    assert tune(lambda s: 0.0, [0, 0.5, 1], 0.3)[0] == 1  # passes everywhere: the highest


def line_item(img, quad, chars=None, factors=None, ink=None):
    inst = Instance(quad=np.array(quad, np.float32), text="ab", chars=chars, kind="line")
    return Item(0, 0.5, img, [inst], factors or {}, ink)


def test_label_judge_reasons_on_constructed_samples():
    j = LabelJudge()
    img = np.full((40, 120, 3), 230, np.uint8)
    ink = np.zeros((40, 120), np.uint8)
    cv2.putText(ink, "ab ab", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 255, 3)
    dark = img.copy()
    dark[ink > 0] = 20
    quad = [[5, 5], [115, 5], [115, 35], [5, 35]]
    assert j(line_item(dark, quad, ink=ink), 1) == []
    faint = img.copy()
    faint[ink > 0] = 215  # 15 grey levels from the paper
    assert j(line_item(faint, quad, ink=ink), 1) == ["contrast"]
    assert "clipped" in j(line_item(dark, [[-40, 5], [80, 5], [80, 35], [-40, 35]], ink=ink), 1)
    assert j(line_item(dark, quad, ink=ink), 2) == ["lost"]  # the reference had two text instances
    assert "small" in j(line_item(dark, [[5, 5], [115, 5], [115, 11], [5, 11]], ink=ink), 1)
    assert "blur" in j(line_item(dark, quad, factors={"aug.blur.apply": True, "aug.blur.sigma": 6.0}, ink=ink), 1)
    assert "noise" in j(line_item(faint, quad, factors={"aug.noise.apply": True, "aug.noise.sigma": 12.0}, ink=ink), 1)


def _fake_reader(img):
    """Reads 'ab' from a sharp image, nothing from a blurred one (Laplacian variance)."""
    return "ab" if cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var() > 50 else ""


def test_reader_judge_is_paired_and_takes_a_user_callable(monkeypatch):
    mod = types.ModuleType("fake_ocr_mod")
    mod.read = _fake_reader
    monkeypatch.setitem(sys.modules, "fake_ocr_mod", mod)
    j = ReaderJudge(reader="fake_ocr_mod:read")
    sharp = np.zeros((32, 64, 3), np.uint8)
    sharp[::2] = 255
    blurred = np.full_like(sharp, 128)
    q = [[0, 0], [63, 0], [63, 31], [0, 31]]
    good_ref = j.reference(line_item(sharp, q))
    assert good_ref == (1, True)
    assert j(line_item(blurred, q), good_ref) == ["misread"]
    assert j(line_item(sharp, q), good_ref) == []
    bad_ref = j.reference(line_item(blurred, q))  # the clean sample is unreadable: no verdict at all
    assert j(line_item(blurred, q), bad_ref) is None and j(line_item(sharp, q), bad_ref) is None
    with pytest.raises(UserError, match="module:function"):
        ReaderJudge(reader="no_colon")


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr not installed (.ci/run installs it)")
def test_tesseract_judge_reads_clean_lines(tmp_path):
    pytest.importorskip("pytesseract")
    r = audit("ocr_line", judge="reader", reader="tesseract", n=6, grid=(0.0, 1.0), steps=0, out=str(tmp_path),
              overrides={"line.corpus.sources": {"en_words": 1.0}, "line.style.stroke.p": 0.0}, progress=False)
    at0 = r["curve"][0]
    assert at0["strength"] == 0 and at0["bad"] == 0  # paired: nothing is bad against itself
    assert set(r["reasons"]) <= {"misread", "lost"}


def test_ocr_line_label_audit_curve_outputs_and_tuned_config(tmp_path):
    out, cfg = tmp_path / "a", tmp_path / "tuned.yaml"
    assert main(["audit", "ocr_line", "--n", "150", "--grid", "0,0.5,1", "--steps", "2", "--out", str(out),
                 "--write", str(cfg), "--confirm", "150", "-q"]) == 0
    r = json.loads((out / "audit.json").read_text())
    c = {p["strength"]: p for p in r["curve"]}
    assert c[0.0]["rate"] <= 0.01  # clean renders pass the judge
    assert c[0.0]["rate"] < c[0.5]["rate"] < c[1.0]["rate"]  # the curve rises with strength
    assert sum(c[1.0]["reasons"].values()) == c[1.0]["bad"]
    assert 0 <= r["tuned_strength"] < 1 and r["confirm"]["n"] == 150
    for f in ("curve.png", "bad_samples.png", "sheet_s0.png", "sheet_s0.5.png", "sheet_s1.png"):
        assert cv2.imread(str(out / f)) is not None, f
    tuned, _ = load_config(cfg)
    assert tuned.augment.strength == pytest.approx(r["tuned_strength"], abs=1e-4) and tuned.kind == "line"


def test_human_page_and_verdicts(tmp_path):
    r = audit("ocr_line", judge="human", n=3, grid=(0.0, 1.0), out=str(tmp_path), progress=False)
    page = Path(r["human_page"]).read_text()
    assert page.count('class="c"') == 6 and "verdicts.csv" in page
    csv = tmp_path / "v.csv"
    csv.write_text("index,strength,verdict\n" + "".join(f"{i},0,good\n" for i in range(20))
                   + "".join(f"{i},1,{'bad' if i < 8 else 'good'}\n" for i in range(20)))
    r = audit("ocr_line", judge="human", verdicts=str(csv), target_error=0.2, grid=(0.0, 1.0), out=str(tmp_path),
              progress=False)
    assert [p["bad"] for p in r["curve"]] == [0, 8] and r["tuned_strength"] == 0.0
    csv.write_text("index,strength,verdict\n1,0,maybe\n")
    with pytest.raises(UserError, match="line 2"):
        read_verdicts(str(csv))


def test_audit_of_an_augmented_icdar_dataset(tmp_path):
    from synthgen.augment.job import augment_dataset
    from tests.test_augment_job import icdar_folder

    src = icdar_folder(tmp_path / "ic", 4)
    augment_dataset(str(src), str(tmp_path / "aug"), 0.5, executor="serial", progress=False)
    r = audit(str(tmp_path / "aug"), n=8, grid=(0.0, 1.0), steps=1, out=str(tmp_path / "o"), progress=False)
    assert r["source_kind"] == "dataset" and r["curve"][0]["n"] == 8
    assert main(["audit", str(tmp_path / "ic"), "--target-error", "2", "--out", str(tmp_path / "o")]) == 2


def test_python_api(tmp_path):
    import synthgen
    import synthgen.audit.judges  # noqa: F401  (the subpackage; no module-class swap keeps a function callable)

    r = synthgen.audit_augmentation("ocr_line", n=4, grid=(0.0, 1.0), steps=0, out=str(tmp_path), progress=False)
    assert json.loads((tmp_path / "audit.json").read_text())["tuned_strength"] == r["tuned_strength"]
    assert synthgen.audit.audit is synthgen.audit.run.audit and type(synthgen.audit) is type(json)


def test_rate_charged_to_augmentation_is_paired_with_strength_zero():
    from synthgen.audit.run import _point
    base = {0: ["small"], 1: [], 2: ["contrast"], 3: []}
    at_s = [(0, ["small"]), (1, ["blur"]), (2, ["small", "contrast"]), (3, [])]
    p = _point(0.5, at_s, base)
    # 0: bad before and after for the same reason (renderer's); 1: new; 2: a new reason; 3: fine
    assert (p["bad"], p["caused"]) == (3, 2) and p["caused_reasons"] == {"blur": 1, "small": 1}
    assert p["caused_rate"] == 0.5 and p["lo"] < 0.5 < p["hi"]
    assert _point(0.0, [(i, r) for i, r in base.items()], base)["caused"] == 0


class _IndexSource:
    """A stand-in pipeline: sample i is a flat image of grey level i labelled `t<i>`; at
    strength > 0 the samples with i % 5 == 0 are marked broken (green channel 1)."""

    kind, name, seed = "pipeline", "fake", 0

    def item(self, i, s):
        img = np.zeros((32, 64, 3), np.uint8)
        img[..., 0] = i
        img[..., 1] = 1 if s > 0 and i % 5 == 0 else 0
        inst = Instance(quad=np.array([[0, 0], [63, 0], [63, 31], [0, 31]], np.float32), text=f"t{i}", kind="line")
        return Item(i, s, img, [inst], {}, None)


def _index_reader(img):
    """Cannot read every fourth index at all; reads the broken ones wrong; the rest right."""
    v = int(img[0, 0, 0])
    return "" if v % 4 == 0 else "wrong" if img[0, 0, 1] else f"t{v}"


def test_reader_unreadable_clean_is_reported_and_never_a_good_augmented_sample(tmp_path, monkeypatch, capsys):
    import synthgen.audit.run as run_mod

    mod = types.ModuleType("index_ocr_mod")
    mod.read = _index_reader
    monkeypatch.setitem(sys.modules, "index_ocr_mod", mod)
    monkeypatch.setattr(run_mod, "open_source", lambda *a, **k: _IndexSource())
    assert main(["audit", "fake", "--judge", "reader", "--reader", "index_ocr_mod:read", "--n", "20",
                 "--grid", "0,1", "--steps", "0", "--out", str(tmp_path), "-q"]) == 0
    r = json.loads((tmp_path / "audit.json").read_text())
    u = r["unaugmented"]
    # indices 0, 4, 8, 12, 16 are unreadable clean: no verdict, not 20 good clean samples
    assert (u["n"], u["judged"], u["unjudged"], u["bad"]) == (20, 15, 5, 0)
    at1 = {p["strength"]: p for p in r["curve"]}[1.0]
    # broken at strength 1: 5, 10, 15 (0 is unreadable clean, so it is neither good nor bad)
    assert (at1["n"], at1["unjudged"], at1["caused"]) == (15, 5, 3) and at1["caused_rate"] == pytest.approx(0.2)
    assert "unreadable clean: 5 of 20" in r["warning"]
    assert "0 bad of 15 judged" in r["warning"] and "use --n 98 " in r["warning"]  # 73 judged needed, 3 in 4 judged
    out = capsys.readouterr().out
    assert "unreadable clean: 5 of 20" in out and "0 of 15 judged" in out


def test_reader_names_and_missing_package(monkeypatch, tmp_path):
    from synthgen.audit import judges

    assert judges.load_reader(None) is judges.ppocr_read and judges.load_reader("tesseract") is judges.tesseract_read
    assert judges.make_judge("reader").reader == "ppocr"
    monkeypatch.setattr(judges, "_PPOCR", None)
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # import fails as if not installed
    with pytest.raises(UserError, match=r"pip install 'synthgen\[audit\]'"):
        judges.ppocr_read(np.zeros((32, 64, 3), np.uint8))
    out = tmp_path / "a"
    assert main(["audit", "ocr_line", "--judge", "reader", "--n", "2", "--out", str(out), "-q"]) == 2
    assert not out.exists()  # refused before anything is written


# -- bad input (issue 22.7): one line, exit 2, nothing left behind ------------------------------

BAD_READERS = '''
def boom(img):
    raise RuntimeError("model not loaded")


def nothing(img):
    return None
'''


@pytest.mark.parametrize("args,says", [
    (["--judge", "reader", "--reader", "badreaders:boom"], "reader boom raised RuntimeError: model not loaded"),
    (["--judge", "reader", "--reader", "badreaders:nothing"], "reader nothing returned NoneType"),
    (["--steps", "-1"], "--steps must be >= 0"),
    (["--confirm", "-3"], "--confirm must be >= 0"),
])
def test_audit_bad_input_is_one_line_and_leaves_no_folder(tmp_path, monkeypatch, capsys, args, says):
    from synthgen.cli import main

    (tmp_path / "badreaders.py").write_text(BAD_READERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "audit_out"
    assert main(["audit", "ocr_line", "--n", "3", "--grid", "0,1", "-q", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1, err
    assert not out.exists()


def test_audit_out_that_is_a_file_is_refused(tmp_path, capsys):
    from synthgen.cli import main

    f = tmp_path / "audit.json"
    f.write_text("{}")
    assert main(["audit", "ocr_line", "--n", "2", "-q", "--out", str(f)]) == 2
    assert "is a file" in capsys.readouterr().err and f.read_text() == "{}"
