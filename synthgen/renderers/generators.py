"""Text generators for structured strings OCR must read: numbers, dates, prices, phone
numbers and codes. Used as corpus sources `gen:<kind>`.

Every random choice goes through the sample's `Draws` under `<name>.<factor>` (for example
`line.word[0].gen.format`), so generated strings are reproducible, pinnable and biasable like
everything else. Long random strings come from one recorded integer, not one draw per
character, to keep the factor record small.
"""

from __future__ import annotations

from collections.abc import Callable

from ..draws import Draws

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
_DIGITS = "0123456789"
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O: as on many real codes
_HEX = "0123456789ABCDEF"


def _digits(d: Draws, name: str, n: int, first_nonzero: bool = True) -> str:
    """`n` random decimal digits from one recorded draw."""
    lo = 10 ** (n - 1) if first_nonzero and n > 1 else 0
    return str(d.integers(name, lo, 10**n - 1)).zfill(n)


def _from_pattern(d: Draws, name: str, pattern: str) -> str:
    """Fill a pattern (A = letter, 9 = digit, H = hex digit, anything else literal) from one
    recorded 53-bit draw (fresh bits are folded in for patterns longer than it covers)."""
    v = d.integers(name, 0, 2**53 - 1)
    out = []
    for c in pattern:
        alphabet = {"A": _UPPER, "9": _DIGITS, "H": _HEX}.get(c)
        if alphabet is None:
            out.append(c)
            continue
        if v < len(alphabet):
            v = v * 2654435761 + 0x9E3779B9 + len(out)  # stretch: deterministic, well spread
        v, r = divmod(v, len(alphabet))
        out.append(alphabet[r])
    return "".join(out)


def _group(s: str, sep: str) -> str:
    head, rest = s[: len(s) % 3 or 3], s[len(s) % 3 or 3 :]
    return head + "".join(sep + rest[i : i + 3] for i in range(0, len(rest), 3))


NUMBER_FORMATS = ("int", "grouped", "decimal", "percent", "signed", "european")
DATE_FORMATS = ("iso", "dmy_slash", "mdy_slash", "dmy_dot", "d_mon_y", "month_d_y", "zh", "ymd_slash", "dd_mon_yy")
PRICE_STYLES = ("cents", "whole", "grouped")


def numbers(d: Draws, name: str) -> str:
    fmt = d.choice(f"{name}.format", NUMBER_FORMATS, (3, 2, 3, 1, 1, 1))
    n = d.integers(f"{name}.digits", 1, 7)
    whole = str(int(_digits(d, f"{name}.value", n)))
    frac = _digits(d, f"{name}.frac", d.integers(f"{name}.places", 1, 3), first_nonzero=False)
    if fmt == "int":
        return whole
    if fmt == "grouped":
        return _group(whole, ",")
    if fmt == "decimal":
        return f"{whole}.{frac}"
    if fmt == "percent":
        return f"{whole[:2]}.{frac[:1]}%"
    if fmt == "signed":
        return ("-" if d.bernoulli(f"{name}.negative", 0.6) else "+") + f"{whole}.{frac}"
    return _group(whole, ".") + "," + frac[:2]  # european: 1.234.567,89


def dates(d: Draws, name: str) -> str:
    y = d.integers(f"{name}.year", 1950, 2035)
    m = d.integers(f"{name}.month", 1, 12)
    day = d.integers(f"{name}.day", 1, (31, 29 if y % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[m - 1])
    fmt = d.choice(f"{name}.format", DATE_FORMATS)
    mon = MONTHS[m - 1]
    return {
        "iso": f"{y:04d}-{m:02d}-{day:02d}",
        "dmy_slash": f"{day:02d}/{m:02d}/{y:04d}",
        "mdy_slash": f"{m:02d}/{day:02d}/{y:04d}",
        "dmy_dot": f"{day:02d}.{m:02d}.{y:04d}",
        "d_mon_y": f"{day} {mon[:3]} {y}",
        "month_d_y": f"{mon} {day}, {y}",
        "zh": f"{y}年{m}月{day}日",
        "ymd_slash": f"{y}/{m}/{day}",
        "dd_mon_yy": f"{day:02d}-{mon[:3].upper()}-{y % 100:02d}",
    }[fmt]


# factor value -> (symbol, where it goes). The factor's options are plain strings, so a value
# read back from a sample's JSON pins the same option (a tuple would come back as a list).
CURRENCIES = {"$": ("$", "prefix"), "€": ("€", "prefix"), "£": ("£", "prefix"), "¥": ("¥", "prefix"),
              "€ after": ("€", "suffix"), "USD": ("USD", "code"), "EUR": ("EUR", "code"), "元": ("元", "suffix_tight"),
              "￥": ("￥", "prefix")}
_CURRENCY_KEYS = tuple(CURRENCIES)


def prices(d: Draws, name: str) -> str:
    sym, where = CURRENCIES[d.choice(f"{name}.currency", _CURRENCY_KEYS, (4, 2, 1, 1, 1, 1, 1, 1, 1))]
    whole = str(int(_digits(d, f"{name}.value", d.integers(f"{name}.digits", 1, 5))))
    cents = _digits(d, f"{name}.cents", 2, first_nonzero=False)
    style = d.choice(f"{name}.style", PRICE_STYLES, (3, 1, 1))
    amount = {"cents": f"{whole}.{cents}", "whole": whole, "grouped": _group(whole, ",") + "." + cents}[style]
    if where == "suffix":
        return amount.replace(".", ",") + " " + sym
    if where == "code":
        return f"{amount} {sym}" if d.bernoulli(f"{name}.code_after", 0.5) else f"{sym} {amount}"
    if where == "suffix_tight":
        return amount + sym
    return sym + amount


PHONES = ("+1 (999) 999-9999", "999-999-9999", "(999) 999-9999", "999.999.9999", "+44 99 9999 9999",
          "+86 199-9999-9999", "199 9999 9999", "(09) 9999 9999", "+49 999 99999999", "0999-999999")


def phones(d: Draws, name: str) -> str:
    return _from_pattern(d, f"{name}.value", d.choice(f"{name}.format", PHONES))


CODES = ("AA99-AA99", "A9A9A9", "SKU-999999", "#HHHHHH", "INV/9999/9999", "0xHHHH", "AAA 9999",
         "AAAAA99999", "99-AAA-99", "A999999", "AA-9999-AA", "HHHHHHHH-HHHH")


def codes(d: Draws, name: str) -> str:
    return _from_pattern(d, f"{name}.value", d.choice(f"{name}.format", CODES))


# Running text with what natural sources carry too rarely for a recogniser to learn: digits
# among words, '&', '/', '%', '#', abbreviations with periods, ranges with hyphens, times.
# {w} a word, {W} a capitalised word, {n} 1-99, {N} 100-9999, {y} a year, {t} a time, {d} 0.5-99.9.
PHRASES = ("{W} & {W}", "{w} & {w}", "{W} & Sons, Ltd.", "{w}/{w}", "and/or {w}", "{n}/{n} of the {w}",
           "{n} {w}s & {n} {w}s", "No. {n}, {W} St.", "pp. {N}-{N}", "(see p. {n})", "Vol. {n} ({y})",
           "at {t} a.m.", "{W}'s {w}, {n}th ed.", "{d}% of {w}", "{n}-{w} {w}", "Room {N}, {n}nd floor",
           "{W}/{W} {y}-{y}", "{w} #{n}: {w}", "{n} x {n} cm", "Mon-Fri {t}-{t}", "\"{W}\" ({y})",
           "{W}, {W} & Co.", "{n}:{n} {w}", "{N} {W} Rd., {W}", "{d} km/h", "Q{n} {y}: {d}%",
           "{w}-to-{w} {w}", "{w} ({n}/{n})", "{n} {w}'s {w}", "{W} {n}, {y}")


def _words() -> tuple[str, ...]:
    from .corpus import load_corpus

    return load_corpus("en_words")


def phrases(d: Draws, name: str) -> str:
    words = _words()
    fmt = d.choice(f"{name}.format", PHRASES)
    out, k = [], 0
    i = 0
    while i < len(fmt):
        if fmt[i] == "{":
            j = fmt.index("}", i)
            slot, i = fmt[i + 1 : j], j + 1
            v = d.integers(f"{name}.v[{k}]", 0, 2**31 - 1)
            k += 1
            if slot in ("w", "W"):
                w = words[v % len(words)].lower()
                out.append(w.capitalize() if slot == "W" else w)
            elif slot == "n":
                out.append(str(1 + v % 99))
            elif slot == "N":
                out.append(str(100 + v % 9900))
            elif slot == "y":
                out.append(str(1800 + v % 230))
            elif slot == "t":
                out.append(f"{1 + v % 12}:{(v // 12) % 60:02d}")
            else:  # d
                out.append(f"{0.5 + (v % 995) / 10:.1f}")
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


GENERATORS: dict[str, Callable[[Draws, str], str]] = {
    "phrases": phrases,
    "numbers": numbers,
    "dates": dates,
    "prices": prices,
    "phones": phones,
    "codes": codes,
}


def generate(kind: str, d: Draws, name: str) -> str:
    return GENERATORS[kind](d, name)


# -- the factors declared (synthgen/factors.py) --------------------------------------------------


def declare(cat, kind: str, name: str) -> None:
    """What generator `kind` draws under `name` (ranges that follow a drawn length are the
    union over lengths)."""
    if kind == "numbers":
        cat.choice(f"{name}.format", NUMBER_FORMATS)
        cat.integers(f"{name}.digits", 1, 7)
        cat.integers(f"{name}.value", 0, 10**7 - 1, depends=True)
        cat.integers(f"{name}.places", 1, 3)
        cat.integers(f"{name}.frac", 0, 10**3 - 1, depends=True)
        cat.bernoulli(f"{name}.negative")
    elif kind == "dates":
        cat.integers(f"{name}.year", 1950, 2035)
        cat.integers(f"{name}.month", 1, 12)
        cat.integers(f"{name}.day", 1, 31, depends=True)
        cat.choice(f"{name}.format", DATE_FORMATS)
    elif kind == "prices":
        cat.choice(f"{name}.currency", _CURRENCY_KEYS)
        cat.integers(f"{name}.digits", 1, 5)
        cat.integers(f"{name}.value", 0, 10**5 - 1, depends=True)
        cat.integers(f"{name}.cents", 0, 99)
        cat.choice(f"{name}.style", PRICE_STYLES)
        cat.bernoulli(f"{name}.code_after")
    elif kind in ("phones", "codes"):
        cat.choice(f"{name}.format", PHONES if kind == "phones" else CODES)
        cat.integers(f"{name}.value", 0, 2**53 - 1)
    elif kind == "phrases":
        cat.choice(f"{name}.format", PHRASES)
        cat.integers(f"{name}.v[*]", 0, 2**31 - 1)
    else:  # pragma: no cover - GENERATORS and this list are kept together
        raise ValueError(f"generator {kind!r} declares no factors")
