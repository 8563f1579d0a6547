"""The demo CRNN: CTC decoding, shapes, weights_only checkpoints, that it learns, and the judge."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from synthgen.crnn.charset import DEMO_CHARS, DEMO_OVERRIDES, Charset  # noqa: E402
from synthgen.crnn.data import batch_from, grey_line  # noqa: E402
from synthgen.crnn.train import edit_distance, load, make_model, predict, save, score, train  # noqa: E402
from synthgen.errors import UserError  # noqa: E402
from synthgen.pipeline import load_pipeline  # noqa: E402


def test_greedy_ctc_decoding_collapses_repeats_and_drops_blanks():
    cs = Charset("abc")
    assert cs.decode_greedy([0, 1, 1, 0, 1, 2, 2, 0, 0, 3]) == "aabc"
    assert cs.decode_greedy([0, 0]) == ""
    assert cs.encode("cab?") == [3, 1, 2] and not cs.covers("cab?")
    assert len(Charset()) == len(DEMO_CHARS) + 1


def test_edit_distance_and_score():
    assert edit_distance("kitten", "sitting") == 3 and edit_distance("", "abc") == 3
    s = score(["abc", "abd"], ["abc", "abc"])
    assert s["accuracy"] == 0.5 and abs(s["cer"] - 1 / 6) < 1e-9


def test_demo_charset_covers_the_demo_pipeline():
    pipe = load_pipeline("ocr_line", **DEMO_OVERRIDES)
    cs = Charset()
    texts = [pipe.sample(i).instances[0].text for i in range(300)]
    assert all(cs.covers(t) for t in texts), [t for t in texts if not cs.covers(t)][:5]


def test_model_init_is_keyed_and_leaves_global_state_alone():
    state = torch.random.get_rng_state()
    a, b, c = make_model(Charset(), seed=1), make_model(Charset(), seed=1), make_model(Charset(), seed=2)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.head.weight, c.head.weight)


def test_shapes_and_weights_only_checkpoint(tmp_path):
    cs = Charset()
    m = make_model(cs).eval()
    b = batch_from([np.full((32, 100, 3), 200, np.uint8), np.zeros((40, 60, 3), np.uint8)], ["ab", "c"], cs)
    assert b["x"].shape == (2, 1, 32, 100) and b["widths"].tolist() == [100, 48]
    out = m(b["x"])
    assert out.shape == (2, 25, len(cs)) and torch.allclose(out.exp().sum(-1), torch.ones(2, 25), atol=1e-4)
    save(str(tmp_path / "c.pt"), m, cs, {"steps": 3})
    raw = torch.load(tmp_path / "c.pt", weights_only=True)  # no pickled code objects
    assert raw["charset"] == cs.chars and raw["meta"]["steps"] == 3
    m2, cs2, meta = load(str(tmp_path / "c.pt"))
    assert torch.equal(m2(b["x"]), out) and cs2.chars == cs.chars
    with pytest.raises(UserError, match="no CRNN checkpoint"):
        load(str(tmp_path / "missing.pt"))
    assert grey_line(np.zeros((64, 300, 3), np.uint8)).shape == (32, 150)


def test_it_learns_a_small_batch_and_the_judge_reads_it(tmp_path, monkeypatch):
    pipe = load_pipeline("ocr_line", **DEMO_OVERRIDES)
    samples = [pipe.sample(i) for i in range(4)]
    cs = Charset()
    m = make_model(cs)
    b = batch_from([s.image for s in samples], [s.instances[0].text for s in samples], cs)

    def batches():
        while True:
            yield b

    losses = train(m, batches(), steps=60, lr=3e-3, log=None)
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    save(str(tmp_path / "j.pt"), m, cs)
    monkeypatch.setenv("SYNTHGEN_CRNN", str(tmp_path / "j.pt"))
    from synthgen.crnn import judge

    judge._loaded.cache_clear()
    flags = judge.fails(samples)
    preds = judge.predict(samples)
    assert preds == predict(m, cs, [s.image for s in samples])
    assert flags == [p != s.instances[0].text for p, s in zip(preds, samples)]
    assert all(0 <= c for c in judge.cer(samples))


def test_both_stems_give_the_same_output_grid_and_old_checkpoints_load(tmp_path):
    cs = Charset()
    x = torch.rand(2, 1, 32, 36)
    for stem in ("stride", "pool"):
        assert make_model(cs, stem=stem).eval()(x).shape == (2, 9, len(cs))
    old = make_model(cs, stem="pool").eval()
    save(str(tmp_path / "v1.pt"), old, cs)
    raw = torch.load(tmp_path / "v1.pt", weights_only=True)
    del raw["config"]["stem"]  # a checkpoint written before stems existed
    torch.save(raw, tmp_path / "v1.pt")
    m, _, _ = load(str(tmp_path / "v1.pt"))
    assert m.config["stem"] == "pool" and torch.equal(m(x), old(x))


def test_exact_mcnemar_against_enumerating_the_binomial():
    # reference: every outcome of n fair coin flips at least as extreme as the observed split
    from math import comb

    from synthgen.crnn.metrics import mcnemar_p, paired_bootstrap
    for x, y in [(0, 0), (0, 5), (3, 9), (12, 12), (40, 61), (1, 30)]:
        n, k = x + y, min(x, y)
        ref = sum(comb(n, j) for j in range(n + 1) if min(j, n - j) <= k) / 2**n if n else 1.0
        assert mcnemar_p(x, y) == pytest.approx(min(1.0, ref), rel=1e-12)
    a = np.arange(400) % 3 == 0  # 133 right
    b = np.arange(400) % 2 == 0  # 200 right
    lo, hi = paired_bootstrap(a, b, seed=0, reps=2000)
    assert lo < (b.mean() - a.mean()) < hi and hi - lo < 0.2


def test_base_preset_is_2_to_8_million_parameters_with_the_same_output_grid():
    from synthgen.crnn.model import PRESETS
    from synthgen.crnn.train import param_count, preset_model

    cs = Charset()
    small, base = preset_model(cs, "small"), preset_model(cs, "base")
    assert param_count(small) == param_count(make_model(cs)) < 400_000  # the demo is unchanged
    assert small.config == {"n_classes": len(cs), "width": 1, "hidden": 96, "stem": "stride"}
    assert 2_000_000 <= param_count(base) <= 8_000_000 and base.rnn.num_layers == 2
    x = torch.rand(3, 1, 32, 100)
    out = base.eval()(x)
    assert out.shape == (3, 25, len(cs)) and torch.allclose(out.exp().sum(-1), torch.ones(3, 25), atol=1e-4)
    assert set(PRESETS) >= {"small", "base"}
    with pytest.raises(ValueError, match="size"):
        preset_model(cs, "huge")


def test_base_trains_a_few_steps_and_its_checkpoint_loads(tmp_path):
    from synthgen.crnn.train import preset_model

    pipe = load_pipeline("ocr_line", **DEMO_OVERRIDES)
    samples = [pipe.sample(i) for i in range(4)]
    cs = Charset()
    m = preset_model(cs, "base", seed=3)
    b = batch_from([s.image for s in samples], [s.instances[0].text for s in samples], cs)
    losses = train(m, iter([b] * 4), steps=4, lr=1e-3, warmup=0.05, log=None)  # tiny warmup: no division by zero
    assert len(losses) == 4 and all(np.isfinite(losses))
    save(str(tmp_path / "base.pt"), m, cs, {"size": "base"})
    m2, _, meta = load(str(tmp_path / "base.pt"))
    assert m2.config == m.config and meta["size"] == "base"
    assert torch.equal(m2(b["x"]), m.eval()(b["x"]))


def test_small_checkpoint_of_the_previous_format_still_loads(tmp_path):
    """A demo checkpoint as written before the sizes existed (config without channels /
    double / layers) loads as the demo architecture with the same outputs."""
    cs = Charset()
    old = make_model(cs, seed=5).eval()
    torch.save({"state_dict": {k: v.clone() for k, v in old.state_dict().items()},
                "config": {"n_classes": len(cs), "width": 1, "hidden": 96, "stem": "stride"},
                "charset": cs.chars, "meta": {"steps": 2500}}, tmp_path / "old.pt")
    m, _, meta = load(str(tmp_path / "old.pt"))
    x = torch.rand(2, 1, 32, 64)
    assert meta["steps"] == 2500 and "channels" not in m.config and torch.equal(m(x), old(x))


def test_train_crnn_script_base_size_runs_on_cpu(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "train_crnn.py"
    spec = importlib.util.spec_from_file_location("train_crnn_script", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rc = mod.main(["--size", "base", "--steps", "2", "--batch-size", "2", "--workers", "0", "--eval-n", "3",
                   "--out", str(tmp_path)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "CRNN base 3.9" in out and "lr 0.001" in out
    m, _, meta = load(str(tmp_path / "crnn.pt"))
    assert meta["size"] == "base" and m.config["layers"] == 2


def _script(name):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_script", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_hard_suites_unseen_text_and_a_bad_pin_stops_before_training(tmp_path):
    hs = _script("hard_suites")
    frags = hs.unseen_fragments()
    assert len(frags) > 2000 and frags == hs.unseen_fragments()  # deterministic
    assert all(1 <= len(f) <= 40 and set(f) <= hs.ALLOWED and f == f.strip() for f in frags)
    info = hs.write_unseen_text(str(tmp_path))
    punct = (tmp_path / "unseen_punct.txt").read_text().splitlines()
    assert info["files"]["unseen_punct"]["lines"] == len(punct) > 500
    assert all(set(f) & set(hs.PUNCT) for f in punct) and set(punct) <= set(frags)
    assert Charset().covers("".join(frags))
    suites = tmp_path / "s.yaml"
    suites.write_text('base: {set: ["line.corpus.sources={{unseen_text}: 1}", "line.corpus.words=[1, 1]"]}\n'
                      "suites: {wobbly: {pin: [line.style.wobble=true]}}\n")
    subst = {k: v["path"] for k, v in info["files"].items()}
    with pytest.raises(hs.Stop, match="suite wobbly.*line.style.wobble"):
        hs.suite_files(str(suites), str(hs.ROOT / "pipelines" / "ocr_line.yaml"), str(tmp_path), subst, None)
    assert hs.paired([1, 0, 0, 1], [1, 1, 0, 1], 0)["only_new"] == 1
