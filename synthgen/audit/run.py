"""`audit(...)`: the bad-augmentation rate against strength, and the strength it tunes to.

The slides' rule: "the bad augmentation percentage should not exceed prediction error rates".
So: judge n samples at a grid of strengths (the same indices at every strength), put a Wilson
95% interval on each rate, and bisect for the largest strength whose upper bound stays under
the target error. The rate tuned is the augmentation's own: a sample counts when the judge
names a reason at strength s that it did not name for the same index at strength 0 (paired).
What fails at strength 0 already (small scene words by design, a renderer's low-contrast
pick) is the renderer's, reported as the `rate` at 0 and in a warning, not charged to the
augmentation. Outputs: audit.json, curve.png, bad_samples.png, sheet_s<strength>.png,
and optionally a tuned pipeline config.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from tqdm import tqdm

from ..errors import UserError
from ..io.outpaths import out_or_default
from . import report
from .judges import make_judge
from .stats import Z95, tune, wilson

GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
SHEET_STRENGTHS = (0.0, 0.5, 1.0)
SHEET_N = 24  # samples per strength sheet
BAD_SHEET_N = 40
FRESH_OFFSET = 10_000_000  # confirmation samples start here: indices the tuning never saw


def open_source(spec: str, overrides: dict[str, Any] | None, seed: int | None):
    from .sources import DatasetSource, PipelineSource

    p = Path(spec)
    if p.is_dir():
        if overrides:
            from ..config import AugmentCfg, apply_overrides

            bad = [k for k in overrides if not k.startswith("augment.")]
            if bad:
                raise UserError(f"--set {bad[0]}: a dataset audit takes only augment.* settings")
            aug = apply_overrides({}, {k.removeprefix("augment."): v for k, v in overrides.items()})
            from pydantic import ValidationError

            try:
                cfg = AugmentCfg.model_validate(aug)
            except ValidationError as e:  # one line naming the --set key, as for a pipeline
                first = e.errors()[0]
                loc = ".".join(["augment", *map(str, first["loc"])])
                key = next((k for k in overrides if loc.startswith(k) or k.startswith(loc)), loc)
                msg = "unknown key (check the spelling)" if first["type"] == "extra_forbidden" else first["msg"]
                raise UserError(f"--set {key}: {'' if loc == key else loc + ': '}{msg}") from None
            return DatasetSource(spec, seed=seed, aug=cfg)
        return DatasetSource(spec, seed=seed)
    return PipelineSource(spec, overrides, seed)


def _point(strength: float, results: list[tuple[int, list[str] | None]],
           base: dict[int, list[str] | None] | None = None) -> dict[str, Any]:
    """One strength: `bad`/`rate` (any reason), `caused`/`caused_rate` with its Wilson interval
    `lo`/`hi` (a reason the same index did not have at strength 0; `base`: those reasons).
    A result of None is no verdict (the reader cannot read the clean sample): it counts in
    `unjudged`, neither good nor bad, and `n` is the judged samples only."""
    unjudged = sum(1 for _, r in results if r is None)
    results = [(i, r) for i, r in results if r is not None]
    n = len(results)
    bad = sum(1 for _, r in results if r)
    new = [[x for x in r if x not in ((base or {}).get(i) or ())] for i, r in results]
    caused = sum(1 for r in new if r)
    lo, hi = wilson(caused, n)
    reasons = Counter(r[0] for _, r in results if r)  # primary reason: the first the judge names
    return {"strength": strength, "n": n, "unjudged": unjudged, "bad": bad, "rate": bad / max(1, n),
            "caused": caused, "caused_rate": caused / max(1, n), "lo": lo, "hi": hi,
            "reasons": dict(sorted(reasons.items())),
            "caused_reasons": dict(sorted(Counter(r[0] for r in new if r).items()))}


def audit(source: str = "ocr_line", judge: str = "label", target_error: float = 0.05, n: int = 400,
          grid: tuple[float, ...] = GRID, steps: int = 4, out: str | None = None, write: str | None = None,
          confirm: int = 0, seed: int | None = None, overrides: dict[str, Any] | None = None,
          reader: str | None = None, verdicts: str | None = None,
          progress: bool = True) -> dict[str, Any]:
    """Audit `source` (a pipeline name / .yaml, or a dataset folder) and tune its strength.
    Returns the audit.json record. See `synthgen audit --help`."""
    if not 0 < target_error < 1:
        raise UserError(f"--target-error must be in (0, 1), e.g. 0.05; got {target_error}")
    if n < 1:
        raise UserError(f"--n must be >= 1, got {n}")
    if steps < 0:
        raise UserError(f"--steps must be >= 0 (bisection steps after the grid), got {steps}")
    if confirm < 0:
        raise UserError(f"--confirm must be >= 0 (fresh samples at the tuned strength), got {confirm}")
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise UserError(f"--out {out!r} is a file; give a folder for audit.json and the PNGs")
    grid = tuple(sorted({round(float(s), 6) for s in grid}))
    if not grid or grid[0] < 0 or grid[-1] > 1:
        raise UserError("--grid strengths must lie in [0, 1]")
    src = open_source(source, overrides, seed)
    j = None if judge == "human" else make_judge(judge, reader=reader)  # bad judge or reader: nothing written
    outdir = Path(out_or_default(out, Path("runs") / "audit" / f"{src.name}.{judge}"))
    made = not outdir.exists()
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--out {str(outdir)!r} cannot be made: {e.strerror}") from None
    try:
        return _audit_into(src, j, outdir, source, judge, target_error, n, grid, steps, write, confirm,
                           verdicts, progress)
    except BaseException:
        if made and outdir.is_dir() and not any(outdir.iterdir()):
            outdir.rmdir()  # nothing of this audit was written: no empty folder left behind
        raise


def _audit_into(src, j, outdir: Path, source, judge, target_error, n, grid, steps, write, confirm, verdicts,
                progress) -> dict[str, Any]:
    record: dict[str, Any] = {"source": source, "source_kind": src.kind, "name": src.name, "seed": src.seed,
                              "judge": judge, "target_error": target_error, "n": n}
    if judge == "human":
        return _human(src, grid, verdicts, n, target_error, outdir, record, write)

    record["judge_settings"] = {k: v for k, v in vars(j).items() if isinstance(v, (int, float, str)) and k != "name"}
    indices = list(range(n))
    refs: dict[int, Any] = {}
    base: dict[int, list[str] | None] = {}  # the judge's reasons for each index at strength 0 (None: no verdict)
    unjudged = getattr(j, "unjudged", "no verdict")
    curve: dict[float, dict[str, Any]] = {}
    thumbs: dict[float, list] = {}
    bad_tiles: list = []
    bar = tqdm(total=n * (len(grid) + steps), unit="img", desc=f"audit {src.name}", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)

    def run_at(s: float, idx: list[int]) -> list[tuple[int, list[str] | None]]:
        res = []
        for i in idx:
            ref = None
            if i not in refs:
                ref = src.item(i, 0.0)
                refs[i] = j.reference(ref)
                base[i] = j(ref, refs[i])
            item = src.item(i, s) if s > 0 else (ref if ref is not None else src.item(i, 0.0))
            reasons = j(item, refs[i]) if s > 0 else base[i]
            res.append((i, reasons))
            if s in SHEET_STRENGTHS and len(thumbs.setdefault(s, [])) < SHEET_N:
                why = unjudged if reasons is None else (",".join(reasons) or "ok")
                thumbs[s].append((report.thumb(report.with_quads(item.image, item.instances)), f"#{i} {why}",
                                  reasons is None or bool(reasons)))
            if reasons and len(bad_tiles) < BAD_SHEET_N * 4:
                bad_tiles.append((s, i, report.thumb(item.image), ",".join(reasons)))
            bar.update(1)
        return res

    def upper_at(s: float) -> float:
        s = round(s, 6)
        if s not in curve:
            curve[s] = _point(s, run_at(s, indices), base)
        return curve[s]["hi"]

    try:
        tuned, tried = tune(upper_at, list(grid), target_error, steps)
    finally:
        bar.close()
    pts = [curve[s] for s in sorted(curve)]
    record.update({"tuned_strength": tuned, "evaluated": tried, "curve": pts,
                   "reasons": dict(sorted(sum((Counter(p["reasons"]) for p in pts), Counter()).items()))})
    low = curve[min(curve)]
    if low["hi"] >= target_error and low["caused"] == 0:
        # nothing bad, but too few samples for the interval to get under the target
        need = int(Z95 * Z95 / target_error - Z95 * Z95) + 1  # judged samples
        if low["n"] == 0:
            record["warning"] = f"none of the {n} samples could be judged; no strength can be certified"
        else:
            ask = -(-need * n // low["n"])  # samples to render so that `need` get a verdict
            record["warning"] = (f"--n {n} is too small to certify a bad rate under {target_error:g} "
                                 f"(0 bad of {low['n']} judged still allows {low['hi']:.3f}); use --n {ask} or more")
    elif low["hi"] >= target_error:
        record["warning"] = (f"even strength {min(curve):g} has an augmentation-caused bad rate up to {low['hi']:.3f} "
                             f">= target {target_error:g}")
    judged = [r for r in base.values() if r is not None]
    base_bad = sum(1 for r in judged if r)
    base_lo, base_hi = wilson(base_bad, len(judged))
    record["unaugmented"] = {"n": len(base), "judged": len(judged), "unjudged": len(base) - len(judged),
                             "unjudged_label": unjudged, "bad": base_bad, "lo": base_lo, "hi": base_hi,
                             "reasons": dict(sorted(Counter(r[0] for r in judged if r).items()))}
    if len(judged) < len(base):
        # said before any other warning: every rate above stands on the judged samples only
        record["warning"] = (f"{unjudged}: {len(base) - len(judged)} of {len(base)} samples get no verdict "
                             f"at any strength; the rates stand on the other {len(judged)}"
                             + (f" ({record['warning']})" if "warning" in record else ""))
    if base_hi >= target_error and "warning" not in record:
        record["warning"] = (f"{base_bad} of {len(base)} samples fail the judge unaugmented "
                             f"(rate up to {base_hi:.3f}; {record['unaugmented']['reasons']}): the renderer's, "
                             "not counted against the augmentation")
    if confirm:
        res = [(i, r) for i, r in _confirm(src, j, tuned, confirm, progress)]
        c = _point(tuned, res)
        c["passes"] = c["rate"] < target_error
        record["confirm"] = c

    report.curve_plot(pts, target_error, tuned, outdir / "curve.png",
                      f"{src.name}: judge {judge}, n={n} per strength")
    for s, tiles in sorted(thumbs.items()):
        report.contact_sheet(tiles, outdir / f"sheet_s{s:g}.png",
                             f"{src.name} at strength {s:g} (judge {judge}; label quads drawn: cyan text, red ignored)")
    picked = sorted(bad_tiles, key=lambda t: (abs(t[0] - tuned), t[1]))[:BAD_SHEET_N]
    report.contact_sheet([(img, f"s={s:.2f} #{i} {why}", True) for s, i, img, why in sorted(picked, key=lambda t: t[:2])],
                         outdir / "bad_samples.png", f"{src.name}: bad samples nearest the tuned strength {tuned:.3f}")
    record["files"] = sorted(p.name for p in outdir.iterdir())
    if write:
        _write_config(src, tuned, write)
        record["written"] = write
    (outdir / "audit.json").write_text(json.dumps(record, indent=2, sort_keys=True))
    return record


def _confirm(src, j, strength: float, n: int, progress: bool):
    for i in tqdm(range(FRESH_OFFSET, FRESH_OFFSET + n), desc="confirm", unit="img", file=sys.stderr,
                  disable=not progress, dynamic_ncols=True):
        ref = src.item(i, 0.0)
        info = j.reference(ref)
        before = j(ref, info)
        if before is None:  # no verdict (unreadable clean)
            yield i, None
            continue
        yield i, [x for x in (j(src.item(i, strength), info) if strength > 0 else before) if x not in before]


def _write_config(src, strength: float, path: str) -> None:
    data = src.tuned_config(strength)
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"# tuned by `synthgen audit`: augment.strength = {strength:.4f}\n"
                     + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    except OSError as e:
        raise UserError(f"--write {path!r}: cannot write it ({e.strerror or e})") from None


def _human(src, grid, verdicts, human_n, target, outdir: Path, record: dict, write: str | None) -> dict[str, Any]:
    if verdicts is None:
        items = [(i, s, src.item(i, s).image) for s in grid for i in range(human_n)]
        report.human_page(items, outdir / "human.html", f"{src.name}: mark bad samples")
        record.update({"human_page": str(outdir / "human.html"), "tuned_strength": None})
        (outdir / "audit.json").write_text(json.dumps(record, indent=2, sort_keys=True))
        return record
    votes = report.read_verdicts(verdicts)
    pts = []
    for s in sorted(votes):
        res = [(i, ["human"] if bad else []) for i, bad in votes[s]]
        pts.append(_point(s, res))
    ok = [p for p in pts if p["hi"] < target]
    tuned = 0.0
    for p in pts:  # the last strength before the first failing one (no new verdicts to bisect with)
        if p["hi"] >= target:
            break
        tuned = p["strength"]
    record.update({"tuned_strength": tuned if ok else min(votes), "curve": pts, "verdicts": verdicts,
                   "reasons": {"human": sum(p["bad"] for p in pts)}})
    report.curve_plot(pts, target, record["tuned_strength"], outdir / "curve.png", f"{src.name}: human verdicts")
    if write:
        _write_config(src, record["tuned_strength"], write)
        record["written"] = write
    (outdir / "audit.json").write_text(json.dumps(record, indent=2, sort_keys=True))
    return record
