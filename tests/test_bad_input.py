"""Bad input: exit 2, one line naming the problem, no traceback, nothing left behind."""

import importlib.util
import os
import subprocess
import sys

import pytest

import synthgen
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
    listed = tmp_path / "listed"  # a folder whose manifest.json is valid JSON but not an object
    listed.mkdir()
    (listed / "manifest.json").write_text("[]")
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
        # issue 10: each of these was a traceback, a hang or a half-written folder
        "n past the manifest's shards": (["render", "--n", "1e12", "--out", out], "holds at most 10,000,000"),
        "n past the index space": (["render", "--n", "1e19", "--out", out], "2**63 - 1"),
        "seed past 64 bits": (["render", "--n", "4", "--out", out, "--seed", "18446744073709551616"],
                              "--seed must be from 0 to 2**64 - 1"),
        "seed negative": (["render", "--n", "4", "--out", out, "--seed", "-1"], "--seed must be from 0"),
        "seed in config past 64 bits": (["render", "--n", "4", "--out", out, "--set", "seed=18446744073709551616"],
                                        "seed must be from 0"),
        "manifest not an object": (["render", "--n", "4", "--out", str(listed)], "not an object"),
        "unknown protocol": (["render", "--n", "4", "--out", "foo://bar/x"], "unknown storage protocol 'foo'"),
        "s3 without s3fs": (["render", "--n", "4", "--out", "s3://bucket/x"], "pip install s3fs"),
        "preview cell 0": (["preview", "--cell", "0", "-o", str(tmp_path / "p.png")], "--cell 0"),
        "preview cell negative": (["preview", "--cell", "-10", "-o", str(tmp_path / "p.png")], "--cell -10"),
        "preview start negative": (["preview", "--start", "-5", "-o", str(tmp_path / "p.png")], "--start -5"),
        "preview seed past 64 bits": (["preview", "--seed", str(2**64), "-o", str(tmp_path / "p.png")], "--seed"),
        "preview folder missing": (["preview", "-o", str(tmp_path / "no" / "p.png")], "does not exist"),
    }


CASES = ["malformed yaml", "unknown key", "wrong type", "out of range", "unknown pipeline", "n zero", "n negative",
         "n not a number", "n fractional", "out is a file", "unwritable out", "unknown font folder", "corrupt font",
         "unknown font family", "unknown corpus", "bad set syntax", "bad shard size", "preview not png",
         "n past the manifest's shards", "n past the index space", "seed past 64 bits", "seed negative",
         "seed in config past 64 bits", "manifest not an object", "unknown protocol", "s3 without s3fs",
         "preview cell 0", "preview cell negative", "preview start negative", "preview seed past 64 bits",
         "preview folder missing"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_line(case, tmp_path, bad_yaml, unknown_key, capsys):
    if case == "s3 without s3fs" and importlib.util.find_spec("s3fs") is not None:
        pytest.skip("s3fs is installed here")
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
    assert "synthgen 0.1.0" in err and f"sample stream 1, now {synthgen.SAMPLE_STREAM}" in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in out.iterdir()} == before


def test_refused_ray_job_leaves_nothing(tmp_path):
    """No cluster at --ray-address auto: one line, exit 2, and no folder (the manifest used to
    be written before Ray was asked)."""
    pytest.importorskip("ray")
    out = tmp_path / "x"
    env = {**os.environ, "RAY_ADDRESS": "", "RAY_TMPDIR": str(tmp_path / "raytmp")}  # no `ray start` to find
    r = subprocess.run([sys.executable, "-m", "synthgen.cli", "render", "--n", "4", "-q", "--executor", "ray",
                        "--ray-address", "auto", "--out", str(out), "--set", "image.width=64", "--set", "image.height=64"],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("synthgen: error: cannot connect to Ray"), r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()
