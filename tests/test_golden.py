"""Golden bytes (issue 21): the sample-stream contract as a test.

`tests/golden/golden.json` holds sha256 of every tar member (image, JSON, score PNG, npz) of a
few samples of each shipped pipeline, with the SAMPLE_STREAM they were made under. Other bytes
under the same stream and config fail here (bump SAMPLE_STREAM and regenerate); a bumped stream,
a new, removed or reconfigured pipeline fail until the file is regenerated:

    python scripts/golden.py
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest

import synthgen
from synthgen.check import golden as G
from synthgen.config import available

GOLDEN = Path(__file__).parent / "golden" / "golden.json"
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "golden.py"


@pytest.fixture(scope="module")
def stored() -> dict:
    assert GOLDEN.is_file(), f"{GOLDEN} is missing: make it with `{G.REGENERATE}`"
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def current() -> dict:
    """Every shipped pipeline's golden record as this checkout renders it (~5 s, in process)."""
    return G.make()


def _fail_on(found: list[str]) -> None:
    if found:
        pytest.fail("\n".join(found), pytrace=False)


def test_golden_file_matches_this_stream_and_these_pipelines(stored, current):
    """Made under this SAMPLE_STREAM, of these samples, of exactly the shipped pipelines as
    configured now (the bytes of each: test_golden_bytes)."""
    assert current["sample_stream"] == synthgen.SAMPLE_STREAM
    _fail_on([p for p in G.problems(stored, current) if "bytes changed" not in p and "resolved config" not in p])


@pytest.mark.parametrize("pipeline", available())
def test_golden_bytes(pipeline, stored, current):
    """This pipeline's samples are the stored bytes (or the stream was bumped and the file
    regenerated)."""
    one = lambda rec: {**rec, "pipelines": {k: v for k, v in rec["pipelines"].items() if k == pipeline}}  # noqa: E731
    _fail_on(G.problems(one(stored), one(current)))


def test_checker_catches_one_pixel_and_a_bump_without_regeneration(monkeypatch, stored, current):
    """The checker itself: one pixel more in one sample, without a bump, is named with the fix;
    a bumped stream without a regenerated file is refused."""
    name = "ocr_line_narrow"
    real = G.pipeline_digests(name)
    assert real == current["pipelines"][name]

    def one_pixel(sample, output, _digests=G.sample_digests):
        img = sample.image.copy()
        img[0, 0] = 255 - img[0, 0]
        return _digests(replace(sample, image=img), output)

    monkeypatch.setattr(G, "sample_digests", one_pixel)
    edited = {**current, "pipelines": {**current["pipelines"], name: G.pipeline_digests(name)}}
    found = G.problems(current, edited)
    assert len(found) == 1 and "changed without a SAMPLE_STREAM bump" in found[0] and name in found[0]
    assert "bump SAMPLE_STREAM" in found[0] and G.REGENERATE in found[0] and "jpg" in found[0]
    monkeypatch.undo()
    bumped = {**current, "sample_stream": current["sample_stream"] + 1}
    found = G.problems(current, bumped)
    assert len(found) == 1 and "regenerate" in found[0] and G.REGENERATE in found[0]
    # a pipeline's config changed: regenerate (the config is part of what a resume compares)
    reconf = {**current, "pipelines": {**current["pipelines"], name: {**real, "config": "0" * 64}}}
    assert "resolved config of ocr_line_narrow changed" in " ".join(G.problems(current, reconf))


def test_regenerate_command_refuses_changed_bytes_under_the_same_stream(monkeypatch, tmp_path, current, capsys):
    spec = importlib.util.spec_from_file_location("golden_script", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(G, "make", lambda: current)  # the render is the fixture's; the command's logic is tested
    out = tmp_path / "golden.json"
    assert script.main(["--out", str(out)]) == 0 and json.loads(out.read_text()) == current
    assert script.main(["--check", "--out", str(out)]) == 0
    # a stored hash that differs under the same stream: --check fails, writing refuses, --force writes
    old = json.loads(out.read_text())
    key = next(iter(old["pipelines"]["ocr_scene"]["samples"]))
    old["pipelines"]["ocr_scene"]["samples"][key]["jpg"] = "0" * 64
    out.write_text(G.dumps(old))
    assert script.main(["--check", "--out", str(out)]) == 1
    assert script.main(["--out", str(out)]) == 1 and json.loads(out.read_text()) == old
    assert "bump SAMPLE_STREAM" in capsys.readouterr().err
    assert script.main(["--out", str(out), "--force"]) == 0 and json.loads(out.read_text()) == current
    # a bumped stream: written without --force
    out.write_text(G.dumps({**old, "sample_stream": old["sample_stream"] - 1}))
    assert script.main(["--out", str(out)]) == 0 and json.loads(out.read_text()) == current
