#!/usr/bin/env python
"""Transfer experiment (issue 20): does a recogniser trained on the new ocr_line defaults read
hard text it never saw better than one trained on the old defaults?

Protocol (written before any result): docs/experiments/hard_suites.md. In short:

* arm (a) `old`: `git show <--old-commit>:pipelines/ocr_line.yaml` (the old config VALUES; the
  renderer code is the installed one; keys the old file lacks take the current schema's
  defaults, listed in the JSON under `config_diff`); arm (b) `new`: the working tree's
  pipelines/ocr_line.yaml (or --new-pipeline). Both copied into <out> at the start.
* both arms: Chinese sources (zh*) weighted 0, fonts.exclude += the held-out families of
  scripts/heldout_fonts.py (and their relatives); same model size, seed, steps, batch, lr.
* suites (scripts/hard_suites.yaml): the new defaults in the held-out families only, over an
  unseen text source written into <out> from Python's `pydoc_data.topics` (English prose cut
  into 1-40 character fragments), each suite `set`/`pin`ning what makes it hard.
* measures: exact (case-sensitive, primary), case-insensitive and loose (NFKC, casefold, no
  spaces) line accuracy per suite and arm, the paired difference new - old with 95% paired
  bootstrap intervals and exact McNemar tests; PP-OCRv4 (rapidocr) reads every suite line as
  its legibility ceiling.

    python scripts/hard_suites.py --check --out runs/hs_check        # validate suites, train nothing
    python scripts/hard_suites.py --steps 20 --eval-n 20 --out runs/hs_smoke --size small --reader none
    python scripts/hard_suites.py --out runs/hard_suites --size base --steps 20000 --batch-size 64 \\
        --eval-n 1000 --seeds 0,1 --device cuda --amp --workers 12

Speed (base model, batch 32, the new defaults' lines, this project's shared 2-core VM): the
model step alone 1.28 CPU-s at one torch thread (0.76 steps/s); end to end with one render
worker 0.55 steps/s at --threads 1 and 0.36 at --threads 2 (two threads fight the renderer
and the other users for two cores): 20000 steps take ~10 h per arm and seed. A GPU run.

Writes <out>/hard_suites.json (configs and their diff, text hashes, every prediction and
reading, all measures) and <out>/hard_suites.md (the table); checkpoints in
<out>/<arm>_s<seed>/crnn.pt (an existing one with the same settings is reused: rerun the same
command to resume after an interruption).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import string
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402

from heldout_fonts import HELD_OUT, RELATIVES  # noqa: E402
from synthgen.config import load_config, parse_set, read_yaml  # noqa: E402
from synthgen.crnn.charset import Charset  # noqa: E402
from synthgen.crnn.data import Collate, line_text  # noqa: E402
from synthgen.crnn.metrics import edit_distance, mcnemar_p, paired_bootstrap  # noqa: E402
from synthgen.crnn.train import load, param_count, predict, preset_model, save, train  # noqa: E402
from synthgen.errors import UserError  # noqa: E402
from synthgen.pipeline import load_pipeline  # noqa: E402
from synthgen.torch import SynthIterable  # noqa: E402

PUNCT = "-',.\"():;/&!?"
ALLOWED = frozenset(string.ascii_letters + string.digits + " " + PUNCT)
ARMS = ("old", "new")
HARD = ("curves", "char_rotation", "edge_crops", "clutter", "punctuation")
BUCKETS = 8  # batches rendered together and cut by line width
EVAL_SEED = 1000
SCHEDULE = {"small": {"lr": 3e-3, "warmup": 0.15}, "base": {"lr": 1e-3, "warmup": 0.05}}  # as train_crnn.py


class Stop(Exception):
    """A problem with the setup: one line, exit 2, nothing trained."""


# -- the unseen text ------------------------------------------------------------------------------
def prose_paragraphs() -> list[str]:
    """Unindented prose paragraphs of `pydoc_data.topics` (the language reference `help()`
    shows): code blocks and grammar (indented), headings and their underlines dropped."""
    from pydoc_data.topics import topics

    rule = set("*=-^~")
    paras: list[str] = []
    for name in sorted(topics):
        lines = topics[name].split("\n")
        block: list[str] = []
        for i, line in enumerate(lines + [""]):
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if not line.strip() or line.startswith(" ") or set(line.strip()) <= rule:
                if block:
                    paras.append(" ".join(block))
                block = []
            elif not (nxt and set(nxt) <= rule):  # a heading: its next line is a rule
                block.append(line.strip())
    return paras


def unseen_fragments(seed: int = 0) -> list[str]:
    """Fragments of 1-40 characters cut at word boundaries (target length uniform in 1..40),
    only letters, digits, space and PUNCT; deduplicated, shuffled with `seed`."""
    rng = random.Random(seed)
    out: set[str] = set()
    for para in prose_paragraphs():
        words, k = para.split(), 0
        while k < len(words):
            target = rng.randint(1, 40)
            frag = words[k]
            k += 1
            while k < len(words) and len(frag) + 1 + len(words[k]) <= target:
                frag += " " + words[k]
                k += 1
            if len(frag) <= 40 and set(frag) <= ALLOWED:
                out.add(frag)
    frags = sorted(out)
    random.Random(seed).shuffle(frags)
    return frags


def write_unseen_text(out: str) -> dict:
    frags = unseen_fragments()
    punct = [f for f in frags if set(f) & set(PUNCT)]
    info = {"origin": "pydoc_data.topics of Python " + sys.version.split()[0], "files": {}}
    for name, lines in (("unseen_text", frags), ("unseen_punct", punct)):
        path = os.path.abspath(os.path.join(out, f"{name}.txt"))
        blob = ("\n".join(lines) + "\n").encode("utf-8")
        Path(path).write_bytes(blob)
        lengths = [len(x) for x in lines]
        info["files"][name] = {"path": path, "lines": len(lines), "sha256": hashlib.sha256(blob).hexdigest(),
                               "median_chars": float(np.median(lengths)), "p90_chars": float(np.percentile(lengths, 90))}
    return info


# -- configs --------------------------------------------------------------------------------------
def flat(d, prefix: str = "") -> dict:
    if isinstance(d, dict) and d:
        out: dict = {}
        for k, v in d.items():
            out.update(flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def put(data: dict, key: str, value) -> None:
    """Set a dotted key, REPLACING what is there (apply_overrides merges mappings)."""
    parts = key.split(".")
    node = data
    for p in parts[:-1]:
        if not isinstance(node.setdefault(p, {}), dict):
            raise Stop(f"{key!r}: {p!r} is not a section")
        node = node[p]
    node[parts[-1]] = value


def pairs(items, what: str, where: str, subst: dict[str, str]) -> dict:
    out = {}
    for item in items or []:
        item = str(item)
        for k, v in subst.items():
            item = item.replace("{" + k + "}", json.dumps(v))
        if "=" not in item:
            raise Stop(f"{where}: {what} {item!r}: expected KEY=VALUE")
        out.update(parse_set([item]))
    return out


def write_yaml(path: str, data: dict) -> str:
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True)
    return path


def old_pipeline(commit: str, out: str) -> str:
    try:
        text = subprocess.run(["git", "show", f"{commit}:pipelines/ocr_line.yaml"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, "stderr", "") or str(e)
        raise Stop(f"--old-commit {commit}: cannot read pipelines/ocr_line.yaml from git ({err.strip()})") from None
    path = os.path.join(out, "old.yaml")
    Path(path).write_text(text, encoding="utf-8")
    return path


def arm_file(src: str, name: str, out: str) -> tuple[str, dict]:
    """The arm's training pipeline: its own file with zh* sources at 0 and the held-out font
    families (and relatives) excluded."""
    try:
        cfg, _ = load_config(src)
    except UserError as e:
        raise Stop(f"arm {name} ({src}): the current config schema refuses it: {e}") from None
    data = read_yaml(Path(src))
    dropped = sorted(k for k in cfg.line.corpus.sources if k.lower().startswith("zh"))
    sources = dict(data.get("line", {}).get("corpus", {}).get("sources") or cfg.line.corpus.sources)
    put(data, "line.corpus.sources", {**sources, **{k: 0 for k in dropped}})
    put(data, "fonts.exclude", list(cfg.fonts.exclude) + [f for f in HELD_OUT + RELATIVES if f not in cfg.fonts.exclude])
    return write_yaml(os.path.join(out, f"arm_{name}.yaml"), data), {"zero_weight_sources": dropped}


def config_diff(old_src: str, new_src: str) -> dict:
    """Resolved keys in which the arms' files differ; `schema_defaults`: those the old file does
    not set (their old value is the current schema's default)."""
    a = flat(load_config(old_src)[0].model_dump(mode="json"))
    b = flat(load_config(new_src)[0].model_dump(mode="json"))
    raw = flat(read_yaml(Path(old_src)))
    set_in_old = lambda k: any(r == k or r.startswith(k + ".") or k.startswith(r + ".") for r in raw)  # noqa: E731
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k not in ("name", "description"))
    return {"differs": {k: {"old": a.get(k), "new": b.get(k)} for k in keys},
            "schema_defaults": [k for k in keys if not set_in_old(k)]}


def families(src: str, folders: list[str]) -> set[str]:
    """Family names (as faces report them) of font folders, e.g. 'eb-garamond' -> 'EB Garamond'."""
    return {f.family for f in load_pipeline(src, **{"fonts.families": list(folders), "fonts.exclude": []}).renderer.faces}


def suite_files(suites_yaml: str, new_src: str, out: str, subst: dict[str, str], only: list[str] | None) -> dict:
    try:
        spec = yaml.safe_load(Path(suites_yaml).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise Stop(f"--suites {suites_yaml}: {e}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("suites"), dict) or not spec["suites"]:
        raise Stop(f"--suites {suites_yaml}: expected `suites: {{name: {{set: [...], pin: [...]}}}}` (and optional base:)")
    base = spec.get("base") or {}
    names = list(spec["suites"])
    if only:
        unknown = [n for n in only if n not in names]
        if unknown:
            raise Stop(f"--only {','.join(unknown)}: not in {suites_yaml} ({', '.join(names)})")
        names = [n for n in names if n in only]
    os.makedirs(os.path.join(out, "suites"), exist_ok=True)
    held = families(new_src, HELD_OUT)
    files = {}
    for name in names:
        s = spec["suites"][name] or {}
        extra = set(s) - {"set", "pin"}
        if extra:
            raise Stop(f"suite {name}: unknown entries {sorted(extra)} (use set: and pin:)")
        data = read_yaml(Path(new_src))
        put(data, "fonts.families", list(HELD_OUT))
        put(data, "fonts.exclude", [])
        where = f"{suites_yaml} suite {name}"
        for k, v in {**pairs(base.get("set"), "set", where, subst), **pairs(s.get("set"), "set", where, subst)}.items():
            put(data, k, v)
        pins = {**((data.get("factors") or {}).get("pin") or {}),
                **pairs(base.get("pin"), "pin", where, subst), **pairs(s.get("pin"), "pin", where, subst)}
        if pins:
            put(data, "factors.pin", pins)
        path = write_yaml(os.path.join(out, "suites", f"{name}.yaml"), data)
        try:
            pipe = load_pipeline(path, seed=EVAL_SEED)
            pipe.sample(0)  # a pin no draw uses is refused here
        except UserError as e:
            raise Stop(f"suite {name} ({path}): {e}; adjust {suites_yaml}") from None
        fams = {f.family for f in pipe.renderer.faces}
        if not fams or not fams <= held:
            raise Stop(f"suite {name}: rendered in families outside the held-out set: {sorted(fams - held)}")
        files[name] = {"path": path, "set": s.get("set") or [], "pin": s.get("pin") or []}
    return files


# -- scoring --------------------------------------------------------------------------------------
def loose(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s).casefold())


def correct(preds: list[str], truths: list[str]) -> dict[str, np.ndarray]:
    return {"exact": np.array([p == t for p, t in zip(preds, truths)], bool),
            "nocase": np.array([p.casefold() == t.casefold() for p, t in zip(preds, truths)], bool),
            "loose": np.array([loose(p) == loose(t) for p, t in zip(preds, truths)], bool)}


def rates(preds: list[str], truths: list[str]) -> dict:
    c = correct(preds, truths)
    cer = sum(edit_distance(p, t) for p, t in zip(preds, truths)) / max(1, sum(len(t) for t in truths))
    return {"n": len(truths), **{k: float(v.mean()) if len(v) else float("nan") for k, v in c.items()}, "cer": cer}


def paired(a, b, seed: int, mcnemar: bool = True) -> dict:
    """new (b) - old (a) on the same lines: a, b per-line scores (bools, or means over seeds:
    then no McNemar test)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    out = {"old": float(a.mean()), "new": float(b.mean()), "diff": float((b - a).mean()),
           "ci95": paired_bootstrap(a, b, seed)}
    if mcnemar:
        only_new, only_old = int(((b > 0) & (a == 0)).sum()), int(((a > 0) & (b == 0)).sum())
        out.update(only_new=only_new, only_old=only_old, mcnemar_p=mcnemar_p(only_new, only_old))
    return out


def reader_fn(spec: str):
    if spec == "none":
        return None
    try:
        from synthgen.audit.judges import load_reader
    except ImportError:  # an older checkout: PP-OCRv4 recognition on the crop, directly
        if spec != "ppocr":
            raise Stop(f"--reader {spec}: only ppocr or none without synthgen.audit.judges") from None
        from rapidocr_onnxruntime import RapidOCR

        engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, print_verbose=False)
        return lambda rgb: str(engine.text_rec(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[0][0][0])
    try:
        return load_reader(spec)
    except UserError as e:
        raise Stop(str(e)) from None


# -- training -------------------------------------------------------------------------------------
def batches(path: str, charset: Charset, a, seed: int):
    ds = SynthIterable(path, seed=seed, start=0, batch_size=a.batch_size * BUCKETS,
                       collate_fn=Collate(charset, split=BUCKETS))
    dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=a.workers,
                                     persistent_workers=a.workers > 0, prefetch_factor=2 if a.workers else None,
                                     pin_memory=str(a.device).startswith("cuda"))
    for group in dl:
        yield from group


def sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def trained(arm: str, path: str, seed: int, a, charset: Charset, log) -> tuple[torch.nn.Module, dict]:
    ck = os.path.join(a.out, f"{arm}_s{seed}", "crnn.pt")
    want = {"arm": arm, "seed": seed, "size": a.size, "steps": a.steps, "batch_size": a.batch_size, "lr": a.lr,
            "warmup": a.warmup, "clip": a.clip, "amp": bool(a.amp), "pipeline_sha256": sha(path)}
    if os.path.exists(ck):
        model, cs, meta = load(ck)
        if cs.chars == charset.chars and all(meta.get(k) == (v if not isinstance(v, bool) else int(v))
                                             for k, v in want.items()):
            log(f"[{arm} seed {seed}] reusing {ck}")
            return model, meta
        log(f"[{arm} seed {seed}] {ck} has other settings: training again")
    model = preset_model(charset, a.size, seed=seed)
    log(f"[{arm} seed {seed}] CRNN {a.size} {param_count(model) / 1e6:.2f} M params, {a.steps} steps x "
        f"{a.batch_size} on {a.device}, lr {a.lr:g}, warmup {a.warmup:g}")
    t0 = time.monotonic()
    it = batches(path, charset, a, seed)
    try:
        losses = train(model, it, a.steps, lr=a.lr, device=a.device, warmup=a.warmup, clip=a.clip, amp=a.amp,
                       log=log, log_every=max(1, min(200, a.steps // 10)))
    finally:
        it.close()  # stops the render workers
    secs = time.monotonic() - t0
    model.to("cpu")
    meta = {**{k: (int(v) if isinstance(v, bool) else v) for k, v in want.items()}, "train_seconds": round(secs, 1),
            "steps_per_s": round(a.steps / max(secs, 1e-9), 3),
            "final_ctc": float(np.mean(losses[-50:])) if losses else float("nan")}
    save(ck, model, charset, meta)
    return model, meta


def table(results: dict) -> str:
    seeds = results["seeds"]
    pooled = results["pooled"]
    lines = [f"Transfer to hard suites: {results['size']} CRNN, {results['steps']} steps x {results['batch_size']}, "
             f"seeds {','.join(map(str, seeds))}, n = {results['eval_n']} lines per suite; old = "
             f"{results['old_commit']}, new = {results['new_pipeline']}. Exact = case-sensitive line accuracy "
             f"(primary); diff = new - old with 95% paired bootstrap interval"
             f"{' (lines scored by their mean over seeds)' if len(seeds) > 1 else ''}; reader = PP-OCRv4 "
             f"recognition on the same crops (legibility ceiling).", "",
             "| suite | reader exact | reader nocase | reader loose | old exact | new exact | diff exact [95% CI] "
             "| McNemar p | old nocase | new nocase | diff nocase [95% CI] | decision |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    f = lambda x: "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.3f}"  # noqa: E731
    for name, s in results["suites"].items():
        r = s.get("reader") or {}
        p = pooled.get(name)
        if not p:
            continue
        e, c = p["exact"], p["nocase"]
        mc = e.get("mcnemar_p")
        lines.append(f"| {name} | {f(r.get('exact'))} | {f(r.get('nocase'))} | {f(r.get('loose'))} | {f(e['old'])} | "
                     f"{f(e['new'])} | {e['diff']:+.3f} [{e['ci95'][0]:+.3f}, {e['ci95'][1]:+.3f}] | "
                     f"{'-' if mc is None else f'{mc:.2g}'} | {f(c['old'])} | {f(c['new'])} | "
                     f"{c['diff']:+.3f} [{c['ci95'][0]:+.3f}, {c['ci95'][1]:+.3f}] | {p.get('decision', '')} |")
    own = results.get("in_distribution") or {}
    if own:
        lines += ["", "In-distribution (each arm on its own training distribution, seed 1000): " + "; ".join(
            f"{k}: exact {v['exact']:.3f}" for k, v in own.items())]
    d = results.get("decision")
    if d:
        lines += ["", f"Must-show (protocol): new beats old on every hard suite: {d['beats_every_hard']}; plain "
                  f"held (diff >= -0.02): {d['plain_held']}; pass: {d['pass']}"]
    return "\n".join(lines) + "\n"


def decide(results: dict) -> None:
    pooled = results["pooled"]
    for name, p in pooled.items():
        e = p["exact"]
        if name == "plain":
            held = e["diff"] >= -0.02
            p["decision"] = ("holds" if held else "loses > 2 points") + (
                "; non-inferior at 2 points" if e["ci95"][0] >= -0.02 else "")
        else:
            p["decision"] = "new beats old" if e["diff"] > 0 and e["ci95"][0] > 0 else "not shown"
        r = results["suites"][name].get("reader") or {}
        if max(e["old"], e["new"], r.get("exact") or 0.0) <= 0.10:
            p["decision"] += " (uninformative: all <= 10%)"
    hard = [n for n in HARD if n in pooled]
    if "plain" in pooled and len(hard) == len(HARD):
        beats = all(pooled[n]["decision"].startswith("new beats old") for n in hard)
        held = pooled["plain"]["exact"]["diff"] >= -0.02
        results["decision"] = {"beats_every_hard": beats, "plain_held": held, "pass": beats and held}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/hard_suites")
    ap.add_argument("--size", default="base", choices=tuple(SCHEDULE))
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=None, help="peak lr (default: the size's, base 1e-3)")
    ap.add_argument("--warmup", type=float, default=None, help="warmup share (default: the size's, base 0.05)")
    ap.add_argument("--clip", type=float, default=5.0)
    ap.add_argument("--amp", action="store_true", help="float16 autocast on cuda")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workers", type=int, default=1, help="render workers of the training stream")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: fastest on a shared 2-core machine)")
    ap.add_argument("--seeds", default="0", help="comma-separated model/stream seeds, e.g. 0,1")
    ap.add_argument("--eval-n", type=int, default=1000, help="lines per suite")
    ap.add_argument("--own-n", type=int, default=300, help="in-distribution lines per arm (0: none)")
    ap.add_argument("--old-commit", default="4f7b9cf", help="git commit of arm (a)'s pipelines/ocr_line.yaml")
    ap.add_argument("--new-pipeline", default=str(ROOT / "pipelines" / "ocr_line.yaml"), help="arm (b)'s file")
    ap.add_argument("--suites", default=str(ROOT / "scripts" / "hard_suites.yaml"))
    ap.add_argument("--only", default=None, help="comma-separated suite names (default: all)")
    ap.add_argument("--reader", default="ppocr", help="legibility ceiling: ppocr (default), tesseract, "
                    "module:function, or none")
    ap.add_argument("--check", action="store_true", help="write and validate every config, render one line of "
                    "each, then stop (no training)")
    a = ap.parse_args(argv)
    a.lr = a.lr if a.lr is not None else SCHEDULE[a.size]["lr"]
    a.warmup = a.warmup if a.warmup is not None else SCHEDULE[a.size]["warmup"]
    torch.set_num_threads(a.threads)
    cv2.setNumThreads(1)  # before DataLoader forks
    log = lambda m: print(m, flush=True)  # noqa: E731
    try:
        if a.device.startswith("cuda") and not torch.cuda.is_available():
            raise Stop("--device cuda: no CUDA device is visible to torch")
        seeds = [int(x) for x in a.seeds.split(",")]
        os.makedirs(a.out, exist_ok=True)
        new_src = os.path.join(a.out, "new.yaml")
        if os.path.abspath(a.new_pipeline) != os.path.abspath(new_src):
            shutil.copyfile(a.new_pipeline, new_src)
        old_src = old_pipeline(a.old_commit, a.out)
        text = write_unseen_text(a.out)
        subst = {k: v["path"] for k, v in text["files"].items()}
        arms, arm_info = {}, {}
        for name, src in (("old", old_src), ("new", new_src)):
            arms[name], arm_info[name] = arm_file(src, name, a.out)
        diff = config_diff(old_src, new_src)
        suites = suite_files(a.suites, new_src, a.out, subst, a.only.split(",") if a.only else None)
        charset = Charset()
        held = families(new_src, HELD_OUT + RELATIVES)
        own = {}
        for name, path in arms.items():
            pipe = load_pipeline(path, seed=EVAL_SEED)
            fams = {f.family for f in pipe.renderer.faces}
            if fams & held:
                raise Stop(f"arm {name}: a held-out family is in training: {sorted(fams & held)}")
            arm_info[name]["training_families"] = len(fams)
            lines = [pipe.sample(i) for i in range(max(300, a.own_n))]
            bad = sorted({c for s in lines for c in line_text(s.instances) if c not in charset.index and c != " "})
            if bad:
                raise Stop(f"arm {name}: training text holds characters outside the charset: {''.join(bad)!r}")
            own[name] = lines[: a.own_n]
    except (Stop, UserError) as e:
        print(f"hard_suites: error: {e}", file=sys.stderr)
        return 2
    log(f"arms: old = {a.old_commit}:pipelines/ocr_line.yaml, new = {a.new_pipeline}; they differ in "
        f"{len(diff['differs'])} resolved keys, {len(diff['schema_defaults'])} of them unset in the old file "
        f"(the schema's default, or absent from a mapping): {', '.join(diff['schema_defaults']) or 'none'}")
    log(f"suites: {', '.join(suites)} (configs in {os.path.join(a.out, 'suites')}); unseen text: "
        f"{text['files']['unseen_text']['lines']} fragments, {text['files']['unseen_punct']['lines']} with punctuation")
    if a.check:
        log("check: every config loads and renders; nothing trained")
        return 0

    results: dict = {"protocol": "docs/experiments/hard_suites.md", "old_commit": a.old_commit,
                     "new_pipeline": a.new_pipeline, "size": a.size, "steps": a.steps, "batch_size": a.batch_size,
                     "lr": a.lr, "warmup": a.warmup, "clip": a.clip, "amp": a.amp, "device": a.device, "seeds": seeds,
                     "eval_n": a.eval_n, "eval_seed": EVAL_SEED, "held_out_families": HELD_OUT,
                     "relatives_excluded": RELATIVES, "unseen_text": text, "arms": arm_info, "config_diff": diff,
                     "suites": {}, "runs": {}, "paired": {}, "pooled": {}, "in_distribution": {}}
    out_json = os.path.join(a.out, "hard_suites.json")

    def dump() -> None:
        with open(out_json, "w") as f:
            json.dump(results, f, indent=1, default=str)
        Path(os.path.join(a.out, "hard_suites.md")).write_text(table(results), encoding="utf-8")

    read = reader_fn(a.reader)
    evals = {}
    for name, s in suites.items():
        t0 = time.monotonic()
        pipe = load_pipeline(s["path"], seed=EVAL_SEED)
        samples = [pipe.sample(i) for i in range(a.eval_n)]
        images, truths = [x.image for x in samples], [line_text(x.instances) for x in samples]
        evals[name] = (images, truths)
        entry = {**s, "truths": truths, "uncovered": sum(not charset.covers(t) for t in truths),
                 "median_width": float(np.median([im.shape[1] for im in images]))}
        if read is not None:
            readings = [" ".join(str(read(im)).split()) for im in images]  # its spacing at the ends is formatting
            entry["reader"] = rates(readings, truths)
            entry["reader_readings"] = readings
        results["suites"][name] = entry
        r = entry.get("reader")
        log(f"suite {name}: {a.eval_n} lines rendered{'' if not r else ' and read'} in {time.monotonic() - t0:.0f}s"
            + (f"; reader exact {r['exact']:.3f} nocase {r['nocase']:.3f} loose {r['loose']:.3f}" if r else ""))
    dump()

    per_line: dict = {}  # (arm, suite, measure) -> list over seeds of per-line bools
    for seed in seeds:
        for arm in ARMS:
            model, meta = trained(arm, arms[arm], seed, a, charset, log)
            run = {"meta": meta, "suites": {}}
            for name, (images, truths) in evals.items():
                preds = predict(model.to(a.device), charset, images, device=a.device)
                run["suites"][name] = {**rates(preds, truths), "predictions": preds}
                for k, v in correct(preds, truths).items():
                    per_line.setdefault((arm, name, k), []).append(v)
            if own.get(arm):
                preds = predict(model, charset, [x.image for x in own[arm]], device=a.device)
                run["in_distribution"] = rates(preds, [line_text(x.instances) for x in own[arm]])
            model.to("cpu")
            results["runs"][f"{arm}/{seed}"] = run
            log(f"[{arm} seed {seed}] " + "  ".join(f"{n} {r['exact']:.3f}/{r['nocase']:.3f}"
                                                    for n, r in run["suites"].items()) + " (exact/nocase)"
                + (f"; own distribution {run['in_distribution']['exact']:.3f}" if "in_distribution" in run else ""))
            dump()
        for name in evals:
            results["paired"].setdefault(str(seed), {})[name] = {
                k: paired(per_line[("old", name, k)][-1], per_line[("new", name, k)][-1], seed)
                for k in ("exact", "nocase", "loose")}
    for name in evals:
        results["pooled"][name] = {k: paired(np.mean(per_line[("old", name, k)], axis=0),
                                             np.mean(per_line[("new", name, k)], axis=0), 0, len(seeds) == 1)
                                   for k in ("exact", "nocase", "loose")}
    for arm in ARMS:
        runs = [results["runs"][f"{arm}/{s}"].get("in_distribution") for s in seeds]
        if all(runs):
            results["in_distribution"][arm] = {"exact": float(np.mean([r["exact"] for r in runs]))}
    decide(results)
    dump()
    print(table(results))
    log(f"wrote {out_json} and {os.path.join(a.out, 'hard_suites.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
