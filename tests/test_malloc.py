"""run/malloc.py: a rendering process lets glibc reuse large freed blocks instead of mapping
fresh zero pages for every sample's arrays (and the switch leaves malloc alone)."""

import os
import subprocess
import sys

import pytest

from synthgen.run import malloc

PROBE = r"""
import resource
import cv2
from synthgen.io.encode import encode_sample
from synthgen.pipeline import load_pipeline
from synthgen.run.malloc import keep_freed_blocks
on = keep_freed_blocks()
cv2.setNumThreads(1)
p = load_pipeline("ocr_scene", seed=0)
for i in range(40):  # warm: caches filled, glyphs drawn
    encode_sample(p.sample(i), p.cfg.output)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(40, 60):
    encode_sample(p.sample(i), p.cfg.output)
print(on, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _probe(env_value: str | None):
    env = {k: v for k, v in os.environ.items() if k != malloc.SWITCH}
    if env_value is not None:
        env[malloc.SWITCH] = env_value
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
    on, faults = out.stdout.split()
    return on == "True", int(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_blocks_are_reused_and_the_switch_turns_it_off():
    on, faults = _probe(None)
    if not on:
        pytest.skip("this C library has no mallopt (not glibc)")
    off, faults_off = _probe("0")
    assert off is False
    # 20 scenes: ~220 fresh pages each without reuse (measured), ~20 with it
    assert faults * 3 < faults_off, (faults, faults_off)


def test_the_answer_is_kept():
    first = malloc.keep_freed_blocks()
    assert malloc.keep_freed_blocks() is first
