"""Every pipeline family renders the same bytes in two fresh interpreters with different
`PYTHONHASHSEED`s (issue 21): nothing a sample draws may hang on `hash()` of a str, set order
or anything else one process picks at start-up. The second interpreter renders the families and
samples in reverse order, so no cache filled by an earlier sample (glyphs, card art, the
portrait bank) can leak into a later one either. Hashes are the golden ones (every tar member
and the pixels; synthgen/check/golden.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# family -> (pipeline, overrides): line, scene, each document kind flat, a card in a scene,
# and portraits drawn per card (photo.bank 0) beside the shipped bank
FAMILIES = {
    "line": ("ocr_line", {}),
    "scene": ("ocr_scene", {}),
    "document-id_td1": ("id_td1", {}),
    "document-idcard_cn": ("idcard_cn", {}),
    "document-licence_us": ("licence_us", {}),
    "document-passport_td3": ("passport_td3", {}),
    "document-passport_td3-bank0": ("passport_td3", {"document.photo.bank": 0}),
    "document-in-scene": ("licence_us_scene", {}),
}
INDICES = [0, 1]

CHILD = """
import json, sys
from synthgen.check.golden import pipeline_digests
families, indices, reverse = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3] == "1"
order = list(families)[::-1] if reverse else list(families)
out = {f: pipeline_digests(families[f][0], indices[::-1] if reverse else indices, families[f][1]) for f in order}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def renders() -> list[dict]:
    procs = []
    for hashseed, reverse in (("0", "0"), ("2718281", "1")):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        procs.append(subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(FAMILIES), json.dumps(INDICES), reverse],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    outs = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        assert p.returncode == 0, err[-3000:]
        outs.append(json.loads(out))
    return outs


@pytest.mark.parametrize("family", list(FAMILIES))
def test_two_interpreters_render_the_same_bytes(family, renders):
    a, b = renders[0][family], renders[1][family]
    assert len(a["samples"]) == len(INDICES)
    for key in a["samples"]:
        assert a["samples"][key] == b["samples"][key], (family, key)
    assert a == b
