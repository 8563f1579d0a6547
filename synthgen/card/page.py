"""The dataset card: README.md (a Hugging Face dataset-card YAML header, then the sections) and
contact_sheet.png, written into a finished dataset folder.

The header is what the Hub reads: licence, task categories, size category, the data files
(`configs`: every shard-*.tar is the train split) and `dataset_info` (the features with their
types, the split's size). `load_dataset(DIR)` uses those features, so they are exact: the
image member, `score.png` when the shards carry it, and the label JSON as a struct whose
`factors` and `meta` (per-sample names: they differ between samples) are `Json` values. The
`synthgen` block holds what synthgen knows: pipeline, kind, seed, fingerprint, samples,
shards, bytes, the samples read for the tables, and the licences of the fonts and texture
tiles drawn (each with its number of faces / tiles).

The sections: what the samples hold, the contact sheet, the distributions of the main factors
(stats.py), the licences, the audit result when the folder holds one (`audit.json` in it, in a
sub-folder of it, or given with `audit=`), how to load it (webdataset, Hugging Face
`datasets`, `synthgen.torch`), and the resolved config from manifest.json.

Nothing is written until everything is read and made: a folder that is not a finished dataset,
a corrupt shard or a README.md that synthgen did not write is refused in one line with the
folder untouched. Each file is written as `*.partial` and renamed; rerunning rewrites both.
"""

from __future__ import annotations

import json
import math
import posixpath
import re
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
import yaml

from ..errors import UserError
from ..io.readers import Dataset, StoredSample
from ..io.shards import PARTIAL_SUFFIX
from .stats import Survey, Table, survey

CARD_MARK = "<!-- synthgen card: written by `synthgen card`; rerunning it rewrites this file -->"
SHEET_NAME = "contact_sheet.png"
README = "README.md"
DEFAULT_LIMIT = 2000
MAX_LIMIT = 1_000_000
SHEET_SAMPLES = {"line": 24}  # samples on the contact sheet by kind (others: 16)
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
                   (10_000_000_000, "1B<n<10B"), (100_000_000_000, "10B<n<100B"), (1_000_000_000_000, "100B<n<1T"))
TASKS = {"line": (["image-to-text"], ["ocr", "text-recognition"]),
         "scene": (["object-detection", "image-to-text"], ["ocr", "text-detection", "scene-text"]),
         "document": (["object-detection", "image-to-text"], ["ocr", "document", "key-information-extraction"])}
_LICENSE_ID = re.compile(r"[a-z0-9][a-z0-9.+-]*")


def size_category(n: int) -> str:
    for hi, name in SIZE_CATEGORIES:
        if n < hi:
            return name
    return "n>1T"


def _n(k: int, word: str) -> str:
    """`1 shard`, `2 shards`."""
    return f"{k:,} {word}" + ("" if k == 1 else "s")


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000.0
    return f"{n} B"


# -- the features (Hugging Face `datasets` types) ----------------------------------------------------
def features(members: list[str]) -> list[dict[str, Any]]:
    """`dataset_info.features` of shards whose samples hold `members` (extensions), in the YAML
    form `datasets` writes (`Features._to_yaml_list`)."""
    f32 = "float32"
    instance = [{"name": "text", "dtype": "string"},
                {"name": "quad", "list": {"list": f32}},
                {"name": "chars", "list": {"list": {"list": f32}}},
                {"name": "kind", "dtype": "string"},
                {"name": "field", "dtype": "string"},
                {"name": "ignore", "dtype": "bool"}]
    label = [{"name": "key", "dtype": "string"},
             {"name": "size", "list": "int64"},
             {"name": "instances", "list": instance},
             {"name": "factors", "dtype": "json"},
             {"name": "meta", "dtype": "json"}]
    out: list[dict[str, Any]] = [{"name": "__key__", "dtype": "string"}]
    for m in members:
        if m == "json":
            out.append({"name": "json", "struct": label})
        elif m in ("jpg", "jpeg", "png", "webp") or m.endswith(".png"):
            out.append({"name": m, "dtype": "image"})
    return out


# -- the audit ---------------------------------------------------------------------------------------
def find_audits(ds: Dataset, audit: str | None) -> list[tuple[str, dict[str, Any], bool]]:
    """[(where, audit.json record, inside the folder)]: `audit` (a file or a folder holding
    audit.json) when given, else audit.json in the folder or in a sub-folder (two levels)."""
    if audit is not None:
        p = Path(audit)
        f = p / "audit.json" if p.is_dir() else p
        if not f.is_file():
            raise UserError(f"--audit {audit!r}: no audit.json there; give the folder `synthgen audit --out` wrote "
                            "or its audit.json")
        rec = _read_audit(f)
        if rec is None:
            raise UserError(f"--audit {audit!r}: {f.name} is not an audit record (a JSON object with a curve); "
                            "give the audit.json that `synthgen audit` wrote")
        try:
            rel = f.resolve().relative_to(Path(ds.root).resolve()).as_posix()
            return [(rel, rec, True)]
        except ValueError:
            return [(str(f), rec, False)]
    fs, root = ds.fs, ds.root
    found = []
    for pat in ("audit.json", "*/audit.json", "*/*/audit.json"):
        for p in sorted(fs.glob(posixpath.join(root, pat))):
            try:
                with fs.open(p, "rb") as fh:
                    rec = _parse_audit(fh.read())
            except OSError:
                continue
            if rec is not None:
                found.append((posixpath.relpath(p, root), rec, True))
    return found


def _parse_audit(data: bytes) -> dict[str, Any] | None:
    try:
        rec = json.loads(data)
    except ValueError:
        return None
    return rec if isinstance(rec, dict) and isinstance(rec.get("curve"), list) else None


def _read_audit(f: Path) -> dict[str, Any] | None:
    try:
        return _parse_audit(f.read_bytes())
    except OSError as e:
        raise UserError(f"--audit {str(f)!r}: cannot read it ({e.strerror or e})") from None


# -- the contact sheet -------------------------------------------------------------------------------
def contact_sheet(samples: list[StoredSample], kind: str) -> np.ndarray:
    """The samples with their labels drawn (`synthgen.viz.annotate`: word quads green, char quads
    red, ignored grey, first vertex yellow), in cells shaped like the samples (lines: wide and
    low), the key and instance count under each. RGB uint8."""
    import cv2

    from ..core import Instance, Sample
    from ..viz import annotate

    decoded = []
    for s in samples:
        bgr = cv2.imdecode(np.frombuffer(s.image, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise UserError(f"sample {s.key} in {s.shard}: its .{s.image_ext} image does not decode")
        inst = [Instance.from_json(d) for d in s.instances]
        decoded.append(Sample(s.key, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), inst))
    aspect = median(d.image.shape[0] / max(1, d.image.shape[1]) for d in decoded)
    if kind == "line" or aspect < 0.5:
        cols, cw = 3, 420
        ch = int(min(cw, max(40, round(cw * aspect * 1.3))))
    else:
        cols, cw = 4, 300
        ch = int(min(2 * cw, max(120, round(cw * aspect))))
    cols = max(1, min(cols, len(decoded)))
    rows = math.ceil(len(decoded) / cols)
    label_h, pad = 16, 4
    sheet = np.full((rows * (ch + label_h + pad) + pad, cols * (cw + pad) + pad, 3), 32, np.uint8)
    for k, s in enumerate(decoded):
        h, w = s.image.shape[:2]
        scale = min(cw / w, ch / h)
        tile = annotate(s, scale, chars=kind != "document")  # a card's char quads hide its text
        r, c = divmod(k, cols)
        y, x = pad + r * (ch + label_h + pad), pad + c * (cw + pad)
        sheet[y : y + tile.shape[0], x : x + tile.shape[1]] = tile[:ch, :cw]
        n_ign = sum(i.ignore for i in s.instances)
        text = f"{s.key}  {len(s.instances)} inst" + (f", {n_ign} ignored" if n_ign else "")
        cv2.putText(sheet, text, (x + 2, y + ch + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (230, 230, 230), 1, cv2.LINE_AA)
    return sheet


def _png(rgb: np.ndarray) -> bytes:
    import cv2

    ok, enc = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
        raise RuntimeError("contact sheet: PNG encoding failed")
    return enc.tobytes()


# -- the page ----------------------------------------------------------------------------------------
def _cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _table_md(t: Table) -> str:
    unit = t.unit
    lines = [f"### {t.title}", "",
             (f"{t.total:,} {unit}, each in one row."
              if t.exclusive else f"Share of the {t.total:,} {unit} with each; one can have several or none."),
             "", f"| {_cell(t.column)} | {unit} | share |", "| --- | ---: | ---: |"]
    for v, c in t.rows:
        lines.append(f"| {_cell(v)} | {c:,} | {100.0 * c / max(1, t.total):.1f}% |")
    if t.exclusive:
        lines.append(f"| **total** | **{sum(c for _, c in t.rows):,}** | **100%** |")
    if t.note:
        lines += ["", f"_{t.note}._"]
    return "\n".join(lines)


def _py(code: str) -> str:
    return f"```python\n{code.strip()}\n```"


def _loading(path: str, image: str, n_shards: int, kind: str) -> str:
    shards = "/shard-000000.tar" if n_shards == 1 else f"/shard-{{000000..{n_shards - 1:06d}}}.tar"
    p = json.dumps(path)
    wds = f"""
import webdataset as wds

DIR = {p}  # this folder
ds = wds.WebDataset(DIR + "{shards}", shardshuffle=False).decode("rgb8").to_tuple("__key__", "{image}", "json")
key, image, label = next(iter(ds))  # image: H x W x 3 uint8 RGB; label: dict (key, size, instances, factors, meta)
print(key, image.shape, [i["text"] for i in label["instances"]][:5])
"""
    hf = f"""
from datasets import load_dataset

DIR = {p}  # this folder
ds = load_dataset(DIR, split="train")  # the features declared in this card's header (datasets >= 4.7: Json)
# or straight from the shards, with features inferred from the first samples (any datasets version):
# ds = load_dataset("webdataset", data_files={{"train": DIR + "/shard-*.tar"}}, split="train")
row = ds[0]  # row["{image}"]: a PIL image; row["json"]: the label (instances, factors, meta)
"""
    maps = ', maps=("score",)' if kind in ("scene", "document") else ""
    st = f"""
from torch.utils.data import DataLoader
from synthgen.torch import ShardDataset, collate

DIR = {p}  # this folder
ds = ShardDataset(DIR, factors=True{maps})  # each shard's sha256 checked against manifest.json as it streams
dl = DataLoader(ds, batch_size=8, num_workers=0, collate_fn=collate)
batch = next(iter(dl))  # image: B x 3 x H x W uint8 (zero-padded; sizes: each H, W), instances, key, index, factors
print(batch["image"].shape, [i.text for i in batch["instances"][0]][:5])
"""
    return "\n\n".join([
        "## How to load",
        "Every sample is a group of tar members with one key (`<key>." + image + "`, `<key>.json`, ...), in "
        "WebDataset's layout; `manifest.json` lists each shard with its sample count and sha256.",
        "### webdataset", _py(wds),
        "### Hugging Face `datasets`", _py(hf),
        "`load_dataset(DIR)` reads this card: `configs` maps every shard to the train split and "
        "`dataset_info.features` types the members; the per-sample `factors` and `meta` (their names differ "
        "from sample to sample) are `Json` values, which need datasets 4.7 or later; datasets stores them "
        "with floats rounded to 10 decimals, so replay a sample (`pipeline.replay(index, factors)`) from the "
        "factors in the shards (webdataset, synthgen.torch). The `webdataset` form infers a struct from the "
        "first few samples instead, and keeps only the factor names those have.",
        "### synthgen.torch", _py(st)])


def _audit_md(audits: list[tuple[str, dict[str, Any], bool]], config: dict[str, Any]) -> str:
    if not audits:
        return ("## Augmentation audit\n\nThis folder holds no audit. `synthgen audit DIR --out DIR/audit` (or "
                "`synthgen audit <pipeline>`) measures the bad-augmentation rate against strength; `synthgen card "
                "--audit PATH` puts its result here.")
    out = ["## Augmentation audit"]
    strength = (config.get("augment") or {}).get("strength") if isinstance(config, dict) else None
    for where, r, inside in audits:
        tuned = r.get("tuned_strength")
        out += ["", f"From `{where}`: judge **{r.get('judge')}**, source `{r.get('source')}` "
                f"({r.get('source_kind', '?')}, seed {r.get('seed')}), {r.get('n')} samples per strength, target "
                f"error {r.get('target_error')}."]
        if isinstance(tuned, (int, float)):
            said = f"**tuned augment.strength = {tuned:.4f}**"
            if isinstance(strength, (int, float)):
                said += f"; this dataset was rendered at augment.strength = {strength:g}" + (
                    " (at or under the tuned strength)" if strength <= tuned + 1e-9 else
                    " (**above** the tuned strength: more bad augmentations than the target allows)")
            out += ["", said + "."]
        pts = [p for p in r.get("curve") or [] if isinstance(p, dict)]
        if pts:
            out += ["", "| strength | judged | bad (caused by augmentation) | rate | 95% interval |",
                    "| ---: | ---: | ---: | ---: | --- |"]
            for p in pts:
                out.append(f"| {p.get('strength', 0):g} | {p.get('n', 0)} | {p.get('caused', 0)} | "
                           f"{p.get('caused_rate', 0):.3f} | [{p.get('lo', 0):.3f}, {p.get('hi', 0):.3f}] |")
        u = r.get("unaugmented")
        if isinstance(u, dict):
            why = f": {json.dumps(u['reasons'])}" if u.get("reasons") else ""
            out += ["", f"Unaugmented: {u.get('bad')} of {u.get('judged', u.get('n'))} judged fail the judge "
                    f"(the renderer's, not counted against the augmentation){why}."]
        if r.get("warning"):
            out += ["", f"Warning: {_cell(r['warning'])}"]
        if inside:
            base = posixpath.dirname(where)
            pics = [f for f in ("curve.png", "bad_samples.png") if f in (r.get("files") or [])]
            for f in pics:
                rel = posixpath.join(base, f) if base else f
                out += ["", f"![{f[:-4].replace('_', ' ')}]({rel})"]
    return "\n".join(out)


def _licences_md(sv: Survey) -> str:
    out = ["## Licences", "",
           "The images are synthetic, but every glyph is drawn from a font and some backgrounds are crops of "
           "shipped texture photos; each comes under its own licence. What the samples read drew:"]
    scope = "" if sv.complete else f" (in the {sv.read:,} samples read; the rest may draw others of the same pool)"
    if sv.font_licences:
        out += ["", f"**Fonts**{scope}:", "", "| licence | faces | families |", "| --- | ---: | ---: |"]
        out += [f"| {_cell(r['license'])} | {r['faces']} | {r['families']} |" for r in sv.font_licences]
        out += ["", "Licence texts and sources: `fonts/LICENSES/` and each family's `LICENSE` in the synthgen "
                "repository (`synthgen fonts list` shows every face)."]
    else:
        out += ["", "**Fonts**: none recorded in the samples' factors."]
    if sv.texture_licences:
        out += ["", f"**Texture tiles**{scope}:", "", "| licence | tiles | sources |", "| --- | ---: | --- |"]
        out += [f"| {_cell(r['license'])} | {r['tiles']} | {_cell('; '.join(r['sources']))} |"
                for r in sv.texture_licences]
        out += ["", "Sources and licence texts: `synthgen/data/textures/LICENSE.md`."]
    else:
        out += ["", "**Texture tiles**: none drawn (backgrounds are procedural)."]
    if sv.user_images:
        out += ["", f"{sv.user_images:,} samples are drawn on your own images (background.folders): their "
                "licence is theirs."]
    return "\n".join(out)


def _contents_md(ds: Dataset, sv: Survey, nbytes: int, image: str) -> str:
    hs = sorted(h for h, _ in sv.sizes)
    ws = sorted(w for _, w in sv.sizes)
    size = ""
    if hs:
        size = (f"Image height {hs[0]}-{hs[-1]} px (median {median(hs):g}), width {ws[0]}-{ws[-1]} px "
                f"(median {median(ws):g}).")
    members = {image: "the image (RGB)", "json": "the label: key, size [H, W], instances (text, quad 4 x 2, chars "
               "n x 4 x 2, kind, field, ignore; quads in pixels, first vertex = top-left of the text), factors "
               "(every recorded draw: `pipeline.replay(index, factors)` re-renders the sample), meta (seed, index, "
               "pipeline, ...)", "score.png": "EAST score map at 1/4 scale (1 bit)",
               "east.npz": "further EAST maps (numpy .npz)"}
    rows = "\n".join(f"| `<key>.{m}` | {members.get(m, '')} |" for m in sv.members)
    return "\n".join(["## Contents", "",
                      f"{_n(ds.count, 'sample')} in {_n(len(ds.shards), 'shard')}, {_human(nbytes)} "
                      f"({nbytes:,} bytes). {size}",
                      "", "| member | what |", "| --- | --- |", rows])


def _config_md(m: dict[str, Any]) -> str:
    cfg = yaml.safe_dump(m.get("config") or {}, sort_keys=False, allow_unicode=True, width=100).strip()
    vers = m.get("versions") if isinstance(m.get("versions"), dict) else {}
    made = ", ".join(f"{k} {v}" for k, v in sorted(vers.items()) if v)
    out = ["## Configuration", "",
           f"The resolved config from `manifest.json` (fingerprint `{m.get('fingerprint', '?')}`, seed "
           f"{m.get('seed', '?')}, n {m.get('n', '?')}, shard size {m.get('shard_size', '?')}, sample stream "
           f"{m.get('stream', '?')}). Sample i of a seed is the same bytes whatever the workers or shard size.", "",
           "```yaml", cfg, "```"]
    if "augment" in m and isinstance(m["augment"], dict):
        a = m["augment"]
        out += ["", f"This folder is a `synthgen augment` output: {a.get('copies')} augmented copies per sample of "
                f"`{a.get('source')}` at strength {a.get('strength')} (seed {a.get('seed')}); the config above is "
                "its source's."]
    if made:
        out += ["", f"Made with {made}."]
    return "\n".join(out)


def card_header(ds: Dataset, sv: Survey, nbytes: int, license: str | None,
                audits: list[tuple[str, dict[str, Any], bool]]) -> dict[str, Any]:
    m = ds.manifest
    kind = str(ds.kind or "")
    cats, tags = TASKS.get(kind, (["image-to-text"], ["ocr"]))
    name = str(m.get("name") or Path(ds.root).name)
    pipeline = m.get("pipeline") or (m.get("config") or {}).get("name")
    image = next((x for x in sv.members if x in ("jpg", "jpeg", "png", "webp")), "jpg")
    head: dict[str, Any] = {"pretty_name": f"synthgen {name}"}
    if license:
        head["license"] = license
    else:
        head["license"] = "other"
        head["license_name"] = "synthgen-mixed-sources"
        head["license_details"] = ("Synthetic images rendered by synthgen. They draw glyphs of the fonts and pixels "
                                   "of the texture tiles counted under synthgen.font_licenses and "
                                   "synthgen.texture_licenses, each under its own licence (see the Licences "
                                   "section); check those terms before you redistribute. "
                                   "`synthgen card --license ID` sets one.")
    head.update({
        "task_categories": cats,
        "tags": ["synthetic", *tags, "synthgen", "webdataset"],
        "size_categories": [size_category(ds.count)],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "shard-*.tar"}]}],
        "dataset_info": {"features": features(sv.members),
                         "splits": [{"name": "train", "num_bytes": nbytes, "num_examples": ds.count}],
                         "download_size": nbytes, "dataset_size": nbytes},
    })
    vers = m.get("versions") if isinstance(m.get("versions"), dict) else {}
    sg: dict[str, Any] = {"name": name, "pipeline": pipeline, "kind": kind or None, "seed": m.get("seed"),
                          "fingerprint": m.get("fingerprint"), "version": vers.get("synthgen"),
                          "samples": ds.count, "shards": len(ds.shards), "bytes": nbytes, "image": image,
                          "samples_read": sv.read, "sample_complete": sv.complete,
                          "font_licenses": sv.font_licences, "texture_licenses": sv.texture_licences}
    if audits:
        sg["audit"] = [{"file": w, "judge": r.get("judge"), "tuned_strength": r.get("tuned_strength"),
                        "target_error": r.get("target_error")} for w, r, _ in audits]
    head["synthgen"] = sg
    return head


def render_card(ds: Dataset, sv: Survey, path: str, nbytes: int, license: str | None,
                audits: list[tuple[str, dict[str, Any], bool]]) -> tuple[str, dict[str, Any]]:
    """(README.md text, its header as a dict)."""
    head = card_header(ds, sv, nbytes, license, audits)
    sg = head["synthgen"]
    kind, image = sg["kind"] or "?", sg["image"]
    what = {"line": "text-line crops for recognition", "scene": "scene-text images for detection and recognition",
            "document": "identity-document images with field labels"}.get(kind, "labelled OCR images")
    y = yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=100)
    intro = (f"{ds.count:,} synthetic {what} (kind `{kind}`), rendered by synthgen {sg['version'] or '?'} from "
             f"pipeline `{sg['pipeline']}` with seed {sg['seed']}, in {_n(len(ds.shards), 'WebDataset shard')} "
             f"({_human(nbytes)}).")
    sheet = (f"![contact sheet: {len(sv.sheet)} samples]({SHEET_NAME})\n\n_{len(sv.sheet)} samples spread over "
             f"the ones read, labels drawn: word or line quads green, character quads red, ignored text grey, the "
             f"first vertex of each quad yellow; key and instance count under each._")
    dist = ["## Distributions of the main factors", "",
            f"Read from the samples' recorded factors and labels: {sv.plan}"
            + ("." if sv.complete else " (shares are estimates from that sample).")]
    for t in sv.tables:
        dist += ["", _table_md(t)]
    notes = [f"_Note: {n}._" for n in sv.notes]
    body = "\n\n".join([f"---\n{y}---", CARD_MARK, f"# synthgen dataset: {sg['name']}", intro, sheet,
                        _contents_md(ds, sv, nbytes, image), "\n".join(dist), *notes, _licences_md(sv),
                        _audit_md(audits, ds.config), _loading(path, image, len(ds.shards), kind),
                        _config_md(ds.manifest)])
    return body.rstrip() + "\n", head


# -- writing -----------------------------------------------------------------------------------------
def _bytes_of(ds: Dataset) -> int:
    total = 0
    for s in ds.manifest.get("shards") or []:
        b = s.get("bytes") if isinstance(s, dict) else None
        total += int(b) if isinstance(b, int) else int(ds.fs.size(posixpath.join(ds.root, s["name"])))
    return total


def _check_limit(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise UserError(f"--max-samples {limit!r}: give a whole number from 1 to {MAX_LIMIT:,} (samples read for "
                        f"the tables; default {DEFAULT_LIMIT:,})")
    return limit


def write_card(path: str, limit: int = DEFAULT_LIMIT, audit: str | None = None, license: str | None = None,
               force: bool = False) -> dict[str, Any]:
    """Write README.md and contact_sheet.png into the finished dataset folder `path`; returns
    {"readme", "sheet", "header", "tables", "read"}. `limit`: at most this many samples are read
    for the tables; `audit`: an audit.json (or its folder) to report; `license`: the Hub licence
    id for the header (default `other`, with the fonts' and textures' licences listed);
    `force`: replace a README.md that synthgen did not write."""
    limit = _check_limit(limit)
    if license is not None and not _LICENSE_ID.fullmatch(license):
        raise UserError(f"--license {license!r}: give a Hugging Face licence id such as cc-by-4.0, mit, apache-2.0 "
                        "or other (lower case, no spaces)")
    ds = Dataset(str(path))
    fs, root = ds.fs, ds.root
    readme, sheet_path = posixpath.join(root, README), posixpath.join(root, SHEET_NAME)
    if fs.exists(readme) and not force:
        with fs.open(readme, "rb") as f:
            old = f.read()
        if CARD_MARK.encode() not in old:
            raise UserError(f"{path!r} already holds a README.md that `synthgen card` did not write; move it away, "
                            "or pass --force to replace it")
    audits = find_audits(ds, audit)
    kind = str(ds.kind or "")
    sv = survey(ds, limit, SHEET_SAMPLES.get(kind, 16))
    nbytes = _bytes_of(ds)
    text, head = render_card(ds, sv, str(path), nbytes, license, audits)
    png = _png(contact_sheet(sv.sheet, kind))
    _write_both(fs, [(sheet_path, png), (readme, text.encode("utf-8"))], str(path))
    return {"readme": readme, "sheet": sheet_path, "header": head, "tables": [t.to_json() for t in sv.tables],
            "read": sv.read}


def _write_both(fs, files: list[tuple[str, bytes]], where: str) -> None:
    """Write each file as *.partial, then rename them all; on a failure remove what this call
    wrote (the partial files, and a final file that did not exist before)."""
    existed = {p: fs.exists(p) for p, _ in files}
    done: list[str] = []
    try:
        for p, data in files:
            with fs.open(p + PARTIAL_SUFFIX, "wb") as f:
                f.write(data)
        for p, _ in files:
            fs.mv(p + PARTIAL_SUFFIX, p)
            done.append(p)
    except OSError as e:
        for p, _ in files:
            for q in [p + PARTIAL_SUFFIX] + ([p] if p in done and not existed[p] else []):
                try:
                    fs.rm(q)
                except (FileNotFoundError, OSError):
                    pass
        raise UserError(f"cannot write the card into {where!r} ({e.strerror or e}); check the folder is writable "
                        "and has space") from None
    except BaseException:
        for p, _ in files:
            try:
                fs.rm(p + PARTIAL_SUFFIX)
            except (FileNotFoundError, OSError):
                pass
        raise
