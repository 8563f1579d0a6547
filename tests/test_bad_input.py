"""Bad input: exit 2, one line naming the problem, no traceback, nothing left behind."""

import os
import subprocess
import sys

import pytest

from synthgen.cli import main


@pytest.fixture
def bad_yaml(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\ntext: {words: [3, 12\n")
    return p


@pytest.fixture
def unknown_key(tmp_path):
    p = tmp_path / "unknown.yaml"
    p.write_text("name: x\ntext:\n  wrods: [3, 12]\n")
    return p


def _cases(tmp_path, bad_yaml, unknown_key):
    afile = tmp_path / "afile"
    afile.write_text("x")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    out = str(tmp_path / "out")
    badfonts = tmp_path / "badfonts"
    badfonts.mkdir()
    (badfonts / "broken.ttf").write_bytes(b"\x00\x01\x00\x00" + bytes(range(256)) * 8)
    return {
        "malformed yaml": (["render", str(bad_yaml), "--n", "4", "--out", out], "malformed YAML"),
        "unknown key": (["render", str(unknown_key), "--n", "4", "--out", out], "text.wrods: unknown key"),
        "wrong type": (["render", "--n", "4", "--out", out, "--set", "text.words=many"], "text.words"),
        "out of range": (["render", "--n", "4", "--out", out, "--set", "augment.strength=1.5"], "augment.strength"),
        "unknown pipeline": (["render", "nope", "--n", "4", "--out", out], "unknown pipeline 'nope'"),
        "n zero": (["render", "--n", "0", "--out", out], "--n must be > 0"),
        "n negative": (["render", "--n", "-5", "--out", out], "--n must be > 0"),
        "n not a number": (["render", "--n", "lots", "--out", out], "--n must be a number"),
        "n fractional": (["render", "--n", "2.5", "--out", out], "whole number"),
        "out is a file": (["render", "--n", "4", "--out", str(afile)], "is a file"),
        # root may write anywhere but a kernel filesystem; others are stopped by the mode bits
        "unwritable out": (["render", "--n", "4", "--out", "/sys/synthgen-out" if os.geteuid() == 0 else str(ro / "sub")],
                           "cannot create output folder" if os.geteuid() == 0 else "not writable"),
        "unknown font folder": (["render", "--n", "4", "--out", out, "--set", "fonts.folders=[/no/such/fonts]"], "font folder '/no/such/fonts' does not exist"),
        "corrupt font": (["render", "--n", "4", "--out", out, "--set", f"fonts.folders=[{badfonts}]"], "broken.ttf"),
        "unknown font family": (["render", "--n", "4", "--out", out, "--set", "fonts.families=[comic]"], "unknown font family 'comic'"),
        "unknown corpus": (["render", "--n", "4", "--out", out, "--set", "text.corpus=[/no/words.txt]"], "unknown corpus"),
        "bad set syntax": (["render", "--n", "4", "--out", out, "--set", "augment.strength"], "expected KEY=VALUE"),
        "bad shard size": (["render", "--n", "4", "--out", out, "--shard-size", "0"], "--shard-size must be > 0"),
        "preview not png": (["preview", "-n", "2", "-o", str(tmp_path / "x.jpg")], "PNG"),
    }


CASES = ["malformed yaml", "unknown key", "wrong type", "out of range", "unknown pipeline", "n zero", "n negative",
         "n not a number", "n fractional", "out is a file", "unwritable out", "unknown font folder", "corrupt font",
         "unknown font family", "unknown corpus", "bad set syntax", "bad shard size", "preview not png"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_line(case, tmp_path, bad_yaml, unknown_key, capsys):
    args, needle = _cases(tmp_path, bad_yaml, unknown_key)[case]
    before = set(tmp_path.rglob("*"))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("synthgen: error: "), err
    assert needle in err
    assert "Traceback" not in err
    assert set(tmp_path.rglob("*")) == before  # nothing written


def test_config_change_on_resume_is_refused(tmp_path, capsys):
    out = tmp_path / "ds"
    base = ["render", "--n", "3", "--out", str(out), "-q", "--set", "image.width=64", "--set", "image.height=64"]
    assert main(base) == 0
    before = {p: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main([*base, "--set", "augment.strength=0.9"]) == 2
    err = capsys.readouterr().err
    assert "different config" in err and "augment.strength: 0.3 -> 0.9" in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in out.iterdir()} == before


def test_non_dataset_folder_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["render", "--n", "2", "--out", str(tmp_path)]) == 2
    assert "holds no synthgen manifest.json" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_console_script_exit_code_and_single_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "synthgen.cli", "render", "--n", "1e0x", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "--n must be a number" in r.stderr
    assert not (tmp_path / "o").exists()


def test_help_explains(capsys):
    with pytest.raises(SystemExit) as e:
        main(["render", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--shard-size" in out and "resumes" in out and "1e6" in out


def test_resume_into_an_older_sample_stream_is_refused(tmp_path, capsys):
    """Same config and seed, but shards from a synthgen whose samples differ: never mixed."""
    import json

    out = tmp_path / "ds"
    base = ["render", "--n", "3", "--out", str(out), "-q", "--set", "image.width=64", "--set", "image.height=64"]
    assert main(base) == 0
    man = json.loads((out / "manifest.json").read_text())
    del man["stream"]  # as written by synthgen 0.1
    man["versions"]["synthgen"] = "0.1.0"
    (out / "manifest.json").write_text(json.dumps(man))
    before = {p: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "synthgen 0.1.0" in err and "sample stream 1, now 2" in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in out.iterdir()} == before
