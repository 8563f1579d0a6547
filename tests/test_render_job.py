"""The walking skeleton end to end: shards, determinism, reading back, resume after SIGKILL."""

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import synthgen
from synthgen.io.shards import read_shard, url_to_fs

from .helpers import fault_cli, inside, shard_hashes


def _decoded(folder: Path) -> dict:
    """key -> (pixels, json) across all shards of a dataset."""
    fs, _ = url_to_fs(str(folder))
    out = {}
    for p in sorted(folder.glob("shard-*.tar")):
        for key, members in read_shard(fs, str(p)).items():
            img = cv2.imdecode(np.frombuffer(members["jpg"], np.uint8), cv2.IMREAD_COLOR)
            out[key] = (img.tobytes(), members["json"], members["score.png"])
    return out


def test_same_samples_whatever_workers_and_shard_size(tmp_path, small):
    a = synthgen.render(n=23, out=str(tmp_path / "a"), shard_size=6, workers=2, overrides=small, progress=False)
    synthgen.render(n=23, out=str(tmp_path / "b"), shard_size=6, workers=1, overrides=small, progress=False)
    synthgen.render(n=23, out=str(tmp_path / "c"), shard_size=10, workers=2, executor="serial", overrides=small, progress=False)
    ha, hb = shard_hashes(tmp_path / "a"), shard_hashes(tmp_path / "b")
    assert len(ha) == 4 and ha == hb
    assert [s["sha256"] for s in a["shards"]] == list(ha.values())
    da, dc = _decoded(tmp_path / "a"), _decoded(tmp_path / "c")
    assert len(da) == 23 and da == dc
    assert len(shard_hashes(tmp_path / "c")) == 3


def test_seed_changes_samples(tmp_path, small):
    p0 = synthgen.load_pipeline("ocr_scene", seed=0, **small)
    p1 = synthgen.load_pipeline("ocr_scene", seed=1, **small)
    assert p0.sample(3).image.tobytes() == p0.sample(3).image.tobytes()
    assert p0.sample(3).image.tobytes() != p1.sample(3).image.tobytes()


def test_webdataset_reads_shards(tmp_path, small):
    import webdataset as wds

    m = synthgen.render(n=20, out=str(tmp_path / "d"), shard_size=7, workers=2, overrides=small, progress=False)
    urls = [str(tmp_path / "d" / s["name"]) for s in m["shards"]]
    ds = wds.WebDataset(urls, shardshuffle=False).decode("rgb8")
    seen = 0
    for s in ds:
        img, meta = s["jpg"], s["json"]
        h, w = img.shape[:2]
        assert (h, w) == (128, 128) and s["score.png"].shape[:2] == (32, 32)
        assert meta["key"] == s["__key__"]
        for inst in meta["instances"]:
            q = np.array(inst["quad"])
            assert inst["text"].strip()
            assert (q >= -0.01).all() and (q[:, 0] <= w + 0.01).all() and (q[:, 1] <= h + 0.01).all()
            chars = np.array(inst["chars"])
            assert len(chars) == len(inst["text"])
            assert inside(q, chars, tol=1.0)
        seen += 1
    assert seen == 20 == m["counts"]["samples"]
    man = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert man["state"] == "complete" and man["n"] == 20 and len(man["shards"]) == 3
    assert man["config"]["image"]["width"] == 128 and "numpy" in man["versions"]


def _cli(args, env=None, cwd=None, faults=None):
    exe = fault_cli(**faults) if faults else [sys.executable, "-m", "synthgen.cli"]
    return subprocess.run([*exe, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd)


SMALL_SET = ["--set", "image.width=128", "--set", "image.height=128", "--set", "text.size=[8,24]", "--set", "text.words=[2,5]"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_resume_after_sigkill_gives_identical_shards(tmp_path, workers):
    args = ["render", "--n", "30", "--shard-size", "8", "-q", *SMALL_SET]
    ref = _cli([*args, "--out", str(tmp_path / "ref"), "--workers", "2"])
    assert ref.returncode == 0, ref.stderr
    # Killed hard while rendering sample 19 (shard 2): shards 0 and 1 are done.
    out = tmp_path / "killed"
    run = _cli([*args, "--out", str(out), "--workers", workers], faults={"kill_at": [19]})
    assert run.returncode != 0
    for t in out.glob("*.tar"):  # whatever is visible as .tar is complete
        assert t.name in shard_hashes(tmp_path / "ref") and shard_hashes(out)[t.name] == shard_hashes(tmp_path / "ref")[t.name]
    assert json.loads((out / "manifest.json").read_text())["state"] == "running"
    again = _cli([*args, "--out", str(out), "--workers", workers])
    assert again.returncode == 0, again.stderr
    assert shard_hashes(out) == shard_hashes(tmp_path / "ref")
    assert not list(out.glob("*.partial"))
    assert json.loads((out / "manifest.json").read_text())["state"] == "complete"


def test_truncated_shard_is_rendered_again(tmp_path, small):
    out = tmp_path / "t"
    synthgen.render(n=12, out=str(out), shard_size=6, workers=1, overrides=small, progress=False)
    ref = shard_hashes(out)
    p = out / "shard-000001.tar"
    p.write_bytes(p.read_bytes()[:5000])
    synthgen.render(n=12, out=str(out), shard_size=6, workers=1, overrides=small, progress=False)
    assert shard_hashes(out) == ref


def test_default_out_is_named_by_overrides(tmp_path):
    r = _cli(["render", "--n", "2", "-q", "--set", "augment.strength=0.35", "--set", "image.width=128",
              "--set", "image.height=128", "--seed", "7"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    name = "ocr_scene.strength_0.35.height_128.width_128.seed_7"
    assert (tmp_path / "runs" / name / "shard-000000.tar").is_file()
    assert json.loads((tmp_path / "runs" / name / "manifest.json").read_text())["name"] == name


def test_preview_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    r = _cli(["preview", "-n", "4", "-o", str(out), "--cell", "128"])
    assert r.returncode == 0, r.stderr
    img = cv2.imread(str(out))
    assert img is not None and img.shape[1] == 256


def test_resume_checks_kept_shards_by_sha256_only(tmp_path, small, monkeypatch):
    """A resume reads kept shards only through the streaming sha256 check (no tar parsing, no
    re-render) and keeps them all when they match."""
    out = tmp_path / "r"
    m = synthgen.render(n=12, out=str(out), shard_size=6, workers=1, overrides=small, progress=False)
    import synthgen.run.worker as worker

    def no_renders(*a, **k):
        raise AssertionError("an intact, recorded shard was rendered again")

    monkeypatch.setattr(worker, "run_shard", no_renders)
    again = synthgen.render(n=12, out=str(out), shard_size=6, workers=1, overrides=small, progress=False)
    assert again["shards"] == m["shards"]


def test_render_split_reads_and_validates_the_config_once(tmp_path, monkeypatch, capsys):
    """`render --split` passes the part on as its own argument: the config is read and validated
    once (it was checked, then loaded again with the split folded in), with the same dataset."""
    import synthgen.config.loading as loading
    import synthgen.run.job
    from synthgen.cli import main
    from synthgen.errors import UserError

    reads, validations = [], []
    read, validate = loading.read_yaml, loading.validate
    monkeypatch.setattr(loading, "read_yaml", lambda p: reads.append(p) or read(p))
    monkeypatch.setattr(loading, "validate", lambda *a, **k: validations.append(a[1]) or validate(*a, **k))
    out = tmp_path / "cli"
    assert main(["render", "ocr_line", "--n", "2", "--split", "train", "--workers", "1", "--out", str(out), "-q"]) == 0
    assert len(reads) == 1 and len(validations) == 1, (reads, validations)
    m = json.loads((out / "manifest.json").read_text())
    # the Python API: split= is the CLI's --split; the old way (the config key) makes the same dataset
    api = synthgen.run.job.render("ocr_line", n=2, out=str(tmp_path / "api"), workers=1, progress=False, split="train")
    top = synthgen.render("ocr_line", n=2, out=str(tmp_path / "top"), workers=1, progress=False, split="train")
    assert top["name"] == api["name"] and top["fingerprint"] == api["fingerprint"]
    old = synthgen.render("ocr_line", n=2, out=str(tmp_path / "old"), workers=1, progress=False,
                          overrides={"split": "train"})
    assert ".split_train" in m["name"] and m["config"]["split"] == "train"
    for k in ("name", "config", "fingerprint", "shards"):
        assert m[k] == api[k] == old[k], k
    for bad, expect in (("nope", "--split 'nope' is not a part of ocr_line's splits.ratios"), (" ", "is empty")):
        with pytest.raises(UserError, match=expect):
            synthgen.run.job.render("ocr_line", n=2, out=str(tmp_path / "never"), split=bad, progress=False)
    assert not (tmp_path / "never").exists()



def test_one_worker_render_builds_the_pipeline_once(tmp_path, small, monkeypatch):
    """--workers 1 renders in the driver: the worker there takes the probe's pipeline (built,
    and sample 0 drawn, before anything is written) instead of building it again."""
    import synthgen.run.job  # noqa: F401
    import synthgen.run.worker as worker
    from synthgen.pipeline import Pipeline

    built, drawn = [], []
    init, sample = Pipeline.__init__, Pipeline.sample

    def counting_init(self, *a, **k):
        built.append(1)
        init(self, *a, **k)

    def counting_sample(self, i, *a, **k):
        drawn.append(i)
        return sample(self, i, *a, **k)

    worker._pipeline.cache_clear()
    monkeypatch.setattr(Pipeline, "__init__", counting_init)
    monkeypatch.setattr(Pipeline, "sample", counting_sample)
    m = synthgen.render(n=5, out=str(tmp_path / "one"), seed=424242, shard_size=3, workers=1, overrides=small,
                        progress=False)
    assert len(built) == 1 and drawn == [0, 0, 1, 2, 3, 4], (built, drawn)
    monkeypatch.undo()
    # the same bytes as shards rendered elsewhere: by forked workers, and by a fresh pipeline
    worker._pipeline.cache_clear()
    two = synthgen.render(n=5, out=str(tmp_path / "two"), seed=424242, shard_size=3, workers=2, overrides=small,
                          progress=False)
    assert m["shards"] == two["shards"]
    cfg = json.dumps(m["config"], sort_keys=True)
    worker._pipeline.cache_clear()
    (tmp_path / "fresh").mkdir()
    fresh = worker.run_shard(worker.JobSpec(config_json=cfg, seed=424242, out=str(tmp_path / "fresh")),
                             worker.ShardTask(0, 0, 3))
    assert fresh.sha256 == m["shards"][0]["sha256"]
