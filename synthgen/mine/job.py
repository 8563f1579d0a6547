"""`mine(...)`: the miner as a resumable job writing a mined dataset.

Output folder (default runs/<pipeline name>.mined_<function>):
  shard-000000.tar ...   one shard per round, the samples as `synthgen render` writes them,
                         each JSON's meta carrying mine = {round, biased, score, failed}
  manifest.json          config, seed, settings, stream, shard list (readable by ShardDataset,
                         check, export), `rounds` (bias used, failure rates) and the dataset name
  report.json            factors ranked by failure-rate lift (Wilson lower bound) and z,
                         per-region tables, failure rate random vs mined
  top_errors.png         contact sheet of the worst samples (the slides' "top errors")

The job is `run/job.Job`, the same as render's and augment's (checks before anything is
written, the folder lock, sample stream and library version checks, one-line errors, atomic
writes); this module is its task factory, "mine round r" (`MineSpec.make` -> `mine_round`:
render the round's indices with the bias the rounds before imply, judge them, write shard r).
Rounds are sequential: round r's bias needs every round before it, so the job makes the task
for round r only once round r - 1 is in the driver's statistics, and runs it in the driver.
Resume: rerunning the same command reads the finished rounds' shards back (factors and scores
from their JSON; each shard's sha256 and count are checked as it is read) and continues at
the next round; a damaged round is mined again, and every round after it. Different settings
are refused, and so are another sample stream and library versions other than those
manifest.json recorded (`run/versions.py`) unless `accept_versions` (recorded under
`versions_accepted`).
"""

from __future__ import annotations

import json
import posixpath
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..io.encode import encode_sample
from ..io.outpaths import out_or_default
from ..io.readers import ShardError
from ..io.shards import ShardInfo, shard_index, shard_name, url_to_fs, write_shard
from ..run import faults
from ..run.faults import Faults
from ..run.job import Job, Tasks, write_bytes, write_json
from ..version import SAMPLE_STREAM
from .miner import Miner, RoundResult, judge_scores, load_judge, render_round

REPORT = "report.json"
SHEET = "top_errors.png"
MAX_SHEET = 1000  # samples on top_errors.png (each re-rendered)


def mined_name(pipe_name: str, model: str) -> str:
    fn = model.rpartition(":")[2] or "model"
    return f"{pipe_name}.mined_{fn}"


@dataclass(frozen=True)
class RoundTask:
    """Mine round `index` (shard `index`): samples start .. start + count - 1 with `bias` (the
    one the rounds before imply; {} for the first round)."""

    index: int
    start: int
    count: int
    bias: dict = field(default_factory=dict, hash=False)


@dataclass
class RoundDone:
    """A mined round: its shard, and what the driver's statistics need (no pixels)."""

    info: ShardInfo
    indices: list[int]
    biased: list[bool]
    scores: list[float]
    factors: list[dict[str, Any]]
    bias: dict[str, Any]

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def count(self) -> int:
        return self.info.count


@dataclass(frozen=True)
class MineSpec:
    """Plain data for the round task: the pipeline, the judge (`module:function`), the
    settings a round uses (and the job fields `run/job.Job` fills in)."""

    config_json: str
    seed: int
    model: str
    floor: float
    fail_at: float
    batch: int = 256
    out: str = ""
    versions: str = ""
    libraries: tuple[str, ...] = ()
    accept_versions: bool = False
    faults: Faults | None = None

    def make(self, task: RoundTask, progress=None) -> RoundDone:
        return mine_round(self, task, progress)


def mine_round(spec: MineSpec, task: RoundTask, progress=None) -> RoundDone:
    """The task: render round task.index, judge it, write its shard."""
    from ..run.worker import _pipeline

    pipe = _pipeline(spec.config_json, spec.seed)
    judge = load_judge(spec.model)
    samples, biased = render_round(pipe, task.start, task.count, task.bias, spec.floor, progress,
                                   lambda i: faults.at(spec.faults, i))
    scores = judge_scores(judge, samples, spec.batch)
    members = []
    for s, sc, b in zip(samples, scores, biased):
        s.meta["mine"] = {"round": task.index, "biased": b, "score": sc, "failed": sc >= spec.fail_at}
        members.append((s.key, encode_sample(s, pipe.cfg.output)))
    fs, root = url_to_fs(spec.out)
    info = write_shard(fs, root, task.index, members)
    return RoundDone(info, [int(s.meta.get("index", -1)) for s in samples], biased, scores,
                     [s.factors for s in samples], task.bias)


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
    for f, sc in zip(factors, scores):
        miner.observe(f, sc)
    bias = rec.get("bias")
    miner.rounds.append(RoundResult(r, idx, biased, scores, bias if isinstance(bias, dict) else {}, []))


class MineTasks(Tasks):
    """"Mine round r", for r = 0 .. rounds - 1: the driver's miner keeps the statistics."""

    sequential = True  # round r's bias needs the rounds before it
    verifies_kept = True  # resume() reads each kept round through the checking reader
    files = (REPORT, SHEET)

    def __init__(self, miner: Miner, rounds: int, out: str, name: str, model: str, fail_at: float, sheet: int) -> None:
        self.miner, self.rounds, self.out, self.name = miner, rounds, out, name
        self.model, self.fail_at, self.sheet = model, fail_at, sheet
        self.report: dict[str, Any] = {}

    def __len__(self) -> int:
        return self.rounds

    def count(self, i: int) -> int:
        return self.miner.per_round

    @property
    def total(self) -> int:
        return self.rounds * self.miner.per_round

    def task(self, r: int) -> RoundTask:
        m = self.miner
        return RoundTask(r, m.start + r * m.per_round, m.per_round, m.bias() if m.rounds else {})

    def finished(self, res: RoundDone) -> tuple[int, dict]:
        r = shard_index(res.name)
        for f, sc in zip(res.factors, res.scores):
            self.miner.observe(f, sc)
        self.miner.rounds.append(RoundResult(r, res.indices, res.biased, res.scores, res.bias, []))
        return r, {**res.info.to_json(), "round": r, "bias": res.bias}

    def resume(self, kept: dict[int, dict]) -> list[tuple[int, str]]:
        for r, rec in kept.items():  # in order, a prefix (the job keeps no other)
            try:
                if rec.get("round") != r:
                    raise ShardError(rec["name"], "is not", f"recorded as round {r} in manifest.json")
                _replay_round(self.miner, self.out, r, rec)
            except ShardError as e:  # a damaged round is mined again (same rounds before it: same bytes)
                print(f"synthgen: resuming {self.out}: {e}; mining round {r} again", file=sys.stderr)
                return [(r, str(e))]
        return []

    def extra(self, state: str, shards: list[dict]) -> dict:
        return {"rounds": [r.summary(self.fail_at) for r in self.miner.rounds],
                "counts": {"samples": sum(s["count"] for s in shards), "shards": len(shards)}}

    def finish(self, fs, root: str) -> None:
        miner = self.miner
        self.report = make_report(miner, self.name, self.model, self.fail_at)
        write_json(fs, posixpath.join(root, REPORT), self.report)
        if not self.sheet:
            return
        worst = sorted(((sc, rr.round, i, b, rr.bias) for rr in miner.rounds
                        for sc, i, b in zip(rr.scores, rr.indices, rr.biased) if sc >= self.fail_at),
                       key=lambda t: (-t[0], -t[1], t[2]))[:self.sheet]
        samples = []
        for sc, r, i, b, bias in worst:  # same (index, bias) -> same sample: re-render, don't keep pixels
            s = miner.pipe.sample(i, bias=bias if b else None)
            s.meta["mine"] = {"round": r, "score": sc}
            samples.append(s)
        if samples:
            _sheet(fs, root, samples, miner)


def mine(pipeline: str, model: str, rounds: int = 3, per_round: int = 500, out: str | None = None,
         seed: int | None = None, overrides: dict[str, Any] | None = None, start: int = 0, floor: float = 0.2,
         bins: int = 5, top: int = 8, fail_at: float = 0.5, sheet: int = 24, progress: bool = True,
         accept_versions: bool = False) -> dict[str, Any]:
    """Run (or resume) a mining job; returns the report. `accept_versions`: resume although
    library versions differ from the recorded ones (recorded in manifest.json)."""
    from ..pipeline import load_pipeline
    from ..run import versions as libs
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
    out = out_or_default(out, Path("runs") / name)
    settings = {"pipeline": pipe.cfg.name, "config": pipe.cfg.model_dump(mode="json"), "seed": pipe.seed,
                "model": model, "per_round": per_round, "start": start, "floor": floor, "bins": bins, "top": top,
                "fail_at": fail_at}
    miner = Miner(pipe, judge, per_round=per_round, start=start, floor=floor, bins=bins, top=top, fail_at=fail_at)

    def same(old: dict) -> None:
        prev = old.get("settings")
        prev = json.loads(json.dumps(prev if isinstance(prev, dict) else {}, default=str))
        now = json.loads(json.dumps(settings, default=str))
        if prev != now:
            diff = sorted(k for k in set(prev) | set(now) if prev.get(k) != now.get(k))
            raise UserError(f"{out} holds a mining run with different settings ({', '.join(diff)}); "
                            "use another --out or delete the folder")

    head = {"name": name, "kind": "mined", "settings": settings, "pipeline": pipe.cfg.name,
            "config": settings["config"], "seed": pipe.seed, "stream": SAMPLE_STREAM}
    tasks = MineTasks(miner, rounds, out, name, model, fail_at, sheet)
    spec = MineSpec(json.dumps(settings["config"], sort_keys=True), pipe.seed, model, miner.floor, fail_at, miner.batch)
    job = Job("mine", out, head, tasks, spec, same=same,
              libraries=libs.RENDER_TORCH if libs.uses_torch(pipe) else libs.RENDER, accept_versions=accept_versions,
              executor="serial", progress=progress, name=name).check()
    done = 0  # rounds recorded in order: a rerun with fewer --rounds keeps them
    while job.recorded and shard_name(done) in job.recorded:
        done += 1
    tasks.rounds = max(rounds, done)
    job.run()
    return tasks.report


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
    write_bytes(fs, posixpath.join(root, SHEET), png.tobytes())

