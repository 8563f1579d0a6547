"""Check digits: ISO 7064 MOD 11-2 (Chinese resident ID numbers) and ICAO 9303 7-3-1 (MRZ)."""

from __future__ import annotations

# ISO 7064 MOD 11-2 weights for positions 1..17 of an 18-character number: 2**(18 - i) mod 11.
_W11 = tuple(pow(2, 17 - i, 11) for i in range(17))


def mod11_2(digits: str) -> str:
    """The check character of 17 digits: '0'-'9' or 'X' (for 10)."""
    if len(digits) != 17 or not digits.isdigit():
        raise ValueError(f"need 17 digits, got {digits!r}")
    s = sum(int(c) * w for c, w in zip(digits, _W11))
    v = (12 - s % 11) % 11
    return "X" if v == 10 else str(v)


def icao_value(c: str) -> int:
    """ICAO 9303 character value: digits as themselves, A-Z 10-35, filler '<' 0."""
    if c.isdigit():
        return ord(c) - 48
    if "A" <= c <= "Z":
        return ord(c) - 55
    if c == "<":
        return 0
    raise ValueError(f"{c!r} is not an MRZ character (0-9, A-Z, <)")


def icao_check(s: str) -> str:
    """ICAO 9303 check digit: weights 7, 3, 1 repeating, sum mod 10."""
    return str(sum(icao_value(c) * (7, 3, 1)[i % 3] for i, c in enumerate(s)) % 10)
