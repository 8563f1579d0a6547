"""`synthgen check` finds every planted duplicate, leak, bad label and broken shard, and
nothing on a clean train/test pair."""

import hashlib
import json

import cv2
import numpy as np
import pytest

from synthgen.check.hashes import bands, hamming, phash
from synthgen.check.labels import label_findings, label_problems
from synthgen.check.run import check, norm_text
from synthgen.cli import main
from synthgen.io.shards import url_to_fs, write_shard
from synthgen.io.readers import Dataset


def _write(folder, samples, shard_size=40):
    """A dataset folder (shards + complete manifest) from [(key, {ext: bytes})]."""
    fs, root = url_to_fs(str(folder))
    fs.makedirs(root, exist_ok=True)
    infos = []
    for j in range(0, len(samples), shard_size):
        part = [(k, sorted(m.items())) for k, m in samples[j : j + shard_size]]
        infos.append(write_shard(fs, root, j // shard_size, part).to_json())
    (folder / "manifest.json").write_text(json.dumps({"state": "complete", "shards": infos}))
    return folder


def _split(text):  # keyed-hash split of strings, as a held-out test set would be made
    return hashlib.blake2b(text.encode(), digest_size=8, key=b"check-test").digest()[0] < 64


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    from synthgen.run.job import render

    base = tmp_path_factory.mktemp("check")
    # strength 0: no geometric augmentation, so no line is cut at the crop edge (a real finding
    # at the default strength: see test_label_rules_on_hand_made_labels)
    render("ocr_line", n=160, out=str(base / "all"), seed=11, shard_size=80, workers=1, executor="serial",
           progress=False, overrides={"augment.strength": 0.0})
    train, test = [], []
    for s in Dataset(str(base / "all")):
        (test if _split(norm_text(s.label)) else train).append((s.key, dict(s.members)))
    assert len(test) >= 20 and len(train) >= 80
    return base, train, test


def _img(members):
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(members["jpg"], np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _jpg(rgb, q=90):
    return cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])[1].tobytes()


def _keys(report, check_name):
    return {s["key"] for f in report.findings if f.check == check_name for s in f.samples}


def test_clean_pair_has_no_findings(clean):
    base, train, test = clean
    r = check(str(_write(base / "train", train)), against=str(_write(base / "test", test)))
    assert r.ok and r.findings == [], [f.message for f in r.findings]
    assert r.counts == {str(base / "train"): len(train), str(base / "test"): len(test)}
    assert main(["check", str(base / "train"), "--against", str(base / "test"), "-q"]) == 0


def test_planted_duplicates_and_leaks_are_all_found(clean, tmp_path):
    base, train, test = clean
    train, test = [(k, dict(m)) for k, m in train], [(k, dict(m)) for k, m in test]
    planted = {"exact": set(), "near": set(), "img": set(), "text": set(), "ident": set()}
    rng = np.random.default_rng(0)
    # exact duplicates: the same pixels under a new key (PNG instead of JPEG: same decoded image)
    for j in range(3):
        k, m = train[j * 7]
        png = cv2.imencode(".png", cv2.cvtColor(_img(m), cv2.COLOR_RGB2BGR))[1].tobytes()
        train.append((f"dup{j}", {"png": png, "json": m["json"]}))
        planted["exact"] |= {k, f"dup{j}"}
    # near duplicates: re-encoded at q60, brightened, noised
    edits = [lambda x: cv2.imdecode(np.frombuffer(_jpg(x, 60), np.uint8), 1)[..., ::-1],
             lambda x: np.clip(x.astype(int) + 10, 0, 255).astype(np.uint8),
             lambda x: np.clip(x + rng.normal(0, 3, x.shape), 0, 255).astype(np.uint8)]
    for j, edit in enumerate(edits):
        k, m = train[j * 5 + 1]
        train.append((f"near{j}", {"jpg": _jpg(np.ascontiguousarray(edit(_img(m))), 95), "json": m["json"]}))
        planted["near"] |= {k, f"near{j}"}
    # a train image in the test set; train strings in test labels; shared identities
    k, m = train[2]
    test.append(("leakimg", dict(m)))
    planted["img"] |= {k, "leakimg"}
    for j in range(3):
        k, m = train[30 + j]
        tk, tm = test[j]
        lab = json.loads(tm["json"])
        lab["instances"][0]["text"] = json.loads(m["json"])["instances"][0]["text"].upper()  # case differs
        tm["json"] = json.dumps(lab).encode()
        planted["text"] |= {k, tk}
    for j in range(2):
        k, m = train[40 + j]
        tk, tm = test[5 + j]
        for mm, who in ((m, k), (tm, tk)):
            lab = json.loads(mm["json"])
            lab["meta"]["identity"] = {"document_number": f"X{j}-SPECIMEN", "name": who}
            mm["json"] = json.dumps(lab).encode()
        planted["ident"] |= {k, tk}
    a, b = _write(tmp_path / "train", train), _write(tmp_path / "test", test)
    r = check(str(a), against=str(b))
    assert not r.ok
    assert planted["exact"] <= _keys(r, "exact_duplicate")
    assert planted["near"] <= _keys(r, "near_duplicate")
    assert planted["img"] <= _keys(r, "overlap_image")
    # leakimg is the planted image copy: its text leaks too, nothing else does
    assert _keys(r, "overlap_text") == planted["text"] | planted["img"]
    assert _keys(r, "overlap_identity") == planted["ident"]
    # no false alarms: every duplicate finding involves a planted sample
    assert _keys(r, "exact_duplicate") == planted["exact"] and _keys(r, "near_duplicate") == planted["near"]
    near = [f for f in r.findings if f.check == "near_duplicate"]
    assert all(f.distance is not None and 0 <= f.distance <= 6 and "threshold 6" in f.message for f in near)
    # shard names are given, and the CLI fails with a JSON report that says the same
    assert all(s["shard"].startswith("shard-") for f in r.findings for s in f.samples)
    assert main(["check", str(a), "--against", str(b), "--json"]) == 1


def test_one_text_in_other_colours_is_not_a_near_duplicate(clean, tmp_path):
    """The pHash is grey structure: among a million lines, 31 pairs of one text rendered in other
    colours hashed within 6 bits (scripts/end_to_end.py). Two colourings of one grey image
    (foreground and background swapped for other colours of the same light/dark order) hash
    alike but are two samples; a re-encoded copy of either is still a near duplicate."""
    _, train, _ = clean
    k, m = next((k, m) for k, m in train if json.loads(m["json"])["instances"][0]["text"].strip())
    grey = cv2.cvtColor(_img(m), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0

    def colour(dark, light):  # grey 0 -> dark, 1 -> light, linearly in each channel
        d, li = np.array(dark, np.float32), np.array(light, np.float32)
        return np.clip(d + grey[..., None] * (li - d), 0, 255).round().astype(np.uint8)

    a, b = colour((20, 30, 120), (250, 240, 160)), colour((90, 10, 20), (170, 250, 240))
    assert hamming(phash(a), phash(b)) <= 6  # the grey gate alone would call them near duplicates
    copy = cv2.imdecode(np.frombuffer(_jpg(a, 60), np.uint8), 1)[..., ::-1]
    samples = [("a", {"jpg": _jpg(a, 95), "json": m["json"]}), ("b", {"jpg": _jpg(b, 95), "json": m["json"]}),
               ("acopy", {"jpg": _jpg(np.ascontiguousarray(copy), 95), "json": m["json"]})]
    r = check(str(_write(tmp_path / "d", samples)))
    pairs = [{s["key"] for s in f.samples} for f in r.findings if f.check == "near_duplicate"]
    assert pairs == [{"a", "acopy"}], [f.message for f in r.findings]


def test_broken_shards_and_bad_labels_named(clean, tmp_path, capsys):
    _, train, _ = clean
    samples = [(k, dict(m)) for k, m in train[:80]]
    lab = json.loads(samples[3][1]["json"])
    q = lab["instances"][0]["quad"]
    lab["instances"][0]["quad"] = q[::-1]  # counter-clockwise
    samples[3][1]["json"] = json.dumps(lab).encode()
    lab = json.loads(samples[4][1]["json"])
    lab["instances"][0]["chars"][0] = [[x + 500, y] for x, y in lab["instances"][0]["chars"][0]]
    samples[4][1]["json"] = json.dumps(lab).encode()
    d = _write(tmp_path / "d", samples, shard_size=20)
    cut = d / "shard-000002.tar"
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # inside its members (the last 9 KiB can be record padding)
    bad = bytearray((d / "shard-000003.tar").read_bytes())
    bad[600:610] = b"junkjunkju"  # inside the second header of the shard
    (d / "shard-000003.tar").write_bytes(bytes(bad))
    r = check(str(d))
    shard_msgs = [f.message for f in r.findings if f.check == "shard"]
    assert any("shard-000002.tar is truncated" in m for m in shard_msgs), shard_msgs
    assert any("shard-000003.tar" in m and ("corrupt" in m or "sha256" in m) for m in shard_msgs), shard_msgs
    labels = {f.samples[0]["key"]: f.message for f in r.findings if f.check == "label"}
    assert set(labels) == {samples[3][0], samples[4][0]}
    assert "counter-clockwise" in labels[samples[3][0]] and "outside the word quad" in labels[samples[4][0]]
    assert main(["check", str(d), "-q"]) == 1
    out = capsys.readouterr().out
    assert "shard-000002.tar is truncated" in out and "FAILED" in out


def test_bad_input_exits_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope")]) == 2
    assert "not a dataset folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["check", str(tmp_path / "empty")]) == 2


def test_label_rules_on_hand_made_labels():
    good = {"quad": [[10, 5], [50, 5], [50, 20], [10, 20]], "text": "ab", "kind": "word",
            "chars": [[[10, 5], [30, 5], [30, 20], [10, 20]], [[30, 5], [50, 5], [50, 20], [30, 20]]]}
    assert label_problems({"size": [32, 64], "instances": [good]}, (32, 64)) == []
    over = {**good, "quad": [[10, 5], [70, 5], [70, 20], [10, 20]]}  # box past the edge, chars inside
    assert label_problems({"instances": [over]}, (32, 64)) == []
    assert label_findings({"instances": [over]}, (32, 64))[0][0] == "warning"
    cut = {**over, "chars": [good["chars"][0], [[50, 5], [70, 5], [70, 20], [50, 20]]]}  # 'b' centred at x=60
    assert "text cut off at the image edge ('b' outside" in label_problems({"instances": [cut]}, (32, 58))[0]
    flat = {**good, "quad": [[10, 5], [50, 5], [50, 5], [10, 5]], "chars": None}
    assert "degenerate" in label_problems({"instances": [flat]}, (32, 64))[0]
    bow = {**good, "quad": [[10, 5], [50, 20], [50, 5], [10, 20]], "chars": None}  # bow-tie
    assert label_problems({"instances": [bow]}, (32, 64)) != []
    few = {**good, "text": "abc"}
    assert "2 char quads for 3 characters" in label_problems({"instances": [few]}, (32, 64))[0]


def test_phash_bands_find_every_pair_within_threshold():
    rng = np.random.default_rng(3)
    for near in (0, 3, 6, 10):
        for _ in range(200):
            h = int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2))
            flips = rng.choice(64, size=near, replace=False)
            g = h
            for f in flips:
                g ^= 1 << int(f)
            assert hamming(h, g) == near
            assert any(x == y for x, y in zip(bands(h, near + 1), bands(g, near + 1)))


def test_phash_separates_different_images_and_keeps_edits_close():
    rng = np.random.default_rng(5)
    a = cv2.GaussianBlur(rng.integers(0, 255, (64, 200, 3)).astype(np.uint8), (0, 0), 3)
    b = cv2.GaussianBlur(rng.integers(0, 255, (64, 200, 3)).astype(np.uint8), (0, 0), 3)
    assert hamming(phash(a), phash(b)) > 12
    assert hamming(phash(a), phash(np.clip(a.astype(int) + 20, 0, 255).astype(np.uint8))) <= 4
