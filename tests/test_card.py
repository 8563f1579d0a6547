"""`synthgen card DIR` (issue 24 item 4): README.md with a Hugging Face dataset-card header and
contact_sheet.png, written into a finished dataset folder; `render --card` writes it at the end.

Tiny datasets rendered through the Python API (20 scene samples in 3 shards, 20 line samples,
4 documents); the header's counts, the factor tables and the licences are checked against the
shards read independently here, and the card's own loading snippets are run."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

import synthgen
from synthgen.card import CARD_MARK, SHEET_NAME, write_card
from synthgen.card.stats import read_plan
from synthgen.cli import main
from synthgen.core import TEXT_KINDS
from synthgen.io.readers import Dataset

SCENE = {"image.width": 128, "image.height": 128, "text.size": [8, 24], "text.words": [2, 5]}
_FONT = re.compile(r"^(line|word\[\d+\])\.font$")


def _render(root: Path, name: str, pipeline: str, n: int, shard_size: int, overrides=None) -> Path:
    out = root / name
    synthgen.render(pipeline, n=n, out=str(out), seed=3, shard_size=shard_size, workers=1, executor="serial",
                    overrides=overrides or {}, progress=False)
    return out


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("card")
    return {"scene": _render(root, "scene", "ocr_scene", 20, 8, SCENE),
            "line": _render(root, "line", "ocr_line", 20, 10),
            "document": _render(root, "document", "id_td1", 4, 4)}


def header_and_body(readme: Path) -> tuple[dict, str]:
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body


def md_tables(body: str) -> dict[str, tuple[str, list[tuple[str, int]], int | None]]:
    """### title -> (the sentence above the table, [(value, count)], the total row's count)."""
    out = {}
    dist = body.split("\n## Distributions of the main factors\n", 1)[1].split("\n## ", 1)[0]
    for sec in re.split(r"\n### ", dist)[1:]:
        title, rest = sec.split("\n", 1)
        lines = rest.strip().splitlines()
        said = lines[0]
        rows, total = [], None
        start = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
        end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
        for ln in lines[start:end]:
            cells = [c.strip() for c in ln.strip().strip("|").split("|")]
            if len(cells) != 3 or not re.fullmatch(r"\**[\d,]+\**", cells[1]):
                continue
            k = int(cells[1].strip("*").replace(",", ""))
            if cells[0] == "**total**":
                total = k
            else:
                rows.append((cells[0], k))
        out[title] = (said, rows, total)
    return out


def samples(folder: Path) -> list[dict]:
    return [s.label for s in Dataset(str(folder))]


@pytest.mark.parametrize("kind", ["scene", "line", "document"])
def test_header_counts_equal_the_dataset(made, kind):
    folder = made[kind]
    r = write_card(str(folder))
    head, body = header_and_body(folder / "README.md")
    assert head == r["header"]
    m = json.loads((folder / "manifest.json").read_text())
    shards = sorted(folder.glob("shard-*.tar"))
    sg = head["synthgen"]
    assert sg["samples"] == m["counts"]["samples"] == len(samples(folder))
    assert sg["shards"] == m["counts"]["shards"] == len(shards)
    assert sg["bytes"] == sum(p.stat().st_size for p in shards)
    assert sg["kind"] == kind and sg["seed"] == 3 and sg["fingerprint"] == m["fingerprint"]
    assert sg["samples_read"] == sg["samples"] and sg["sample_complete"] is True
    split = head["dataset_info"]["splits"][0]
    assert (split["name"], split["num_examples"], split["num_bytes"]) == ("train", sg["samples"], sg["bytes"])
    assert head["size_categories"] == ["n<1K"] and head["license"] == "other"
    assert head["configs"][0]["data_files"] == [{"split": "train", "path": "shard-*.tar"}]
    feats = {f["name"]: f for f in head["dataset_info"]["features"]}
    members = set().union(*(set(s.members) for s in Dataset(str(folder))))
    assert set(feats) == {"__key__"} | members  # every member typed, nothing invented
    assert feats["jpg"]["dtype"] == "image"
    label = {f["name"]: f for f in feats["json"]["struct"]}
    assert label["factors"]["dtype"] == "json" and "list" in label["instances"]
    # fonts: every face the samples drew (independently: the .font factors of placed items, or
    # for documents the template's fonts) is counted under one licence
    labels = samples(folder)
    drawn = {v for f in (s["factors"] for s in labels) for k, v in f.items()
             if _FONT.match(k) and f.get(f"derived.{k[:-5]}.placed") is not False}
    faces = sum(x["faces"] for x in sg["font_licenses"])
    if kind == "document":
        # OCR-B (the MRZ face) by its fonts/index.json row: was "see fonts/ocr-b/LICENSE", a face outside the index
        assert faces == 3 and any(x["license"] == "public domain" for x in sg["font_licenses"])
    else:
        assert faces == len(drawn) > 0
        index = json.loads((Path(synthgen.__file__).parents[1] / "fonts" / "index.json").read_text())["faces"]
        known = {row["licence"] for row in index}
        assert {x["license"] for x in sg["font_licenses"]} <= known
    photo = sum(1 for s in labels if s["factors"].get("background.kind") == "photo")
    if photo:  # a photo background draws a shipped tile, whose licence is listed
        assert sum(x["tiles"] for x in sg["texture_licenses"]) >= 1
        assert all(x["license"] in ("GPL-2+", "CC0 1.0", "public domain") for x in sg["texture_licenses"])
    assert CARD_MARK in body and f"]({SHEET_NAME})" in body


@pytest.mark.parametrize("kind", ["scene", "line", "document"])
def test_factor_tables_sum_to_their_counts(made, kind):
    folder = made[kind]
    write_card(str(folder))
    _, body = header_and_body(folder / "README.md")
    tables = md_tables(body)
    labels = samples(folder)
    n = len(labels)
    per_sample = 0
    for title, (said, rows, total) in tables.items():
        m = re.match(r"([\d,]+) (.+), each in one row\.$", said)
        if m:  # exclusive: the rows sum to the stated count, and the total row says so
            k = int(m.group(1).replace(",", ""))
            assert sum(c for _, c in rows) == k == total, title
            if m.group(2) == "samples":
                assert k == n, title
                per_sample += 1
        else:  # multi-label: shares of a stated count, none above it
            k = int(re.match(r"Share of the ([\d,]+) ", said).group(1).replace(",", ""))
            assert total is None and all(0 <= c <= k for _, c in rows), title
    assert per_sample >= {"scene": 2, "line": 3, "document": 2}[kind]  # backgrounds, layouts, templates, instances
    assert dict(tables["Text instances per sample"][1]) and tables["Text instances per sample"][2] == n
    # the counts are the samples' own (read independently here)
    texts = [i for s in labels for i in s["instances"] if i["kind"] in TEXT_KINDS and not i["ignore"] and i["text"]]
    assert tables["Text length (characters)"][2] == len(texts)
    if kind == "document":
        assert dict(tables["Document templates"][1]) == dict(Counter(s["factors"]["document.template"] for s in labels))
        return
    bg = Counter(s["factors"]["background.kind"] for s in labels)
    assert dict(tables["Background kinds"][1]) == dict(bg)
    if kind == "line":
        assert dict(tables["Line layouts"][1]) == dict(Counter(s["factors"]["line.layout"] for s in labels))
        assert tables["Fonts by style"][2] == n  # one font per line
    styles = tables["Style effects (an item can have several)"]
    assert any(v == "none" for v, _ in styles[1])


def test_contact_sheet_is_a_picture_of_the_samples(made):
    folder = made["scene"]
    write_card(str(folder))
    img = cv2.imread(str(folder / SHEET_NAME))
    assert img is not None and img.shape[0] >= 128 and img.shape[1] >= 4 * 128
    assert float(img.std()) > 20  # not a blank canvas
    # drawn labels: the annotate colours (word quads green) are on it
    assert np.any((img[..., 1] > 200) & (img[..., 0] < 40) & (img[..., 2] < 40))
    assert not list(folder.glob("*.partial"))


def test_loading_snippets_run(made, capsys):
    folder = made["scene"]  # 3 shards: the brace pattern is used
    write_card(str(folder))
    body = (folder / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", body, re.S)
    assert len(blocks) == 3 and "shard-{000000..000002}.tar" in blocks[0] and "shardshuffle=False" in blocks[0]
    assert 'load_dataset("webdataset", data_files=' in blocks[1]
    key0 = next(iter(Dataset(str(folder)))).key
    exec(compile(blocks[0], "README.md", "exec"), {})  # webdataset: prints the first key and its shape
    assert capsys.readouterr().out.startswith(f"{key0} (128, 128, 3)")
    exec(compile(blocks[2], "README.md", "exec"), {})  # synthgen.torch: a batch of 8 (`datasets`: not a test dep)
    assert capsys.readouterr().out.startswith("torch.Size([8, 3, 128, 128])")


def test_a_big_dataset_is_sampled_and_says_so(made):
    folder = made["scene"]
    r = write_card(str(folder), limit=5)
    head, body = header_and_body(folder / "README.md")
    assert head["synthgen"]["samples_read"] == r["read"] == 5 and head["synthgen"]["sample_complete"] is False
    assert head["synthgen"]["samples"] == 20
    assert "5 of 20 samples" in body
    said, rows, total = md_tables(body)["Background kinds"]
    assert total == 5 and said.startswith("5 samples")
    # the plan spreads over the shards: first and last shard both read
    shards = [{"name": f"s{i}", "count": 10} for i in range(100)]
    plan = read_plan(shards, 250)
    assert sum(t for _, t in plan) == 250 and plan[0][0]["name"] == "s0" and plan[-1][0]["name"] == "s99"
    assert read_plan(shards[:3], 1000) == [(s, 10) for s in shards[:3]]
    write_card(str(folder))  # leave it whole for the other tests


def test_audit_in_the_folder_is_reported(made, tmp_path):
    folder = tmp_path / "line"
    shutil.copytree(made["line"], folder)
    synthgen.audit_augmentation(str(folder), judge="label", n=4, grid=(0.0, 1.0), steps=0,
                                out=str(folder / "audit" / "label"), progress=False)
    rec = json.loads((folder / "audit" / "label" / "audit.json").read_text())
    write_card(str(folder))
    head, body = header_and_body(folder / "README.md")
    assert head["synthgen"]["audit"] == [{"file": "audit/label/audit.json", "judge": "label",
                                          "tuned_strength": rec["tuned_strength"], "target_error": 0.05}]
    sec = body.split("## Augmentation audit", 1)[1].split("\n## ", 1)[0]
    assert f"tuned augment.strength = {rec['tuned_strength']:.4f}" in sec
    for p in rec["curve"]:
        assert f"| {p['strength']:g} | {p['n']} | {p['caused']} |" in sec
    assert "(audit/label/curve.png)" in sec


def _one_line_error(capfd, argv) -> str:
    capfd.readouterr()
    rc = main(argv)
    out, err = capfd.readouterr()
    assert rc == 2 and "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("synthgen: error: "), err
    return lines[0]


def _listing(p: Path) -> dict[str, bytes]:
    return {q.name: q.read_bytes() for q in sorted(p.iterdir()) if q.is_file()}


def test_bad_folders_exit_2_with_one_line_and_nothing_written(made, tmp_path, capfd):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    assert "no manifest.json" in _one_line_error(capfd, ["card", str(empty)])
    assert _one_line_error(capfd, ["card", str(tmp_path / "nosuch")]).count("nosuch") == 1
    running = tmp_path / "running"
    shutil.copytree(made["line"], running)
    for q in ("README.md", SHEET_NAME):
        (running / q).unlink(missing_ok=True)
    m = json.loads((running / "manifest.json").read_text())
    (running / "manifest.json").write_text(json.dumps({**m, "state": "running"}))
    before = _listing(running)
    assert "unfinished" in _one_line_error(capfd, ["card", str(running)])
    assert _listing(running) == before
    (running / "manifest.json").write_text(json.dumps(m))
    cut = running / "shard-000001.tar"
    cut.write_bytes(cut.read_bytes()[:5000])
    before = _listing(running)
    assert "shard-000001.tar" in _one_line_error(capfd, ["card", str(running)])
    assert _listing(running) == before  # nothing written: README.md, the sheet, no .partial
    assert "--max-samples" in _one_line_error(capfd, ["card", str(made["line"]), "--max-samples", "0"])
    assert "--license" in _one_line_error(capfd, ["card", str(made["line"]), "--license", "CC BY 4.0"])
    assert "--audit" in _one_line_error(capfd, ["card", str(made["line"]), "--audit", str(empty)])


def test_a_readme_synthgen_did_not_write_is_kept_unless_forced(made, tmp_path, capfd):
    folder = tmp_path / "line"
    shutil.copytree(made["line"], folder)
    (folder / SHEET_NAME).unlink(missing_ok=True)
    (folder / "README.md").write_text("my own notes\n")
    assert "--force" in _one_line_error(capfd, ["card", str(folder)])
    assert (folder / "README.md").read_text() == "my own notes\n" and not (folder / SHEET_NAME).exists()
    assert main(["card", str(folder), "--force", "--license", "cc-by-4.0"]) == 0
    head, _ = header_and_body(folder / "README.md")
    assert head["license"] == "cc-by-4.0" and "license_name" not in head
    assert main(["card", str(folder)]) == 0  # its own card is rewritten without --force


def test_a_failed_write_leaves_nothing_half_written(made, tmp_path, monkeypatch):
    from fsspec.implementations.local import LocalFileSystem

    from synthgen.errors import UserError

    folder = tmp_path / "line"
    shutil.copytree(made["line"], folder)
    for q in ("README.md", SHEET_NAME):
        (folder / q).unlink(missing_ok=True)
    before = _listing(folder)
    real = LocalFileSystem.mv
    calls = []

    def mv(self, a, b, **kw):
        calls.append(b)
        if b.endswith("README.md"):
            raise OSError(28, "No space left on device")
        return real(self, a, b, **kw)

    monkeypatch.setattr(LocalFileSystem, "mv", mv)
    with pytest.raises(UserError, match="cannot write the card"):
        write_card(str(folder))
    assert len(calls) == 2  # the sheet was renamed into place, then README.md failed: the sheet is removed again
    assert _listing(folder) == before


def test_render_card_flag_writes_it(tmp_path, capfd):
    out = tmp_path / "r"
    rc = main(["render", "ocr_line", "--n", "6", "--out", str(out), "--executor", "serial", "--workers", "1", "-q",
               "--shard-size", "4", "--card"])
    assert rc == 0, capfd.readouterr().err
    head, body = header_and_body(out / "README.md")
    assert head["synthgen"]["samples"] == 6 and head["synthgen"]["shards"] == 2
    assert (out / SHEET_NAME).is_file() and "README.md" in capfd.readouterr().out
