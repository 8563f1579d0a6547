"""Regenerate (or check) the golden bytes: tests/golden/golden.json.

    python scripts/golden.py            # render a few samples of every shipped pipeline, write the file
    python scripts/golden.py --check    # compare only; exit 1 and say what differs

The file holds sha256 of every tar member (image, JSON, score PNG, EAST npz) of a few samples
of each pipeline in pipelines/, with the SAMPLE_STREAM they were made under
(synthgen/check/golden.py says exactly what is hashed). tests/test_golden.py checks it.

Writing refuses (exit 1) when a pipeline renders other bytes under the same SAMPLE_STREAM and
the same resolved config: that is what a stream bump is for. Bump SAMPLE_STREAM in
synthgen/version.py first (saying why), then rerun. `--force` writes anyway (for a change that
is known not to be a stream change, e.g. the hashes were made with another OpenCV).
A few seconds: three samples a pipeline, in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOLDEN = ROOT / "tests" / "golden" / "golden.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the stored file; write nothing")
    ap.add_argument("--force", action="store_true",
                    help="write even where bytes changed under the same SAMPLE_STREAM and config")
    ap.add_argument("--out", type=Path, default=GOLDEN, help=f"the file (default {GOLDEN.relative_to(ROOT)})")
    a = ap.parse_args(argv)

    import synthgen  # noqa: F401  (before cv2: caps its kernels as `synthgen render` does, numerics.py)

    import cv2

    cv2.setNumThreads(1)  # as a render worker runs (the bytes do not depend on it; the time does)
    from synthgen.check import golden as G
    from synthgen.errors import UserError

    old = None
    if a.out.exists():
        try:
            old = json.loads(a.out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            if a.check:
                print(f"golden: cannot read {a.out}: {e}", file=sys.stderr)
                return 1
            print(f"golden: {a.out} is unreadable ({e}); writing it afresh", file=sys.stderr)
    elif a.check:
        print(f"golden: {a.out} does not exist: make it with `{G.REGENERATE}`", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    try:
        new = G.make()
    except UserError as e:
        print(f"golden: a shipped pipeline does not render: {e}", file=sys.stderr)
        return 1
    took = time.perf_counter() - t0
    n = sum(len(p["samples"]) for p in new["pipelines"].values())
    if a.check:
        found = G.problems(old, new)
        for p in found:
            print(f"golden: {p}", file=sys.stderr)
        print(f"golden: {len(new['pipelines'])} pipelines, {n} samples in {took:.1f} s: "
              f"{'differs' if found else 'as stored'} (stream {new['sample_stream']})")
        return 1 if found else 0
    if old is not None and old.get("sample_stream") == new["sample_stream"] and not a.force:
        changed = G.changed_samples(old, new)
        if changed:
            for name, diffs in sorted(changed.items()):
                print(f"golden: {name}: {', '.join(diffs)}", file=sys.stderr)
            print(f"golden: {len(changed)} pipeline(s) render other bytes under the same SAMPLE_STREAM "
                  f"({new['sample_stream']}) and config: bump SAMPLE_STREAM in synthgen/version.py (say why), then "
                  "rerun; nothing written (--force writes anyway)", file=sys.stderr)
            return 1
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_name(a.out.name + ".tmp")
    tmp.write_text(G.dumps(new), encoding="utf-8")
    os.replace(tmp, a.out)
    what = "unchanged"
    if old is not None and old.get("sample_stream") == new["sample_stream"]:
        moved = sorted(k for k, p in new["pipelines"].items() if old.get("pipelines", {}).get(k) != p)
        what = f"changed: {', '.join(moved)}" if moved else "unchanged"
    elif old is not None:
        what = f"stream {old.get('sample_stream')} -> {new['sample_stream']}"
    print(f"golden: wrote {a.out.relative_to(ROOT) if a.out.is_relative_to(ROOT) else a.out}: "
          f"{len(new['pipelines'])} pipelines, {n} samples, stream {new['sample_stream']} ({what}; {took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
