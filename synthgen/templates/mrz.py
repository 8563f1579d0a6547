"""Machine-readable zones (ICAO Doc 9303): TD3 (passports, 2 x 44) and TD1 (ID cards, 3 x 30)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from .checkdigits import icao_check

_NOT_MRZ = re.compile(r"[^A-Z0-9<]")


def mrz_text(s: str) -> str:
    """Upper case, accents stripped, apostrophes dropped, spaces and hyphens to '<' (Doc 9303 part 3)."""
    s = unicodedata.normalize("NFKD", s.upper()).encode("ascii", "ignore").decode()
    s = s.replace("'", "").replace(" ", "<").replace("-", "<").replace(",", "")
    return _NOT_MRZ.sub("", s)


def field(s: str, n: int) -> str:
    """`s` padded with fillers to n characters (or cut to n)."""
    return (s + "<" * n)[:n]


def mrz_date(d: dt.date) -> str:
    return f"{d:%y%m%d}"


def name_field(surname: str, given: str, n: int) -> str:
    """Primary and secondary identifiers, '<<' between, truncated to n (Doc 9303 truncation: cut
    the given names first, keeping at least their first letter)."""
    p, s = mrz_text(surname), mrz_text(given)
    full = f"{p}<<{s}"
    if len(full) <= n:
        return field(full, n)
    room = n - len(p) - 2
    if room >= 1:
        return field(f"{p}<<{s[:room]}", n)
    return field(p[:n], n)


def td3(code: str, state: str, surname: str, given: str, number: str, nationality: str, birth: dt.date,
        sex: str, expiry: dt.date, personal: str = "") -> list[str]:
    l1 = field(field(code, 2) + field(state, 3) + name_field(surname, given, 39), 44)
    num = field(number, 9)
    pers = field(personal, 14)
    pers_cd = icao_check(pers) if personal else "<"
    body = (num + icao_check(num) + field(nationality, 3) + mrz_date(birth) + icao_check(mrz_date(birth))
            + sex + mrz_date(expiry) + icao_check(mrz_date(expiry)) + pers + pers_cd)
    composite = icao_check(body[0:10] + body[13:20] + body[21:43])
    return [l1, body + composite]


def td1(code: str, state: str, surname: str, given: str, number: str, nationality: str, birth: dt.date,
        sex: str, expiry: dt.date, optional: str = "") -> list[str]:
    num = field(number, 9)
    l1 = field(code, 2) + field(state, 3) + num + icao_check(num) + field(optional, 15)
    l2 = (mrz_date(birth) + icao_check(mrz_date(birth)) + sex + mrz_date(expiry) + icao_check(mrz_date(expiry))
          + field(nationality, 3) + "<" * 11)
    composite = icao_check(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    return [l1, l2 + composite, name_field(surname, given, 30)]


def build(fmt: str, ident: dict) -> list[str]:
    """The MRZ lines of an identity record (profile `icao`) in format TD3 or TD1."""
    args = (ident.get("document_code", "P" if fmt == "TD3" else "I"), ident["issuing_state"], ident["surname"],
            ident["given_names"], ident["document_number"], ident["nationality"], ident["birth_date"],
            ident["sex"], ident["expiry_date"])
    if fmt == "TD3":
        return td3(*args, personal=ident.get("personal_number", ""))
    return td1(*args)
