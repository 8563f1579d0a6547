"""Two checkouts in one interpreter, sample by sample: CPU per sample and the same bytes.

    python scripts/bench_pair.py ocr_scene --against /tmp/wt_base --n 1000 --warm 200
    python scripts/bench_pair.py idcard_cn_scene --against /tmp/wt_base --n 300 --pin scene.occlusion=true

The other checkout's package is imported a second time under another name (through a
symbolic link in a temporary folder; its renderer registry pointed at it), both pipelines are
built in this process, and each sample index is rendered and encoded by both in turn (the
order alternating), timing only that (`time.process_time`). So the machine's load, which on a
shared machine moves CPU time by tens of percent within minutes, falls on both alike; compare
the two figures of one run, not runs. Every sample's tar members and pixels are hashed
(synthgen.check.golden.sample_digests, outside the timing) and the samples that differ are
counted: 0 for a change that keeps the bytes. Both use the same machine cache (warm it with a
first run). Memory is not measured here (both pipelines share the process).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _other(checkout: str, name: str = "synthgen_other"):
    """The package in `checkout` imported as `name` (its registry names its own renderers)."""
    import importlib

    link_dir = tempfile.mkdtemp(prefix="bench-pair-")
    os.symlink(Path(checkout).resolve() / "synthgen", Path(link_dir) / name)
    sys.path.insert(0, link_dir)
    pkg = importlib.import_module(name)
    reg = importlib.import_module(f"{name}.renderers.registry")
    for k, v in list(reg.SHIPPED.items()):
        reg.SHIPPED[k] = reg.RENDERERS[k] = v.replace("synthgen.", f"{name}.", 1)
    return pkg


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pipeline")
    ap.add_argument("--against", required=True, metavar="CHECKOUT", help="the other checkout (its folder)")
    ap.add_argument("--n", type=int, default=500, help="samples timed (default 500)")
    ap.add_argument("--warm", type=int, default=100, help="samples rendered first, untimed (default 100)")
    ap.add_argument("--pin", action="append", default=[], metavar="FACTOR=VALUE",
                    help="pin a factor in both (e.g. scene.occlusion=true)")
    a = ap.parse_args()

    import cv2
    import yaml

    cv2.setNumThreads(1)
    import importlib

    import synthgen

    other = _other(a.against)
    pins = {k: yaml.safe_load(v) for k, v in (p.split("=", 1) for p in a.pin)}
    side = {}
    for label, pkg, mod in (("this", synthgen, "synthgen"), ("other", other, other.__name__)):
        side[label] = (pkg.load_pipeline(a.pipeline), importlib.import_module(f"{mod}.io.encode").encode_sample,
                       importlib.import_module(f"{mod}.check.golden").sample_digests)
    for i in range(a.warm):
        for p, _, _ in side.values():
            p.sample(10**6 + i, pinned=pins or None)
    cpu = {k: 0.0 for k in side}
    differ = 0
    for i in range(a.n):
        dig = {}
        for k in (("this", "other") if i % 2 == 0 else ("other", "this")):
            p, enc, digests = side[k]
            t = time.process_time()
            s = p.sample(i, pinned=pins or None)
            enc(s, p.cfg.output)
            cpu[k] += time.process_time() - t
            dig[k] = digests(s, p.cfg.output)
        differ += dig["this"] != dig["other"]
    t, o = cpu["this"], cpu["other"]
    print(f"{a.pipeline} samples 0-{a.n - 1} after {a.warm} untimed, load average {os.getloadavg()[0]:.1f}: "
          f"this checkout {a.n / t:.1f} per CPU-s ({t / a.n * 1e3:.2f} ms), {a.against} {a.n / o:.1f} "
          f"({o / a.n * 1e3:.2f} ms): x{o / t:.3f}; samples differing {differ}/{a.n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
