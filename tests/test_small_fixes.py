"""Small defects, each with the test that showed it: `render --split` naming --split and the parts,
`preview -o` checked before any sample is drawn."""

from __future__ import annotations

import pytest

from synthgen.cli import main


def one_line(capsys, argv) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("synthgen: error: ") and "Traceback" not in err, err
    return err


def test_render_unknown_split_names_split_and_the_parts(tmp_path, capsys):
    """Was `--set split: (top level): Value error, split 'nope' is not one of splits.ratios ...`:
    blamed a --set key the user never gave."""
    out = tmp_path / "out"
    err = one_line(capsys, ["render", "ocr_line", "--n", "2", "-q", "--out", str(out), "--split", "nope"])
    assert "--split 'nope'" in err and "--set" not in err and "train, val, test" in err, err
    assert not out.exists()
    # the parts are the config's own (after --set): a renamed part is what --split takes
    err = one_line(capsys, ["render", "ocr_line", "--n", "2", "-q", "--out", str(out), "--split", "train",
                            "--set", "splits.ratios={dev: 0.5, test: 0.5}"])
    assert "--split 'train'" in err and "dev, test" in err, err
    assert not out.exists()


def test_preview_unwritable_output_is_refused_before_rendering(tmp_path, capsys, monkeypatch):
    """`preview -o /proc/x.png` rendered every sample, then failed writing the sheet (a message
    not naming -o)."""
    import synthgen.pipeline

    loaded = []
    real = synthgen.pipeline.load_pipeline
    monkeypatch.setattr(synthgen.pipeline, "load_pipeline", lambda *a, **k: loaded.append(a) or real(*a, **k))
    err = one_line(capsys, ["preview", "ocr_line", "-n", "2", "-o", "/proc/synthgen-preview.png"])
    assert "-o '/proc/synthgen-preview.png'" in err, err
    assert loaded == [], "the pipeline was built (and samples drawn) before -o was checked"
    # a writable path still works, and an existing sheet is overwritten
    out = tmp_path / "sheet.png"
    out.write_bytes(b"old")
    assert main(["preview", "ocr_line", "-n", "2", "--cell", "64", "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sheet.png"]


def test_preview_probe_leaves_nothing(tmp_path, capsys):
    """The writability probe of a new -o leaves no file behind when a later check refuses."""
    out = tmp_path / "new.png"
    one_line(capsys, ["preview", "nosuch-pipeline", "-n", "2", "-o", str(out)])
    assert not out.exists()


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
