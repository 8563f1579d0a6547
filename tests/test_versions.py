"""Versions on resume (issue 21 item 2): a resume (render, augment, mine) or a Ray worker whose
libraries the bytes depend on differ from the recorded ones is refused in one line naming each
package and both versions; `--accept-versions` goes on and records what it accepted."""

import dataclasses
import json
import shutil

import numpy as np
import pytest

from synthgen.cli import main
from synthgen.errors import UserError
from synthgen.run import versions as libs

from .helpers import shard_hashes

NUMPY = np.__version__
OLD = "1.0.0"  # a numpy no one has


def _fake(folder, **pkgs):
    """Pretend manifest.json was written with other library versions."""
    p = folder / "manifest.json"
    m = json.loads(p.read_text())
    m["versions"] = {**m["versions"], **pkgs}
    p.write_text(json.dumps(m))
    return m


def _one_line(err: str, *words: str) -> None:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_versions_recorded_and_compared():
    v = libs.versions()
    for lib in libs.RENDER:
        assert lib in v, lib
    assert v["numpy"] == NUMPY and v["opencv"]
    v["numpy"] = "x"
    assert libs.versions()["numpy"] == NUMPY  # a fresh dict each time
    rec = {"numpy": OLD, "pillow": v["pillow"], "albucore": None}
    assert libs.compare(rec, libs.versions(), libs.RENDER) == [("numpy", OLD, NUMPY)] + (
        [("albucore", None, v["albucore"])] if v["albucore"] else [])
    assert libs.compare({"synthgen": "0.0.1"}, libs.versions(), libs.RENDER) == []  # not a byte library
    assert libs.compare(None, libs.versions(), libs.RENDER) == []  # a manifest from before versions


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from synthgen.run.job import render

    out = tmp_path_factory.mktemp("ver") / "line"
    render("ocr_line", n=6, out=str(out), seed=2, shard_size=2, workers=1, executor="serial", progress=False)
    return out


def test_render_resume_refused_on_another_numpy_then_accepted(rendered, tmp_path, capsys):
    out = tmp_path / "line"
    shutil.copytree(rendered, out)
    before = shard_hashes(out)
    (out / "shard-000002.tar").unlink()  # an interrupted run: one shard to make
    m = _fake(out, numpy=OLD)
    args = ["render", "ocr_line", "--n", "6", "--seed", "2", "--shard-size", "2", "--workers", "1", "--executor",
            "serial", "-q", "--out", str(out)]
    assert main(args) == 2
    _one_line(capsys.readouterr().err, "numpy", OLD, NUMPY, "--accept-versions")
    assert json.loads((out / "manifest.json").read_text()) == m  # nothing written
    assert not (out / "shard-000002.tar").exists()
    # the flag: resumes, and manifest.json records what was accepted
    assert main(args + ["--accept-versions"]) == 0
    after = json.loads((out / "manifest.json").read_text())
    assert after["state"] == "complete" and after["versions"]["numpy"] == NUMPY
    assert after["versions_accepted"] == [{"package": "numpy", "recorded": OLD, "now": NUMPY, "where": "resume"}]
    assert shard_hashes(out) == before  # same numpy in truth: the same bytes
    # a later resume with the same libraries needs no flag and keeps the record
    (out / "shard-000001.tar").unlink()
    assert main(args) == 0
    assert json.loads((out / "manifest.json").read_text())["versions_accepted"] == after["versions_accepted"]


def test_render_resume_api_names_every_difference(rendered, tmp_path):
    from synthgen.run.job import render

    out = tmp_path / "line"
    shutil.copytree(rendered, out)
    _fake(out, numpy=OLD, freetype2="2.0.0", orjson=None)
    with pytest.raises(UserError) as e:
        render("ocr_line", n=6, out=str(out), seed=2, shard_size=2, workers=1, executor="serial", progress=False)
    msg = str(e.value)
    v = libs.versions()
    for part in (f"numpy {OLD}", NUMPY, "freetype2 2.0.0", v["freetype2"], "orjson not installed", v["orjson"]):
        assert part in msg, (part, msg)
    # an old manifest that recorded fewer libraries: those it lacks are not compared
    m = json.loads((out / "manifest.json").read_text())
    m["versions"] = {k: v[k] for k in ("synthgen", "python", "numpy", "pillow")}
    (out / "manifest.json").write_text(json.dumps(m))
    man = render("ocr_line", n=6, out=str(out), seed=2, shard_size=2, workers=1, executor="serial", progress=False)
    assert "versions_accepted" not in man


def test_ray_worker_with_other_versions(rendered):
    """The worker side: a driver that says numpy 1.0.0 is refused by this (worker) process,
    naming the host, the package and both versions; accepted, the task renders and reports."""
    from synthgen.config import load_config
    from synthgen.run.ray_exec import _shard_task
    from synthgen.run.versions import VersionMismatch
    from synthgen.run.worker import JobSpec, ShardTask

    cfg, _ = load_config("ocr_line", {})
    driver = {**{k: libs.versions()[k] for k in libs.RENDER}, "numpy": OLD}
    base = dict(config_json=json.dumps(cfg.model_dump(mode="json"), sort_keys=True), seed=2, out=str(rendered),
                versions=json.dumps(driver), libraries=libs.RENDER)
    with pytest.raises(VersionMismatch) as e:
        _shard_task(JobSpec(**base), ShardTask(0, 0, 2), None)
    assert isinstance(e.value, UserError)
    for part in ("Ray worker on", f"numpy {OLD} (driver)", f"{NUMPY} (worker)", "--accept-versions"):
        assert part in str(e.value), str(e.value)
    before = shard_hashes(rendered)
    info, accepted = _shard_task(JobSpec(**base, accept_versions=True), ShardTask(0, 0, 2), None)
    assert info.name == "shard-000000.tar" and shard_hashes(rendered) == before
    assert [(a["package"], a["recorded"], a["now"]) for a in accepted] == [("numpy", OLD, NUMPY)]
    assert accepted[0]["where"].startswith("ray worker ")
    # same versions: nothing to say
    same = JobSpec(**{**base, "versions": json.dumps({k: libs.versions()[k] for k in libs.RENDER})})
    assert _shard_task(same, ShardTask(0, 0, 2), None)[1] == []


@pytest.fixture(scope="module")
def augmented(rendered, tmp_path_factory):
    out = tmp_path_factory.mktemp("veraug") / "aug"
    from synthgen.augment.job import augment_dataset

    augment_dataset(str(rendered), str(out), 0.3, shard_size=2, executor="serial", progress=False)
    return out


def test_augment_resume_refused_on_another_numpy_then_accepted(rendered, augmented, tmp_path, capsys):
    out = tmp_path / "aug"
    shutil.copytree(augmented, out)
    before = shard_hashes(out)
    assert json.loads((out / "manifest.json").read_text())["versions"]["opencv"]
    (out / "shard-000001.tar").unlink()
    _fake(out, numpy=OLD)
    args = ["augment", str(rendered), "--out", str(out), "--strength", "0.3", "--shard-size", "2", "--executor",
            "serial", "-q"]
    assert main(args) == 2
    _one_line(capsys.readouterr().err, "numpy", OLD, NUMPY, "--accept-versions")
    assert not (out / "shard-000001.tar").exists()
    assert main(args + ["--accept-versions"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["versions_accepted"] == [{"package": "numpy", "recorded": OLD, "now": NUMPY, "where": "resume"}]
    assert m["versions"]["numpy"] == NUMPY and shard_hashes(out) == before
    # Pillow does not touch augmented bytes: another Pillow is no reason to refuse
    (out / "shard-000001.tar").unlink()
    _fake(out, pillow="1.0")
    assert main(args) == 0


def test_mine_resume_refused_on_another_numpy_then_accepted(tmp_path, capsys):
    from .test_mine import _toy_yaml

    cfg = _toy_yaml(tmp_path)
    out = tmp_path / "mined"
    args = ["mine", str(cfg), "--model", "tests.test_mine:toy_fails", "--per-round", "8", "--sheet", "0",
            "--out", str(out), "-q"]
    assert main(args + ["--rounds", "1"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["versions"]["numpy"] == NUMPY
    _fake(out, numpy=OLD)
    capsys.readouterr()
    assert main(args + ["--rounds", "2"]) == 2
    _one_line(capsys.readouterr().err, "numpy", OLD, NUMPY, "--accept-versions")
    assert not (out / "shard-000001.tar").exists()
    assert main(args + ["--rounds", "2", "--accept-versions"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert [s["round"] for s in m["shards"]] == [0, 1]
    assert m["versions_accepted"] == [{"package": "numpy", "recorded": OLD, "now": NUMPY, "where": "resume"}]


def test_ray_render_refuses_a_worker_with_other_versions(tmp_path, monkeypatch):
    """Through a real local Ray: the driver (faked) says numpy 1.0.0, its workers have this
    numpy. Refused in one line naming the worker's host, numpy and both versions; with
    accept_versions the job finishes and manifest.json records the workers' difference."""
    ray = pytest.importorskip("ray")
    import synthgen

    real = libs._versions()
    monkeypatch.setattr(libs, "_versions", lambda: {**real, "numpy": OLD})
    assert not ray.is_initialized()
    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False, logging_level="ERROR")
    try:
        kw = dict(n=4, shard_size=2, workers=2, executor="ray", seed=2, progress=False)
        with pytest.raises(UserError) as e:
            synthgen.render("ocr_line", out=str(tmp_path / "a"), **kw)
        msg = str(e.value)
        assert "\n" not in msg and "Ray worker on" in msg and f"numpy {OLD} (driver)" in msg and NUMPY in msg, msg
        m = synthgen.render("ocr_line", out=str(tmp_path / "b"), accept_versions=True, **kw)
        assert m["state"] == "complete" and m["versions"]["numpy"] == OLD  # the driver's record
        acc = m["versions_accepted"]
        assert {(a["package"], a["recorded"], a["now"]) for a in acc} == {("numpy", OLD, NUMPY)}
        assert all(a["where"].startswith("ray worker ") for a in acc)
        assert json.loads((tmp_path / "b" / "manifest.json").read_text())["versions_accepted"] == acc
    finally:
        ray.shutdown()


def test_augment_ray_task_checks_the_workers_versions(rendered, tmp_path):
    """augment --executor ray: each task compares its libraries with the driver's (AugSpec)."""
    from synthgen.augment.job import AugSpec, AugTask, _ray_task
    from synthgen.config import AugmentCfg
    from synthgen.run.versions import AUGMENT, VersionMismatch

    out = tmp_path / "aug"
    out.mkdir()
    cfg_json = json.dumps(AugmentCfg.model_validate({"strength": 0.3}).model_dump(mode="json"), sort_keys=True)
    driver = json.dumps({**{k: libs.versions()[k] for k in AUGMENT}, "numpy": OLD})
    spec = AugSpec(str(rendered), cfg_json, 0, 1, str(out), 90, driver)
    with pytest.raises(VersionMismatch, match=f"numpy {OLD} \\(driver\\) vs {NUMPY} \\(worker\\)"):
        _ray_task(spec, AugTask(0, 0, 2))
    assert not list(out.iterdir())
    info, accepted = _ray_task(dataclasses.replace(spec, accept_versions=True), AugTask(0, 0, 2))
    assert info.count == 2 and [a["package"] for a in accepted] == ["numpy"]
