"""Text sources: shipped word lists (`synthgen/data/corpus/<name>.txt`), user text files or
folders of them, and generators (`gen:numbers`, ...: see `generators.py`).

Drawing without replacement, as a pure function of the sample index
-----------------------------------------------------------------------
A dataset must not be a bag of repeats ("sample with replacement is bad"), yet sample `i` may
depend on nothing but (config, seed, i). So strings are not drawn at random: slot `j` of a
source with `L` entries takes entry `perm_e(j mod L)` with epoch `e = j // L`, where `perm_e`
is a keyed pseudo-random permutation of range(L) (`permute`: a 4-round Feistel network on the
next power of 4, cycle-walked into range) keyed by (seed, source, epoch). Within an epoch no
string repeats; each epoch visits the corpus in a new order; every lookup is O(1) and
stateless.

Slots come from the sample index: word `k` of sample `i` is global slot `i * max_words + k`.
Which source a slot reads is fixed the same way: slots are grouped in blocks of `BLOCK`; each
block holds every source in proportion to its weight (a keyed shuffle of a fixed schedule),
so source `s`'s own slot counter is dense (`block * count_s + rank`) and a source with half
the weight gets exactly half the slots. Samples that use fewer than `max_words` words leave
their other slots unused: those strings are skipped in that epoch, never repeated.

Balancing (options):
* `length`: first a length (in characters) is drawn uniformly among the lengths the source
  has, then the string comes from that length's bucket (permuted the same way).
* `chars`: first a character is drawn uniformly from the source's character set, then a string
  containing it (permuted among those). Rare characters then appear about as often as common
  ones: what recognisers of large alphabets (3,755+ hanzi) need.
Both are biasable/pinnable draws (`<name>.length`, `<name>.char`).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from ..draws import _M64, Draws, mix64
from ..errors import UserError
from ..native import lib as _native
from .generators import GENERATORS, generate

CORPUS_DIR = Path(__file__).resolve().parent.parent / "data" / "corpus"
GEN_PREFIX = "gen:"
BLOCK = 64  # slots per source-schedule block
RETRIES = 400  # redraws of a generated string outside the split part (a 0.1 part: 0.9 ** 400 ~ 5e-19)


def shipped() -> list[str]:
    return sorted(p.stem for p in CORPUS_DIR.glob("*.txt"))


def _read_lines(p: Path) -> list[str]:
    try:
        return p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"corpus {str(p)!r} cannot be read as UTF-8 text: {e}") from None


@lru_cache(maxsize=64)
def load_corpus(name: str) -> tuple[str, ...]:
    """Lines of a shipped corpus (by name), of a user file, or of every `*.txt` file in a user
    folder (sorted by path, recursively); blank lines dropped, surrounding space stripped."""
    p = CORPUS_DIR / f"{name}.txt"
    if p.is_file():
        lines = _read_lines(p)
    else:
        p = Path(name).expanduser()
        if p.is_file():
            lines = _read_lines(p)
        elif p.is_dir():
            files = sorted(f for f in p.rglob("*.txt") if f.is_file())
            if not files:
                raise UserError(f"corpus folder {str(p)!r} holds no .txt files")
            lines = [s for f in files for s in _read_lines(f)]
        else:
            raise UserError(
                f"unknown corpus {name!r}: not a shipped corpus ({', '.join(shipped())}), a generator "
                f"({GEN_PREFIX}" + "|".join(sorted(GENERATORS)) + "), nor a file or folder"
            )
    words = tuple(filter(None, map(str.strip, lines)))  # (stripped, blank ones dropped: C loops, not a genexpr)
    if not words:
        raise UserError(f"corpus {str(p)!r} is empty")
    return words


# -- keyed permutation ------------------------------------------------------------------------

def key_of(*parts: int | str) -> int:
    k = 0x5EED
    for p in parts:
        v = zlib.crc32(p.encode()) if isinstance(p, str) else int(p) & _M64
        k = mix64(k ^ v)
    return k


_GOLD = 0x9E3779B97F4A7C15


@lru_cache(maxsize=4096)
def _round_keys(key: int) -> tuple[int, int, int, int]:
    return mix64(key ^ 1), mix64(key ^ 2), mix64(key ^ 3), mix64(key ^ 4)


def permute(i: int, n: int, key: int) -> int:
    """Position `i` of a keyed pseudo-random permutation of range(n) (a bijection for every
    key): a 4-round Feistel network on the smallest even-bit domain >= n (round function: a
    keyed multiply-shift hash), cycle-walking back into range (under 4 walks on average)."""
    if _native is not None:  # the same walk in 64-bit C (synthgen/_native.c: permute)
        x = _native.permute(i, n, key)
        if x is not NotImplemented:
            return x
    if not 0 <= i < n:
        raise ValueError(f"index {i} outside range({n})")
    if n <= 1:
        return 0
    bits = max(2, (n - 1).bit_length())
    bits += bits & 1
    half = bits // 2
    mask = (1 << half) - 1
    k0, k1, k2, k3 = _round_keys(key)
    x = i
    while True:
        left, right = x >> half, x & mask
        left, right = right, left ^ ((((right ^ k0) * _GOLD) & _M64) >> 32) & mask
        left, right = right, left ^ ((((right ^ k1) * _GOLD) & _M64) >> 32) & mask
        left, right = right, left ^ ((((right ^ k2) * _GOLD) & _M64) >> 32) & mask
        left, right = right, left ^ ((((right ^ k3) * _GOLD) & _M64) >> 32) & mask
        x = (left << half) | right
        if x < n:
            return x


def permutation(n: int, key: int) -> list[int]:
    """[permute(i, n, key) for i in range(n)], at a fraction of the cost: each round function is
    tabulated once over its 2**half inputs (the multiply-shift on 64-bit Python ints is what
    costs; a schedule block of 64 slots needs 32 of them, not 256)."""
    if n <= 1:
        return [0] * n
    bits = max(2, (n - 1).bit_length())
    bits += bits & 1
    half = bits // 2
    mask = (1 << half) - 1
    f0, f1, f2, f3 = ([((((r ^ k) * _GOLD) & _M64) >> 32) & mask for r in range(mask + 1)] for k in _round_keys(key))
    out = []
    for i in range(n):
        x = i
        while True:  # permute's four rounds, without the swaps: the halves a, b trade roles each round
            a, b = x >> half, x & mask
            a ^= f0[b]
            b ^= f1[a]
            a ^= f2[b]
            b ^= f3[a]
            x = (a << half) | b
            if x < n:
                break
        out.append(x)
    return out


def without_replacement(slot: int, n: int, *key: int | str) -> tuple[int, int]:
    """(entry index, epoch) of `slot` in a keyed epoch-wise permutation of range(n)."""
    epoch, pos = divmod(slot, n)
    return permute(pos, n, key_of(*key, epoch)), epoch


# -- sources ----------------------------------------------------------------------------------


class Source:
    """One corpus with lazily built buckets for balancing."""

    def __init__(self, name: str, entries: tuple[str, ...]) -> None:
        self.name = name
        self.entries = entries
        self.single_chars = all(len(e) == 1 for e in entries)
        self._by_length: tuple[list[int], dict[int, list[int]]] | None = None
        self._by_char: tuple[list[str], dict[str, list[int]]] | None = None

    def by_length(self) -> tuple[list[int], dict[int, list[int]]]:
        if self._by_length is None:
            b: dict[int, list[int]] = defaultdict(list)
            for i, e in enumerate(self.entries):
                b[len(e)].append(i)
            self._by_length = (sorted(b), dict(b))
        return self._by_length

    def by_char(self) -> tuple[list[str], dict[str, list[int]]]:
        if self._by_char is None:
            b: dict[str, list[int]] = defaultdict(list)
            for i, e in enumerate(self.entries):
                for c in set(e):
                    if not c.isspace():
                        b[c].append(i)
            self._by_char = (sorted(b), dict(b))
        return self._by_char


@lru_cache(maxsize=64)
def source(name: str) -> Source:
    return Source(name, load_corpus(name))


@lru_cache(maxsize=64)
def _split_source(name: str, key: str, lo: float, hi: float) -> Source:
    from ..splits import norm, unit

    entries = tuple(e for e in load_corpus(name) if lo <= unit(key, "strings", norm(e)) < hi)
    if not entries:
        raise UserError(f"corpus {name!r} has no entry in split part [{lo:.3f}, {hi:.3f}); use a larger corpus or ratio")
    return Source(name, entries)


def split_source(name: str, split) -> Source:
    """The corpus restricted to the entries of one split part (synthgen/splits.py): the
    without-replacement walk then runs over those entries only."""
    return _split_source(name, split.key, split.lo, split.hi)


def schedule(weights: dict[str, float], block: int = BLOCK) -> tuple[list[str], list[int], dict[str, int]]:
    """A block of `block` slots holding each source in proportion to its weight (largest
    remainders; every source with weight > 0 gets at least one slot): (slot sources, each
    slot's rank among its source's slots, slots per source)."""
    names = sorted(k for k, w in weights.items() if w > 0)  # canonical: not the mapping's order
    total = sum(weights[k] for k in names)
    block = max(block, len(names))
    raw = {k: weights[k] / total * block for k in names}
    counts = {k: max(1, int(raw[k])) for k in names}
    rest = block - sum(counts.values())
    for k in sorted(names, key=lambda k: raw[k] - int(raw[k]), reverse=True):
        if rest <= 0:
            break
        counts[k] += 1
        rest -= 1
    while sum(counts.values()) > block:  # minimum-one rounding overshot: take from the largest
        big = max(counts, key=lambda k: counts[k])
        counts[big] -= 1
    slots: list[str] = []
    ranks: list[int] = []
    for k in names:
        slots += [k] * counts[k]
        ranks += list(range(counts[k]))
    return slots, ranks, counts


class TextSampler:
    """Strings for slot `j` of a job with seed `seed`: source by schedule, entry by keyed
    permutation (see the module docstring); generators draw from the sample's `Draws`."""

    def __init__(self, weights: dict[str, float], seed: int, balance: str = "none",
                 char_run: tuple[int, int] = (2, 10), split=None) -> None:
        # split (synthgen.splits.Splitter): word lists keep only their part's entries; generated
        # strings and character runs are drawn again until they fall in the part
        self.split = split if split is not None and split.active("strings") else None
        if not weights or not any(w > 0 for w in weights.values()):
            raise UserError("corpus: give at least one source with weight > 0")
        self.seed = int(seed)
        self.balance = balance
        self.char_run = char_run
        self.sources: dict[str, Source | None] = {}
        for name, w in weights.items():
            if w <= 0:
                continue
            if name.startswith(GEN_PREFIX):
                if name[len(GEN_PREFIX):] not in GENERATORS:
                    raise UserError(f"unknown generator {name!r}; use one of "
                                    + ", ".join(GEN_PREFIX + g for g in sorted(GENERATORS)))
                self.sources[name] = None
            else:
                src = source(name)
                self.sources[name] = src if self.split is None or src.single_chars else split_source(name, self.split)
        self.slots, _ranks, self.counts = schedule({k: weights[k] for k in self.sources})
        self._blocks: dict[int, tuple[list[str], list[int]]] = {}
        self._keys: dict[tuple, int] = {}

    def _key(self, name: str, bucket: int | str, epoch: int) -> int:
        """key_of(seed, source, balance, bucket, epoch), memoised (the same few keys recur)."""
        t = (name, bucket, epoch)
        k = self._keys.get(t)
        if k is None:
            if len(self._keys) > 65536:
                self._keys.clear()
            k = self._keys[t] = key_of(self.seed, name, self.balance, bucket, epoch)
        return k

    def _block(self, block: int) -> tuple[list[str], list[int]]:
        """Block `block` of the schedule, shuffled by a keyed permutation: each slot's source and
        its rank among that source's slots in slot order (so source slot numbers rise with the
        global slot number, and a source's first L slots are its first epoch)."""
        hit = self._blocks.get(block)
        if hit is None:
            n = len(self.slots)
            key = key_of(self.seed, "schedule", block)
            order = [self.slots[q] for q in permutation(n, key)]
            seen: dict[str, int] = {}
            ranks = []
            for name in order:
                ranks.append(seen.get(name, 0))
                seen[name] = ranks[-1] + 1
            if len(self._blocks) > 64:
                self._blocks.clear()
            hit = self._blocks[block] = (order, ranks)
        return hit

    def source_of(self, slot: int) -> tuple[str, int]:
        """(source name, the source's own slot number) of global slot `slot`."""
        if len(self.counts) == 1:  # one source: every slot is its own, in order (what the schedule gives)
            return self.slots[0], slot
        block, pos = divmod(slot, len(self.slots))
        order, ranks = self._block(block)
        name = order[pos]
        return name, block * self.counts[name] + ranks[pos]

    def entry(self, d: Draws, name: str, src: Source, sub: int, random: bool) -> str:
        """One entry of `src` for the source's slot `sub`; `random` draws the index instead
        (re-draws after a string no font covers)."""
        pool: list[int] | None = None
        bucket: int | str = ""
        if self.balance == "length":
            lengths, buckets = src.by_length()
            bucket = d.choice(f"{name}.length", lengths)
            pool = buckets.get(bucket) or buckets[lengths[0]]
        elif self.balance == "chars":
            chars, buckets = src.by_char()
            bucket = chars[d.integers(f"{name}.char", 0, len(chars) - 1)]
            pool = buckets.get(bucket) or buckets[chars[0]]
        n = len(pool) if pool is not None else len(src.entries)
        if random:
            k = d.integers(f"{name}.index", 0, n - 1)
        else:
            epoch, pos = divmod(sub, n)
            k = d.assign(f"{name}.index", permute(pos, n, self._key(src.name, bucket, epoch)))
            if not 0 <= k < n:
                raise UserError(f"pinned factor {name}.index={k} is outside the corpus {src.name!r} (0..{n - 1})")
        return src.entries[pool[k] if pool is not None else k]

    def word(self, d: Draws, name: str, slot: int, random: bool = False) -> tuple[str, bool]:
        """The string for global slot `slot` -- one word, one generated string, or a run of
        characters from a single-character corpus (such as zh_chars) -- and whether it was
        generated."""
        src_name, sub = self.source_of(slot)
        src_name = d.assign(f"{name}.source", src_name)  # recorded, and pinnable
        if src_name not in self.sources:
            raise UserError(f"pinned source {src_name!r} is not one of the configured sources {sorted(self.sources)}")
        src = self.sources[src_name]
        if src is None:
            kind = src_name[len(GEN_PREFIX):]
            text = generate(kind, d, f"{name}.{kind}")
            for _ in range(RETRIES if self.split else 0):  # a redraw is the next draw of the same factors
                if self.split.accepts("strings", text):
                    break
                text = generate(kind, d, f"{name}.{kind}")
            return text, True
        if src.single_chars:
            stride = self.char_run[1]
            for attempt in range(1 + (RETRIES if self.split else 0)):
                run = d.integers(f"{name}.run", *self.char_run)
                text = "".join(self.entry(d, f"{name}.c[{t}]", src, sub * stride + t, random or attempt > 0)
                               for t in range(run))
                if self.split is None or self.split.accepts("strings", text):
                    break
            return text, False
        return self.entry(d, name, src, sub, random), False


    # -- the factors declared (synthgen/factors.py) ----------------------------------------------
    def declare(self, cat, name: str, walk: bool = True) -> None:
        """What `word(d, name, slot, random)` draws under `name`: the source (assigned), then the
        source's own factors: a generator's, or the entry index (assigned from the walk when
        `walk`, drawn at random on a redraw; only drawn when not `walk`), after the length or
        character bucket when balanced, per character of a single-character corpus's run."""
        cat.assigned(f"{name}.source", options=sorted(self.sources))
        from .generators import declare as declare_generator

        for src_name, src in sorted(self.sources.items()):
            if src is None:
                kind = src_name[len(GEN_PREFIX):]
                declare_generator(cat, kind, f"{name}.{kind}")
            elif src.single_chars:
                cat.integers(f"{name}.run", *self.char_run)
                self._declare_entry(cat, f"{name}.c[*]", src, walk)
            else:
                self._declare_entry(cat, name, src, walk)

    def _declare_entry(self, cat, name: str, src: Source, walk: bool) -> None:
        sizes = [len(src.entries)]
        if self.balance == "length":
            lengths, buckets = src.by_length()
            cat.choice(f"{name}.length", lengths)
            sizes = [len(b) for b in buckets.values()]
        elif self.balance == "chars":
            chars, buckets = src.by_char()
            cat.integers(f"{name}.char", 0, len(chars) - 1)
            sizes = [len(b) for b in buckets.values()]
        hi = max(sizes) - 1
        if walk:
            cat.assigned(f"{name}.index", lo=0, hi=hi, depends=len(set(sizes)) > 1)
        else:
            cat.integers(f"{name}.index", 0, hi, depends=len(set(sizes)) > 1)


CASES = ("as_is", "lower", "upper", "title")  # the case names configs weight (text.case, line.corpus.case)


def apply_case(text: str, case: str) -> str:
    """`as_is`, `lower`, `upper` or `title`; only the asked-for case is computed."""
    if case == "lower":
        return text.lower()
    if case == "upper":
        return text.upper()
    return text.title() if case == "title" else text
