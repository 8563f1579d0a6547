"""Check digits and MRZ builders against published examples and against check-digit code
written here, independently of synthgen.templates.checkdigits."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen.templates.checkdigits import icao_check, mod11_2
from synthgen.templates.mrz import name_field, td1, td3

# -- independent references -------------------------------------------------------------------

# GB 11643 table: weights of positions 1..17 and the check character for sum mod 11 = 0..10.
GB_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
GB_CHECK = "10X98765432"


def ref_cn_check(number17: str) -> str:
    return GB_CHECK[sum(int(c) * w for c, w in zip(number17, GB_WEIGHTS)) % 11]


def ref_cn_valid(number18: str) -> bool:
    """ISO 7064 MOD 11-2 as the standard states it: sum of a_i * 2^(i-1) over all 18 positions
    (X = 10, position 1 is the check character, counted from the right) is 1 mod 11."""
    vals = [10 if c == "X" else int(c) for c in reversed(number18)]
    return sum(v * pow(2, i, 11) for i, v in enumerate(vals)) % 11 == 1


def ref_icao(s: str) -> int:
    table = {**{str(i): i for i in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}, "<": 0}
    weights = [7, 3, 1]
    return sum(table[c] * weights[i % 3] for i, c in enumerate(s)) % 10


def ref_td3_valid(l2: str) -> bool:
    ok = (ref_icao(l2[0:9]) == int(l2[9]) and ref_icao(l2[13:19]) == int(l2[19])
          and ref_icao(l2[21:27]) == int(l2[27]))
    if l2[42] != "<" or l2[28:42] != "<" * 14:
        ok = ok and ref_icao(l2[28:42]) == int(l2[42].replace("<", "0"))
    return ok and ref_icao(l2[0:10] + l2[13:20] + l2[21:43]) == int(l2[43])


def ref_td1_valid(l1: str, l2: str) -> bool:
    return (ref_icao(l1[5:14]) == int(l1[14]) and ref_icao(l2[0:6]) == int(l2[6])
            and ref_icao(l2[8:14]) == int(l2[14])
            and ref_icao(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]) == int(l2[29]))


# -- published examples -------------------------------------------------------------------------


def test_cn_published_example():
    # the example number printed in GB 11643-1999 discussions: check character X
    assert mod11_2("11010519491231002") == "X"
    assert ref_cn_valid("11010519491231002X")


def test_icao_doc9303_td3_specimen():
    # ICAO Doc 9303 part 4 specimen (Anna Maria Eriksson, Utopia)
    l1, l2 = td3("P", "UTO", "ERIKSSON", "ANNA MARIA", "L898902C3", "UTO", dt.date(1974, 8, 12), "F",
                 dt.date(2012, 4, 15), personal="ZE184226B")
    assert l1 == "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
    assert l2 == "L898902C36UTO7408122F1204159ZE184226B<<<<<10"


def test_icao_doc9303_td1_specimen():
    l1, l2, l3 = td1("I", "UTO", "ERIKSSON", "ANNA MARIA", "D23145890", "UTO", dt.date(1974, 8, 12), "F",
                     dt.date(2012, 4, 15))
    assert l1 == "I<UTOD231458907<<<<<<<<<<<<<<<"
    assert l2 == "7408122F1204159UTO<<<<<<<<<<<6"
    assert l3 == "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"


def test_name_truncation_keeps_surname_and_initial():
    f = name_field("VANDERBERGHEMANSFIELDWORTH", "ALEXANDRA CHRISTINA", 30)
    assert len(f) == 30 and f.startswith("VANDERBERGHEMANSFIELDWORTH<<A")


# -- properties against the independent code -----------------------------------------------------


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text("0123456789", min_size=17, max_size=17))
def test_mod11_2_matches_reference(body):
    c = mod11_2(body)
    assert c == ref_cn_check(body)
    assert ref_cn_valid(body + c)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<", min_size=1, max_size=40))
def test_icao_matches_reference(s):
    assert icao_check(s) == str(ref_icao(s))


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.dates(dt.date(1930, 1, 1), dt.date(2024, 12, 31)), st.dates(dt.date(2025, 1, 1), dt.date(2040, 1, 1)),
       st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=9, max_size=9), st.sampled_from("FM<"),
       st.text("0123456789", max_size=14))
def test_built_mrz_lines_validate(birth, expiry, number, sex, personal):
    l1, l2 = td3("P", "UTO", "DOE", "JANE", number, "UTO", birth, sex, expiry, personal)
    assert len(l1) == len(l2) == 44 and ref_td3_valid(l2)
    m1, m2, m3 = td1("ID", "UTO", "DOE", "JANE", number, "UTO", birth, sex, expiry)
    assert len(m1) == len(m2) == len(m3) == 30 and ref_td1_valid(m1, m2)
