"""Issue 22 (Build): one table of bad inputs over every subcommand and every option.

Each row runs `synthgen.cli.main(argv)` in-process (the signal rows run the console script in a
subprocess) and expects: exit code 2 (130 / 143 for Ctrl-C / SIGTERM), exactly one line on
stderr starting `synthgen: error:` (or the interrupt line) that names the offending flag or
value, no traceback, and nothing left behind: the case's own folder (the working directory,
where default outputs land) and the shared fixtures are unchanged, file for file.

The options are enumerated from the argparse parser itself (`synthgen.cli.build_parser()`):
`test_every_option_has_a_bad_input_case` fails when an option has no row here and is not in
EXEMPT (flags with no bad value: --help, --version, boolean switches). A new option needs a row.
Rows marked `owned` are xfail(strict=False): a known defect whose fix is in progress (none now).
`templates validate A B C` with several bad files prints one error line each (not one line in all):
tests/test_bad_input_more.py::test_templates_validate_reports_every_bad_one covers it.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from synthgen.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
OWNED = "owned by another fix in progress"

# -- the table ------------------------------------------------------------------------------------
# Placeholders in a row's arguments: {here} the case's own empty working folder, {out} a path in
# it (nothing may appear there); the shared fixtures (built once, checked unchanged after every
# row): {ds} a 10-sample ocr_line dataset (2 shards), {trunc} the same with shard 1 cut in half,
# {badman} the same with manifest.json not JSON, {listman} with a list-shaped manifest.json,
# {afile} a file, {adir} a folder holding keep.txt, {under_file} a path whose parent is a file
# (fails for root too), {proc} a path under /proc (not creatable, for root too), {ro} a path in a
# chmod 0500 folder (skipped where mode bits stop nobody: root), {yaml} malformed YAML,
# {unknown_yaml} an unknown config key, {escape_yaml} a pipeline whose name escapes runs/, {ckpt}
# the shipped GeneGAN checkpoint with its weights cut in half, {ckpt_json} one whose config.json
# is not JSON, {png} a 64x64 PNG, {notimg} a text file named .png, {empty} an empty file,
# {binary} a file that is not UTF-8, {badfonts} a folder with a corrupt .ttf, {age_tpl} the
# id_td1 template with age: [90, 10].


@dataclass(frozen=True)
class Case:
    cmd: str            # "render", "gan train", ...
    flag: str           # the option it aims at: "--n", "-o", or a positional's dest ("pipeline")
    args: str           # shell words after cmd, with {placeholders}
    needle: str         # stderr must contain this (the flag or the offending value)
    owned: bool = False  # xfail: a defect another fix owns
    why: str = ""        # what is wrong with it (the test id)
    ro: bool = False     # needs mode bits to stop a write: skipped as root

    @property
    def id(self) -> str:
        return f"{self.cmd.replace(' ', '-')}:{self.flag}:{self.why or self.args}"[:90]


def C(cmd, flag, args, needle=None, **kw) -> Case:
    return Case(cmd, flag, args, flag if needle is None else needle, **kw)


SMALL = "--set image.width=64 --set image.height=64"
R = f"--n 4 -q --out {{out}} --executor serial {SMALL}"  # a render that would be small and quick

RENDER = [
    C("render", "pipeline", f"nosuch {R}", "nosuch", why="unknown pipeline"),
    C("render", "pipeline", f"{{yaml}} {R}", "bad.yaml", why="malformed YAML"),
    C("render", "pipeline", f"{{unknown_yaml}} {R}", "wrods", why="unknown config key"),
    C("render", "pipeline", f"{{adir}} {R}", "adir", why="a folder"),
    C("render", "pipeline", f"'' {R}", "''", why="empty"),
    C("render", "pipeline", f"../../etc/passwd {R}", "../../etc/passwd", why="escaping path"),
    C("render", "pipeline", f"{{escape_yaml}} --n 4 -q --executor serial {SMALL}", "name",
      why="config name escapes runs/"),
    C("render", "--seed", f"--seed abc {R}", why="not a number"),
    C("render", "--seed", f"--seed -1 {R}", why="negative"),
    C("render", "--seed", f"--seed {2**64} {R}", why="past 64 bits"),
    C("render", "--seed", f"--seed 1.5 {R}", why="fractional"),
    C("render", "--set", f"{R} --set nokey=1", "nokey", why="unknown key"),
    C("render", "--set", f"{R} --set augment.strength=nan", "augment.strength", why="NaN"),
    C("render", "--set", f"{R} --set augment.strength=-1", "augment.strength", why="negative"),
    C("render", "--set", f"{R} --set augment.strength", "--set", why="no ="),
    C("render", "--set", f"{R} --set ''", "--set", why="empty"),
    C("render", "--set", f"{R} --set text.words=many", "text.words", why="wrong type"),
    C("render", "--set", f"{R} --set description=2020-13-01 --set seed=2020-13-01", "seed", why="date-like value"),
    C("render", "--pin", f"{R} --pin nofactor=1", "nofactor", why="no such factor"),
    C("render", "--pin", f"{R} --pin background.kind", "--pin", why="no ="),
    C("render", "--pin", f"{R} --pin background.kind=banana", "banana", why="not an option"),
    C("render", "--n", "--n 0 -q --out {out}", why="zero"),
    C("render", "--n", "--n -5 -q --out {out}", why="negative"),
    C("render", "--n", "--n abc -q --out {out}", why="not a number"),
    C("render", "--n", "--n nan -q --out {out}", why="NaN"),
    C("render", "--n", "--n inf -q --out {out}", why="infinite"),
    C("render", "--n", "--n '' -q --out {out}", why="empty"),
    C("render", "--n", "--n 1e30 -q --out {out}", why="huge"),
    C("render", "--n", "--n 2.5 -q --out {out}", why="fractional"),
    C("render", "--out", "--n 4 -q --out {afile}", "afile", why="a file"),
    C("render", "--out", "--n 4 -q --out {under_file}", "afile", why="under a file"),
    C("render", "--out", "--n 4 -q --out {proc}", "/proc", why="read-only filesystem"),
    C("render", "--out", "--n 4 -q --out {ro}", "ro", ro=True, why="read-only folder"),
    C("render", "--out", "--n 4 -q --out {adir}", "adir", why="folder of other files"),
    C("render", "--out", "--n 4 -q --out {badman}", "manifest.json", why="corrupt manifest"),
    C("render", "--out", "--n 4 -q --out {listman}", "manifest.json", why="list-shaped manifest"),
    C("render", "--out", "--n 4 -q --out nosuch://x", "nosuch", why="unknown protocol"),
    C("render", "--out", "--n 4 -q --out ''", "--out", why="empty"),
    C("render", "--shard-size", f"{R} --shard-size 0", why="zero"),
    C("render", "--shard-size", f"{R} --shard-size -3", why="negative"),
    C("render", "--shard-size", f"{R} --shard-size abc", why="not a number"),
    C("render", "--shard-size", f"{R} --shard-size nan", why="NaN"),
    C("render", "--workers", "--n 4 -q --out {out} --workers 0", why="zero"),
    C("render", "--workers", "--n 4 -q --out {out} --workers -2", why="negative"),
    C("render", "--workers", "--n 4 -q --out {out} --workers two", why="not a number"),
    C("render", "--executor", f"{R} --executor banana", "banana", why="not a choice"),
    C("render", "--ray-address", "--n 4 -q --out {out} --executor ray --ray-address banana", "banana",
      why="not an address"),
    C("render", "--split", f"{R} --split nope", "--split 'nope'", why="unknown part"),
    C("render", "--split", f"{R} --split ''", "--split", why="empty"),
]

PREVIEW_O = "-o {out}.png"
PREVIEW = [
    C("preview", "pipeline", f"nosuch {PREVIEW_O}", "nosuch", why="unknown pipeline"),
    C("preview", "pipeline", f"{{yaml}} {PREVIEW_O}", "bad.yaml", why="malformed YAML"),
    C("preview", "--seed", f"--seed -1 {PREVIEW_O}", why="negative"),
    C("preview", "--seed", f"--seed x {PREVIEW_O}", why="not a number"),
    C("preview", "--set", f"--set nokey=1 {PREVIEW_O}", "nokey", why="unknown key"),
    C("preview", "--pin", f"--pin nofactor=1 {PREVIEW_O}", "nofactor", why="no such factor"),
    C("preview", "-n", f"-n 0 {PREVIEW_O}", why="zero"),
    C("preview", "-n", f"-n -1 {PREVIEW_O}", why="negative"),
    C("preview", "-n", f"-n 100000 {PREVIEW_O}", why="huge"),
    C("preview", "-n", f"-n many {PREVIEW_O}", why="not a number"),
    C("preview", "-o", "-o {out}.jpg", "-o", why="not a PNG"),
    C("preview", "-o", "-o {adir}", "-o", why="a folder"),
    C("preview", "-o", "-o {under_file}.png", "-o", why="under a file"),
    C("preview", "-o", "-o {proc}.png", "-o '/proc", why="read-only filesystem"),
    C("preview", "-o", "-o ''", "-o", why="empty"),
    C("preview", "--start", f"--start -5 {PREVIEW_O}", why="negative"),
    C("preview", "--start", f"--start {2**63} {PREVIEW_O}", why="past the index space"),
    C("preview", "--cell", f"--cell 0 {PREVIEW_O}", why="zero"),
    C("preview", "--cell", f"--cell 100000 {PREVIEW_O}", why="huge"),
]

A = "{ds} --out {out} --strength 0.3 -q --executor serial"
AUGMENT = [
    C("augment", "input", "{here}/nosuch --out {out} --strength 0.3 -q", "nosuch", why="missing"),
    C("augment", "input", "{afile} --out {out} --strength 0.3 -q", "afile", why="a file"),
    C("augment", "input", "{adir} --out {out} --strength 0.3 -q", "adir", why="not a dataset"),
    C("augment", "input", "{badman} --out {out} --strength 0.3 -q", "manifest.json", why="corrupt manifest"),
    C("augment", "input", "{trunc} --out {out} --strength 0.3 -q --executor serial --shard-size 2",
      "shard-000001.tar", why="truncated shard"),
    C("augment", "--out", "{ds} --out {afile} --strength 0.3 -q", "afile", why="a file"),
    C("augment", "--out", "{ds} --out {under_file} --strength 0.3 -q", "afile", why="under a file"),
    C("augment", "--out", "{ds} --out {proc} --strength 0.3 -q", "/proc", why="read-only filesystem"),
    C("augment", "--out", "{ds} --out {ro} --strength 0.3 -q", "ro", ro=True, why="read-only folder"),
    C("augment", "--out", "{ds} --out {adir} --strength 0.3 -q", "adir", why="folder of other files"),
    C("augment", "--out", "{ds} --out {ds} --strength 0.3 -q", "--out", why="the input itself"),
    C("augment", "--out", "{ds} --out '' --strength 0.3 -q", "--out", why="empty"),
    C("augment", "--strength", "{ds} --out {out} --strength nan -q", why="NaN"),
    C("augment", "--strength", "{ds} --out {out} --strength -0.1 -q", why="negative"),
    C("augment", "--strength", "{ds} --out {out} --strength 2 -q", why="above 1"),
    C("augment", "--strength", "{ds} --out {out} --strength inf -q", why="infinite"),
    C("augment", "--strength", "{ds} --out {out} --strength strong -q", why="not a number"),
    C("augment", "--copies", f"{A} --copies 0", why="zero"),
    C("augment", "--copies", f"{A} --copies -1", why="negative"),
    C("augment", "--copies", f"{A} --copies {10**15}", why="huge"),
    C("augment", "--seed", f"{A} --seed -1", why="negative"),
    C("augment", "--seed", f"{A} --seed {2**64}", why="past 64 bits"),
    C("augment", "--shard-size", f"{A} --shard-size 0", why="zero"),
    C("augment", "--shard-size", f"{A} --shard-size -1", why="negative"),
    C("augment", "--workers", "{ds} --out {out} --strength 0.3 -q --workers 0", why="zero"),
    C("augment", "--workers", "{ds} --out {out} --strength 0.3 -q --workers -1", why="negative"),
    C("augment", "--executor", f"{A} --executor banana", "banana", why="not a choice"),
    C("augment", "--ray-address", "{ds} --out {out} --strength 0.3 -q --executor ray --ray-address banana",
      "banana", why="not an address"),
    C("augment", "--set", f"{A} --set ops.nosuch.p=1", "nosuch", why="unknown op"),
    C("augment", "--set", f"{A} --set ops.rotate.p=2", "ops.rotate.p", why="out of range"),
    C("augment", "--set", f"{A} --set ops.rotate.p=nan", "ops.rotate.p", why="NaN"),
    C("augment", "--set", f"{A} --set ops.rotate", "--set", why="no ="),
]

FACTORS = [
    C("factors", "pipeline", "nosuch", "nosuch", why="unknown pipeline"),
    C("factors", "pipeline", "{yaml}", "bad.yaml", why="malformed YAML"),
    C("factors", "pipeline", "{unknown_yaml}", "wrods", why="unknown key"),
    C("factors", "--seed", "ocr_line --seed -1", why="negative"),
    C("factors", "--seed", "ocr_line --seed x", why="not a number"),
    C("factors", "--seed", f"ocr_line --seed {2**64}", why="past 64 bits"),
    C("factors", "--set", "ocr_line --set nokey=1", "nokey", why="unknown key"),
    C("factors", "--set", "ocr_line --set augment.strength=nan", "augment.strength", why="NaN"),
    C("factors", "--pin", "ocr_line --pin nofactor=1", "nofactor", why="no such factor"),
    C("factors", "--pin", "ocr_line --pin x", "--pin", why="no ="),
]

AU = "ocr_line --n 4 -q --out {out}"
AUDIT = [
    C("audit", "source", "nosuch --n 4 -q --out {out}", "nosuch", why="unknown pipeline"),
    C("audit", "source", "{yaml} --n 4 -q --out {out}", "bad.yaml", why="malformed YAML"),
    C("audit", "source", "{adir} --n 4 -q --out {out}", "adir", why="not a dataset"),
    C("audit", "source", "{badman} --n 4 -q --out {out}", "manifest.json", why="corrupt manifest"),
    C("audit", "--judge", f"{AU} --judge banana", "banana", why="not a choice"),
    C("audit", "--reader", f"{AU} --judge reader --reader no_such_mod_x:fn", "no_such_mod_x", why="no module"),
    C("audit", "--reader", f"{AU} --judge reader --reader banana", "banana", why="not a reader"),
    C("audit", "--target-error", f"{AU} --target-error nan", why="NaN"),
    C("audit", "--target-error", f"{AU} --target-error -1", why="negative"),
    C("audit", "--target-error", f"{AU} --target-error 2", why="above 1"),
    C("audit", "--n", "ocr_line --n 0 -q --out {out}", why="zero"),
    C("audit", "--n", "ocr_line --n -4 -q --out {out}", why="negative"),
    C("audit", "--n", "ocr_line --n x -q --out {out}", why="not a number"),
    C("audit", "--grid", f"{AU} --grid a,b", why="not numbers"),
    C("audit", "--grid", f"{AU} --grid 2,3", why="out of range"),
    C("audit", "--grid", f"{AU} --grid nan", why="NaN"),
    C("audit", "--grid", f"{AU} --grid ''", why="empty"),
    C("audit", "--steps", f"{AU} --steps -1", why="negative"),
    C("audit", "--confirm", f"{AU} --confirm -1", why="negative"),
    C("audit", "--out", "ocr_line --n 4 -q --out {afile}", "afile", why="a file"),
    C("audit", "--out", "ocr_line --n 4 -q --out {under_file}", "afile", why="under a file"),
    C("audit", "--out", "ocr_line --n 4 -q --out {proc}", "/proc", why="read-only filesystem"),
    C("audit", "--write", f"{AU} --write {{adir}}", "adir", why="a folder"),
    C("audit", "--write", f"{AU} --write {{under_file}}.yaml", "afile", why="under a file"),
    C("audit", "--write", f"{AU} --write {{here}}/x.txt", "x.txt", why="not YAML"),
    C("audit", "--verdicts", f"{AU} --judge human --verdicts {{here}}/nosuch.csv", "nosuch.csv", why="missing"),
    C("audit", "--verdicts", f"{AU} --judge human --verdicts {{afile}}", "afile", why="not a verdicts CSV"),
    C("audit", "--verdicts", f"{AU} --verdicts {{afile}}", "--verdicts", why="without --judge human"),
    C("audit", "--seed", f"{AU} --seed -1", why="negative"),
    C("audit", "--seed", f"{AU} --seed {2**64}", why="past 64 bits"),
    C("audit", "--set", f"{AU} --set nokey=1", "nokey", why="unknown key"),
]

LE = "ocr_line --n 2 -q --out {out}"
LEGIBILITY = [
    C("legibility", "pipeline", "nosuch --n 2 -q --out {out}", "nosuch", why="unknown pipeline"),
    C("legibility", "--seed", f"{LE} --seed -1", why="negative"),
    C("legibility", "--set", f"{LE} --set nokey=1", "nokey", why="unknown key"),
    C("legibility", "--pin", f"{LE} --pin nofactor=1", "nofactor", why="no such factor"),
    C("legibility", "--n", "ocr_line --n 0 -q --out {out}", why="zero"),
    C("legibility", "--n", "ocr_line --n -3 -q --out {out}", why="negative"),
    C("legibility", "--n", "ocr_line --n nan -q --out {out}", why="NaN"),
    C("legibility", "--n", "ocr_line --n 1e30 -q --out {out}", why="huge"),
    C("legibility", "--start", f"{LE} --start -1", why="negative"),
    C("legibility", "--out", "ocr_line --n 2 -q --out {afile}", "afile", why="a file"),
    C("legibility", "--out", "ocr_line --n 2 -q --out {under_file}", "afile", why="under a file"),
    C("legibility", "--out", "ocr_line --n 2 -q --out {proc}", "/proc", why="read-only filesystem"),
    C("legibility", "--out", "ocr_line --n 2 -q --out ''", "--out", why="empty"),
    C("legibility", "--reader", f"{LE} --reader no_such_mod_x:fn", "no_such_mod_x", why="no module"),
    C("legibility", "--reader", f"{LE} --reader banana", "banana", why="not a reader"),
    C("legibility", "--min-height", f"{LE} --min-height nan", why="NaN"),
    C("legibility", "--min-height", f"{LE} --min-height -1", why="negative"),
]

CHECK = [
    C("check", "dir", "{here}/nosuch -q", "nosuch", why="missing"),
    C("check", "dir", "{afile} -q", "afile", why="a file"),
    C("check", "dir", "{adir} -q", "adir", why="not a dataset"),
    C("check", "--against", "{ds} -q --against {here}/nosuch", "nosuch", why="missing"),
    C("check", "--against", "{ds} -q --against {afile}", "afile", why="a file"),
    C("check", "--near", "{ds} -q --near -1", why="negative"),
    C("check", "--near", "{ds} -q --near 17", why="above 16"),
    C("check", "--near", "{ds} -q --near x", why="not a number"),
    C("check", "--identity", "{ds} -q --identity ''", why="empty"),
    C("check", "--identity", "{ds} -q --identity bad..path", why="malformed path"),
    C("check", "--tolerance", "{ds} -q --tolerance -5", why="negative"),
    C("check", "--tolerance", "{ds} -q --tolerance nan", why="NaN"),
    C("check", "--limit", "{ds} -q --limit -1", why="negative"),
    C("check", "--limit", "{ds} -q --limit x", why="not a number"),
    C("check", "--reproduce", "{ds} -q --reproduce -1", why="negative"),
    C("check", "--reproduce", "{ds} -q --reproduce x", why="not a number"),
]

M = "ocr_line --model synthgen.crnn.judge:fails --rounds 1 --per-round 4 -q --sheet 0 --out {out}"
MINE = [
    C("mine", "pipeline", "nosuch --model synthgen.crnn.judge:fails -q --out {out}", "nosuch",
      why="unknown pipeline"),
    C("mine", "--seed", f"{M} --seed -1", why="negative"),
    C("mine", "--set", f"{M} --set nokey=1", "nokey", why="unknown key"),
    C("mine", "--pin", f"{M} --pin nofactor=1", "nofactor", why="no such factor"),
    C("mine", "--model", "ocr_line --model nocolon -q --out {out}", "nocolon", why="no colon"),
    C("mine", "--model", "ocr_line --model no_such_mod_x:fn -q --out {out}", "no_such_mod_x", why="no module"),
    C("mine", "--model", "ocr_line --model os:no_such_fn -q --out {out}", "no_such_fn", why="no function"),
    C("mine", "--model", "ocr_line --model '' -q --out {out}", "--model", why="empty"),
    C("mine", "--rounds", f"{M} --rounds 0", why="zero"),
    C("mine", "--rounds", f"{M} --rounds -1", why="negative"),
    C("mine", "--per-round", f"{M} --per-round 0", why="zero"),
    C("mine", "--per-round", f"{M} --per-round {10**15}", why="huge"),
    C("mine", "--out", "ocr_line --model synthgen.crnn.judge:fails -q --out {afile}", "afile", why="a file"),
    C("mine", "--out", "ocr_line --model synthgen.crnn.judge:fails -q --out {under_file}", "afile",
      why="under a file"),
    C("mine", "--out", "ocr_line --model synthgen.crnn.judge:fails -q --out {adir}", "adir",
      why="folder of other files"),
    C("mine", "--start", f"{M} --start -5", why="negative"),
    C("mine", "--floor", f"{M} --floor 1.5", why="above 1"),
    C("mine", "--floor", f"{M} --floor nan", why="NaN"),
    C("mine", "--bins", f"{M} --bins 0", why="zero"),
    C("mine", "--bins", f"{M} --bins 1", why="one"),
    C("mine", "--top", f"{M} --top -1", why="negative"),
    C("mine", "--fail-at", f"{M} --fail-at nan", why="NaN"),
    C("mine", "--sheet", f"{M} --sheet -1", why="negative"),
]

EXPORT = [
    C("export", "dir", "{here}/nosuch --to lmdb {out}", "nosuch", why="missing"),
    C("export", "dir", "{afile} --to lmdb {out}", "afile", why="a file"),
    C("export", "dir", "{adir} --to lmdb {out}", "adir", why="not a dataset"),
    C("export", "dir", "{badman} --to lmdb {out}", "manifest.json", why="corrupt manifest"),
    C("export", "dir", "{trunc} -q --to lmdb {out}", "shard-000001.tar", why="truncated shard"),
    C("export", "dir", "{ds} -q --to mmocr-det {out}", "mmocr-det", why="line crops to a detection format"),
    C("export", "--to", "{ds} --to banana {out}", "banana", why="unknown format"),
    C("export", "--to", "{ds} --to '' {out}", "format ''", why="empty"),
    C("export", "out", "{ds} --to lmdb {afile}", "afile", why="a file"),
    C("export", "out", "{ds} --to lmdb {adir}", "adir", why="folder of other files"),
    C("export", "out", "{ds} --to lmdb {under_file}", "afile", why="under a file"),
    C("export", "out", "{ds} --to lmdb {proc}", "/proc", why="read-only filesystem"),
    C("export", "out", "{ds} --to lmdb ''", "OUT", why="empty"),
    C("export", "--kinds", "{ds} --to lmdb {out} --kinds banana", "banana", why="unknown kind"),
    C("export", "--kinds", "{ds} --to lmdb {out} --kinds ,", "--kinds", why="empty"),
    C("export", "--height", "{ds} --to lmdb {out} --height 0", why="zero"),
    C("export", "--height", "{ds} --to lmdb {out} --height -32", why="negative"),
    C("export", "--height", "{ds} --to lmdb {out} --height 100000", why="huge"),
    C("export", "--pad", "{ds} --to lmdb {out} --pad -1", why="negative"),
    C("export", "--pad", "{ds} --to lmdb {out} --pad nan", why="NaN"),
    C("export", "--format", "{ds} --to lmdb {out} --format gif", "gif", why="not a choice"),
    C("export", "--quality", "{ds} --to lmdb {out} --format jpg --quality -1", why="negative"),
    C("export", "--quality", "{ds} --to lmdb {out} --format jpg --quality 101", why="above 100"),
    C("export", "--split", "{ds} --to mmocr-rec {out} --split ''", why="empty"),
    C("export", "--split", "{ds} --to mmocr-rec {out} --split ../x", why="escaping"),
]

FONTS = [
    C("fonts list", "--family", "--family nosuch", "nosuch", why="unknown family"),
    C("fonts list", "--folder", "--folder {here}/nosuch", "nosuch", why="missing"),
    C("fonts list", "--folder", "--folder {afile}", "afile", why="a file"),
    C("fonts list", "--folder", "--folder {badfonts}", "broken.ttf", why="corrupt font"),
    C("fonts list", "--style", "--style banana", "banana", why="unknown style"),
    C("fonts list", "--exclude", "--exclude nosuch", "nosuch", why="unknown family"),
    C("fonts check", "--corpus", "--family dejavu --corpus {here}/nosuch.txt", "nosuch.txt", why="missing"),
    C("fonts check", "--corpus", "--family dejavu --corpus {empty}", "empty", why="empty file"),
    C("fonts check", "--corpus", "--family dejavu --corpus {binary}", "binary", why="not UTF-8"),
    C("fonts check", "--corpus", "--family dejavu --corpus nosuchcorpus", "nosuchcorpus", why="unknown name"),
    C("fonts check", "--family", "--family nosuch", "nosuch", why="unknown family"),
    C("fonts check", "--folder", "--folder {here}/nosuch", "nosuch", why="missing"),
    C("fonts check", "--folder", "--folder {badfonts}", "broken.ttf", why="corrupt font"),
]

T = "--out {out} --steps 1 --pool 4 --batch 2 -q --widths 8,8,8 --u-channels 4"
GAN = [
    C("gan train", "--data", f"{T} --data {{here}}/nosuch", "nosuch", why="missing folder"),
    C("gan train", "--data", f"{T} --data {{afile}}", "afile", why="a file"),
    C("gan train", "--attr", f"{T} --attr banana", "banana", why="unknown attribute"),
    C("gan train", "--out", f"{T} --out {{afile}}", "afile", why="a file"),
    C("gan train", "--out", f"{T} --out {{under_file}}", "afile", why="under a file"),
    C("gan train", "--out", f"{T} --out {{proc}}", "/proc", why="read-only filesystem"),
    C("gan train", "--steps", f"{T} --steps 0", why="zero"),
    C("gan train", "--steps", f"{T} --steps x", why="not a number"),
    C("gan train", "--mode", f"{T} --mode banana", "banana", why="not a choice"),
    C("gan train", "--batch", f"{T} --batch 0", why="zero"),
    C("gan train", "--batch", f"{T} --batch 100000", why="huge"),
    C("gan train", "--lr", f"{T} --lr -1", why="negative"),
    C("gan train", "--lr", f"{T} --lr nan", why="NaN"),
    C("gan train", "--widths", f"{T} --widths a,b", why="not numbers"),
    C("gan train", "--widths", f"{T} --widths 0,0,0", why="zero"),
    C("gan train", "--u-channels", f"{T} --u-channels 0", why="zero"),
    C("gan train", "--compose", f"{T} --compose banana", "banana", why="not a choice"),
    C("gan train", "--mask-input", f"{T} --compose none --mask-input", why="without compose mask"),
    C("gan train", "--init", f"{T} --init {{here}}/nosuch", "nosuch", why="missing"),
    C("gan train", "--init", f"{T} --init {{ckpt}}", "model.safetensors", why="truncated weights"),
    C("gan train", "--init", f"{T} --init {{ckpt_json}}", "config.json", why="corrupt config.json"),
    C("gan train", "--ema", f"{T} --ema 1", why="one"),
    C("gan train", "--ema", f"{T} --ema nan", why="NaN"),
    C("gan train", "--w-para", f"{T} --w-para -1", why="negative"),
    C("gan train", "--w-grad", f"{T} --w-grad -1", why="negative"),
    C("gan train", "--w-mask", f"{T} --w-mask nan", why="NaN"),
    C("gan train", "--w-area", f"{T} --w-area -1", why="negative"),
    C("gan train", "--mask-budget", f"{T} --mask-budget 2", why="above 1"),
    C("gan train", "--w-tv", f"{T} --w-tv inf", why="infinite"),
    C("gan train", "--w-rec-mask", f"{T} --w-rec-mask -0.5", why="negative"),
    C("gan train", "--w-rec-mask", f"{T} --w-rec-mask nan", why="NaN"),
    C("gan train", "--pool", f"{T} --pool 0", why="zero"),
    C("gan train", "--pool", f"{T} --pool {10**12}", why="huge"),
    C("gan train", "--max-minutes", f"{T} --max-minutes 0", why="zero"),
    C("gan train", "--max-minutes", f"{T} --max-minutes nan", why="NaN"),
    C("gan train", "--sample-every", f"{T} --sample-every 0", why="zero"),
    C("gan train", "--seed", f"{T} --seed -1", why="negative"),
    C("gan train", "--seed", f"{T} --seed abc", why="not a number"),
    C("gan train", "--device", f"{T} --device banana", "banana", why="not a device"),
    C("gan train", "--threads", f"{T} --threads 0", why="zero"),
    C("gan train", "--resume", f"{T} --resume", "--resume", why="nothing to resume"),
    C("gan train", "--export", f"{T} --export {{afile}}", "afile", why="a file"),
    C("gan swap", "a", "{here}/nosuch.png {png} -o {out}.png", "nosuch.png", why="missing"),
    C("gan swap", "a", "{notimg} {png} -o {out}.png", "notimg.png", why="not an image"),
    C("gan swap", "b", "{png} {adir} -o {out}.png", "adir", why="a folder"),
    C("gan swap", "-o", "{png} {png} -o {out}", "-o", why="no extension"),
    C("gan swap", "-o", "{png} {png} -o {adir}", "-o", why="a folder"),
    C("gan swap", "-o", "{png} {png} -o {under_file}.png", "-o", why="under a file"),
    C("gan swap", "--removed", "{png} {png} -o {out}.png --removed {out}.txt", "--removed", why="not an image name"),
    C("gan swap", "--strip", "{png} {png} -o {out}.png --strip {adir}", "--strip", why="a folder"),
    C("gan swap", "--ckpt", "{png} {png} -o {out}.png --ckpt {here}/nosuch", "nosuch", why="missing"),
    C("gan swap", "--ckpt", "{png} {png} -o {out}.png --ckpt {ckpt}", "model.safetensors", why="truncated weights"),
    C("gan swap", "--ckpt", "{png} {png} -o {out}.png --ckpt {ckpt_json}", "config.json", why="corrupt config.json"),
    C("gan swap", "--device", "{png} {png} -o {out}.png --device banana", "banana", why="not a device"),
    C("gan eval", "--ckpt", "--n 1 --ckpt {here}/nosuch", "nosuch", why="missing"),
    C("gan eval", "--ckpt", "--n 1 --ckpt {ckpt_json}", "config.json", why="corrupt config.json"),
    C("gan eval", "--ckpt", "--n 1 --ckpt {ckpt}", "model.safetensors", why="truncated weights"),
    C("gan eval", "--n", "--n 0", why="zero"),
    C("gan eval", "--n", "--n 1e8", why="huge"),
    C("gan eval", "--n", "--n many", why="not a number"),
    C("gan eval", "--device", "--n 1 --device banana", "banana", why="not a device"),
    C("gan eval", "--grid", "--n 1 --grid {out}.txt", "--grid", why="not an image name"),
    C("gan eval", "--strip", "--n 1 --strip {adir}", "--strip", why="a folder"),
    C("gan eval", "--json", "--n 1 --json {adir}", "--json", why="a folder"),
]

TEMPLATES = [
    C("templates validate", "path", "nosuch", "nosuch", why="unknown template"),
    C("templates validate", "path", "{yaml}", "bad.yaml", why="malformed YAML"),
    C("templates validate", "path", "{age_tpl}", "age", why="age range reversed"),
    C("templates preview", "path", "nosuch -o {out}.png", "nosuch", why="unknown template"),
    C("templates preview", "-n", "id_td1 -n 0 -o {out}.png", why="zero"),
    C("templates preview", "-n", "id_td1 -n 5000 -o {out}.png", why="huge"),
    C("templates preview", "-o", "id_td1 -n 1 -o {out}.jpg", "-o", why="not a PNG"),
    C("templates preview", "-o", "id_td1 -n 1 -o {under_file}.png", "-o", why="under a file"),
    C("templates preview", "--start", "id_td1 -n 1 -o {out}.png --start -1", why="negative"),
    C("templates preview", "--seed", "id_td1 -n 1 -o {out}.png --seed -1", why="negative"),
    C("templates preview", "--seed", "id_td1 -n 1 -o {out}.png --seed abc", why="not a number"),
    C("templates preview", "--augment", "id_td1 -n 1 -o {out}.png --augment 2", why="above 1"),
    C("templates preview", "--augment", "id_td1 -n 1 -o {out}.png --augment nan", why="NaN"),
    C("templates preview", "--cell", "id_td1 -n 1 -o {out}.png --cell 5", why="too small"),
]

B = "ocr_line --n 4 --shard-size 4"
BENCH = [
    C("bench", "pipeline", "nosuch --n 4", "nosuch", why="unknown pipeline"),
    C("bench", "--seed", f"{B} --seed -1", why="negative"),
    C("bench", "--set", f"{B} --set nokey=1", "nokey", why="unknown key"),
    C("bench", "--pin", f"{B} --pin nofactor=1", "nofactor", why="no such factor"),
    C("bench", "--n", "ocr_line --n 0", why="zero"),
    C("bench", "--n", "ocr_line --n nan", why="NaN"),
    C("bench", "--workers", f"{B} --workers 0", why="zero"),
    C("bench", "--workers", f"{B} --workers 1,x", why="not a number"),
    C("bench", "--shard-size", "ocr_line --n 4 --shard-size 0", why="zero"),
    C("bench", "--executor", f"{B} --executor banana", "banana", why="not a choice"),
    C("bench", "--repeat", f"{B} --repeat 0", why="zero"),
]

CARD = [
    C("card", "dir", "{here}/nosuch", "nosuch", why="missing"),
    C("card", "dir", "{afile}", "afile", why="a file"),
    C("card", "dir", "{adir}", "adir", why="not a dataset"),
    C("card", "dir", "{badman}", "manifest.json", why="corrupt manifest"),
    C("card", "--max-samples", "{ds} --max-samples 0", why="zero"),
    C("card", "--max-samples", "{ds} --max-samples -1", why="negative"),
    C("card", "--audit", "{ds} --audit {here}/nosuch.json", "nosuch.json", why="missing"),
    C("card", "--audit", "{ds} --audit {afile}", "afile", why="not JSON"),
    C("card", "--license", "{ds} --license ''", "--license", why="empty"),
    C("card", "--license", "{ds} --license 'not a licence'", "not a licence", why="not a licence id"),
]

# every row also says --dry-run: were a check to slip, nothing of the machine's cache would go
CACHE = [
    C("cache clear", "--kind", "--kind nope --dry-run", "nope", why="unknown kind"),
    C("cache clear", "--kind", "--kind '' --dry-run", "--kind", why="empty"),
    C("cache clear", "--older-than", "--older-than -1 --dry-run", why="negative"),
    C("cache clear", "--older-than", "--older-than x --dry-run", why="not a number"),
    C("cache clear", "--older-than", "--older-than nan --dry-run", why="NaN"),
    C("cache clear", "--older-than", "--older-than inf --dry-run", why="infinite"),
]

TOP = [
    C("", "cmd", "banana", "banana", why="unknown subcommand"),
    C("", "cmd", "", "required", why="no subcommand"),
    C("templates", "action", "banana", "banana", why="unknown action"),
    C("fonts", "fonts_cmd", "banana", "banana", why="unknown action"),
    C("gan", "gan_cmd", "banana", "banana", why="unknown action"),
    C("cache", "cache_cmd", "banana", "banana", why="unknown action"),
]

CASES = RENDER + PREVIEW + AUGMENT + FACTORS + AUDIT + LEGIBILITY + CHECK + MINE + EXPORT + FONTS + GAN + TEMPLATES \
    + BENCH + CARD + CACHE + TOP

# Options with no bad value: --version and boolean switches (present or absent, both valid);
# -h/--help of every parser is left out of the enumeration itself.
EXEMPT = {
    ("", "version"),
    ("render", "verify"), ("render", "accept_versions"), ("render", "quiet"),
    ("preview", "no_chars"),
    ("augment", "accept_versions"), ("augment", "quiet"),
    ("factors", "json"),
    ("audit", "quiet"),
    ("legibility", "quiet"),
    ("check", "json"), ("check", "quiet"),
    ("mine", "accept_versions"), ("mine", "json"), ("mine", "quiet"),
    ("export", "quiet"),
    ("fonts list", "faces"),
    ("gan train", "quiet"),
    ("templates preview", "in_scene"), ("templates preview", "no_chars"),
    ("render", "card"), ("card", "force"),
    ("cache info", "json"), ("cache clear", "dry_run"),
}


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fx(tmp_path_factory) -> dict[str, str]:
    """The shared inputs, built once; every case checks they are unchanged afterwards."""
    import cv2
    import numpy as np

    root = tmp_path_factory.mktemp("badtable")
    ds = root / "ds"
    assert main(["render", "ocr_line", "--n", "10", "--shard-size", "5", "-q", "--executor", "serial",
                 "--out", str(ds)]) == 0
    trunc = root / "trunc"
    shutil.copytree(ds, trunc)
    tar = trunc / "shard-000001.tar"
    tar.write_bytes(tar.read_bytes()[: tar.stat().st_size // 2])
    badman = root / "badman"
    shutil.copytree(ds, badman)
    (badman / "manifest.json").write_text('{"name": "ocr_line", "shards": [')
    listman = root / "listman"
    shutil.copytree(ds, listman)
    (listman / "manifest.json").write_text("[]")
    afile = root / "afile"
    afile.write_text("x\n")
    adir = root / "adir"
    adir.mkdir()
    (adir / "keep.txt").write_text("mine\n")
    ro = root / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    (root / "bad.yaml").write_text("name: x\ntext: {words: [3, 12\n")
    (root / "unknown.yaml").write_text("name: x\ntext:\n  wrods: [3, 12]\n")
    (root / "escape.yaml").write_text("name: ../escaped_by_synthgen\nkind: line\n")
    from synthgen.gan.checkpoint import shipped

    ckpt = root / "ckpt"  # the shipped checkpoint with its weights cut short
    shutil.copytree(shipped(), ckpt)
    w = ckpt / "model.safetensors"
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    ckpt_json = root / "ckpt_json"
    ckpt_json.mkdir()
    (ckpt_json / "config.json").write_text("{not json")
    (ckpt_json / "model.safetensors").write_bytes(bytes(64))
    cv2.imwrite(str(root / "face.png"), np.full((64, 64, 3), 128, np.uint8))
    (root / "notimg.png").write_text("not an image\n")
    (root / "empty").write_text("")
    (root / "binary").write_bytes(b"\xff\xfe\x00\x9c not UTF-8\n")
    badfonts = root / "badfonts"
    badfonts.mkdir()
    (badfonts / "broken.ttf").write_bytes(b"\x00\x01\x00\x00" + bytes(range(256)) * 8)
    age = root / "age_tpl"
    shutil.copytree(REPO / "templates" / "id_td1", age)
    t = (age / "template.yaml").read_text()
    assert "age:" in t, "the id_td1 template no longer sets an age range"
    (age / "template.yaml").write_text(re.sub(r"age:\s*\[[^\]]*\]", "age: [90, 10]", t, count=1))
    P = {"ds": ds, "trunc": trunc, "badman": badman, "listman": listman, "afile": afile, "adir": adir,
         "under_file": afile / "sub", "proc": "/proc/synthgen-bad-input", "ro": ro / "sub",
         "yaml": root / "bad.yaml", "unknown_yaml": root / "unknown.yaml", "escape_yaml": root / "escape.yaml",
         "ckpt": ckpt, "ckpt_json": ckpt_json, "png": root / "face.png", "notimg": root / "notimg.png",
         "empty": root / "empty", "binary": root / "binary", "badfonts": badfonts, "age_tpl": age, "root": root}
    yield {k: str(v) for k, v in P.items()}
    ro.chmod(0o700)


def _snapshot(folder: Path) -> dict[str, tuple]:
    """Every file and folder under `folder`: files by size and mtime (a rewrite shows), folders by name."""
    out = {}
    for dirpath, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for d in dirs:
            out[os.path.relpath(os.path.join(dirpath, d), folder)] = ("dir",)
        for f in files:
            st = os.stat(os.path.join(dirpath, f))
            out[os.path.relpath(os.path.join(dirpath, f), folder)] = (st.st_size, st.st_mtime_ns)
    return out


def _ro_blocks_writes(path: str) -> bool:
    try:
        Path(path).parent.joinpath(".probe").touch()
    except OSError:
        return True
    Path(path).parent.joinpath(".probe").unlink()
    return False


def _argv(case: Case, fx: dict[str, str], here: Path) -> list[str]:
    words = case.args
    for k, v in {**fx, "out": str(here / "out"), "here": str(here)}.items():
        words = words.replace("{" + k + "}", v)
    return case.cmd.split() + shlex.split(words)


def _params():
    for c in CASES:
        marks = [pytest.mark.xfail(strict=False, reason=OWNED)] if c.owned else []
        yield pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("case", _params())
def test_bad_input(case: Case, fx, tmp_path, monkeypatch, capfd):
    if case.cmd and case.cmd.split()[0] not in _commands():
        pytest.skip(f"no `synthgen {case.cmd.split()[0]}` in this build")
    if case.ro and not _ro_blocks_writes(fx["ro"]):
        pytest.skip("mode bits do not stop this user (root): the /proc and under-a-file rows cover it")
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)  # default outputs (runs/...) land here, and must not
    argv = _argv(case, fx, here)
    shared, mine = _snapshot(Path(fx["root"])), _snapshot(here)
    capfd.readouterr()
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse or a command exiting on its own
        rc = e.code
    out, err = capfd.readouterr()
    assert "Traceback" not in err + out, err
    assert rc == 2, f"exit {rc}: {err or out[-500:]}"
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("synthgen: error: "), err
    assert case.needle in lines[0], f"{case.needle!r} not named: {lines[0]}"
    assert _snapshot(here) == mine, "left behind in the working folder"
    assert _snapshot(Path(fx["root"])) == shared, "changed an existing input"


# -- coverage: every option of every subcommand has a row ------------------------------------------


def _options() -> dict[tuple[str, str], set[str]]:
    """(command path, dest) -> the option strings (or the dest, for a positional)."""
    ap, _ = build_parser()
    found: dict[tuple[str, str], set[str]] = {}

    def walk(p: argparse.ArgumentParser, path: str) -> None:
        for act in p._actions:
            if isinstance(act, argparse._HelpAction):  # -h/--help of every parser: no value to get wrong
                continue
            if isinstance(act, argparse._SubParsersAction):
                found[(path, act.dest)] = {act.dest}
                for name, sub in act.choices.items():
                    walk(sub, f"{path} {name}".strip())
            else:
                found[(path, act.dest)] = set(act.option_strings) or {act.dest}

    walk(ap, "")
    return found


@functools.cache
def _commands() -> frozenset[str]:
    return frozenset(cmd.split()[0] for cmd, _ in _options() if cmd)


def test_every_option_has_a_bad_input_case():
    opts = _options()
    by_flag = {(cmd, s): dest for (cmd, dest), strings in opts.items() for s in strings}
    covered, unknown = set(), []
    for c in CASES:
        key = (c.cmd, c.flag)
        if key in by_flag:
            covered.add((c.cmd, by_flag[key]))
        elif not c.cmd or c.cmd.split()[0] in _commands():  # rows of a command not in this build are skipped
            unknown.append(key)
    assert unknown == [], f"rows aiming at options the parser does not have: {unknown}"
    missing = sorted(set(opts) - covered - EXEMPT)
    assert missing == [], f"options with no bad-input row (add one, or to EXEMPT if no value is bad): {missing}"
    stale = sorted(e for e in EXEMPT - set(opts) if not e[0] or e[0].split()[0] in _commands())
    assert stale == [], f"EXEMPT lists options the parser no longer has: {stale}"
    assert len(CASES) + len(SIGNALS) >= 150


# -- Ctrl-C and SIGTERM mid-run (the console script, in a subprocess) ------------------------------

_STALLED = ("import json, sys\n"
            "from synthgen.run import faults\n"
            "faults.install(faults.Faults(stall_at=(0, 1, 2, 3)))\n"
            "from synthgen.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")

SIGNALS = {
    "render-ctrl-c": (["render", "ocr_line", "--n", "40", "--shard-size", "4", "--workers", "1", "-q"], "int", 130),
    "render-sigterm": (["render", "ocr_line", "--n", "40", "--shard-size", "4", "--workers", "1", "-q"], "term", 143),
    "augment-ctrl-c": (["augment", "{ds}", "--strength", "0.3", "--shard-size", "2", "--workers", "1", "-q"], "int",
                       130),
    "augment-sigterm": (["augment", "{ds}", "--strength", "0.3", "--shard-size", "2", "--workers", "1", "-q"],
                        "term", 143),
}


@pytest.mark.parametrize("name", list(SIGNALS))
def test_signal_mid_run_is_one_line(name, fx, tmp_path):
    """A job stuck in its first shard (test faults: samples 0-3 never finish) gets Ctrl-C (SIGINT to
    the process group, as a terminal sends it) or SIGTERM (to the driver, as `kill` sends it):
    exit 130 / 143, one line on stderr, no traceback, no worker, .partial or lock left."""
    args, how, code = SIGNALS[name]
    out = tmp_path / "out"
    argv = [a.replace("{ds}", fx["ds"]) for a in args] + ["--out", str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    with open(tmp_path / "stderr.txt", "w") as errf:
        p = subprocess.Popen([sys.executable, "-c", _STALLED, *argv], stdout=subprocess.DEVNULL, stderr=errf,
                             cwd=tmp_path, env=env, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while not list(out.glob("*.partial")):  # a worker is in shard 0
                assert p.poll() is None, (tmp_path / "stderr.txt").read_text()
                assert time.monotonic() < deadline, "the job never started a shard"
                time.sleep(0.05)
            if how == "int":
                os.killpg(p.pid, signal.SIGINT)
            else:
                os.kill(p.pid, signal.SIGTERM)
            rc = p.wait(timeout=30)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    err = (tmp_path / "stderr.txt").read_text()
    assert "Traceback" not in err, err
    assert rc == code, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("synthgen: "), err
    assert ("interrupted" if how == "int" else "terminated") in lines[0] or "SIGTERM" in lines[0], lines[0]
    assert not list(out.glob("*.partial")) and not (out / ".synthgen.lock").exists()
    assert not list(out.glob("shard-*.tar"))  # the job was stopped in its first shard: none finished
