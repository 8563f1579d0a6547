"""Issue 22, defects 9-12: export's crop size and what an interrupt keeps, templates validated
all at once with sane ages, one --seed parser, an empty --out, pipeline names that are paths,
SIGTERM, and the --no-verify resume message. Each test here failed before its fix (a traceback,
a value accepted, the first bad template only, a message that was not true)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import yaml

from synthgen.cli import main

from .helpers import fault_cli
from .helpers import until as _until

SMALL = ["--set", "image.width=128", "--set", "image.height=128"]


def _one_line(err: str, needle: str) -> None:
    assert err.count("\n") == 1 and err.startswith("synthgen: error: "), err
    assert "Traceback" not in err, err
    assert needle in err, err


# -- 9. export: crop size bound, out of memory, what Ctrl-C keeps -----------------------------------


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("scene") / "src"
    assert main(["render", "ocr_scene", "--n", "4", "--shard-size", "2", "-q", "--workers", "1", "--out", str(src),
                 *SMALL]) == 0
    return src


def _nothing_exported(tmp_path: Path) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) == [], list(tmp_path.iterdir())


@pytest.mark.parametrize("to", ["lmdb", "paddleocr-rec"])
@pytest.mark.parametrize("height", ["100000", "1025", "0"])
def test_export_height_out_of_bounds_is_one_line(scene, tmp_path, to, height, capsys):
    """Issue 22.9: --height 100000 was cv2's out-of-memory traceback (a 124 GB warp)."""
    assert main(["export", str(scene), "--to", to, str(tmp_path / "out"), "--height", height, "-q"]) == 2
    _one_line(capsys.readouterr().err, "--height must be a whole number of pixels from 1 to 1024")
    _nothing_exported(tmp_path)


def test_export_help_states_the_height_bound(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "1 to 1024" in " ".join(capsys.readouterr().out.split())


def test_export_crop_wider_than_the_bound_is_one_line(scene, tmp_path, monkeypatch, capsys):
    """A long line at a large --height: refused in one line naming the sample, not a warp of any size."""
    import synthgen.io.exports as ex

    monkeypatch.setattr(ex, "MAX_CROP_WIDTH", 40, raising=False)
    assert main(["export", str(scene), "--to", "lmdb", str(tmp_path / "out"), "--height", "1024", "-q"]) == 2
    _one_line(capsys.readouterr().err, "at most 40 px wide); lower --height")
    _nothing_exported(tmp_path)


def test_export_out_of_memory_is_one_line(scene, tmp_path, monkeypatch, capsys):
    """OpenCV failing to allocate (within the bounds: a small machine) is one line, exit 1, nothing left."""
    import cv2

    def oom(*a, **k):
        raise cv2.error("OpenCV(5.1.0) alloc.cpp:73: error: (-4:Insufficient memory) Failed to allocate 1 bytes")

    monkeypatch.setattr(cv2, "warpPerspective", oom)
    assert main(["export", str(scene), "--to", "paddleocr-rec", str(tmp_path / "out"), "-q"]) == 1
    _one_line(capsys.readouterr().err, "out of memory cropping instance")
    _nothing_exported(tmp_path)


def test_export_interrupt_says_nothing_was_kept(scene, tmp_path, monkeypatch, capsys):
    """Issue 22.9: after Ctrl-C export said "finished shards are kept" though it keeps nothing."""
    import synthgen.io.exports as ex

    real, calls = ex.crop_quad, []

    def interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(ex, "crop_quad", interrupted)
    assert main(["export", str(scene), "--to", "lmdb", str(tmp_path / "out"), "-q"]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("synthgen: interrupted; nothing was exported"), err
    assert "shards are kept" not in err
    _nothing_exported(tmp_path)


def test_every_command_says_what_an_interrupt_keeps():
    """Each subcommand states its own INTERRUPTED; only those that write shards claim to keep them."""
    import argparse

    from synthgen import commands

    mods = commands.modules()
    assert len(mods) >= 13
    for m in mods:
        said = getattr(m, "INTERRUPTED", None)
        assert said, f"{m.__name__} does not say what Ctrl-C keeps"
        for sub in ("train", "swap", "eval"):
            text = said(argparse.Namespace(gan_cmd=sub, out="o")) if callable(said) else said
            assert "\n" not in text
            job = m.__name__.rsplit(".", 1)[1] in ("render", "augment", "mine")
            assert (" are kept: rerun the same command to resume" in text) == job, (m.__name__, text)


# -- 10. templates validate: every path, ages ---------------------------------------------------------


def _template(tmp_path: Path, name: str, **identity) -> Path:
    from synthgen.templates.schema import TEMPLATES

    src = Path(TEMPLATES) / "id_td1"
    dst = tmp_path / name
    dst.mkdir()
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    data = yaml.safe_load((dst / "template.yaml").read_text(encoding="utf-8"))
    data["identity"].update(identity)
    (dst / "template.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return dst


def test_templates_validate_reports_every_bad_one(tmp_path, capsys):
    """Issue 22.10: `templates validate A B C` stopped at the first bad template."""
    a = _template(tmp_path, "a", age=[90, 10])
    b = _template(tmp_path, "b")
    c = _template(tmp_path, "c", age=[-5, 500])
    assert main(["templates", "validate", str(a), str(b), str(c), "nosuch_template"]) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 3 and all(x.startswith("synthgen: error: ") for x in lines), err
    assert str(a / "template.yaml") in lines[0] and "identity.age" in lines[0]
    assert str(c / "template.yaml") in lines[1] and "identity.age" in lines[1]
    assert "nosuch_template" in lines[2] and "Traceback" not in err
    assert out.splitlines() == [x for x in out.splitlines() if x.startswith(f"ok: {b / 'template.yaml'}")] and out
    assert main(["templates", "validate", str(b), "id_td1"]) == 0


AGES = {
    "reversed": ([90, 10], "age range must be [youngest, oldest], got [90, 10]"),
    "negative and past 120": ([-5, 500], "ages must lie in 0..120 years, got [-5, 500]"),
    "past 120": ([20, 121], "ages must lie in 0..120"),
    "younger than the profile issues to": ([1, 5], "issues documents to holders aged 16 or more"),
}


@pytest.mark.parametrize("case", sorted(AGES))
def test_template_ages_are_checked(case, tmp_path, capsys):
    """Issue 22.10: age [90, 10] and [-5, 500] passed validation (holders born in 1587)."""
    age, needle = AGES[case]
    extra = {"profile": "us_licence"} if case.startswith("younger") else {}
    t = _template(tmp_path, "t", age=age, **extra)
    assert main(["templates", "validate", str(t)]) == 2
    err = capsys.readouterr().err
    _one_line(err, needle)
    assert f"{t / 'template.yaml'}: identity.age: " in err and "Value error" not in err


def test_template_name_is_a_plain_token(tmp_path, capsys):
    t = _template(tmp_path, "t")
    data = yaml.safe_load((t / "template.yaml").read_text(encoding="utf-8"))
    data["name"] = "../../etc"
    (t / "template.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(["templates", "validate", str(t)]) == 2
    _one_line(capsys.readouterr().err, "name: '../../etc' is not a plain name")


# -- 11. one --seed parser ---------------------------------------------------------------------------


def _seed_actions():
    import argparse

    from synthgen.cli import build_parser

    ap, _ = build_parser()
    found = []

    def walk(p: argparse.ArgumentParser, path: str) -> None:
        for act in p._actions:
            if "--seed" in act.option_strings:
                found.append((path, act))
            if isinstance(act, argparse._SubParsersAction):
                for name, sub in act.choices.items():
                    walk(sub, f"{path} {name}".strip())

    walk(ap, "")
    return found


def test_every_seed_option_uses_the_one_parser():
    """Issue 22.11: -1 was accepted by factors/audit/mine/augment and refused by render."""
    from synthgen.commands._args import seed_arg

    found = _seed_actions()
    names = {path for path, _ in found}
    assert {"render", "factors", "audit", "mine", "augment", "preview", "bench", "legibility", "templates preview",
            "gan train"} <= names, names
    assert [path for path, act in found if act.type is not seed_arg] == []


SEEDED = {
    "render": ["render", "ocr_line", "--n", "1"],
    "factors": ["factors", "ocr_line"],
    "audit": ["audit", "ocr_line", "--n", "2"],
    "mine": ["mine", "ocr_line", "--model", "nosuch:fn"],
    "augment": ["augment", "src", "--out", "aug", "--strength", "0.1"],
    "preview": ["preview", "ocr_line", "-n", "1"],
    "legibility": ["legibility", "ocr_line", "--n", "1"],
    "templates preview": ["templates", "preview", "id_td1", "-n", "1"],
    "gan train": ["gan", "train", "--out", "g", "--steps", "1"],
}


@pytest.mark.parametrize("seed", ["-1", str(2**64), "x", "1.5"])
@pytest.mark.parametrize("cmd", sorted(SEEDED))
def test_bad_seed_is_refused_by_every_command(cmd, seed, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*SEEDED[cmd], "--seed", seed]) == 2
    _one_line(capsys.readouterr().err, "--seed must be ")
    assert list(tmp_path.iterdir()) == []


def test_good_seed_spellings(capsys):
    from synthgen.commands._args import seed_arg

    assert seed_arg("0") == 0 and seed_arg("1_000") == 1000 and seed_arg(str(2**64 - 1)) == 2**64 - 1
    assert main(["factors", "ocr_line", "--seed", "7"]) == 0


# -- 12. --out '', pipeline names, SIGTERM, the --no-verify message ----------------------------------


EMPTY_OUT = {
    "render": (["render", "ocr_line", "--n", "2", "-q"], "--out '' is empty"),
    "augment": (["augment", "src", "--strength", "0.1", "-q"], "--out '' is empty"),
    "mine": (["mine", "ocr_line", "--model", "tests.test_bad_input_more:judge", "--rounds", "1",
              "--per-round", "2", "-q"], "--out '' is empty"),
    "audit": (["audit", "ocr_line", "--n", "2", "-q"], "--out '' is empty"),
    "legibility": (["legibility", "ocr_line", "--n", "1", "-q"], "--out '' is empty"),
}


@pytest.mark.parametrize("blank", ["", " "])
@pytest.mark.parametrize("cmd", sorted(EMPTY_OUT))
def test_empty_out_is_refused(cmd, blank, tmp_path, monkeypatch, capsys):
    """Issue 22.12: `render --out ''` silently wrote into the default runs/<name>."""
    args, needle = EMPTY_OUT[cmd]
    monkeypatch.chdir(tmp_path)
    if cmd == "augment":
        args = ["augment", str(_line_src(tmp_path)), *args[2:]]
    before = set(tmp_path.rglob("*"))
    assert main([*args, "--out", blank]) == 2
    _one_line(capsys.readouterr().err, needle.replace("''", repr(blank)))
    assert set(tmp_path.rglob("*")) == before


def judge(samples) -> list[float]:  # a mine --model
    return [0.0] * len(samples)


def _line_src(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    assert main(["render", "ocr_line", "--n", "2", "-q", "--workers", "1", "--out", str(src)]) == 0
    return src


@pytest.mark.parametrize("name", ["../../etc", "/tmp/x", "a/b", ".hidden", "", "a b", "x" * 101])
def test_pipeline_name_is_a_plain_token(name, tmp_path, monkeypatch, capsys):
    """Issue 22.12: a pipeline `name: ../../etc` wrote its dataset to runs/../../etc."""
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "p.yaml"
    cfg.write_text(yaml.safe_dump({"name": name, "kind": "line"}))
    assert main(["render", str(cfg), "--n", "1", "-q"]) == 2
    _one_line(capsys.readouterr().err, "is not a plain name")
    assert main(["render", "ocr_line", "--n", "1", "-q", "--set", f"name={name}"]) == 2
    _one_line(capsys.readouterr().err, "is not a plain name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]


def test_plain_pipeline_names_pass():
    from synthgen.config import validate

    for name in ("x", "ocr_scene", "my-scene.v2", "2020-13-01", "_a"):
        assert validate({"name": name, "kind": "line"}, "test").name == name


def test_sigterm_is_one_line_exit_143_and_keeps_finished_shards(tmp_path):
    """Issue 22.12: SIGTERM exited 143 with no message. Now: the same clean-up as Ctrl-C (workers
    stopped, no .partial, the manifest lists the finished shards) and one line that is true."""
    out = tmp_path / "ds"
    # shards 2 and 3 (samples 8, 12) never finish: two workers busy, shards 0 and 1 done
    p = subprocess.Popen([*fault_cli(stall_at=[8, 12]), "render", "ocr_line", "--n", "16", "--shard-size", "4",
                          "--workers", "2", "-q", "--out", str(out)],
                         stdout=open(tmp_path / "stdout.txt", "w"), stderr=open(tmp_path / "stderr.txt", "w"))
    try:
        want = {"shard-000000.tar", "shard-000001.tar", "shard-000002.tar.partial", "shard-000003.tar.partial"}
        _until(lambda: p.poll() is not None or (out.exists() and want <= {q.name for q in out.iterdir()}),
               "two shards done and two stalled")
        assert p.poll() is None, (tmp_path / "stderr.txt").read_text()
        workers = psutil.Process(p.pid).children(recursive=True)
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    err = (tmp_path / "stderr.txt").read_text()
    assert rc == 143, err
    assert err == "synthgen: terminated; finished shards are kept: rerun the same command to resume\n", err
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []
    assert sorted(q.name for q in out.iterdir()) == ["manifest.json", "shard-000000.tar", "shard-000001.tar"]
    man = json.loads((out / "manifest.json").read_text())
    assert [s["name"] for s in man["shards"]] == ["shard-000000.tar", "shard-000001.tar"]


def _child_sigterms_itself(q) -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
    q.put("survived")


def test_sigterm_handler_is_the_main_process_only():
    """A forked child that inherits the CLI's handler dies of SIGTERM as before (no Terminated
    unwinding through a worker); the handler is the caller's again after main() returns."""
    from synthgen.cli import _sigterm_raises
    from synthgen.errors import Terminated

    before = signal.getsignal(signal.SIGTERM)
    with _sigterm_raises():
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        child = ctx.Process(target=_child_sigterms_itself, args=(q,))
        child.start()
        child.join(30)
        assert child.exitcode == -signal.SIGTERM and q.empty()
        with pytest.raises(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) == before


def test_ray_init_does_not_take_the_cli_sigterm():
    """ray.init installs sys.exit(15) for SIGTERM (exit code 15, no message); the CLI's handler is
    put back after it, and a library caller's own handler stays Ray's choice."""
    from synthgen.cli import _on_sigterm, _sigterm_raises
    from synthgen.run.ray_exec import _connect

    def ray_handler(signum, frame):
        raise SystemExit(signum)

    class FakeRay:
        def is_initialized(self):
            return False

        def init(self, **kw):
            signal.signal(signal.SIGTERM, ray_handler)

    before = signal.getsignal(signal.SIGTERM)
    try:
        with _sigterm_raises():
            assert _connect(FakeRay(), 1, None) is True
            assert signal.getsignal(signal.SIGTERM) is _on_sigterm
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _connect(FakeRay(), 1, None)
        assert signal.getsignal(signal.SIGTERM) is ray_handler
    finally:
        signal.signal(signal.SIGTERM, before)


def test_no_verify_resume_counts_a_size_mismatch_as_differing(tmp_path, capsys):
    """Issue 22.12: with --no-verify a shard whose size differs from manifest.json was reported as
    one "it does not list"; it is listed, and differs."""
    out = tmp_path / "ds"
    args = ["render", "ocr_line", "--n", "4", "--shard-size", "2", "--workers", "1", "-q", "--out", str(out)]
    assert main(args) == 0
    man = json.loads((out / "manifest.json").read_text())
    size = man["shards"][1]["bytes"]
    with open(out / "shard-000001.tar", "r+b") as f:
        f.truncate(size - 512)
    (out / "shard-000009.tar").write_bytes(b"")  # one it does not list
    capsys.readouterr()
    assert main([*args, "--no-verify"]) == 0
    err = capsys.readouterr().err
    assert (f"rendered again: 1 that differ from it (shard-000001.tar: {size - 512} bytes, manifest.json says "
            f"{size}), 1 it does not list; 1 shards to make") in err, err
    assert json.loads((out / "manifest.json").read_text())["shards"] == man["shards"]
