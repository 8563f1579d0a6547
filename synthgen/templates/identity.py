"""Identity records: one per card, drawn once through the sample's recorded factors.

Every random choice is a factor under `identity.*` (pinnable and biasable like any other):
`identity.sex` ("F"/"M"), `identity.birth_date` (ISO date string; pin it with "1985-03-14"),
`identity.surname`, `identity.given[0]`, ... Values computed from them (the ID number's check
digit, the expiry date, the MRZ) are not factors: they follow from the record.

Dates are counted from a fixed reference date (REF), never from today, so sample i renders
the same card in every year. A profile lists the attributes it makes and, for font
validation, every character each attribute can contain.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable
from typing import Any

from ..draws import Draws
from ..errors import UserError
from . import names as N
from .checkdigits import mod11_2

REF = dt.date(2025, 1, 1)  # "today" for every card: ages, issue and expiry dates
DIGITS = string.digits
UPPER = string.ascii_uppercase
DATE = "date"  # marker: a datetime.date attribute (formatted by the template)


def _chars(*parts) -> str:
    out: set[str] = set()
    for p in parts:
        if isinstance(p, str):
            out |= set(p)
        else:
            for x in p:
                out |= set(x)
    return "".join(sorted(out))


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a non-leap year
        return d.replace(year=d.year + years, day=28)


def draw_date(d: Draws, name: str, lo: dt.date, hi: dt.date, why: str = "") -> dt.date:
    """A date in [lo, hi], recorded as an ISO string under `name` (pin it with "YYYY-MM-DD").
    A pinned date outside [lo, hi] is refused (`why` says what the range stands for): a card
    issued before its holder was born, or a holder older than the template allows, would be a
    record that contradicts itself."""
    span = hi.toordinal() - lo.toordinal()
    day = lo.toordinal() + min(span, int(d.u(name) * (span + 1)))
    drawn = dt.date.fromordinal(day).isoformat()
    value = d.assign(name, drawn)
    date = _parse_date(name, value)
    if value != drawn and not lo <= date <= hi:
        raise UserError(f"pinned {name}={value} is outside {lo.isoformat()} .. {hi.isoformat()}"
                        f"{f' ({why})' if why else ''}; pin a date in that range")
    return date


def _parse_date(name: str, v: Any) -> dt.date:
    try:
        if isinstance(v, int):
            return dt.date.fromordinal(v)
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise UserError(f"pinned {name}={v!r} is not a date; give it as YYYY-MM-DD") from None


def _age_birth(d: Draws, age: tuple[int, int]) -> dt.date:
    lo = add_years(REF, -age[1] - 1) + dt.timedelta(days=1)
    hi = add_years(REF, -age[0])
    return draw_date(d, "identity.birth_date", lo, hi,
                     f"holders of this template are {age[0]} to {age[1]} years old on {REF.isoformat()}")


def _issue(d: Draws, birth: dt.date, years_back: int, min_age: int) -> dt.date:
    lo = max(add_years(REF, -years_back) + dt.timedelta(days=1), add_years(birth, min_age))
    why = (f"issued within {years_back} years before {REF.isoformat()}, on or after the holder's "
           + (f"{min_age}th birthday" if min_age else "birth") + f" (born {birth.isoformat()})")
    return draw_date(d, "identity.issue_date", min(lo, REF), REF, why)


# -- Chinese resident ID ---------------------------------------------------------------------


def cn_id_number(region: str, birth: dt.date, seq: int, sex: str) -> str:
    """18 characters: region (6), birth date (8), sequence (3, odd for men, even for women),
    ISO 7064 MOD 11-2 check character."""
    s = 2 * (seq // 2) + (1 if sex == "M" else 0)
    body = f"{region}{birth:%Y%m%d}{s:03d}"
    return body + mod11_2(body)


def cn_validity_years(age_at_issue: int) -> int | None:
    """Validity by age at issue: under 16: 5 years, 16-25: 10, 26-45: 20, 46 and over: long-term."""
    if age_at_issue < 16:
        return 5
    if age_at_issue <= 25:
        return 10
    if age_at_issue <= 45:
        return 20
    return None


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


AGE_BANDS = (12, 40, 60)  # age at issue: band 0 a child (under 12), 1 under 40, 2 from 40, 3 from 60


def age_band(age: int) -> int:
    return sum(age >= a for a in AGE_BANDS)


_CN_REGION = {r[0]: r for r in N.CN_REGIONS}
_CN_CODES = tuple(_CN_REGION)


def cn_name(d: Draws, sex: str) -> dict[str, str]:
    """A Chinese name, native and romanised (pinyin, as a passport prints it)."""
    surname = d.choice("identity.surname_native", N.CN_SURNAMES)
    pool = N.CN_GIVEN_M if sex == "M" else N.CN_GIVEN_F
    n_given = d.integers("identity.given_native.len", 1, 2)
    chars = [d.choice(f"identity.given_native[{k}]", pool) for k in range(n_given)]
    given = "".join(chars)
    return {"name_native": surname + given, "surname_native": surname, "given_native": given,
            "surname_pinyin": N.PINYIN[surname], "given_pinyin": "".join(N.PINYIN[c] for c in chars),
            "name_pinyin": f"{N.PINYIN[surname]} {''.join(N.PINYIN[c] for c in chars)}"}


def cn_resident(d: Draws, opts: dict[str, Any]) -> dict[str, Any]:
    sex = d.choice("identity.sex", ("F", "M"))
    birth = _age_birth(d, tuple(opts.get("age", (16, 75))))
    name = cn_name(d, sex)
    ethnicity = d.choice("identity.ethnicity", N.CN_ETHNICITIES, N.CN_ETHNICITY_WEIGHTS)
    code = d.choice("identity.region", _CN_CODES)  # the code alone: a readable, pinnable factor
    _, province, city, district = _CN_REGION[code]
    street = d.choice("identity.street", N.CN_STREET_HEADS) + d.choice("identity.street_kind", N.CN_STREET_TAILS)
    number = d.integers("identity.house_number", 1, 999)
    address = f"{province}{city}{district}{street}{number}号"
    if d.bernoulli("identity.estate", 0.6):
        estate = d.choice("identity.estate_name", N.CN_ESTATES_HEAD) + d.choice("identity.estate_kind", N.CN_ESTATES_TAIL)
        address += (f"{estate}{d.integers('identity.building', 1, 30)}栋{d.integers('identity.unit', 1, 6)}单元"
                    f"{d.integers('identity.floor', 1, 28)}{d.integers('identity.room', 1, 4):02d}室")
    seq = d.integers("identity.sequence", 0, 999)
    issue = _issue(d, birth, 20, 16)
    years = cn_validity_years(age_on(birth, issue))
    expiry = add_years(issue, years) if years else None
    police = (city or province) + "公安局" + district.removesuffix("区").removesuffix("新") + "分局"
    return {
        **name,
        "sex": sex, "sex_native": "男" if sex == "M" else "女", "ethnicity": ethnicity,
        "birth_date": birth, "address": address, "region": code,
        "id_number": cn_id_number(code, birth, seq, sex),
        "issue_date": issue, "expiry_date": expiry,
        "validity": f"{issue:%Y.%m.%d}-" + (f"{expiry:%Y.%m.%d}" if expiry else "长期"),
        "authority": police, "nationality": "CHN",
    }


_CN_REGION_CHARS = _chars(*(r[1:] for r in N.CN_REGIONS))
CN_ATTRS: dict[str, str] = {
    "name_native": _chars(N.CN_SURNAMES, N.CN_GIVEN_M, N.CN_GIVEN_F),
    "surname_native": _chars(N.CN_SURNAMES),
    "given_native": _chars(N.CN_GIVEN_M, N.CN_GIVEN_F),
    "surname_pinyin": UPPER, "given_pinyin": UPPER, "name_pinyin": UPPER + " ",
    "sex": "FM", "sex_native": "男女", "ethnicity": _chars(N.CN_ETHNICITIES),
    "birth_date": DATE, "issue_date": DATE, "expiry_date": DATE,
    "address": _chars(_CN_REGION_CHARS, N.CN_STREET_HEADS, N.CN_STREET_TAILS, N.CN_ESTATES_HEAD,
                      N.CN_ESTATES_TAIL, DIGITS, "号栋单元室"),
    "region": DIGITS, "id_number": DIGITS + "X", "validity": DIGITS + ".-长期",
    "authority": _chars(_CN_REGION_CHARS, "公安局分"), "nationality": UPPER,
}


# -- ICAO documents (passports TD3, ID cards TD1) and US-style licences -------------------------


def _latin_name(d: Draws, sex: str, max_given: int = 2) -> tuple[str, str]:
    surname = d.choice("identity.surname", N.SURNAMES)
    pool = N.GIVEN_M if sex == "M" else N.GIVEN_F
    n = d.integers("identity.given.len", 1, max_given)
    given = " ".join(d.choice(f"identity.given[{k}]", pool) for k in range(n))
    return surname, given


def _doc_number(d: Draws, letters: int, digits: int) -> str:
    head = "".join(d.choice(f"identity.document_number.l[{k}]", UPPER) for k in range(letters))
    return head + "".join(str(d.integers(f"identity.document_number.d[{k}]", 0, 9)) for k in range(digits))


def icao(d: Draws, opts: dict[str, Any]) -> dict[str, Any]:
    sex = d.choice("identity.sex", ("F", "M"))
    birth = _age_birth(d, tuple(opts.get("age", (18, 80))))
    native: dict[str, str] = {}
    if opts.get("names") == "cn":  # Chinese names: native and pinyin, the pinyin in the MRZ
        native = cn_name(d, sex)
        surname, given = native["surname_pinyin"], native["given_pinyin"]
    else:
        surname, given = _latin_name(d, sex)
    nats = list(opts.get("nationalities", ["UTO"]))
    nationality = d.choice("identity.nationality", nats)
    years = int(opts.get("validity_years", 10))
    issue = _issue(d, birth, years - 1, 0)
    expiry = add_years(issue, years) - dt.timedelta(days=1)
    personal = "".join(str(d.integers(f"identity.personal_number[{k}]", 0, 9)) for k in range(int(opts.get("personal_digits", 0))))
    return {
        "surname": surname, "given_names": given, "full_name": f"{given} {surname}",
        "sex": sex, "nationality": nationality, "issuing_state": str(opts.get("issuing_state", "UTO")),
        "birth_date": birth, "issue_date": issue, "expiry_date": expiry,
        "document_number": _doc_number(d, 2, 7), "personal_number": personal,
        "place_of_birth": d.choice("identity.place_of_birth", N.CITIES),
        "authority": str(opts.get("authority", "MINISTRY OF INTERIOR")),
        "document_code": str(opts.get("document_code", "P")),
        **native,
    }


_NAME_CHARS = UPPER + " '-"
ICAO_ATTRS: dict[str, str] = {
    "surname": _NAME_CHARS, "given_names": _NAME_CHARS, "full_name": _NAME_CHARS, "sex": "FM",
    "nationality": UPPER, "issuing_state": UPPER, "birth_date": DATE, "issue_date": DATE, "expiry_date": DATE,
    "document_number": UPPER + DIGITS, "personal_number": DIGITS, "place_of_birth": UPPER,
    "authority": UPPER + " ", "document_code": UPPER,
}


# options repeated to weight them (equal odds per entry)
LICENCE_CLASSES = ("C", "C", "C", "D", "M", "A", "B")
RESTRICTIONS = ("NONE", "NONE", "B", "A")
ENDORSEMENTS = ("NONE", "NONE", "NONE", "M", "P")


def us_licence(d: Draws, opts: dict[str, Any]) -> dict[str, Any]:
    sex = d.choice("identity.sex", ("F", "M"))
    birth = _age_birth(d, tuple(opts.get("age", (16, 85))))
    surname, given = _latin_name(d, sex)
    issue = _issue(d, birth, 7, 16)
    years = int(opts.get("validity_years", 8))
    expiry = add_years(birth, age_on(birth, issue) + years)  # expires on a birthday
    city = d.choice("identity.city", N.CITIES)
    state = str(opts.get("state", "")) or d.choice("identity.state", N.STATES)
    street = f"{d.integers('identity.house_number', 1, 9999)} {d.choice('identity.street', N.STREETS)} " \
             f"{d.choice('identity.street_kind', N.STREET_KINDS)}"
    zipc = f"{d.integers('identity.zip', 10000, 99999)}"
    inches = d.integers("identity.height_in", 58 if sex == "F" else 62, 72 if sex == "F" else 77)
    return {
        "surname": surname, "given_names": given, "full_name": f"{given} {surname}", "sex": sex,
        "birth_date": birth, "issue_date": issue, "expiry_date": expiry,
        "address_line1": street, "address_line2": f"{city}, {state} {zipc}", "state": state,
        "document_number": _doc_number(d, 1, 8),
        "licence_class": d.choice("identity.licence_class", LICENCE_CLASSES),
        "restrictions": d.choice("identity.restrictions", RESTRICTIONS),
        "endorsements": d.choice("identity.endorsements", ENDORSEMENTS),
        "eyes": d.choice("identity.eyes", N.EYES, N.EYES_WEIGHTS),
        "hair": d.choice("identity.hair", N.HAIR, N.HAIR_WEIGHTS_BY_AGE[age_band(age_on(birth, issue))]),
        "height": f"{inches // 12}'-{inches % 12:02d}\"",
        "weight": f"{d.integers('identity.weight_lb', 100 if sex == 'F' else 130, 220 if sex == 'F' else 260)} LB",
        "dd": "".join(str(d.integers(f"identity.dd[{k}]", 0, 9)) for k in range(10)),
    }


US_ATTRS: dict[str, str] = {
    "surname": _NAME_CHARS, "given_names": _NAME_CHARS, "full_name": _NAME_CHARS, "sex": "FM",
    "birth_date": DATE, "issue_date": DATE, "expiry_date": DATE,
    "address_line1": UPPER + DIGITS + " ", "address_line2": UPPER + DIGITS + " ,", "state": UPPER,
    "document_number": UPPER + DIGITS, "licence_class": UPPER, "restrictions": UPPER, "endorsements": UPPER,
    "eyes": UPPER, "hair": UPPER, "height": DIGITS + "'-\"", "weight": DIGITS + " LB", "dd": DIGITS,
}

PROFILES: dict[str, tuple[Callable[[Draws, dict], dict], dict[str, str]]] = {
    "cn_resident": (cn_resident, CN_ATTRS),
    "icao": (icao, ICAO_ATTRS),
    "us_licence": (us_licence, US_ATTRS),
}


def attributes(profile: str, opts: dict[str, Any]) -> dict[str, str]:
    """Attribute -> every character it can hold (or DATE), for a profile with its options."""
    attrs = dict(PROFILES[profile][1])
    if profile == "icao" and opts.get("names") == "cn":
        attrs.update({k: CN_ATTRS[k] for k in ("name_native", "surname_native", "given_native", "surname_pinyin",
                                               "given_pinyin", "name_pinyin")})
    return attrs


def draw_identity(d: Draws, profile: str, opts: dict[str, Any]) -> dict[str, Any]:
    return PROFILES[profile][0](d, opts)


def to_json(identity: dict[str, Any]) -> dict[str, Any]:
    """The record for the sample's meta: dates as ISO strings."""
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in identity.items()}


# -- the factors declared (synthgen/factors.py) --------------------------------------------------
# (profile -> (the youngest age the holder may have at issue, the years back an issue may lie,
# the default age range)); each profile function above draws with these
_ISSUE = {"cn_resident": (16, 20, (16, 75)), "icao": (0, None, (18, 80)), "us_licence": (16, 7, (16, 85))}


def issue_age_bands(profile: str, opts: dict[str, Any]) -> set[int]:
    """The age bands (AGE_BANDS) a holder of this profile can have on the issue date."""
    min_age, back, age = _ISSUE[profile]
    if back is None:  # icao: issued within validity_years - 1 before REF
        back = int(opts.get("validity_years", 10)) - 1
    lo, hi = tuple(opts.get("age", age))
    youngest = max(min_age, lo - back - 1)
    return {age_band(a) for a in range(youngest, hi + 1)}


def _declare_name_cn(cat) -> None:
    cat.choice("identity.surname_native", N.CN_SURNAMES)
    cat.integers("identity.given_native.len", 1, 2)
    cat.choice("identity.given_native[*]", N.CN_GIVEN_M + tuple(g for g in N.CN_GIVEN_F if g not in N.CN_GIVEN_M),
               depends=True)  # the pool of the holder's sex


def _declare_name_latin(cat, max_given: int = 2) -> None:
    cat.choice("identity.surname", N.SURNAMES)
    cat.integers("identity.given.len", 1, max_given)
    cat.choice("identity.given[*]", N.GIVEN_M + tuple(g for g in N.GIVEN_F if g not in N.GIVEN_M), depends=True)


def _declare_doc_number(cat) -> None:
    cat.choice("identity.document_number.l[*]", UPPER)
    cat.integers("identity.document_number.d[*]", 0, 9)


def declare_identity(cat, profile: str, opts: dict[str, Any]) -> None:
    """What `draw_identity(d, profile, opts)` draws, under `identity.*`."""
    cat.choice("identity.sex", ("F", "M"))
    cat.assigned("identity.birth_date")
    cat.assigned("identity.issue_date")
    if profile == "cn_resident":
        _declare_name_cn(cat)
        cat.choice("identity.ethnicity", N.CN_ETHNICITIES)
        cat.choice("identity.region", _CN_CODES)
        cat.choice("identity.street", N.CN_STREET_HEADS)
        cat.choice("identity.street_kind", N.CN_STREET_TAILS)
        cat.integers("identity.house_number", 1, 999)
        cat.bernoulli("identity.estate")
        cat.choice("identity.estate_name", N.CN_ESTATES_HEAD)
        cat.choice("identity.estate_kind", N.CN_ESTATES_TAIL)
        for f, hi in (("building", 30), ("unit", 6), ("floor", 28), ("room", 4)):
            cat.integers(f"identity.{f}", 1, hi)
        cat.integers("identity.sequence", 0, 999)
    elif profile == "icao":
        if opts.get("names") == "cn":
            _declare_name_cn(cat)
        else:
            _declare_name_latin(cat)
        cat.choice("identity.nationality", list(opts.get("nationalities", ["UTO"])))
        if int(opts.get("personal_digits", 0)) > 0:
            cat.integers("identity.personal_number[*]", 0, 9)
        _declare_doc_number(cat)
        cat.choice("identity.place_of_birth", N.CITIES)
    elif profile == "us_licence":
        _declare_name_latin(cat)
        cat.choice("identity.city", N.CITIES)
        if not str(opts.get("state", "")):
            cat.choice("identity.state", N.STATES)
        cat.integers("identity.house_number", 1, 9999)
        cat.choice("identity.street", N.STREETS)
        cat.choice("identity.street_kind", N.STREET_KINDS)
        cat.integers("identity.zip", 10000, 99999)
        cat.integers("identity.height_in", 58, 77, depends=True)  # by sex: 58-72 (F), 62-77 (M)
        _declare_doc_number(cat)
        cat.choice("identity.licence_class", LICENCE_CLASSES)
        cat.choice("identity.restrictions", RESTRICTIONS)
        cat.choice("identity.endorsements", ENDORSEMENTS)
        cat.choice("identity.eyes", N.EYES)
        cat.choice("identity.hair", N.HAIR)
        cat.integers("identity.weight_lb", 100, 260, depends=True)  # by sex: 100-220 (F), 130-260 (M)
        cat.integers("identity.dd[*]", 0, 9)
    else:  # pragma: no cover - PROFILES and this list are kept together
        raise ValueError(f"identity profile {profile!r} declares no factors")


def empty_attributes(profile: str, opts: dict[str, Any]) -> set[str]:
    """Attributes of the profile that are always empty with these options (a field showing only
    them is never drawn)."""
    return {"personal_number"} if profile == "icao" and int(opts.get("personal_digits", 0)) == 0 else set()
