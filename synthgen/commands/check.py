"""`synthgen check DIR [--against DIR2]`: the data checklist; exit 1 when anything fails."""

from __future__ import annotations

import argparse
import json

ORDER = 40
INTERRUPTED = "nothing was written (check only reads)"  # cli.py

EPILOG = """\
checks:
  shard            truncated or corrupt tar (named, with the byte where it broke), sha256 or
                   sample count differing from manifest.json, a listed shard missing, an
                   image that does not decode, a missing or unreadable .json label
  label            quads inside the image, not degenerate, convex, clockwise on screen;
                   one char quad per character, each inside its word's quad
  exact_duplicate  identical decoded pixels (whatever the file encoding)
  near_duplicate   perceptual hashes (64-bit DCT pHash) within --near bits, aspect ratios within 10%,
                   mean colours within 24 levels a channel (one text in other colours is
                   another sample), and the same transcription (cards of one template share their art: only the
                   printed text tells two people apart); augmented copies of one source sample
                   (meta.source_key) are meant to look alike and are not compared with each other
  with --against (train vs test):
  overlap_image / overlap_near_image   the same or a near-identical image on both sides
  overlap_text     the same transcription (NFKC, case-folded) on both sides
  overlap_identity the same identity (document number / person) on both sides
  with --reproduce K:
  reproduce        K samples rendered again here differ from the shards (names the samples and
                   members, and any difference of sample stream, library versions or CPU kernels)

examples:
  synthgen check runs/ocr_line
  synthgen check runs/train --against runs/test --json > check.json
  synthgen check runs/ocr_line --reproduce 20     # made elsewhere: does it render the same here?
  synthgen check s3://bucket/cards.train --against s3://bucket/cards.test \\
      --identity meta.identity.document_number

Exit status: 0 when no check fails, 1 when one does (warnings do not fail), 2 on bad input.
Every finding names the samples (dataset, shard, key). Memory stays flat in dataset size:
samples are streamed and reduced to fingerprints in a temporary SQLite file.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("check", help="check a dataset: duplicates, train/test leaks, labels, shards",
                       description="Run the data checklist on a rendered dataset folder (or fsspec URL): "
                       "exact and near duplicates, label sanity, shard integrity, and with --against, "
                       "overlap with a second dataset by image, text and identity.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", help="dataset folder (manifest.json + shard-*.tar) or fsspec URL")
    p.add_argument("--against", metavar="DIR2", help="a second dataset that must not overlap DIR (e.g. the test split)")
    p.add_argument("--near", type=int, default=6, metavar="BITS",
                   help="near-duplicate threshold: Hamming distance of the 64-bit perceptual hashes, 0..16 (default 6)")
    p.add_argument("--identity", metavar="PATH",
                   help="dotted path of the identity in the label JSON, e.g. meta.identity.document_number "
                   "(default: meta.identity, then factors identity.*)")
    p.add_argument("--tolerance", type=float, default=1.0, metavar="PX",
                   help="slack in px for the label geometry rules (default 1)")
    p.add_argument("--limit", type=int, default=200, help="findings listed per check (all are counted; default 200)")
    p.add_argument("--reproduce", type=int, default=0, metavar="K",
                   help="render K of DIR's samples again from manifest.json's config and seed, spread over its "
                   "shards, and compare the bytes: the same on any machine with the same sample stream, library "
                   "versions and CPU kernels (0..1000; default 0: off)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def run(a: argparse.Namespace) -> int:
    from ..check.run import check

    r = check(a.dir, a.against, near=a.near, tol=a.tolerance, identity_key=a.identity, limit=a.limit,
              progress=not a.quiet and not a.json, reproduce=a.reproduce)
    if a.json:
        print(json.dumps(r.to_json(), indent=2))
    else:
        for url, n in r.counts.items():
            print(f"{url}: {n} samples")
        if r.reproduced is not None and not r.totals.get("reproduce"):
            print(f"reproduce: {r.reproduced} samples rendered again here, the same bytes")
        for f in r.findings:
            print(f"{f.severity.upper():7s} {f.check}: {f.message}")
        for check_name, n in sorted(r.totals.items()):
            if n > r.limit:
                print(f"        {check_name}: {n} findings, {r.limit} listed (raise --limit to see more)")
        print("OK: no check failed" if r.ok else f"FAILED: {r.errors} failing findings")
    return 0 if r.ok else 1
