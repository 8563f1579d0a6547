"""`synthgen fonts check`: coverage of corpora by font faces, checked against fontTools cmaps
read here independently; a corrupt font file is one line naming it and exit code 2."""

import random
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from synthgen.cli import main

REPO = Path(__file__).resolve().parent.parent
DEJAVU = REPO / "fonts" / "dejavu"
FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".otc"}


def cmap(path: Path) -> set[int]:
    return set(TTFont(str(path), lazy=True).getBestCmap())


def split_cols(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def section(out: str, title: str) -> list[str]:
    """Lines of the block that starts with a line beginning with `title`, up to a blank line."""
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(title))
    block = []
    for l in lines[start + 1:]:
        if not l.strip():
            break
        block.append(l)
    return block


def pct(s: str) -> float:
    assert s.endswith("%"), s
    return 0.0005 if s == "<0.1%" else float(s[:-1]) / 100


@pytest.fixture
def corpus(tmp_path):
    sans, mono = cmap(DEJAVU / "DejaVuSans.ttf"), cmap(DEJAVU / "DejaVuSansMono.ttf")
    only_sans = chr(min(c for c in sans - mono if chr(c).isalpha()))  # a letter Sans has, Mono lacks
    lines = ["ab", "abcd", "ab cd", "日本", "x日", only_sans + "a", "qq", "zz"]
    p = tmp_path / "mini.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p, lines


def test_shares_match_cmaps(corpus, capsys):
    path, lines = corpus
    assert main(["fonts", "check", "--family", "dejavu", "--corpus", str(path)]) == 0
    out = capsys.readouterr().out

    # every face, with its file
    faces = {}
    for row in section(out, "font faces")[1:]:
        num, name, file, _ = split_cols(row)
        faces[num] = (name, Path(file).name)
    files = sorted(p.name for p in DEJAVU.iterdir() if p.suffix in FONT_SUFFIXES)
    assert sorted(f for _, f in faces.values()) == files

    # shares, computed here from each file's cmap
    chars = Counter(c for line in lines for c in line if not c.isspace())
    total = sum(chars.values())
    table = {}
    for row in section(out, "share each face")[2:]:
        cols = split_cols(row)
        table[cols[0] if cols[0] != "any face" else "any"] = (pct(cols[-2]), pct(cols[-1]))
    seen = {}
    for num, (name, file) in faces.items():
        cm = cmap(DEJAVU / file) | {ord(" ")}
        ok = lambda c: ord(c) in cm  # noqa: E731
        want_chars = sum(n for c, n in chars.items() if ok(c)) / total
        want_lines = sum(all(ok(c) for c in line) for line in lines) / len(lines)
        got = table[num]
        assert abs(got[0] - want_chars) <= 0.0005 + 1e-9, (name, got, want_chars)
        assert abs(got[1] - want_lines) <= 0.0005 + 1e-9, (name, got, want_lines)
        seen[file] = got
    assert seen["DejaVuSans.ttf"] != seen["DejaVuSansMono.ttf"]  # the corpus tells the faces apart
    assert table["any"] == (pct("85.0%"), pct("75.0%"))  # 日 x2 and 本 lack a glyph; 2 lines of 8

    missing = [l for l in section(out, "characters no face covers") if "mini.txt" in l]
    assert len(missing) == 1 and missing[0].rstrip().endswith("日 本")  # most frequent first
    assert "2 characters" in missing[0]


def test_default_lists_shipped_fonts_and_corpora(capsys):
    assert main(["fonts", "check"]) == 0
    out = capsys.readouterr().out
    shipped = [p for p in (REPO / "fonts").rglob("*") if p.suffix.lower() in FONT_SUFFIXES]
    assert shipped and all(p.name in out for p in shipped)
    for name in ("en_text", "en_words", "zh_words", "zh_chars"):
        assert name in out
    any_row = [l for l in section(out, "share each face") if "any face" in l]
    assert len(any_row) == 1 and len(split_cols(any_row[0])) == 1 + 2 * 4


@pytest.mark.parametrize("content", ["random", "truncated"])
def test_corrupt_font_is_one_clear_line(tmp_path, capsys, content):
    folder = tmp_path / "myfonts"
    folder.mkdir()
    shutil.copy(DEJAVU / "DejaVuSans.ttf", folder / "good.ttf")
    if content == "random":
        data = bytes(random.Random(0).randrange(256) for _ in range(4096))
    else:
        data = (DEJAVU / "DejaVuSans.ttf").read_bytes()[:20_000]
    (folder / "bad.ttf").write_bytes(data)
    assert main(["fonts", "check", "--folder", str(folder)]) == 2
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1 and "Traceback" not in cap.err
    assert "bad.ttf" in cap.err and "good.ttf" not in cap.err
    assert cap.out == ""


@pytest.mark.parametrize("args, expect", [
    (["--corpus", "/no/such/words.txt"], "unknown corpus"),
    (["--family", "comic"], "unknown font family 'comic'"),
    (["--folder", "/no/such/fonts"], "does not exist"),
])
def test_bad_arguments(capsys, args, expect):
    assert main(["fonts", "check", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expect in err
