"""Mining finds what a model fails on when the failure is only visible in the pixels.

The toy model measures the text's orientation from the image (principal axis of the pixels
that differ from the border colour) and fails on text turned more than 24 degrees. It never
reads the factors; the miner must discover that `word.angle` is responsible."""

import json

import cv2
import numpy as np
import pytest

from synthgen.cli import main
from synthgen.mine import Miner
from synthgen.mine.stats import make_stats, observe, wilson_lower
from synthgen.pipeline import load_pipeline



def _plain_scene() -> dict:
    """Overrides that switch off whatever variety ocr_scene has (backgrounds other than plain,
    signs, word styles), read from its config so that new options stay off too."""
    from synthgen.config import load_config

    cfg = load_config("ocr_scene", {})[0].model_dump(mode="json")
    out = {"background.weights": {k: float(k == "plain") for k in cfg["background"]["weights"]},
           "fonts.families": ["dejavu"]}
    lay = cfg["layout"]
    if isinstance(lay.get("sign"), dict):
        out["layout.sign.p"] = 0
    for name, st in (lay.get("style") or {}).items():
        for k in st:
            if k == "p" or name == "fill":
                out[f"layout.style.{name}.{k}"] = 0
    return out


# One word per 128 px scene on a plain background: the word's pixels are easy to find.
TOY = {"image.width": 128, "image.height": 128, "text.words": [1, 1], "text.size": [12, 18], "layout.block": 0,
       "layout.small": 0, "layout.perspective": 0, "layout.distractors": [0, 0], "augment.strength": 0,
       **_plain_scene()}
LIMIT = 24.0  # degrees


def measured_angle(rgb: np.ndarray) -> float:
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    bg = np.median(np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]]))
    ys, xs = np.nonzero(np.abs(g - bg) > 30)
    if len(xs) < 10:
        return 0.0
    _, v = np.linalg.eigh(np.cov(np.stack([xs, ys]).astype(np.float64)))
    a = np.degrees(np.arctan2(-v[1, 1], v[0, 1]))
    return float((a + 90) % 180 - 90)


def toy_fails(samples):
    """The toy model: fails on strongly rotated text, judged from the pixels alone."""
    return [abs(measured_angle(s.image)) > LIMIT for s in samples]


@pytest.fixture(scope="module")
def toy_pipe():
    return load_pipeline("ocr_scene", **TOY)


def test_toy_model_reads_pixels_not_factors(toy_pipe):
    s = [toy_pipe.sample(i) for i in range(40)]
    truth = [abs(x.factors.get("word[0].angle", 0.0)) for x in s]
    meas = [abs(measured_angle(x.image)) for x in s]
    placed = [j for j, x in enumerate(s) if x.instances]
    assert np.corrcoef([truth[j] for j in placed], [meas[j] for j in placed])[0, 1] > 0.97


def test_mined_failure_rate_is_3x_random_and_angle_ranks_first(toy_pipe):
    m = Miner(toy_pipe, toy_fails, per_round=200, bins=10, start=0)
    for _ in range(3):
        m.round()
    assert not any(m.rounds[0].biased)  # the first round is the random baseline
    mined = [sc for r in m.rounds[1:] for sc, b in zip(r.scores, r.biased) if b]
    rate_mined = sum(mined) / len(mined)
    fresh = [toy_pipe.sample(i) for i in range(10_000, 10_300)]  # an independent random set
    rate_random = sum(toy_fails(fresh)) / len(fresh)
    assert 0.1 < rate_random < 0.35
    assert rate_mined >= 3 * rate_random, (rate_mined, rate_random)
    ranked = m.ranked()
    assert ranked[0]["factor"] == "word.angle", [r["factor"] for r in ranked[:5]]
    worst = ranked[0]["regions"][0]["label"]
    assert worst in ("[24, 30)", "[-30, -24)")
    # the floor: a share of every biased round still comes from the base distribution
    assert 0.15 <= sum(not b for b in m.rounds[2].biased) / 200 <= 0.25
    bias = m.bias()
    assert set(bias) == {"word.angle"} or list(bias)[0] == "word.angle"


def test_stats_regions_and_wilson():
    class Spec:
        def __init__(self, kind, lo=None, hi=None, options=None):
            self.kind, self.lo, self.hi, self.options = kind, lo, hi, options

    st = make_stats({"w.a": Spec("uniform", 0, 10), "c": Spec("choice", options=["x", "y"]),
                     "b": Spec("bernoulli"), "seed": Spec("integer", 0, 2**40), "i": Spec("integer", 1, 3)}, bins=5)
    assert "seed" not in st and [r.label for r in st["i"].regions.values()] == ["[1, 2)", "[2, 3)", "[3, 4)"]
    observe(st, {"w[0].a": 9.9, "w[1].a": 9.5, "c": "y", "b": True, "i": 3}, 1.0)
    assert st["w.a"].regions["4"].n == 1  # two words in one region: counted once per sample
    assert st["c"].regions["y"].k == 1 and st["b"].regions["true"].n == 1 and st["i"].regions["2"].n == 1
    # Wilson 95% lower bound: 8 of 10 -> 0.490 (textbook value)
    assert abs(wilson_lower(8, 10) - 0.4902) < 1e-3


def _toy_yaml(tmp_path):
    import yaml

    from synthgen.config import load_config

    cfg, _ = load_config("ocr_scene", TOY)
    data = cfg.model_dump(mode="json")
    data["name"] = "toy_scene"
    p = tmp_path / "toy_scene.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_cli_writes_shards_report_sheet_and_resumes(tmp_path, capsys):
    from synthgen.check.run import check
    from synthgen.torch import ShardDataset

    cfg = _toy_yaml(tmp_path)
    out = tmp_path / "mined"
    args = ["mine", str(cfg), "--model", "tests.test_mine:toy_fails", "--per-round", "60", "--bins", "10",
            "--out", str(out), "-q"]
    assert main(args + ["--rounds", "2"]) == 0
    first = (out / "shard-000001.tar").read_bytes()
    (out / "shard-000001.tar").unlink()  # a crash after round 0: the rerun redoes round 1 only
    assert main(args + ["--rounds", "3"]) == 0
    assert (out / "shard-000001.tar").read_bytes() == first  # same rounds, same bytes
    man = json.loads((out / "manifest.json").read_text())
    assert man["state"] == "complete" and man["name"].endswith(".mined_toy_fails")
    assert [s["round"] for s in man["shards"]] == [0, 1, 2]
    rep = json.loads((out / "report.json").read_text())
    assert rep["n_random"] + rep["n_mined"] == 180 and rep["factors"][0]["factor"] == "word.angle"
    assert (out / "top_errors.png").stat().st_size > 1000
    items = list(ShardDataset(str(out), factors=True))
    assert len(items) == 180 and {i["index"] for i in items} == set(range(180))
    # a normal dataset for the checker: shards and labels sound (near duplicates are possible
    # here: one small word on a flat background leaves little for a perceptual hash)
    assert not [f.message for f in check(str(out)).findings if f.check in ("shard", "label")]
    assert "mined" in capsys.readouterr().out
    # different settings into the same folder: refused with one line
    assert main(["mine", str(cfg), "--model", "tests.test_mine:toy_fails", "--per-round", "61", "--out", str(out),
                 "-q"]) == 2
    assert main(["mine", str(cfg), "--model", "tests.test_mine:nope", "--out", str(tmp_path / "x")]) == 2


def test_curriculum_points_the_training_stream_at_failures(toy_pipe):
    from synthgen.mine.curriculum import Curriculum

    torch = pytest.importorskip("torch")
    from synthgen.torch import SynthIterable

    ds = SynthIterable(toy_pipe, block=1, factors=True)
    cur = Curriculum(ds, toy_fails, probe=200, floor=0.3, bins=10)
    bias = cur.update()
    assert "word.angle" in bias and ds.bias == bias
    w = bias["word.angle"]["weights"]
    assert min(w[0], w[-1]) > 5 * max(w[3:7]) and min(w) >= 0.3  # the floor keeps every region
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=1, persistent_workers=True)
    angles = [abs(f) for it, _ in zip(loader, range(60)) for k, f in it["factors"].items() if k.endswith(".angle")]
    assert np.mean([a > LIMIT for a in angles]) > 0.5  # base rate of |angle| > 24: 0.2
