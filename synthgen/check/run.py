"""`check(DIR, against=DIR2)`: the slides' data checklist over rendered shards.

One streaming pass per dataset: each shard is read block by block by the dataset reader
(io/readers.py: tar structure, then sha256 and count against manifest.json), each sample decoded once, checked (label sanity) and reduced to a row of fingerprints in an
on-disk SQLite index (pixel hash, perceptual hash and its bands, normalised text, identity).
Images are never kept, so memory stays flat in dataset size; the index costs ~100 bytes of
disk per sample. Duplicates and train/test overlaps are then SQL joins over that index.

Findings: a check name, a severity (`error` fails the run, `warning` does not), a message,
and the offending samples as {dataset, shard, key}. Near duplicates state their Hamming
distance and the threshold used.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import cv2

from ..core import TEXT_KINDS
from ..errors import UserError
from .hashes import bands, hamming, mean_colour, phash, pixel_hash
from .labels import label_findings
from ..io.images import decode
from ..io.readers import IMAGE_EXTS, ShardError, ShardMismatch, ShardRef, read_manifest, stream_shard, survey
from ..io.shards import url_to_fs

NEAR_DEFAULT = 6
# Near duplicates also keep their shape: the pHash squashes every image to 32 x 32, so two
# different text lines of different lengths can hash close (measured: 1 pair in 6000 ocr_line
# crops at 6 bits, widths 304 vs 228); re-encoding, recolouring or rescaling an image keeps
# its aspect ratio.
ASPECT = 1.1
# ... and their colours: the mean of each channel within this many levels (0..255). Distinct
# renders of one text can hash close (grey structure); their colours differ (check/hashes.py)
COLOUR_LEVELS = 24
# Where a sample's identity (the person or document a card shows) may be recorded, most
# specific first. Text lines have no identity beyond their string: the text overlap covers them.
ID_FIELDS = ("document_number", "id_number", "number", "person_id", "person", "id", "name")


@dataclass
class Finding:
    check: str
    severity: str
    message: str
    samples: list[dict[str, str]] = field(default_factory=list)
    distance: int | None = None

    def to_json(self) -> dict[str, Any]:
        d = {"check": self.check, "severity": self.severity, "message": self.message, "samples": self.samples}
        if self.distance is not None:
            d["distance"] = self.distance
        return d


@dataclass
class Report:
    datasets: list[str]
    counts: dict[str, int]
    near_threshold: int
    findings: list[Finding] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)  # findings per check, including those not listed
    limit: int = 200

    errors: int = 0  # error findings, including those not listed
    reproduced: int | None = None  # samples rendered again (--reproduce), None when not asked

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def add(self, f: Finding) -> None:
        self.totals[f.check] = self.totals.get(f.check, 0) + 1
        self.errors += f.severity == "error"
        if self.totals[f.check] <= self.limit:
            self.findings.append(f)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "errors": self.errors, "datasets": self.datasets, "samples": self.counts,
                "near_duplicate_threshold_bits": self.near_threshold, "totals": self.totals,
                "listed_per_check": self.limit, "reproduced": self.reproduced,
                "findings": [f.to_json() for f in self.findings]}


def norm_text(label: dict[str, Any]) -> str | None:
    """The sample's transcription (non-ignored text instances, in order), NFKC, case-folded,
    whitespace collapsed: 'Hello' in train and 'HELLO' in test is the same string leaked."""
    parts = [str(i.get("text") or "") for i in label.get("instances") or []
             if i.get("kind", "word") in TEXT_KINDS and not i.get("ignore")]
    t = " ".join(" ".join(unicodedata.normalize("NFKC", p).casefold().split()) for p in parts if p.strip())
    return t or None


def _dig(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def identity_of(label: dict[str, Any], key: str | None = None) -> str | None:
    """The identity a sample shows. `key`: a dotted path into the label JSON
    (`meta.identity.document_number`); otherwise meta.identity (a record: the person it
    names, `splits.person_key`; or a plain value), then factors `identity.<field>`."""
    if key:
        v = _dig(label, key)
        if v is None:  # factor names contain dots themselves: try the flat key too
            head, _, rest = key.partition(".")
            v = (label.get(head) or {}).get(rest) if isinstance(label.get(head), dict) else None
        return None if v is None else json.dumps(v, sort_keys=True)
    meta, factors = label.get("meta") or {}, label.get("factors") or {}
    ident = meta.get("identity")
    if isinstance(ident, dict):  # the person (name + birth date), else the document number: as splits hold out
        from ..splits import person_key

        return person_key(ident)
    elif ident not in (None, ""):
        return f"identity={ident}"
    for f in ID_FIELDS:
        v = factors.get(f"identity.{f}")
        if v not in (None, ""):
            return f"{f}={v}"
    return None


def source_of(label: dict[str, Any]) -> str | None:
    """The sample an augmented one was made from (`synthgen augment` records meta.source_key):
    copies of one source are meant to look alike, so they are not near duplicates of each other."""
    meta = label.get("meta")
    src = meta.get("source_key") if isinstance(meta, dict) else None
    return None if src in (None, "") else str(src)


def _signed(h: int) -> int:
    return h - (1 << 64) if h >= 1 << 63 else h


def _shards(url: str) -> tuple[list[str], dict[str, dict[str, Any]], list[str]]:
    """(shard names in order, manifest records by name, problems with the folder): io/readers.survey."""
    return survey(url)


class _Index:
    """The on-disk fingerprint table of one check run."""

    def __init__(self, path: str, near: int) -> None:
        self.db = sqlite3.connect(path)
        self.db.create_function("ham", 2, lambda a, b: hamming(a & ((1 << 64) - 1), b & ((1 << 64) - 1)),
                                deterministic=True)
        self.nbands = near + 1
        self.db.executescript("""
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16000;
            CREATE TABLE s (id INTEGER PRIMARY KEY, ds INT, shard TEXT, key TEXT, pix BLOB, ph INT, txt TEXT, ident TEXT,
                            aspect REAL, src TEXT, r REAL, g REAL, bl REAL);
            CREATE TABLE b (band INT, val INT, t INT, id INT);
        """)

    def add(self, ds: int, shard: str, key: str, pix: bytes, ph: int, txt: str | None, ident: str | None,
            aspect: float, src: str | None = None, colour: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        cur = self.db.execute("INSERT INTO s (ds, shard, key, pix, ph, txt, ident, aspect, src, r, g, bl) "
                              "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                              (ds, shard, key, pix, _signed(ph), txt, ident, aspect, src, *colour))
        rid = cur.lastrowid
        # --near 0 is one band of all 64 bits: stored signed, as SQLite integers are
        # candidates share a band AND the transcription (near duplicates must: see _duplicates), so a
        # bucket holds the few images of one text, not 1/512 of the dataset: a million lines in
        # 9-bit bands would be ~10^9 candidate pairs a band; t is the text's 64-bit digest (0: none)
        t = 0 if txt is None else _signed(int.from_bytes(hashlib.blake2b(txt.encode("utf-8", "surrogatepass"),
                                                                        digest_size=8).digest(), "big"))
        self.db.executemany("INSERT INTO b VALUES (?,?,?,?)",
                            [(k, _signed(v), t, rid) for k, v in enumerate(bands(ph, self.nbands))])

    def finish(self) -> None:
        self.db.executescript("""
            CREATE INDEX s_pix ON s (pix); CREATE INDEX s_txt ON s (txt); CREATE INDEX s_ident ON s (ident);
            CREATE INDEX b_val ON b (band, val, t, id);
        """)

    def rows(self, sql: str, args: tuple = ()) -> Iterator[tuple]:
        yield from self.db.execute(sql, args)


def _sample_ref(names: list[str], ds: int, shard: str, key: str) -> dict[str, str]:
    return {"dataset": names[ds], "shard": shard, "key": key}


def _scan(index: _Index, report: Report, url: str, ds: int, tol: float, identity_key: str | None, bar,
          listing: tuple, again: dict[str, int] | None = None, stored: dict | None = None) -> int:
    names, recorded, problems = listing
    for p in problems:
        report.add(Finding("shard", "error", f"{url}: {p}"))
    count = 0
    for shard in names:
        seen = 0
        rec = recorded.get(shard)
        ref = ShardRef(f"{url.rstrip('/')}/{shard}", shard, (rec or {}).get("sha256"),
                       None if rec is None or rec.get("count") is None else int(rec["count"]))
        try:
            for key, members in stream_shard(ref):
                seen += 1
                count += 1
                bar.update(1)
                if again and seen <= again.get(shard, 0):  # kept for --reproduce
                    stored[key] = (shard, dict(members))
                ref_ = [_sample_ref(report.datasets, ds, shard, key)]
                ext = next((e for e in IMAGE_EXTS if e in members), None)
                if ext is None or "json" not in members:
                    report.add(Finding("shard", "error", f"{key} in {shard} lacks an image or its .json label", ref_))
                    continue
                rgb, said = decode(members[ext])  # libjpeg's warnings caught, reported here
                if rgb is None:
                    why = f" ({said})" if said else ""
                    report.add(Finding("shard", "error", f"{key} in {shard}: its .{ext} image does not decode{why}", ref_))
                    continue
                if said:
                    report.add(Finding("shard", "error", f"{key} in {shard}: its .{ext} image is corrupt ({said})", ref_))
                rgb = cv2.cvtColor(rgb, cv2.COLOR_BGR2RGB)
                try:
                    label = json.loads(members["json"])
                    if not isinstance(label, dict):
                        raise ValueError("not a JSON object")
                except ValueError as e:
                    report.add(Finding("shard", "error", f"{key} in {shard}: unreadable .json label ({e})", ref_))
                    continue
                for sev, msg in label_findings(label, rgb.shape[:2], tol):
                    report.add(Finding("label", sev, f"{key} in {shard}: {msg}", ref_))
                index.add(ds, shard, key, pixel_hash(rgb), phash(rgb), norm_text(label), identity_of(label, identity_key),
                          rgb.shape[1] / rgb.shape[0], source_of(label), mean_colour(rgb))
        except ShardMismatch as e:  # read to the end: not what manifest.json recorded
            report.add(Finding("shard", "error", f"{url}: {e}",
                               [{"dataset": report.datasets[ds], "shard": shard, "key": ""}]))
            continue
        except ShardError as e:
            report.add(Finding("shard", "error", f"{url}: {e} ({seen} samples read before it broke)",
                               [{"dataset": report.datasets[ds], "shard": shard, "key": ""}]))
            continue
        if rec is None and recorded:
            report.add(Finding("shard", "warning", f"{url}: {shard} is not listed in manifest.json",
                               [{"dataset": report.datasets[ds], "shard": shard, "key": ""}]))
    return count


def _groups(index: _Index, col: str, where: str) -> Iterator[tuple[Any, list[tuple[int, str, str]]]]:
    """(value, rows) per value of `col` (hash, text, identity) that matches `where`; rows are
    (ds, shard, key). Streams from SQLite ordered by value."""
    sql = (f"SELECT s.{col}, s.ds, s.shard, s.key FROM s JOIN (SELECT {col} v FROM s WHERE {col} IS NOT NULL "
           f"GROUP BY {col} HAVING {where}) g ON s.{col} = g.v ORDER BY s.{col}, s.id")
    cur, rows = None, []
    for v, ds, shard, key in index.rows(sql):
        if v != cur and rows:
            yield cur, rows
            rows = []
        cur = v
        rows.append((ds, shard, key))
    if rows:
        yield cur, rows


def _refs(report: Report, rows, cap: int = 20) -> list[dict[str, str]]:
    return [_sample_ref(report.datasets, ds, shard, key) for ds, shard, key in rows[:cap]]


def _keys(rows, cap: int = 6) -> str:
    s = ", ".join(f"{key} ({shard})" for _, shard, key in rows[:cap])
    return s + (f", ... ({len(rows)} in all)" if len(rows) > cap else "")


def _leaves(obj: Any, prefix: str, out: list[str], cap: int = 6) -> list[str]:
    for k, v in obj.items() if isinstance(obj, dict) else ():
        if len(out) >= cap:
            break
        if isinstance(v, dict):
            _leaves(v, f"{prefix}{k}.", out, cap)
        elif v not in (None, "", [], {}):
            out.append(f"{prefix}{k}")
    return out


def _identity_hint(listing: tuple, url: str) -> str:
    """What --identity could be: dotted paths under the first sample's meta.identity (or meta)."""
    names = listing[0]
    for shard in names[:1]:
        try:
            for _, members in stream_shard(ShardRef(f"{url.rstrip('/')}/{shard}", shard, None, None)):
                label = json.loads(members.get("json") or b"{}")
                meta = label.get("meta") if isinstance(label, dict) else None
                ident = meta.get("identity") if isinstance(meta, dict) else None
                paths = (_leaves(ident, "meta.identity.", [], 99) if isinstance(ident, dict)
                         else ["meta.identity"] if ident not in (None, "") else [])
                paths.sort(key=lambda p: ("number" not in p, p))  # document numbers first
                if paths:
                    return f"its labels have e.g. {', '.join(paths[:4])} (or leave --identity out)"
                break
        except (ShardError, ValueError, AttributeError):
            pass
    return "its labels hold no meta.identity: leave --identity out"


def check(path: str, against: str | None = None, near: int = NEAR_DEFAULT, tol: float = 1.0,
          identity_key: str | None = None, limit: int = 200, progress: bool = False,
          workdir: str | None = None, reproduce: int = 0) -> Report:
    """Run every check on dataset `path` (and its overlap with `against`); returns a Report.
    `reproduce`: render that many of `path`'s samples again and compare bytes (check/reproduce.py)."""
    if not 0 <= near <= 16:
        raise UserError(f"--near must be 0..16 bits of the 64-bit perceptual hash, got {near}")
    if not tol >= 0 or tol == float("inf"):  # NaN fails the first test
        raise UserError(f"--tolerance must be a finite slack >= 0 px (default 1), got {tol}")
    if limit < 0:
        raise UserError(f"--limit must be >= 0 findings listed per check (0 lists none, all are counted), got {limit}")
    if not 0 <= reproduce <= 1000:  # the samples are held in memory until the pass ends
        raise UserError(f"--reproduce must be 0..1000 samples rendered again, got {reproduce}")
    if identity_key is not None and (not identity_key.strip() or "" in identity_key.split(".")):
        raise UserError(f"--identity {identity_key!r} is not a dotted path; give one like meta.identity.document_number")
    from tqdm import tqdm

    urls = [path] + ([against] if against else [])
    report = Report(datasets=urls, counts={}, near_threshold=near, limit=limit)
    with tempfile.TemporaryDirectory(dir=workdir, prefix="synthgen-check-") as tmp:
        index = _Index(os.path.join(tmp, "index.sqlite"), near)
        listings = [_shards(url) for url in urls]  # bad folders fail here, before any output
        pipe = again = None
        if reproduce:  # and a dataset that cannot be rendered again
            from . import reproduce as R

            fs, root = url_to_fs(path)
            manifest = read_manifest(fs, root, path)
            pipe = R.pipeline_of(manifest, path)
            again = R.pick(listings[0][0], reproduce)
        total = sum(int(rec.get("count") or 0) for _, recorded, _ in listings for rec in recorded.values()) or None
        with tqdm(total=total, unit="img", desc="check", disable=not progress, dynamic_ncols=True) as bar:
            stored: dict[str, tuple[str, dict[str, bytes]]] = {}  # key -> (shard, members), for --reproduce
            for ds, url in enumerate(urls):
                report.counts[url] = _scan(index, report, url, ds, tol, identity_key, bar, listings[ds],
                                           again if ds == 0 else None, stored)
        index.finish()
        if identity_key and any(report.counts.values()) and next(
                index.rows("SELECT 1 FROM s WHERE ident IS NOT NULL LIMIT 1"), None) is None:
            raise UserError(f"--identity {identity_key}: no sample's label has that path; "
                            f"{_identity_hint(listings[0], urls[0])}")
        _duplicates(index, report, near, bool(against))
        index.db.close()
    if pipe is not None:
        _reproduce(report, pipe, manifest, stored, progress)
    return report


def _reproduce(report: Report, pipe, manifest: dict[str, Any], stored: dict[str, tuple[str, dict[str, bytes]]],
               progress: bool) -> None:
    from tqdm import tqdm

    from . import reproduce as R

    report.reproduced = len(stored)
    with tqdm(total=len(stored), unit="img", desc="reproduce", disable=not progress, dynamic_ncols=True) as bar:
        differ = R.compare(pipe, {k: m for k, (_, m) in stored.items()}, bar.update)
    if differ:
        what = ", ".join(f"{k} ({'/'.join(m)})" for k, m in list(differ.items())[:12])
        report.add(Finding("reproduce", "error",
                           f"{len(differ)} of {len(stored)} samples rendered again here differ from the shards: "
                           f"{what}{' ...' if len(differ) > 12 else ''}; {R.why(manifest, pipe)}",
                           [_sample_ref(report.datasets, 0, stored[k][0], k) for k in list(differ)[:20]]))


def _duplicates(index: _Index, report: Report, near: int, pair: bool) -> None:
    # exact duplicates inside a dataset; the same image on both sides of a pair is a leak
    for pix, rows in _groups(index, "pix", "COUNT(*) > 1"):
        for ds in sorted({r[0] for r in rows}):
            inside = [r for r in rows if r[0] == ds]
            if len(inside) > 1:
                srcs = {v for (v,) in index.rows("SELECT DISTINCT src FROM s WHERE pix = ? AND ds = ?", (pix, ds))}
                if len(srcs) == 1 and None not in srcs:  # augmented copies of one source that no op changed
                    report.add(Finding("exact_duplicate", "warning",
                                       f"{len(inside)} augmented copies of source sample {srcs.pop()} with identical "
                                       f"pixels (no op changed them; a higher --strength changes more): "
                                       f"{_keys(inside)}", _refs(report, inside)))
                    continue
                report.add(Finding("exact_duplicate", "error",
                                   f"{len(inside)} samples with identical pixels: {_keys(inside)}", _refs(report, inside)))
        if pair and {r[0] for r in rows} == {0, 1}:
            report.add(Finding("overlap_image", "error", f"the same image in both datasets: {_keys(rows)}",
                               _refs(report, rows)))
    # near duplicates: candidates agree on a band (exact, by pigeonhole), then the distance.
    # Two images are near duplicates when they look alike AND carry the same transcription:
    # every card of a template shares its art (guilloche, captions, layout), so distinct cards
    # hash a few bits apart and only their printed text tells them apart; a re-encoded,
    # recoloured or rescaled copy keeps its labels. Augmented copies of one source sample
    # (meta.source_key, inside one dataset) are expected to look alike and are not compared.
    # Their mean colours agree too (COLOUR_LEVELS): one text rendered twice in other colours is
    # two samples, whatever its grey structure hashes to.
    cur = index.db.execute(f"""
        SELECT ham(s1.ph, s2.ph), s1.ds, s1.shard, s1.key, s2.ds, s2.shard, s2.key
        FROM (SELECT DISTINCT x.id a, y.id b FROM b x JOIN b y
              ON x.band = y.band AND x.val = y.val AND x.t = y.t AND x.id < y.id) p
        JOIN s s1 ON s1.id = p.a JOIN s s2 ON s2.id = p.b
        WHERE s1.pix != s2.pix AND ham(s1.ph, s2.ph) <= ?
          AND MAX(s1.aspect, s2.aspect) <= ? * MIN(s1.aspect, s2.aspect)
          AND s1.txt IS s2.txt
          AND MAX(ABS(s1.r - s2.r), ABS(s1.g - s2.g), ABS(s1.bl - s2.bl)) <= ?
          AND NOT (s1.ds = s2.ds AND s1.src IS NOT NULL AND s1.src = s2.src)
        ORDER BY p.a, p.b""", (near, ASPECT, COLOUR_LEVELS))
    for d, ds1, sh1, k1, ds2, sh2, k2 in cur:
        rows = [(ds1, sh1, k1), (ds2, sh2, k2)]
        if ds1 == ds2:
            report.add(Finding("near_duplicate", "error",
                               f"near-identical images {k1} ({sh1}) and {k2} ({sh2}): perceptual hashes "
                               f"{d} bits apart (threshold {near} of 64)", _refs(report, rows), distance=d))
        else:
            report.add(Finding("overlap_near_image", "error",
                               f"a near copy of {report.datasets[ds1]} {k1} ({sh1}) is in {report.datasets[ds2]}: "
                               f"{k2} ({sh2}), {d} bits apart (threshold {near} of 64)", _refs(report, rows), distance=d))
    if not pair:
        return
    for col, check_name, what in (("txt", "overlap_text", "text"), ("ident", "overlap_identity", "identity")):
        for value, rows in _groups(index, col, "COUNT(DISTINCT ds) = 2"):
            a = [r for r in rows if r[0] == 0]
            b = [r for r in rows if r[0] == 1]
            report.add(Finding(check_name, "error",
                               f"{what} {value[:60]!r} in both datasets: {_keys(a, 3)} and {_keys(b, 3)}",
                               _refs(report, a, 10) + _refs(report, b, 10)))
