#!/usr/bin/env python3
"""Rebuild the text corpora in ``synthgen/data/corpus/``.

What it makes (all UTF-8, one entry per line, ``\\n`` line ends, trailing newline)
-------------------------------------------------------------------------------
``en_words.txt``
    English words from SCOWL via Debian's ``wamerican-small`` word list
    (``/usr/share/dict/american-english-small``; SCOWL sizes 10-35, the more common
    words). Kept: ASCII letters only (drops possessives ``'s``, other apostrophes and
    accented words); single letters only "a" and "I"; inflected ``-s``/``-es``/``-ies``
    forms whose base word is also listed are dropped (keeps the list within 10k-30k
    words without losing vocabulary). Deduplicated, in the list's sorted order.

``en_text.txt``
    Natural English text with its punctuation, cut into fragments of 1-40 characters at word
    boundaries: Ambrose Bierce's *The Devil's Dictionary* (1911; public domain, copyright
    expired) via Debian's ``dict-devil`` package (``/usr/share/dictd/devil.dict.dz``). Dict
    markup removed (``{LINK}`` -> LINK, ``_italic_`` -> italic, ``--`` -> ``-``), each entry's
    paragraphs joined, whitespace collapsed; the text is then walked word by word and cut
    into fragments whose target lengths are drawn (a seeded ``random.Random``, so the file is
    reproducible) a third each from 1-12, 13-28 and 29-40 characters, so long lines carry
    real mass. Fragments run across sentence ends as crops of running text do; only printable
    ASCII is kept; duplicates dropped; file order is text order.

``zh_chars.txt``
    The 3,755 GB2312 level-1 hanzi (rows 16-55, bytes 0xB0A1..0xD7F9 decoded with
    Python's ``gb2312`` codec, undefined cells skipped), in GB2312 (pinyin) order.

``zh_words.txt``
    The most frequent 2-4-character words of jieba's ``dict.txt`` (PyPI package
    ``jieba`` 0.42.1, MIT licence), keeping only words made entirely of GB2312 hanzi
    (levels 1 and 2, the characters ``fonts/noto-cjk/NotoSansSC-Subset.otf`` covers;
    if that font exists its cmap is checked too). Sorted by descending frequency,
    ties by word; at most ``--zh-words`` (default 20,000).

Usage
-----
    apt-get install wamerican-small        # Debian 12: 2020.12.07-2
    apt-get install dict-devil             # Debian 12: 1.0-13.1 (or --devil FILE.dict.dz)
    pip install --target /tmp/jieba jieba==0.42.1   # not a project dependency
    python scripts/make_corpus.py --jieba-dict /tmp/jieba/jieba/dict.txt

Licence files written beside them: ``LICENSE.en_words`` (SCOWL's terms: Debian's
copyright file of wamerican-small, verbatim) and ``LICENSE.zh_words`` (jieba's MIT
licence). ``zh_chars.txt`` is a character set (GB 2312-80), not copyrightable content.
``README.md`` in that folder is hand-written, not generated.

The output is deterministic for the same inputs.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "synthgen" / "data" / "corpus"
WORDLIST = Path("/usr/share/dict/american-english-small")
WORDLIST_COPYRIGHT = Path("/usr/share/doc/wamerican-small/copyright")
DEVIL = Path("/usr/share/dictd/devil.dict.dz")
DEVIL_COPYRIGHT = Path("/usr/share/doc/dict-devil/copyright")

# jieba's LICENSE (https://github.com/fxsjy/jieba); the PyPI sdist/wheel carry only "License: MIT".
JIEBA_LICENSE = """The MIT License (MIT)

Copyright (c) 2013 Sun Junyi

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of
the Software, and to permit persons to whom the Software is furnished to do so,
subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS
FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""
CJK_FONT = ROOT / "fonts" / "noto-cjk" / "NotoSansSC-Subset.otf"


def gb2312_chars(rows: range) -> list[str]:
    out = []
    for row in rows:
        for cell in range(1, 95):
            try:
                out.append(bytes([0xA0 + row, 0xA0 + cell]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return out


def en_words(path: Path) -> list[str]:
    raw = path.read_text(encoding="utf-8").splitlines()
    words: list[str] = []
    seen: set[str] = set()
    for w in raw:
        w = w.strip()
        if not re.fullmatch(r"[A-Za-z]+", w) or w in seen:
            continue
        if len(w) == 1 and w not in ("a", "I"):
            continue
        seen.add(w)
        words.append(w)

    def inflected(w: str) -> bool:
        if not w.endswith("s") or len(w) < 4:
            return False
        if w[:-1] in seen:
            return True
        if w.endswith("es") and w[:-2] in seen:
            return True
        return w.endswith("ies") and (w[:-3] + "y") in seen

    return [w for w in words if not inflected(w)]


def zh_words(dict_txt: Path, allowed: set[str], limit: int) -> list[str]:
    entries: list[tuple[int, str]] = []
    seen: set[str] = set()
    for line in dict_txt.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        word, freq = parts[0], int(parts[1])
        if not 2 <= len(word) <= 4 or word in seen:
            continue
        if not all(c in allowed for c in word):
            continue
        seen.add(word)
        entries.append((freq, word))
    entries.sort(key=lambda e: (-e[0], e[1]))
    return [w for _, w in entries[:limit]]


def devil_paragraphs(text: str) -> list[str]:
    """The Devil's Dictionary's entries as paragraphs of plain text (dictd header and markup
    removed)."""
    body = text.split("Entered by Aloysius", 1)[-1]
    body = body.split("\n\n", 1)[-1]  # the rest of the header line
    out = []
    for para in re.split(r"\n\s*\n", body):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip()]
        if not lines or lines[0].startswith("00-database"):
            continue
        t = " ".join(lines)
        t = re.sub(r"[{}]", "", t)
        t = re.sub(r"(?<![A-Za-z0-9])_([^_]+)_", r"\1", t).replace("_", "")
        t = re.sub(r"\s*--\s*", " - ", t)
        t = " ".join(t.split())
        if t:
            out.append(t)
    return out


def en_text(paragraphs: list[str], seed: int = 20, lo: int = 1, hi: int = 40) -> list[str]:
    """Fragments of `lo`..`hi` characters cut at word boundaries (see the module docstring)."""
    import random

    rng = random.Random(seed)
    bands = ((1, 12), (13, 28), (29, hi))

    def target() -> int:
        a, b = bands[rng.randrange(3)]
        return rng.randint(max(a, lo), b)

    out: list[str] = []
    seen: set[str] = set()
    for para in paragraphs:
        words = [w for w in para.split() if all(32 <= ord(c) < 127 for c in w)]
        cur: list[str] = []
        goal = target()
        for w in words:
            if len(w) > hi:
                continue
            if cur and len(" ".join(cur + [w])) > goal:
                frag = " ".join(cur)
                if frag not in seen:
                    seen.add(frag)
                    out.append(frag)
                cur, goal = [], target()
            cur.append(w)
        if cur and " ".join(cur) not in seen:
            seen.add(" ".join(cur))
            out.append(" ".join(cur))
    return out


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wordlist", type=Path, default=WORDLIST)
    ap.add_argument("--jieba-dict", type=Path, default=None,
                    help="jieba's dict.txt (default: from an importable jieba package)")
    ap.add_argument("--zh-words", type=int, default=20000)
    ap.add_argument("--devil", type=Path, default=DEVIL, help="The Devil's Dictionary, dictd .dict.dz (dict-devil)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    dict_txt = args.jieba_dict
    if dict_txt is None:
        try:
            import jieba  # noqa: F401  (only to locate dict.txt)
        except ImportError:
            print("give --jieba-dict (pip install --target /tmp/jieba jieba)", file=sys.stderr)
            return 2
        dict_txt = Path(jieba.__file__).parent / "dict.txt"

    args.out.mkdir(parents=True, exist_ok=True)

    en = en_words(args.wordlist)
    write_lines(args.out / "en_words.txt", en)
    (args.out / "LICENSE.en_words").write_text(
        "en_words.txt is derived from SCOWL via Debian package wamerican-small.\n"
        "Below, verbatim, is that package's copyright file (" + str(WORDLIST_COPYRIGHT) + ").\n\n"
        + WORDLIST_COPYRIGHT.read_text(encoding="utf-8"),
        encoding="utf-8",
    )

    import gzip

    devil = gzip.decompress(args.devil.read_bytes()).decode("utf-8")
    write_lines(args.out / "en_text.txt", en_text(devil_paragraphs(devil)))
    (args.out / "LICENSE.en_text").write_text(
        "en_text.txt is cut from Ambrose Bierce's The Devil's Dictionary (1911), public domain,\n"
        "via Debian package dict-devil. Below, verbatim, is that package's copyright file ("
        + str(DEVIL_COPYRIGHT) + ").\n\n" + DEVIL_COPYRIGHT.read_text(encoding="utf-8"),
        encoding="utf-8",
    )

    level1 = gb2312_chars(range(16, 56))
    level2 = gb2312_chars(range(56, 88))
    assert len(level1) == 3755 and len(level2) == 3008, (len(level1), len(level2))
    write_lines(args.out / "zh_chars.txt", level1)

    allowed = set(level1) | set(level2)
    if CJK_FONT.is_file():
        from fontTools.ttLib import TTFont

        cmap = TTFont(str(CJK_FONT), lazy=True).getBestCmap()
        allowed = {c for c in allowed if ord(c) in cmap}
    zh = zh_words(dict_txt, allowed, args.zh_words)
    write_lines(args.out / "zh_words.txt", zh)
    (args.out / "LICENSE.zh_words").write_text(
        "zh_words.txt is derived from jieba/dict.txt of the PyPI package jieba 0.42.1\n"
        "(https://github.com/fxsjy/jieba), which is under the MIT licence:\n\n" + JIEBA_LICENSE,
        encoding="utf-8",
    )

    for name, n in (("en_words.txt", len(en)), ("zh_chars.txt", len(level1)), ("zh_words.txt", len(zh))):
        p = args.out / name
        print(f"{p.stat().st_size:>9}  {n:>6} lines  {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
