"""`--split train|val|test`: parts disjoint by string, identity and (optionally) font family,
named and recorded; `synthgen check` confirms what the split promises."""

import json

import pytest

from synthgen.check.run import check
from synthgen.cli import main
from synthgen.errors import UserError
from synthgen.pipeline import load_pipeline
from synthgen.run.job import render
from synthgen.splits import Splitter, norm, part_bounds, person_key


def test_every_value_in_exactly_one_part_at_the_ratios():
    ratios = {"test": 0.1, "train": 0.8, "val": 0.1}  # order written does not matter
    parts = {p: Splitter(p, ratios, key="k") for p in ratios}
    words = [f"w{i}" for i in range(20_000)]
    counts = {p: 0 for p in parts}
    for w in words:
        inside = [p for p, s in parts.items() if s.accepts("strings", w)]
        assert len(inside) == 1
        counts[inside[0]] += 1
    assert all(abs(counts[p] / len(words) - ratios[p]) < 0.01 for p in ratios), counts
    assert part_bounds(ratios, "train") == (0.0, 0.8) and part_bounds(ratios, "test") == (0.9, 1.0)
    # case and width variants are one string; another key is another partition
    assert parts["test"].accepts("strings", "Apple") == parts["test"].accepts("strings", "ＡＰＰＬＥ")
    assert norm(" Hello  World ") == "hello world"
    other = Splitter("test", ratios, key="other")
    assert sum(other.accepts("strings", w) != parts["test"].accepts("strings", w) for w in words) > 1000


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    p = tmp_path_factory.mktemp("corpus") / "words.txt"
    p.write_text("\n".join(f"word{i:03d}" for i in range(300)) + "\n")
    return str(p)


def _lines(path):
    from synthgen.io.readers import Dataset

    return [s.instances[0]["text"] for s in Dataset(path)]


def test_rendered_parts_share_no_string(tmp_path, small_corpus):
    off = {k: 0 for k in load_pipeline("ocr_line").cfg.line.corpus.sources}  # only the small corpus
    over = {"line.corpus.sources": {**off, small_corpus: 1}, "line.corpus.words": [1, 2], "augment.strength": 0.0}
    kw = dict(workers=1, executor="serial", progress=False, shard_size=100)
    m = render("ocr_line", n=200, out=str(tmp_path / "train"), overrides={**over, "split": "train"}, **kw)
    render("ocr_line", n=60, out=str(tmp_path / "test"), seed=5, overrides={**over, "split": "test"}, **kw)
    render("ocr_line", n=60, out=str(tmp_path / "all"), seed=5, overrides=over, **kw)
    assert m["name"].startswith("ocr_line.") and ".split_train" in m["name"]
    assert m["config"]["split"] == "train" and m["config"]["splits"]["ratios"]["test"] == 0.1
    tok = {name: {norm(w) for t in _lines(str(tmp_path / name)) for w in t.split()} for name in ("train", "test", "all")}
    assert not tok["train"] & tok["test"]
    assert len(tok["train"] & tok["all"]) > 20  # without a split the same corpus overlaps heavily
    test_part = Splitter("test", {"train": 0.8, "val": 0.1, "test": 0.1})
    assert all(test_part.accepts("strings", w) for w in tok["test"])
    assert check(str(tmp_path / "train"), against=str(tmp_path / "test")).totals.get("overlap_text", 0) == 0
    assert check(str(tmp_path / "train"), against=str(tmp_path / "all")).totals.get("overlap_text", 0) > 0


def test_generated_strings_and_identities_held_out():
    ratios = {"train": 0.5, "test": 0.5}
    for part in ("train", "test"):
        sp = Splitter(part, ratios)
        # one string per line (pinned), from the generators and zh_chars runs only
        p = load_pipeline("ocr_line", split=part, **{"splits.ratios": ratios, "factors.pin": {"line.words": 1},
                                                     "line.corpus.sources": {"en_words": 0, "en_text": 0, "zh_words": 0}})
        texts = [p.sample(i).instances[0].text for i in range(30)]
        assert all(sp.accepts("strings", t) for t in texts), [t for t in texts if not sp.accepts("strings", t)]
    for part in ("train", "test"):
        p = load_pipeline("id_td1", split=part, **{"splits.ratios": ratios})
        sp = Splitter(part, ratios)
        for i in range(4):
            assert sp.accepts("identities", person_key(p.sample(i).meta["identity"]))


def test_font_families_held_out_and_bad_split_refused(capsys):
    fams = ["dejavu", "liberation-sans", "liberation-serif", "pt-sans", "roboto"]
    kw = {"splits.by": ["fonts"], "splits.ratios": {"train": 0.5, "test": 0.5}, "fonts.families": fams}
    a = {f.family for f in load_pipeline("ocr_line", split="train", **kw).renderer.faces}
    b = {f.family for f in load_pipeline("ocr_line", split="test", **kw).renderer.faces}
    assert a and b and not a & b
    with pytest.raises(UserError, match="split 'holdout' is not one of"):
        load_pipeline("ocr_line", split="holdout")
    assert main(["render", "ocr_line", "--n", "2", "--split", "nope", "--out", "/tmp/never-written"]) == 2
    err = capsys.readouterr().err
    assert "--split 'nope' is not a part of ocr_line's splits.ratios" in err and "train, val, test" in err
    # unsplit configs keep their fingerprint: no split keys in the dump
    assert "splits" not in json.loads(load_pipeline("ocr_line").cfg.model_dump_json())
