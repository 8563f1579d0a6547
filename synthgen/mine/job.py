"""`mine(...)`: the miner as a resumable job writing a mined dataset.

Output folder (default runs/<pipeline name>.mined_<function>):
  shard-000000.tar ...   one shard per round, the samples as `synthgen render` writes them,
                         each JSON's meta carrying mine = {round, biased, score, failed}
  manifest.json          config, seed, settings, shard list (readable by ShardDataset, check,
                         export), `rounds` (bias used, failure rates) and the dataset name
  report.json            factors ranked by failure-rate lift (Wilson lower bound) and z,
                         per-region tables, failure rate random vs mined
  top_errors.png         contact sheet of the worst samples (the slides' "top errors")

Resume: rerunning the same command reads the finished rounds' shards back (factors and
scores from their JSON) and continues at the next round; different settings are refused, and
so are library versions other than those manifest.json recorded (`run/versions.py`) unless
`accept_versions` (recorded under `versions_accepted`).
"""

from __future__ import annotations

import json
import posixpath
import sys
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..io.encode import encode_sample
from ..io.readers import ShardError
from ..io.shards import MANIFEST, PARTIAL_SUFFIX, url_to_fs, write_shard
from .miner import Miner, load_judge

REPORT = "report.json"
SHEET = "top_errors.png"
MAX_SHEET = 1000  # samples on top_errors.png (each re-rendered)


def mined_name(pipe_name: str, model: str) -> str:
    fn = model.rpartition(":")[2] or "model"
    return f"{pipe_name}.mined_{fn}"


def _json_read(fs, path: str) -> dict[str, Any] | None:
    if not fs.exists(path):
        return None
    with fs.open(path, "rb") as f:
        return json.loads(f.read())


def _json_write(fs, path: str, data: dict[str, Any]) -> None:
    tmp = path + PARTIAL_SUFFIX
    with fs.open(tmp, "wb") as f:
        f.write(json.dumps(data, indent=2, sort_keys=True, default=str).encode())
    fs.mv(tmp, path)


def _replay_round(miner: Miner, out: str, r: int, rec: dict[str, Any]) -> None:
    """Rebuild round r's statistics from its shard (factors and scores), without re-judging.
    The shard is read whole through the dataset reader (tar structure, sha256 and count
    against manifest.json) before the miner sees any of it: a broken shard raises ShardError
    and leaves the miner as it was."""
    from ..io.readers import ShardRef, stream_shard

    labels = [members["json"] for _, members in
              stream_shard(ShardRef(f"{out.rstrip('/')}/{rec['name']}", rec["name"], rec.get("sha256"), rec.get("count")))]
    scores, biased, factors, idx = [], [], [], []
    for js in labels:
        lab = json.loads(js)
        m = lab["meta"]["mine"]
        scores.append(float(m["score"]))
        biased.append(bool(m["biased"]))
        factors.append(lab.get("factors") or {})
        idx.append(int(lab["meta"]["index"]))
    from .miner import RoundResult

    for f, sc in zip(factors, scores):
        miner.observe(f, sc)
    miner.rounds.append(RoundResult(r, idx, biased, scores, rec.get("bias") or {}, []))


def mine(pipeline: str, model: str, rounds: int = 3, per_round: int = 500, out: str | None = None,
         seed: int | None = None, overrides: dict[str, Any] | None = None, start: int = 0, floor: float = 0.2,
         bins: int = 5, top: int = 8, fail_at: float = 0.5, sheet: int = 24, progress: bool = True,
         accept_versions: bool = False) -> dict[str, Any]:
    """Run (or resume) a mining job; returns the report. `accept_versions`: resume although
    library versions differ from the recorded ones (recorded in manifest.json)."""
    from tqdm import tqdm

    from ..pipeline import load_pipeline

    from ..run.job import MAX_INDEX, parse_seed

    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise UserError(f"--rounds must be >= 1, got {rounds}")
    if isinstance(sheet, bool) or not isinstance(sheet, int) or not 0 <= sheet <= MAX_SHEET:
        raise UserError(f"--sheet must be a whole number from 0 (none) to {MAX_SHEET}, got {sheet!r}")
    if isinstance(per_round, int) and isinstance(start, int) and per_round >= 1 and start >= 0 \
            and start + rounds * per_round - 1 > MAX_INDEX:
        raise UserError(f"--start {start} + --rounds {rounds} x --per-round {per_round} passes the last sample "
                        "index (2**63 - 1); use a smaller --start")
    if seed is not None:
        seed = parse_seed(seed)
    judge = load_judge(model)
    pipe = load_pipeline(pipeline, seed=seed, **(overrides or {}))
    name = mined_name(pipe.name, model)
    out = out or str(Path("runs") / name)
    fs, root = url_to_fs(out)
    from fsspec.implementations.local import LocalFileSystem

    if isinstance(fs, LocalFileSystem):
        from ..commands._args import check_out_folder

        check_out_folder(root, "--out")
    settings = {"pipeline": pipe.cfg.name, "config": pipe.cfg.model_dump(mode="json"), "seed": pipe.seed,
                "model": model, "per_round": per_round, "start": start, "floor": floor, "bins": bins, "top": top,
                "fail_at": fail_at}
    miner = Miner(pipe, judge, per_round=per_round, start=start, floor=floor, bins=bins, top=top, fail_at=fail_at)
    old = _json_read(fs, posixpath.join(root, MANIFEST)) if fs.exists(root) else None
    done: list[dict[str, Any]] = []
    from ..run import versions as libs

    depends = libs.RENDER_TORCH if libs.uses_torch(pipe) else libs.RENDER
    taken: list[dict[str, Any]] = []
    if old is not None:
        prev = json.loads(json.dumps(old.get("settings") or {}, default=str))
        now = json.loads(json.dumps(settings, default=str))
        if prev != now:
            diff = sorted(k for k in set(prev) | set(now) if prev.get(k) != now.get(k))
            raise UserError(f"{out} holds a mining run with different settings ({', '.join(diff)}); "
                            "use another --out or delete the folder")
        if old.get("shards"):  # finished rounds: the next ones must be rendered by the same libraries
            taken = libs.merge(old.get("versions_accepted"),
                               libs.check_resume(out, old.get("versions"), depends, accept_versions))
        done = []
        for r, rec in enumerate(old.get("shards") or []):  # finished rounds, in order, while their shards exist
            if rec.get("round") != r or not fs.exists(posixpath.join(root, rec["name"])):
                break
            try:
                _replay_round(miner, out, r, rec)
            except ShardError as e:  # a damaged round is mined again (same rounds before it: same bytes)
                print(f"synthgen: resuming {out}: {e}; mining round {r} again", file=sys.stderr)
                break
            done.append(rec)
    elif fs.exists(root) and fs.ls(root):
        raise UserError(f"{out} is not empty and holds no mining manifest; use a new or empty folder")
    # The folder is made when the first round is judged and about to be written: a model that
    # fails on the first batch, or bad input found on the way, leaves nothing behind.
    created = not fs.exists(root)

    def manifest(state: str) -> dict[str, Any]:
        return {"name": name, "kind": "mined", "state": state, "settings": settings, "pipeline": pipe.cfg.name,
                "config": settings["config"], "seed": pipe.seed, "shards": done, "versions": libs.versions(),
                **({"versions_accepted": taken} if taken else {}),
                "rounds": [r.summary(fail_at) for r in miner.rounds],
                "counts": {"samples": sum(s["count"] for s in done), "shards": len(done)}}

    bar = tqdm(total=rounds * per_round, initial=len(done) * per_round, unit="img", desc=name,
               disable=not progress, dynamic_ncols=True)
    try:
        for r in range(len(done), rounds):
            res = miner.round(progress=bar.update)
            members = []
            for s, sc, b in zip(res.samples, res.scores, res.biased):
                s.meta["mine"] = {"round": r, "biased": b, "score": sc, "failed": sc >= fail_at}
                members.append((s.key, encode_sample(s, pipe.cfg.output)))
            fs.makedirs(root, exist_ok=True)
            info = write_shard(fs, root, r, members)
            done.append({**info.to_json(), "round": r, "bias": res.bias})
            res.samples = []  # statistics kept; pixels go (the sheet re-renders its few samples)
            _json_write(fs, posixpath.join(root, MANIFEST), manifest("running" if r + 1 < rounds else "complete"))
    except BaseException:
        if created and not done:  # nothing finished: leave no folder behind
            try:
                fs.rm(root, recursive=True)
            except (FileNotFoundError, OSError):
                pass
        raise
    finally:
        bar.close()
    report = make_report(miner, name, model, fail_at)
    _json_write(fs, posixpath.join(root, REPORT), report)
    _json_write(fs, posixpath.join(root, MANIFEST), manifest("complete"))
    if sheet:
        worst = sorted(((sc, rr.round, i, b, rr.bias) for rr in miner.rounds
                        for sc, i, b in zip(rr.scores, rr.indices, rr.biased) if sc >= fail_at),
                       key=lambda t: (-t[0], -t[1], t[2]))[:sheet]
        samples = []
        for sc, r, i, b, bias in worst:  # same (index, bias) -> same sample: re-render, don't keep pixels
            s = pipe.sample(i, bias=bias if b else None)
            s.meta["mine"] = {"round": r, "score": sc}
            samples.append(s)
        if samples:
            _sheet(fs, root, samples, miner)
    return report


def make_report(miner: Miner, name: str, model: str, fail_at: float) -> dict[str, Any]:
    base = [sc for r in miner.rounds for sc, b in zip(r.scores, r.biased) if not b]
    mined = [sc for r in miner.rounds for sc, b in zip(r.scores, r.biased) if b]

    def rate(xs):
        return round(sum(x >= fail_at for x in xs) / len(xs), 4) if xs else None

    ranked = miner.ranked()
    return {
        "dataset": name, "model": model, "fail_at": fail_at,
        "fail_rate_random": rate(base), "n_random": len(base),
        "fail_rate_mined": rate(mined), "n_mined": len(mined),
        "lift_mined_vs_random": (round(rate(mined) / rate(base), 3) if base and mined and rate(base) else None),
        "rounds": [r.summary(fail_at) for r in miner.rounds],
        "next_bias": miner.bias(),
        "ranking": "factors by the Wilson 95% lower bound of their worst region's failure-rate lift, then z",
        "factors": ranked,
    }


def _sheet(fs, root: str, samples: list[Any], miner: Miner) -> None:
    """Top errors: annotated samples, each captioned with its key, score and worst factor value."""
    import math

    import cv2
    import numpy as np

    from ..draws import generic
    from ..viz import annotate

    top = [row for row in miner.ranked()[:3]]
    cell_w, cell_h, cap = 420, 110, 30
    cols = 2
    rows = math.ceil(len(samples) / cols)
    sheet = np.full((rows * (cell_h + cap), cols * cell_w, 3), 32, np.uint8)
    for k, s in enumerate(samples):
        h, w = s.image.shape[:2]
        scale = min((cell_w - 8) / w, cell_h / h)
        tile = annotate(s, scale, chars=False)
        r, c = divmod(k, cols)
        y, x = r * (cell_h + cap), c * cell_w
        sheet[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
        m = s.meta.get("mine", {})
        vals = []
        for row in top:
            v = next((val for f, val in s.factors.items() if generic(f) == row["factor"]), None)
            if v is not None:
                vals.append(f"{row['factor'].split('.')[-1]}={v:.3g}" if isinstance(v, float) else f"{row['factor'].split('.')[-1]}={v}")
        cv2.putText(sheet, f"{s.key} r{m.get('round')} score {m.get('score', 0):.2f}", (x + 4, y + cell_h + 12),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.38, (230, 230, 230), 1, cv2.LINE_AA)
        cv2.putText(sheet, "  ".join(vals)[:70], (x + 4, y + cell_h + 25), cv2.FONT_HERSHEY_SIMPLEX, 0.34,
                    (180, 220, 255), 1, cv2.LINE_AA)
    ok, png = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    with fs.open(posixpath.join(root, SHEET), "wb") as f:
        f.write(png.tobytes())

