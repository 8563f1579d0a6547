"""Documents (kind: document): identity consistency across number, printed fields and MRZ
(check digits verified by code written here), every field's ink inside its box, all quads on
the card, in-scene quads following the card's warp, determinism and pinning."""

from __future__ import annotations

import datetime as dt
import math
import re

import cv2
import numpy as np
import pytest

import synthgen
from synthgen.renderers import layout as L
from synthgen.renderers.fonts import load_faces
from synthgen.resources import shipped
from synthgen.templates import names as N
from synthgen.templates.identity import CN_ATTRS
from synthgen.templates.loading import load_template

N_CARDS = 200
TEMPLATES = {
    "idcard_cn_front": ("idcard_cn", {"idcard_cn_front": 1, "idcard_cn_back": 0}),
    "idcard_cn_back": ("idcard_cn", {"idcard_cn_front": 0, "idcard_cn_back": 1}),
    "passport_td3": ("passport_td3", None),
    "passport_td3_cn": ("passport_td3", {"passport_td3": 0, "passport_td3_cn": 1}),
    "id_td1": ("id_td1", {"id_td1": 1, "id_td1_back": 0}),
    "id_td1_back": ("id_td1", {"id_td1": 0, "id_td1_back": 1}),
    "licence_us": ("licence_us", None),
}

# -- independent check-digit code (not synthgen's) ------------------------------------------------
GB_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def cn_valid(n: str) -> bool:
    return len(n) == 18 and n[:17].isdigit() and "10X98765432"[sum(int(c) * w for c, w in zip(n, GB_WEIGHTS)) % 11] == n[17]


def icao(s: str) -> int:
    v = lambda c: int(c) if c.isdigit() else (0 if c == "<" else ord(c) - 55)  # noqa: E731
    return sum(v(c) * (7, 3, 1)[i % 3] for i, c in enumerate(s)) % 10


def yymmdd(s: str, ref_year: int) -> dt.date:
    """An MRZ date; the century is the one that puts it nearest below ref_year + 20."""
    y = int(s[:2])
    year = 2000 + y if 2000 + y <= ref_year + 20 else 1900 + y
    return dt.date(year, int(s[2:4]), int(s[4:6]))


def render(template: str, n: int, **over):
    pipeline, weights = TEMPLATES[template]
    kw = {"augment.strength": 0.0, **over}
    if weights:
        kw["document.templates"] = weights
    pipe = synthgen.load_pipeline(pipeline, **kw)
    return [pipe.sample(i, debug_ink=True) for i in range(n)]


@pytest.fixture(scope="module", params=list(TEMPLATES))
def cards(request):
    return request.param, render(request.param, N_CARDS)


def fields_of(s) -> dict[str, list]:
    out: dict[str, list] = {}
    for inst in s.instances:
        if inst.kind == "field":
            out.setdefault(inst.field, []).append(inst)
    return out


def text_of(s, name: str) -> str:
    return " ".join(i.text for i in fields_of(s).get(name, []))


# -- geometry: ink inside boxes, quads inside the card -------------------------------------------


def test_ink_inside_field_boxes_and_quads_on_card(cards):
    name, samples = cards
    t = load_template(name)
    px = t.px
    W, H = t.size_px
    for s in samples:
        assert s.meta["template"] == name
        assert s.image.shape[:2] == (-(-H // 4) * 4, -(-W // 4) * 4)
        doc = [i for i in s.instances if i.kind == "document"]
        assert len(doc) == 1 and np.allclose(doc[0].quad, [[0, 0], [W, 0], [W, H], [0, H]])
        for inst in s.instances:
            q = inst.quad
            assert q[:, 0].min() >= 0 and q[:, 1].min() >= 0 and q[:, 0].max() <= W and q[:, 1].max() <= H, \
                (name, s.key, inst.field, inst.text)
            if inst.chars is not None:
                assert len(inst.chars) == len(inst.text)
                c = inst.chars.reshape(-1, 2)
                assert c[:, 0].min() >= 0 and c[:, 1].min() >= 0 and c[:, 0].max() <= W and c[:, 1].max() <= H
            if inst.kind != "field":
                continue
            if inst.field.startswith("mrz"):
                box = t.cfg.mrz.box_mm
            else:
                box = t.cfg.fields[inst.field].box_mm
            x0, y0, x1, y1 = box[0] * px, box[1] * px, (box[0] + box[2]) * px, (box[1] + box[3]) * px
            assert q[:, 0].min() >= x0 - 1e-3 and q[:, 0].max() <= x1 + 1e-3, (s.key, inst.field, inst.text, q, box)
            assert q[:, 1].min() >= y0 - 1e-3 and q[:, 1].max() <= y1 + 1e-3, (s.key, inst.field, inst.text, q, box)
        # every drawn ink pixel (fields, captions, marking) lies in some text quad: no ink
        # escapes a label, so a field's ink is inside its quad and hence inside its box
        ink = s.maps["ink"]
        cover = np.zeros_like(ink)
        for inst in s.instances:
            if inst.kind in ("field", "line"):
                pts = np.round(L.expand_quads(inst.quad, 1.0) * 16).astype(np.int32)
                cv2.fillConvexPoly(cover, pts, 255, cv2.LINE_8, 4)
        stray = (ink > 40) & (cover == 0)
        assert stray.sum() == 0, (name, s.key, int(stray.sum()))
        # and nothing was clipped: each field line's ink reaches its quad's edges (the quad is
        # the ink box of the whole laid-out line, so clipping would leave an empty margin)
        for inst in s.instances:
            if inst.kind != "field" or not inst.text.strip():
                continue
            x0, y0 = np.floor(inst.quad.min(axis=0)).astype(int)
            x1, y1 = np.ceil(inst.quad.max(axis=0)).astype(int)
            sub = ink[y0:y1, x0:x1] > 0
            assert sub[:, :2].any() and sub[:, -2:].any() and sub[:2].any() and sub[-2:].any(), (s.key, inst.field)


# -- identity consistency ---------------------------------------------------------------------


def test_cn_identity_consistent_across_number_and_printed_fields():
    regions = {r[0]: r for r in N.CN_REGIONS}
    for s in render("idcard_cn_front", N_CARDS):
        ident = s.meta["identity"]
        num = text_of(s, "id_number")
        assert num == ident["id_number"] and cn_valid(num), num
        birth = dt.date.fromisoformat(ident["birth_date"])
        assert num[6:14] == f"{birth:%Y%m%d}"
        assert (text_of(s, "birth_year"), text_of(s, "birth_month"), text_of(s, "birth_day")) == \
            (str(birth.year), str(birth.month), str(birth.day))
        sex = text_of(s, "sex")
        assert sex == ("男" if int(num[16]) % 2 else "女") == ident["sex_native"]
        assert ident["sex"] == ("M" if int(num[16]) % 2 else "F")
        code, province, city, district = regions[num[:6]]
        addr = "".join(i.text for i in fields_of(s)["address"])
        assert addr == ident["address"] and addr.startswith(province + city + district)
        assert text_of(s, "name") == ident["name_native"]
        assert ident["ethnicity"] in N.CN_ETHNICITIES and text_of(s, "ethnicity") == ident["ethnicity"]
        assert 16 <= (dt.date(2025, 1, 1) - birth).days / 365.25 <= 76


def test_cn_back_validity_follows_age_at_issue():
    for s in render("idcard_cn_back", 60):
        ident = s.meta["identity"]
        birth, issue = dt.date.fromisoformat(ident["birth_date"]), dt.date.fromisoformat(ident["issue_date"])
        start, end = text_of(s, "validity").split("-")
        assert start == f"{issue:%Y.%m.%d}"
        age = issue.year - birth.year - ((issue.month, issue.day) < (birth.month, birth.day))
        years = 5 if age < 16 else 10 if age <= 25 else 20 if age <= 45 else None
        if years is None:
            assert end == "长期"
        else:
            y, m, d = map(int, end.split("."))
            assert (y - issue.year, m, d) == (years, issue.month, issue.day) or (m, d) == (2, 28)
        assert text_of(s, "authority").endswith("分局")


def cards_with_mrz(template: str, n: int):
    """(sample with the MRZ, sample with the printed fields): a TD3 page twice; for TD1 the back
    and the front of card i (sides pinned: the identity draws do not depend on the side)."""
    if template == "passport_td3":
        return [(s, s) for s in render(template, n)]
    pipe = synthgen.load_pipeline("id_td1", **{"augment.strength": 0.0})
    out = []
    for i in range(n):
        back = pipe.sample(i, pinned={"document.template": "id_td1_back"})
        front = pipe.sample(i, pinned={"document.template": "id_td1"})
        ident = dict(back.meta["identity"])
        assert ident.pop("mrz") and ident == front.meta["identity"]  # one person, both sides
        assert not any(i.field and i.field.startswith("mrz") for i in front.instances)  # TD1: MRZ on the back only
        out.append((back, front))
    return out


@pytest.mark.parametrize("template", ["passport_td3", "id_td1"])
def test_mrz_check_digits_and_agreement_with_printed_fields(template):
    months = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}

    def printed(text: str) -> dt.date:
        if template == "passport_td3":
            d, mon, y = text.split()
            return dt.date(int(y), months[mon], int(d))
        d, m, y = text.split(".")
        return dt.date(int(y), int(m), int(d))

    for s, front in cards_with_mrz(template, N_CARDS):
        f = fields_of(s)
        lines = [f[f"mrz[{k}]"][0].text for k in range(2 if template == "passport_td3" else 3)]
        n = 44 if template == "passport_td3" else 30
        assert all(len(x) == n and re.fullmatch(r"[A-Z0-9<]+", x) for x in lines), lines
        assert lines == s.meta["identity"]["mrz"]
        if template == "passport_td3":
            l1, l2 = lines
            assert l1.startswith("PUTO") or l1.startswith("P<UTO")
            number, birth, sex, expiry = l2[0:9], l2[13:19], l2[20], l2[21:27]
            assert icao(l2[0:9]) == int(l2[9]) and icao(l2[13:19]) == int(l2[19]) and icao(l2[21:27]) == int(l2[27])
            assert icao(l2[28:42]) == int(l2[42])
            assert icao(l2[0:10] + l2[13:20] + l2[21:43]) == int(l2[43])
            names = l1[5:]
        else:
            l1, l2, l3 = lines
            number, birth, sex, expiry = l1[5:14], l2[0:6], l2[7], l2[8:14]
            assert icao(l1[5:14]) == int(l1[14]) and icao(l2[0:6]) == int(l2[6]) and icao(l2[8:14]) == int(l2[14])
            assert icao(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]) == int(l2[29])
            names = l3
        s = front  # the printed fields: the same page (TD3) or the front of the same card (TD1)
        assert number.rstrip("<") == text_of(s, "document_number")
        assert sex == text_of(s, "sex")
        assert yymmdd(birth, 2005) == printed(text_of(s, "birth_date"))
        assert yymmdd(expiry, 2080) == printed(text_of(s, "expiry_date"))
        surname, _, given = names.rstrip("<").partition("<<")
        assert surname == re.sub(r"[ \-]", "<", text_of(s, "surname").replace("'", ""))
        assert re.sub(r"[ \-]", "<", text_of(s, "given_names")).startswith(given)
        assert printed(text_of(s, "expiry_date")) > dt.date(2025, 1, 1)  # valid on the reference date


def test_licence_dates_agree():
    for s in render("licence_us", 60):
        ident = s.meta["identity"]
        dob = dt.datetime.strptime(text_of(s, "birth_date"), "%m/%d/%Y").date()
        exp = dt.datetime.strptime(text_of(s, "expiry_date"), "%m/%d/%Y").date()
        assert dob.isoformat() == ident["birth_date"] and exp.isoformat() == ident["expiry_date"]
        assert (exp.month, exp.day) == (dob.month, dob.day) or (dob.month, dob.day, exp.day) == (2, 29, 28)
        assert text_of(s, "sex") == ident["sex"]


def test_chinese_generators_only_use_characters_the_cjk_font_has():
    face = load_faces(str(next((shipped("fonts") / "noto-cjk").glob("*.otf"))))[0]
    for attr, alphabet in CN_ATTRS.items():
        if alphabet != "date":
            assert face.missing(alphabet) == [], attr


# -- labels, determinism, pinning ----------------------------------------------------------------


def test_labels_photo_document_and_mrz_instances():
    s = render("passport_td3", 1)[0]
    kinds = [i.kind for i in s.instances]
    assert kinds.count("document") == 1 and kinds.count("photo") == 1
    photo = next(i for i in s.instances if i.kind == "photo")
    t = load_template("passport_td3")
    x, y, w, h = (np.array(t.cfg.photo.box_mm) * t.px).tolist()
    assert np.allclose(photo.quad[0], [math.ceil(x), math.ceil(y)]) and photo.chars is None
    mrz = [i for i in s.instances if i.field and i.field.startswith("mrz")]
    assert [len(i.text) for i in mrz] == [44, 44] and all(" " not in i.text for i in mrz)
    assert any(i.field == "specimen" and i.text == "SPECIMEN" for i in s.instances)
    # photo and document quads are not text: the score map comes only from text kinds
    js = s.to_json()
    assert js["meta"]["identity"]["document_number"] == mrz[1].text[:9].rstrip("<")


def test_same_sample_same_bytes_and_pins():
    pipe = synthgen.load_pipeline("idcard_cn", **{"document.templates": {"idcard_cn_front": 1, "idcard_cn_back": 0}})
    a, b = pipe.sample(5), pipe.sample(5)
    assert a.image.tobytes() == b.image.tobytes() and a.meta["identity"] == b.meta["identity"]
    p = pipe.sample(5, pinned={"identity.birth_date": "1985-03-14", "identity.sex": "F"})
    ident = p.meta["identity"]
    assert ident["birth_date"] == "1985-03-14" and ident["sex"] == "F"
    assert ident["id_number"][6:14] == "19850314" and int(ident["id_number"][16]) % 2 == 0 and cn_valid(ident["id_number"])
    # pinning birth date and sex leaves independent factors (surname, region) alone
    assert ident["surname_native"] == a.meta["identity"]["surname_native"]
    assert ident["region"] == a.meta["identity"]["region"]
    assert p.factors["identity.birth_date"] == "1985-03-14"


def test_fast_paths_equal_the_general_ones():
    """The renderer's shortcuts give what the general code gives: grey blend parts (one channel
    computed, copied to three) against the channel-by-channel parts, `Instance.trusted` against `Instance`, and a card
    whose field lines come from the placed-line memo against the same card rendered fresh."""
    from synthgen.core import Instance
    from synthgen.renderers import document as D
    from synthgen.renderers.styles import _parts_rgb, blend_parts

    rng = np.random.default_rng(0)
    for color in [(20, 20, 20), (15, 15, 15), (0, 0, 0), (255, 255, 255), (60, 110, 160), (210, 40, 40)]:
        for opacity in (1.0, 0.45, 0.4):
            for shape in [(3, 5), (37, 13), (40, 301), (7, 1)]:
                a = rng.integers(0, 256, shape).astype(np.uint8)
                a[0, 0], a[-1, -1] = 0, 255
                scaled = a if opacity >= 1 else cv2.multiply(a, opacity)
                for got, want in zip(blend_parts(a, color, opacity), _parts_rgb(scaled, color)):
                    assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)
    q = rng.uniform(0, 99, (4, 2)).astype(np.float32)
    ch = rng.uniform(0, 99, (3, 4, 2)).astype(np.float32)
    fast, slow = Instance.trusted(q, "ab", ch, "field", "name"), Instance(q, "ab", ch, "field", "name")
    assert list(vars(fast)) == list(vars(slow))
    for k, v in vars(slow).items():
        assert np.array_equal(vars(fast)[k], v) if isinstance(v, np.ndarray) else vars(fast)[k] == v
    assert fast.quad.dtype == np.float32 and fast.chars.shape == (3, 4, 2) and fast.ignore is False

    pipe = synthgen.load_pipeline("idcard_cn")
    first = [pipe.sample(i) for i in range(6)]
    assert pipe.renderer._seen  # lines laid out once: their keys noted (kept from the second time)
    again = [pipe.sample(i) for i in range(6)]  # seen before: kept now
    assert pipe.renderer._lines
    memo = [pipe.sample(i) for i in range(6)]  # every field line from the memo
    pipe.renderer._lines.clear()
    pipe.renderer._seen.clear()
    fresh = [pipe.sample(i) for i in range(6)]
    for a, b, m, c in zip(first, again, memo, fresh):
        assert a.image.tobytes() == b.image.tobytes() == m.image.tobytes() == c.image.tobytes()
        js = [i.to_json() for i in a.instances]
        assert js == [i.to_json() for i in b.instances] == [i.to_json() for i in m.instances] == \
            [i.to_json() for i in c.instances]
        # instances own their arrays: moving one card's quads leaves the memo alone
        assert all(not np.shares_memory(x.quad, y.quad) for x, y in zip(b.instances, m.instances))


# -- cards in scenes -------------------------------------------------------------------------------


def _raster(q: np.ndarray, shape) -> np.ndarray:
    """Pixels whose centre lies inside the convex quad (pixel (x, y) covers [x, x+1) x [y, y+1),
    so its centre is (x + 0.5, y + 0.5)): an exact half-plane test, no rasteriser bias."""
    q = np.asarray(q, np.float64)
    H, W = shape
    x0, y0 = max(0, int(q[:, 0].min()) - 1), max(0, int(q[:, 1].min()) - 1)
    x1, y1 = min(W, int(q[:, 0].max()) + 2), min(H, int(q[:, 1].max()) + 2)
    m = np.zeros(shape, bool)
    if x1 <= x0 or y1 <= y0:
        return m
    yy, xx = np.mgrid[y0:y1, x0:x1] + 0.5
    cross = [(q[(k + 1) % 4, 0] - q[k, 0]) * (yy - q[k, 1]) - (q[(k + 1) % 4, 1] - q[k, 1]) * (xx - q[k, 0])
             for k in range(4)]
    m[y0:y1, x0:x1] = np.all([c >= 0 for c in cross], axis=0) | np.all([c <= 0 for c in cross], axis=0)
    return m


@pytest.mark.parametrize("pipeline", ["idcard_cn", "passport_td3"])
def test_scene_quads_follow_the_card_warp(pipeline):
    flat = synthgen.load_pipeline(pipeline, **{"augment.strength": 0.0})
    scene = synthgen.load_pipeline(pipeline, **{"augment.strength": 0.0, "document.in_scene": True})
    checked = 0
    for i in range(8):
        a, b = flat.sample(i), scene.sample(i, debug_ink=True)
        assert a.meta["identity"] == b.meta["identity"]  # the same card: only scene.* factors differ
        Hm = np.array(b.meta["card_homography"])
        H, W = b.image.shape[:2]
        assert len(a.instances) == len(b.instances)
        for ia, ib in zip(a.instances, b.instances):
            assert (ia.text, ia.kind, ia.field) == (ib.text, ib.kind, ib.field)
            if ia.kind not in ("field", "photo") or ib.ignore:
                continue
            # rasterise the flat quad, warp the raster with the card's homography, compare with the
            # scene quad rasterised directly
            h0, w0 = a.image.shape[:2]
            warped = L.warp(_raster(ia.quad, (h0, w0)).astype(np.uint8) * 255, Hm, (W, H)) > 127
            direct = _raster(ib.quad, (H, W))
            if direct.sum() < 150:  # too small for a pixel IoU to mean anything
                continue
            iou = (warped & direct).sum() / max(1, (warped | direct).sum())
            assert iou >= 0.97, (pipeline, i, ib.field, iou)
            checked += 1
        # the card outline is the image of the flat card's corners
        doc = next(x for x in b.instances if x.kind == "document")
        W0, H0 = a.meta["card_size"]
        assert np.allclose(doc.quad, L.apply_h(Hm, np.array([[0, 0], [W0, 0], [W0, H0], [0, H0]], np.float32)),
                           atol=1e-3)
        # text the frame cuts is marked ignore; everything not ignored lies wholly in the frame
        for x in b.instances:
            if x.kind in ("field", "line"):
                inside = x.quad[:, 0].min() >= 0 and x.quad[:, 1].min() >= 0 and x.quad[:, 0].max() <= W \
                    and x.quad[:, 1].max() <= H
                assert inside or x.ignore
        # scene ink lies inside the (visible) text quads
        cover = np.zeros((H, W), np.uint8)
        for x in b.instances:
            if x.kind in ("field", "line"):
                cv2.fillConvexPoly(cover, np.round(L.expand_quads(x.quad, 1.5) * 16).astype(np.int32), 255,
                                   cv2.LINE_8, 4)
        assert ((b.maps["ink"] > 60) & (cover == 0)).sum() == 0
    assert checked > 20


def test_portrait_hair_follows_the_holder_sex_and_bank_is_deterministic():
    from synthgen.renderers.photos import HAIR_BY_SEX

    pipe = synthgen.load_pipeline("licence_us", **{"document.photo.bank": 0, "augment.strength": 0})
    for i in range(12):
        s = pipe.sample(i)
        assert s.factors["photo.hair.style"] in HAIR_BY_SEX[s.meta["identity"]["sex"]][0]
    # a bank portrait depends only on its bank index, slot size and holder: two processes' banks
    # agree (two interpreters with different PYTHONHASHSEEDs, filling their banks in other orders)
    import json
    import os
    import subprocess
    import sys

    child = ("import hashlib, json, sys, synthgen\n"
             "pipe = synthgen.load_pipeline('licence_us', **{'augment.strength': 0})\n"
             "out = {}\n"
             "for i in json.loads(sys.argv[1]):\n"
             "    s = pipe.sample(i)\n"
             "    out[i] = [hashlib.sha256(s.image.tobytes()).hexdigest(), s.factors['photo.bank'], s.meta['portrait']]\n"
             "print(json.dumps(out, sort_keys=True))\n")
    runs = [subprocess.run([sys.executable, "-c", child, json.dumps(order)], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}, timeout=300)
            for seed, order in (("0", [3, 0, 7]), ("31337", [7, 0, 3]))]
    assert [r.returncode for r in runs] == [0, 0], [r.stderr[-2000:] for r in runs]
    a, b = (json.loads(r.stdout) for r in runs)
    assert set(a) == {"0", "3", "7"} and a == b


def _meta_says_what_the_face_shows(pipe, i, s):
    """The meta `portrait` is read from the face's factors, so comparing the two proves nothing;
    instead, pinning a trait to the meta's value renders the same card, and to any other value a
    different portrait (so the meta names what the pixels show, not just what was recorded)."""
    from synthgen.faces.procedural import _HAIR_STYLES, EYE_COLORS, HAIR_COLORS

    pr = s.meta["portrait"]
    photo = next(x for x in s.instances if x.kind == "photo")
    (x0, y0), (x1, y1) = photo.quad[0].astype(int), photo.quad[2].astype(int)
    checks = [("hair.style", _HAIR_STYLES), ("eyes.color", EYE_COLORS)]
    if pr["hair.style"] != "bald":  # a bald head shows no hair colour
        checks.append(("hair.color", HAIR_COLORS))
    for trait, options in checks:
        same = pipe.sample(i, pinned={f"photo.{trait}": pr[trait]})
        assert same.image.tobytes() == s.image.tobytes(), (i, trait, pr[trait])
        other = next(o for o in options if o != pr[trait])
        changed = pipe.sample(i, pinned={f"photo.{trait}": other}).image
        assert (changed[y0:y1, x0:x1] != s.image[y0:y1, x0:x1]).any(), (i, trait, other)
        outside = np.ones(s.image.shape[:2], bool)
        outside[y0:y1, x0:x1] = False
        assert (changed[outside] == s.image[outside]).all(), (i, trait)  # only the portrait changes


def test_portraits_show_the_holder_sex_age_and_the_templates_look():
    """Faces follow the card: hair style and volume by sex, gray hair only from 40 (mostly from
    60, by age at issue), children's faces under 12, hair and eye colours and skin tone within
    the template's look or as a licence records them; the meta `portrait` says what the face
    shows; a card replays from its factors byte for byte."""
    from synthgen.renderers.photos import HAIR_BY_SEX, age_band
    from synthgen.templates.identity import age_on

    look = load_template("idcard_cn_front").cfg.photo.look
    gray = {b: [] for b in range(4)}  # age bands: child, under 40, from 40, from 60
    for bank in (0, 128):  # faces drawn per card (their factors recorded) and from the bank
        pipe = synthgen.load_pipeline("idcard_cn", **{"document.photo.bank": bank, "augment.strength": 0,
                                                      "factors.pin": {"document.template": "idcard_cn_front"}})
        for i in range(60):
            s = pipe.sample(i)
            ident, pr = s.meta["identity"], s.meta["portrait"]
            band = age_band(age_on(dt.date.fromisoformat(ident["birth_date"]), dt.date.fromisoformat(ident["issue_date"])))
            assert (pr["sex"], pr["age_band"]) == (ident["sex"], band)
            assert pr["hair.style"] in HAIR_BY_SEX[ident["sex"]][0]
            assert pr["hair.color"] in set(look.hair_color) | {"gray"} and pr["eyes.color"] in look.eye_color
            assert look.skin_tone[0] <= pr["skin.tone"] <= look.skin_tone[1]
            gray[band].append(pr["hair.color"] == "gray")
            if bank == 0:
                f = s.factors
                lo, hi = HAIR_BY_SEX[ident["sex"]][2]
                assert lo <= f["photo.hair.volume"] <= hi
                if i < 8:
                    assert pipe.replay(i, s.factors).image.tobytes() == s.image.tobytes()
                if i < 4:
                    _meta_says_what_the_face_shows(pipe, i, s)
    assert not any(gray[0] + gray[1]) and len(gray[3]) >= 10 and np.mean(gray[3]) >= 0.5
    # a licence records hair and eye colours (AAMVA codes): its face shows those, banked or not
    from synthgen.renderers.photos import EYE_CODES, HAIR_CODES

    seen = set()
    for bank in (0, 128):
        lic = synthgen.load_pipeline("licence_us", **{"document.photo.bank": bank, "augment.strength": 0})
        for i in range(40):
            s = lic.sample(i)
            ident, pr = s.meta["identity"], s.meta["portrait"]
            assert (pr["hair.color"], pr["eyes.color"]) == (HAIR_CODES[ident["hair"]], EYE_CODES[ident["eyes"]])
            if pr["age_band"] <= 1:
                assert ident["hair"] not in ("GRY", "WHI")
            seen.add(ident["hair"])
    assert {"GRY", "BRO"} <= seen
    # without a look (the UTO passport) every palette colour can come up
    uto = synthgen.load_pipeline("passport_td3", **{"document.photo.bank": 0, "augment.strength": 0})
    colours, children = set(), 0
    for i in range(60):
        s = uto.sample(i)
        pr = s.meta["portrait"]
        assert pr["hair.color"] != "gray" or pr["age_band"] > 1
        colours.add(pr["hair.color"])
        if pr["age_band"] == 0:  # passports go down to age 0: a child's face
            children += 1
            assert s.factors["photo.shape"] == "round" and not s.factors["photo.glasses"]
            assert s.factors["photo.hair.style"] != "bald"
            assert s.factors["photo.eyes.width"] >= 0.23 and s.factors["photo.clothing.shoulders"] <= 1.85
    assert {"blonde", "red"} & colours and children >= 3


def test_photo_from_a_user_folder_and_bad_photo_sources(tmp_path, monkeypatch, capsys):
    import sys

    from synthgen.cli import main
    from synthgen.errors import UserError

    for k, col in enumerate([(0, 0, 255), (0, 255, 0)]):  # BGR files: red and green
        cv2.imwrite(str(tmp_path / f"p{k}.png"), np.full((400, 300, 3), col, np.uint8))
    pipe = synthgen.load_pipeline("id_td1", **{"document.photo.source": "folder", "document.photo.folder": str(tmp_path),
                                               "augment.strength": 0})
    s = pipe.sample(0)
    photo = next(i for i in s.instances if i.kind == "photo")
    (x0, y0), (x1, y1) = photo.quad[0].astype(int), photo.quad[2].astype(int)
    centre = s.image[(y0 + y1) // 2 - 20 : (y0 + y1) // 2 + 20, x0 + 5 : x0 + 25].reshape(-1, 3)
    colour = [255, 0, 0] if s.factors["photo.file"] == 0 else [0, 255, 0]
    assert (np.abs(centre.astype(int) - colour).max(axis=1) < 5).mean() > 0.5  # the user's photo (bar the marking)
    # a missing folder: one line, exit 2, nothing written
    out = tmp_path / "sheet.png"
    assert main(["preview", "id_td1", "-n", "1", "-o", str(out), "--set", "document.photo.source=folder",
                 "--set", f"document.photo.folder={tmp_path / 'nope'}"]) == 2
    assert "does not exist" in capsys.readouterr().err and not out.exists()
    # genegan without its module: a UserError naming the fix
    monkeypatch.setitem(sys.modules, "synthgen.gan.photo", None)
    pipe = synthgen.load_pipeline("id_td1", **{"document.photo.source": "genegan", "document.photo.bank": 0})
    with pytest.raises(UserError, match="procedural"):
        pipe.sample(0)


def test_chinese_names_native_and_romanised_agree_with_the_mrz():
    for s in render("passport_td3_cn", 40):
        ident = s.meta["identity"]
        l1, l2 = ident["mrz"]
        surname_native, surname = text_of(s, "surname").split(" ")
        given_native, given = text_of(s, "given_names").split(" ")
        assert surname_native + given_native == ident["name_native"]
        # pinyin: one syllable table entry per character (compound surnames as one entry)
        assert surname == N.PINYIN[surname_native] and given == "".join(N.PINYIN[c] for c in given_native)
        assert l1[5:].rstrip("<") == f"{surname}<<{given}"
        assert icao(l2[0:10] + l2[13:20] + l2[21:43]) == int(l2[43])


def test_both_sides_of_a_cn_card_show_one_person():
    # the front's number and the back's validity belong to one identity when only the side is pinned
    pipe = synthgen.load_pipeline("idcard_cn", **{"augment.strength": 0.0})
    for i in range(30):
        front = pipe.sample(i, pinned={"document.template": "idcard_cn_front"})
        back = pipe.sample(i, pinned={"document.template": "idcard_cn_back"})
        assert front.meta["identity"] == back.meta["identity"]
        assert text_of(front, "id_number") == front.meta["identity"]["id_number"] and cn_valid(text_of(front, "id_number"))
        assert text_of(back, "validity") == back.meta["identity"]["validity"]
