"""Issue 22, items 13 (messages), 14 (docs) and 16 (data). Each test here failed before its fix:
a --set error blamed the shipped YAML, `check` leaked Python's words for a malformed manifest
or accepted nonsense arguments, `fonts check` called the user's file "shipped", --help printed
"95%%", a corrupt JPEG printed libjpeg's line; the quick start needed sudo, the README's sizes,
webdataset snippet, Layout and a pipeline's comment example were wrong, `synthgen factors` left
config keys blank; the CN back's watermark was unlabelled text, portraits had a stray bar and a
notch in the hair, and the line contact sheet left most of itself empty."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import tarfile
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from synthgen.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _one_line(err: str, needle: str) -> None:
    assert err.count("\n") == 1 and err.startswith("synthgen: error: "), err
    assert "Traceback" not in err, err
    assert needle in err, err


def _section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert m, title
    return m.group(1)


@pytest.fixture(scope="module")
def lines(tmp_path_factory) -> Path:
    """A finished 4-sample ocr_line dataset (one shard)."""
    out = tmp_path_factory.mktemp("msg") / "lines"
    assert main(["render", "ocr_line", "--n", "4", "--out", str(out), "--workers", "1", "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def cards(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("msg") / "cards"
    assert main(["render", "idcard_cn", "--n", "2", "--out", str(out), "--workers", "1", "-q"]) == 0
    return out


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


# -- 13. messages --------------------------------------------------------------------------------
@pytest.mark.parametrize("sets,needle", [
    (["augment.nosuch=1"], "--set augment.nosuch: unknown key"),
    (["augment.strength=abc"], "--set augment.strength: Input should be a valid number"),
    (["augment.strength.x=1"], "--set augment.strength.x: augment.strength is a value (0.3), not a section"),
    (["augment={nosuch: 1}"], "--set augment: augment.nosuch: unknown key"),
])
def test_set_errors_name_the_set_flag_not_the_shipped_yaml(tmp_path, capsys, sets, needle) -> None:
    args = ["render", "ocr_line", "--n", "1", "--out", str(tmp_path / "o")]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 2
    err = capsys.readouterr().err
    _one_line(err, needle)
    assert not err.startswith(f"synthgen: error: {ROOT / 'pipelines'}"), err  # the file is fine: the flag is not
    assert not (tmp_path / "o").exists()


def test_a_bad_key_in_the_users_own_file_still_names_the_file(tmp_path, capsys) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text((ROOT / "pipelines" / "ocr_line.yaml").read_text() + "\nnosuchkey: 1\n")
    assert main(["render", str(bad), "--n", "1", "--out", str(tmp_path / "o")]) == 2
    _one_line(capsys.readouterr().err, f"{bad}: nosuchkey: unknown key")


@pytest.mark.parametrize("value,needle", [
    ("augment.strength=abc", "--set augment.strength: Input should be a valid number"),
    ("augment.nosuch=1", "--set augment.nosuch: unknown key"),
])
def test_a_dataset_audits_set_errors_are_one_line(lines, tmp_path, capsys, value, needle) -> None:
    """Was a pydantic ValidationError traceback (audit of a dataset validates augment.* alone)."""
    assert main(["audit", str(lines), "--set", value, "--n", "2", "-q", "--out", str(tmp_path / "a")]) == 2
    _one_line(capsys.readouterr().err, needle)


@pytest.mark.parametrize("manifest,needle", [
    ("[]", "manifest.json is unreadable (a JSON list, not an object)"),
    ('{"shards": [1]}', "malformed shard list (entry 0 is a number, not an object"),
    ('{"shards": {"a": 1}}', "malformed shard list ('shards' is an object, not a list)"),
    ('{"shards": [{"nam": 3}]}', 'malformed shard list (entry 0 has no "name" string)'),
    ('{"shards": [{"name": "shard-000000.tar", "count": "x"}]}', 'count "x", not a whole number'),
    ('{"shards": [{"name": "shard-000000.tar", "count": 4, "sha256": 5}]}', "sha256 5, not a hex string"),
    ('{"shards": [[1]]}', "entry 0 is a list, not an object"),
])
def test_check_names_a_malformed_manifest_in_json_terms(lines, tmp_path, capsys, manifest, needle) -> None:
    d = _copy(lines, tmp_path / "d")
    (d / "manifest.json").write_text(manifest)
    assert main(["check", str(d), "-q"]) == 1  # a failing finding; the shards are still checked
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and err == "", err
    found = [ln for ln in out.splitlines() if needle in ln]
    assert len(found) == 1 and found[0].startswith("ERROR   shard:"), out
    for python in ("not subscriptable", "string indices", "invalid literal", "KeyError", "'name')"):
        assert python not in out, out
    assert f"{d}: 4 samples" in out


@pytest.mark.parametrize("args,needle", [
    (["--identity", "bad.path"], "--identity bad.path: no sample's label has that path; its labels have e.g. "
                                 "meta.identity.id_number"),
    (["--identity", "a..b"], "--identity 'a..b' is not a dotted path"),
    (["--identity", ""], "is not a dotted path"),
    (["--limit", "-1"], "--limit must be >= 0"),
    (["--tolerance", "-5"], "--tolerance must be a finite slack >= 0 px"),
    (["--tolerance", "nan"], "--tolerance must be a finite slack >= 0 px"),
    (["--tolerance", "inf"], "--tolerance must be a finite slack >= 0 px"),
])
def test_check_refuses_bad_arguments_in_one_line(cards, capsys, args, needle) -> None:
    assert main(["check", str(cards), "-q", *args]) == 2
    out, err = capsys.readouterr()
    _one_line(err, needle)
    assert out == ""


def test_check_identity_on_a_dataset_without_identities_says_to_leave_it_out(lines, capsys) -> None:
    assert main(["check", str(lines), "-q", "--identity", "meta.identity.id_number"]) == 2
    _one_line(capsys.readouterr().err, "its labels hold no meta.identity: leave --identity out")


def test_check_accepts_a_real_identity_path_and_limit_zero(cards, capsys) -> None:
    assert main(["check", str(cards), "-q", "--identity", "meta.identity.id_number", "--limit", "0",
                 "--tolerance", "0"]) in (0, 1)
    assert capsys.readouterr().err == ""


def test_fonts_check_labels_the_users_corpus_file_by_its_path(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("words.txt").write_text("hello world\nabc\n", encoding="utf-8")
    assert main(["fonts", "check", "--corpus", "words.txt", "--corpus", "en_words", "--family", "dejavu"]) == 0
    out = capsys.readouterr().out
    corpora = out.split("corpora:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    mine = [ln for ln in corpora if ln.split()[0] == "words.txt"]
    shipped = [ln for ln in corpora if ln.split()[0] == "en_words"]
    assert len(mine) == 1 and mine[0].split()[-1] == "words.txt" and "shipped" not in mine[0], corpora
    assert len(shipped) == 1 and shipped[0].split()[-1] == "shipped", corpora


def _parsers(ap, prefix=()):
    import argparse

    yield prefix, ap
    for act in ap._actions:
        if isinstance(act, argparse._SubParsersAction):
            for name, sub in act.choices.items():
                yield from _parsers(sub, (*prefix, name))


def test_no_help_text_prints_a_doubled_percent() -> None:
    from synthgen.cli import build_parser

    ap, _ = build_parser()
    seen = 0
    for path, p in _parsers(ap):
        text = p.format_help()
        assert "%%" not in text, f"synthgen {' '.join(path)} --help prints '%%'"
        seen += 1
    assert seen > 15
    texts = {" ".join(path): p.format_help() for path, p in _parsers(ap)}
    assert "Wilson 95% interval" in " ".join(texts["audit"].split())
    assert ">= 90% of GB2312" in " ".join(texts["fonts list"].split())


def _corrupt_jpeg_dataset(src: Path, dst: Path) -> Path:
    """A copy of `src`'s shard whose sample 1 JPEG has an EOI marker in its scan (libjpeg:
    "Corrupt JPEG data: premature end of data segment", and it still decodes)."""
    dst.mkdir()
    shard = next(src.glob("shard-*.tar"))
    with tarfile.open(shard) as t, tarfile.open(dst / shard.name, "w", format=tarfile.USTAR_FORMAT) as o:
        for m in t.getmembers():
            b = t.extractfile(m).read()
            if m.name.endswith("000000001.jpg"):
                b = bytearray(b)
                b[len(b) // 2 : len(b) // 2 + 2] = b"\xff\xd9"
                b = bytes(b)
            info = tarfile.TarInfo(m.name)
            info.size = len(b)
            o.addfile(info, io.BytesIO(b))
    return dst


def test_a_corrupt_jpeg_is_one_finding_and_no_stray_libjpeg_line(lines, tmp_path, capfd) -> None:
    d = _corrupt_jpeg_dataset(lines, tmp_path / "cj")
    assert main(["check", str(d), "-q"]) == 1
    out, err = capfd.readouterr()  # fd level: libjpeg writes to fd 2, not sys.stderr
    assert "Corrupt JPEG" not in err and err == "", err
    found = [ln for ln in out.splitlines() if "is corrupt (Corrupt JPEG data" in ln]
    assert len(found) == 1 and "000000001 in shard-000000.tar: its .jpg image" in found[0], out


def test_decode_hands_libjpeg_messages_back(capfd) -> None:
    from synthgen.io.images import decode

    ok = cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))[1].tobytes()
    img, said = decode(ok)
    assert img.shape == (16, 16, 3) and said == ""
    bad = bytearray(ok)
    bad[-10:-8] = b"\xff\xd9"
    img, said = decode(bytes(bad))
    assert said and "\n" not in said  # libjpeg's complaint, one line, handed back
    os.write(2, b"fd 2 restored\n")
    assert capfd.readouterr().err == "fd 2 restored\n"  # and nothing of libjpeg's
    assert decode(b"not an image")[0] is None


# -- 14. docs -----------------------------------------------------------------------------------
def _quick_start() -> str:
    return re.search(r"```bash\n(.*?)\n```", _section("Quick start"), re.S).group(1).strip()


@pytest.mark.parametrize("uid,has_sudo", [(0, False), (0, True), (1000, True)])
def test_quick_start_installs_as_root_without_sudo_and_as_a_user_with_it(tmp_path, uid, has_sudo) -> None:
    """The README's system-package steps, run by bash with stub `id`, `apt-get` (and `sudo`):
    root calls apt-get itself (a container has no sudo), a user goes through sudo."""
    cmd = _quick_start()
    steps = cmd.split(" && ")
    apt = " && ".join(s for s in steps if "apt-get" in s or s.startswith("SUDO="))
    assert "apt-get install -y python3-venv python3-dev gcc libfribidi0" in apt
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "log"
    stubs = {"id": f'[ "$1" = -u ] && echo {uid} || /usr/bin/id "$@"',
             "apt-get": f'[ "$(id -u)" = 0 ] || {{ echo "apt-get: not root" >&2; exit 100; }}; echo "apt-get $*" >> {log}'}
    if has_sudo:
        stubs["sudo"] = f'echo "sudo $*" >> {log}; exec env SUDO_AS_ROOT=1 "$@"'
        stubs["id"] = f'[ "$1" = -u ] && {{ [ -n "$SUDO_AS_ROOT" ] && echo 0 || echo {uid}; }} || /usr/bin/id "$@"'
    for name, body in stubs.items():
        (bin_ / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_ / name).chmod(0o755)
    path = f"{bin_}:/usr/bin:/bin" if has_sudo else f"{bin_}:{_path_without('sudo')}"
    r = subprocess.run(["bash", "-c", apt], env={"PATH": path, "HOME": str(tmp_path)}, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    calls = log.read_text().splitlines()
    assert calls[-1] == "apt-get install -y python3-venv python3-dev gcc libfribidi0", calls
    if uid == 0:
        assert not any(c.startswith("sudo") for c in calls), calls
    else:
        assert "sudo apt-get install -y python3-venv python3-dev gcc libfribidi0" in calls, calls


def _path_without(tool: str) -> str:
    """A PATH of system folders holding no `tool` (sudo is absent, as in a root container)."""
    keep = [d for d in ("/usr/local/bin", "/usr/bin", "/bin") if not (Path(d) / tool).exists()]
    if len(keep) < 2:  # sudo installed here: a folder of links to what bash needs, without it
        pytest.skip(f"{tool} is installed in the system folders")
    return ":".join(keep)


def test_ci_installs_system_packages_with_the_readme_sudo_idiom() -> None:
    idiom = 'SUDO=$([ "$(id -u)" = 0 ] || echo sudo)'
    assert _quick_start().startswith(idiom + ";")
    ci = (ROOT / ".ci" / "run").read_text()
    assert idiom in ci and "$SUDO apt-get update" in ci and "$SUDO apt-get install -y" in ci
    assert "sudo apt-get" not in _quick_start() and "sudo apt-get" not in ci


def test_readme_document_sizes_are_what_renders() -> None:
    import synthgen

    table = _section("Pipelines")
    sizes = {}
    for name in ("idcard_cn", "passport_td3", "id_td1", "licence_us"):
        row = next(ln for ln in table.splitlines() if ln.startswith(f"| `{name}`"))
        w, h = map(int, re.search(r"\((\d+) x (\d+) px", row).groups())
        sizes[name] = (h, w)
        assert synthgen.load_pipeline(name, seed=0).sample(0).image.shape[:2] == (h, w), name
    speed = " ".join(_section("Speed").split())
    w, h = map(int, re.search(r"`passport_td3` [\d-]+ cards/s at its true (\d+) x (\d+)", speed).groups())
    assert (h, w) == sizes["passport_td3"]
    w, h = map(int, re.search(r"cards/s at (\d+) x (\d+) \(`--set document.px_per_mm=6.85`\)", speed).groups())
    small = synthgen.load_pipeline("passport_td3", seed=0, **{"document.px_per_mm": 6.85})
    assert small.sample(0).image.shape[:2] == (h, w)


def _python_blocks(title: str) -> list[str]:
    return re.findall(r"```python\n(.*?)\n```", _section(title), re.S)


def test_readme_webdataset_snippet_reads_shards_without_a_warning(lines) -> None:
    pytest.importorskip("webdataset")
    code = next(b for b in _python_blocks("Python") if "webdataset" in b)
    assert "shardshuffle=False" in code
    code = code.replace("/data/scene/shard-{000000..000009}.tar", f"{lines}/shard-{{000000..000000}}.tar")
    code += "\n    seen.append((image.shape, len(labels['instances'])))\n"
    env: dict = {"seen": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, "README.md", "exec"), env)
    shown = [str(w.message) for w in caught if not issubclass(w.category, ResourceWarning)]
    assert shown == [], shown  # was: "WebDataset(shardshuffle=...) is None; set explicitly to False or a number"
    assert len(env["seen"]) == 4 and all(s[0][0] == 32 and s[1] == 1 for s in env["seen"])


def test_readme_python_snippets_run(tmp_path, monkeypatch) -> None:
    """The Python section's first two blocks, as written but for the sizes (a 2-sample render
    into tmp_path, one worker)."""
    monkeypatch.chdir(tmp_path)
    first, second = _python_blocks("Python")[:2]
    first = first.replace('n=10_000, out="/data/scene", workers=8', f'n=2, out="{tmp_path / "scene"}", workers=1')
    env: dict = {}
    exec(compile(first, "README.md", "exec"), env)
    assert env["s"].image.shape == env["t"].image.shape and "word.angle" in env["space"]
    assert env["t"].factors["background.kind"] == "plain"
    assert json.loads((tmp_path / "scene" / "manifest.json").read_text())["n"] == 2
    pytest.importorskip("torch")
    second = second.replace("n=100_000", "n=4").replace("num_workers=8", "num_workers=0")
    env = {}
    exec(compile(second, "README.md", "exec"), env)  # was a NameError: `torch` was never imported
    assert len(env["ds"]) == 4 and env["dl"].batch_size == 16


def test_readme_genegan_snippet_runs() -> None:
    """The GeneGAN section's Python block, exactly as written (the shipped checkpoint, CPU): it
    used a_with, b_without, b, donor and donors without making them (a NameError)."""
    pytest.importorskip("torch")
    (code,) = _python_blocks("GeneGAN: faces and attribute swapping")
    env: dict = {}
    exec(compile(code, "README.md", "exec"), env)
    assert env["a0"].shape == env["bu"].shape == env["a_with"].shape and env["a0"].dtype == np.uint8
    assert env["frames"].shape[-4:] == (5, 64, 64, 3) and env["mix"].shape[-3:] == (64, 64, 3)


def test_readme_layout_names_every_package_module_and_folder() -> None:
    """Every tracked package and module of synthgen/, subcommand and top-level folder is named."""
    block = re.search(r"```\n(.*?)\n```", _section("Layout"), re.S).group(1)
    words = set(re.findall(r"[\w.]+/?", block))
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    inner = [t.split("/", 1)[1] for t in tracked if t.startswith("synthgen/")]
    missing = sorted({f"{t.split('/')[0]}/" for t in inner if "/" in t} - words)
    missing += [t for t in inner if "/" not in t and t.endswith(".py") and t != "__init__.py" and t not in words]
    missing += sorted({f"{t.split('/')[0]}/" for t in tracked if "/" in t and not t.startswith(".")} - words)
    cmd_text = re.search(r"^  commands/(.*?)(?=^  \w+/|^\S)", block, re.S | re.M).group(1)
    commands = [t[len("commands/"):-3] for t in inner if t.startswith("commands/") and t.endswith(".py")]
    missing += [f"commands/{c}" for c in commands if not c.startswith("_") and c not in cmd_text.split()]
    assert missing == [], f"README Layout lacks {missing}"


def _comment_examples() -> list[tuple[str, str]]:
    out = []
    for y in sorted((ROOT / "pipelines").glob("*.yaml")):
        for ln in y.read_text().splitlines():
            m = re.match(r"#\s+(synthgen .*)$", ln)
            if m:
                out.append((y.name, m.group(1).split("  #")[0].strip()))
    return out


@pytest.mark.parametrize("where,example", _comment_examples())
def test_pipeline_comment_examples_run(tmp_path, capsys, where, example) -> None:
    argv = shlex.split(example)[1:]
    cmd = argv[0]
    for flag in ("--n", "-n", "-o", "--out"):  # small and into tmp_path
        if flag in argv:
            k = argv.index(flag)
            del argv[k : k + 2]
    if cmd == "render":
        argv += ["--n", "2", "--out", str(tmp_path / "out"), "--workers", "1", "-q"]
    elif cmd == "preview":
        argv += ["-n", "2", "-o", str(tmp_path / "sheet.png")]
    rc = main(argv)
    assert rc == 0, f"{where}: {example}: {capsys.readouterr().err}"


def test_pinning_a_dotted_factor_through_nested_set_keys_says_how(tmp_path, capsys) -> None:
    assert main(["render", "idcard_cn", "--n", "1", "--out", str(tmp_path / "o"),
                 "--set", "factors.pin.identity.sex=F"]) == 2
    _one_line(capsys.readouterr().err, "factor names hold dots")


@pytest.mark.parametrize("pipeline", ["idcard_cn", "passport_td3", "licence_us"])
def test_factors_fills_the_config_key_of_aug_and_identity_factors(capsys, pipeline) -> None:
    assert main(["factors", pipeline]) == 0
    rows = [ln.split() for ln in capsys.readouterr().out.splitlines()[1:-1]]
    blank = [r[0] for r in rows if r[0].startswith(("aug.", "identity.", "field[", "document.", "photo."))
             and not re.search(r"augment\.|template |document\.", " ".join(r[3:]))]
    assert blank == [], blank
    from synthgen.pipeline import load_pipeline

    space = load_pipeline(pipeline, seed=0).factor_space()
    assert space["aug.rotate.angle"].src == "augment.ops.rotate.range x augment.strength"
    assert space["aug.rotate.apply"].src == "augment.ops.rotate.p x augment.strength"
    assert space["aug.shadow.angle"].src == "(fixed range; drawn when augment.ops.shadow fires)"
    assert space["identity.sex"].src.startswith("template identity (")


# -- 16. data -----------------------------------------------------------------------------------
def _watermarked_templates() -> list[tuple[str, str]]:
    import yaml

    out = []
    for t in sorted((ROOT / "templates").glob("*/template.yaml")):
        doc = yaml.safe_load(t.read_text())
        if any(layer.get("kind") == "watermark" for layer in doc.get("background") or []):
            out.append(t.parent.name)
    return out


@pytest.mark.parametrize("template", _watermarked_templates())
def test_watermark_text_is_a_dont_care_line_covering_its_ink(template) -> None:
    import synthgen
    from synthgen.renderers.cardart import rotated_text_mask
    from synthgen.templates.loading import load_template
    from synthgen.templates.schema import WatermarkLayer

    pipeline = {"idcard_cn_back": "idcard_cn", "id_td1_back": "id_td1"}[template]
    pipe = synthgen.load_pipeline(pipeline, seed=0, **{"augment.strength": 0})
    s = pipe.sample(3, pinned={"document.template": template})
    t = load_template(template)
    layers = [la for la in t.cfg.background if isinstance(la, WatermarkLayer)]
    marks = [i for i in s.instances if i.field == "watermark"]
    assert [m.text for m in marks] == [la.text for la in layers]
    W, H = t.size_px
    for m, la in zip(marks, layers):
        assert m.ignore and m.kind == "line"
        ink = rotated_text_mask(t.faces[la.font], int(round(la.size_mm * t.px)), la.text, la.angle, (W, H),
                                tuple(v * t.px for v in la.center_mm))
        ys, xs = np.nonzero(ink > 8)
        contour = m.quad.reshape(-1, 1, 2).astype(np.float32)
        worst = min(cv2.pointPolygonTest(contour, (float(x) + 0.5, float(y) + 0.5), True) for x, y in zip(xs, ys))
        assert worst >= -1.0, f"ink {-worst:.1f} px outside the watermark's quad"
        area = cv2.contourArea(contour)
        box = (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)
        assert area <= 1.1 * box  # tight: the ink extents, not a blanket over the card
    if template == "idcard_cn_back":
        assert marks[0].text == "RESIDENT IDENTITY"


class _Recorder:
    """Stands in for procedural._Canvas: records the polygons and lines a hair function draws."""

    def __init__(self) -> None:
        self.polys: list[np.ndarray] = []
        self.lines: list[tuple[np.ndarray, float]] = []

    def poly(self, pts, color, depth=0.0) -> None:
        self.polys.append(np.asarray(pts, np.float64))

    def line(self, pts, color, thick, depth=0.0, closed=False) -> None:
        self.lines.append((np.asarray(pts, np.float64), thick))


def _specs(n: int = 60):
    from synthgen.draws import Draws
    from synthgen.faces.procedural import face_spec

    for i in range(n):
        s = face_spec(Draws(11, i))
        for part in (s["part"], -0.5, 0.5):
            for fringe in (s["fringe"], -0.15, 0.35):
                yield {**s, "part": part, "fringe": fringe}


def test_the_hair_shine_stays_inside_the_hair() -> None:
    """The lighter strand was a straight bar from the parting towards the hairline, pushed 0.35
    sideways: with the parting far to one side and a high fringe it stuck out past the hair."""
    from synthgen.faces.procedural import _hair_front

    checked = 0
    for s in _specs():
        if s["hair_style"] == "bald":
            continue
        rec = _Recorder()
        _hair_front(rec, s)
        hair = rec.polys[0].reshape(-1, 1, 2).astype(np.float32)  # the cap and fringe
        for pts, thick in rec.lines:
            dense = np.concatenate([np.linspace(a, b, 8) for a, b in zip(pts[:-1], pts[1:])])
            inside = min(cv2.pointPolygonTest(hair, (float(x), float(y)), True) for x, y in dense)
            assert inside >= thick / 2, f"the shine leaves the hair by {thick / 2 - inside:.3f} (style {s['hair_style']})"
            checked += 1
    assert checked > 100


def test_long_hair_outline_has_no_notch() -> None:
    """Long hair's back: its top arc stopped one step short on the right and a second polygon
    joined it with a crossing edge, cutting a notch into the right-hand outline. The outline is
    symmetric about the head's axis."""
    from synthgen.faces.procedural import _hair_back

    n = 0
    for s in _specs(40):
        if s["hair_style"] != "long":
            continue
        rec = _Recorder()
        _hair_back(rec, s)
        k, off = 100.0, np.array([300.0, 250.0])  # 100 px per head unit
        mask = np.zeros((500, 600), np.uint8)
        for p in rec.polys:
            cv2.fillPoly(mask, [np.rint((p * k + off) * 16).astype(np.int32)], 255, cv2.LINE_8, 4)
        mirror = mask[:, ::-1]
        mirror = np.roll(mirror, 1, axis=1)  # x -> 600 - x about the axis at 300
        diff = cv2.erode((mask != mirror).astype(np.uint8), np.ones((3, 3), np.uint8))
        assert diff.sum() == 0, f"outline not symmetric: {int(diff.sum())} px differ beyond the edge"
        n += 1
    assert n >= 3


def test_line_contact_sheet_packs_lines_in_rows() -> None:
    """32 px lines in square cells left ~83% of the sheet empty: lines are packed in rows, each
    at its own aspect, scaled to cell / 6 px high (64 px at the default cell)."""
    import synthgen
    from synthgen.core import Instance, Sample
    from synthgen.viz import contact_sheet

    pipe = synthgen.load_pipeline("ocr_line", seed=0)
    sheet = contact_sheet([pipe.sample(i) for i in range(16)], cell=384)
    empty = float((sheet == 32).all(-1).mean())
    assert empty < 0.6, f"{empty:.0%} of the sheet is empty"
    assert sheet.shape[1] == 4 * 384 and sheet.shape[0] < 2 * (384 + 16)

    def line(k: int, w: int) -> Sample:
        img = np.full((32, w, 3), 200, np.uint8)
        return Sample(f"{k:09d}", img, [Instance(np.array([[2, 2], [w - 2, 2], [w - 2, 30], [2, 30]]), "x")])

    # 8 lines of 256 x 32 -> 512 x 64 each; sheet 3 x 384 = 1152 wide: two a row, four rows
    sheet = contact_sheet([line(k, 256) for k in range(8)], cell=384)
    gap, label = 6, 16
    assert sheet.shape == (4 * (64 + label) + 5 * gap, 3 * 384, 3)
    tile = sheet[gap : gap + 64, gap : gap + 512]
    assert (tile[10:50, 10:500] == 200).all()  # the line, scaled 2x, at its own aspect
    x2 = gap + 512 + gap  # the second beside it
    assert (sheet[gap + 10 : gap + 50, x2 + 10 : x2 + 500] == 200).all() and (sheet[gap : gap + 64, x2 - gap] == 32).all()
    # a line wider than the sheet is scaled down to fit
    wide = contact_sheet([line(0, 4000), line(1, 300)], cell=384)
    assert wide.shape[1] == 2 * 384
    # scenes keep the square grid
    scene = synthgen.load_pipeline("ocr_scene", seed=0)
    grid = contact_sheet([scene.sample(i) for i in range(4)], cell=128)
    assert grid.shape == (2 * (128 + 16), 2 * 128, 3)
