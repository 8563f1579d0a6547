"""Photo sources for a document's portrait slot: name -> function (d, (h, w), folder) -> RGB uint8.

* `procedural`: `synthgen.faces.procedural.render_face` (head, hair, skin tone, clothing, light; no torch).
* `genegan`: `synthgen.gan.photo.genegan_photo` (a trained GeneGAN; imported only when used).
* `folder`: a user folder of photos, centre-cropped to the slot's aspect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..draws import Draws
from ..errors import UserError
from ..io.images import read_rgb
from ..templates.identity import age_band, age_on

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


# Hair that reads as the holder's sex (the face model has no sex attribute of its own): styles
# with their weights, and the hair volume range (men's kept short: big hair reads as a woman's)
HAIR_BY_SEX = {"M": (("short", "bald"), (5.0, 1.0), (0.06, 0.14)),
               "F": (("long", "bob", "curly"), (3.0, 2.0, 1.5), (0.08, 0.28))}
GRAY_BY_BAND = (0.0, 0.0, 0.3, 0.8)  # chance of gray hair in each age band (identity.AGE_BANDS)
# A child's face (age band 0) from the adult model: rounder and shorter, eyes larger and lower,
# small nose and mouth, light brows, narrow shoulders, no glasses. Fixed values and ranges.
CHILD_FIXED = {"shape": "round", "glasses": False}
CHILD = {"shape.height": (0.88, 0.95), "eyes.height": (0.02, 0.07), "eyes.width": (0.23, 0.27),
         "eyes.open": (0.5, 0.62), "nose.length": (0.17, 0.23), "nose.width": (0.1, 0.13),
         "mouth.width": (0.22, 0.28), "brows.thickness": (0.025, 0.045), "clothing.shoulders": (1.55, 1.85)}
# where each photo source's face records its factors (its `prefix`), and what `face_traits` reports
FACE_PREFIX = {"procedural": "photo", "genegan": "photo.genegan.face"}
TRAITS = ("hair.color", "hair.style", "eyes.color", "skin.tone")
# hair colours (and weights) of a holder whose age is known, not gray, and whose look sets none
NOT_GRAY = (("black", 3.0), ("dark_brown", 3.0), ("brown", 3.0), ("blonde", 2.0), ("red", 1.0))
# A US licence's AAMVA codes (identity `hair`, `eyes`) -> the face model's colours
HAIR_CODES = {"BLK": "black", "BLN": "blonde", "BRO": "brown", "GRY": "gray", "RED": "red", "WHI": "white"}
EYE_CODES = {"BLK": "dark", "BLU": "blue", "BRO": "brown", "GRY": "gray", "GRN": "green", "HAZ": "hazel"}


@dataclass(frozen=True)
class Look:
    """A population's appearance, from a template's `photo.look`: hair and eye colours with
    weights (names of the face model's palettes) and the skin tone range (0 lightest .. 7)."""

    hair: tuple[tuple[str, float], ...] = ()
    eyes: tuple[tuple[str, float], ...] = ()
    skin: tuple[float, float] | None = None


@dataclass(frozen=True)
class Holder:
    """Whom a portrait shows: sex ("F", "M" or None), age band (identity.AGE_BANDS: 0 a child ..
    3 from 60; or None), look, and the
    hair and eye colours the identity itself records (a licence's), which win over the rest."""

    sex: str | None = None
    band: int | None = None
    look: Look | None = None
    hair: str | None = None
    eyes: str | None = None

    @classmethod
    def of(cls, ident: dict, look: Look | None) -> "Holder":
        sex = ident.get("sex") if ident.get("sex") in ("F", "M") else None
        birth, issue = ident.get("birth_date"), ident.get("issue_date")
        band = age_band(age_on(birth, issue)) if birth and issue else None
        return cls(sex, band, look, HAIR_CODES.get(ident.get("hair")), EYE_CODES.get(ident.get("eyes")))

    def cells(self) -> int:
        """How many holders of this kind there are (sexes x age bands or hair colours x eye
        colours): a bank splits its portraits among them."""
        n = 2 if self.sex else 1
        n *= len(HAIR_CODES) if self.hair else (len(GRAY_BY_BAND) if self.band is not None else 1)
        return n * (len(EYE_CODES) if self.eyes else 1)


def steer(d: Draws, prefix: str, holder: Holder) -> dict[str, Any]:
    """Pins for the face factors under `prefix` that make the face read as `holder`: each drawn
    under its own name (`<factor>_for_sex`, `_for_age`, `_for_look`), so the face's factors record
    what was drawn and replay as they are. A factor the caller pinned is left alone."""
    pins: dict[str, Any] = {}

    def free(name: str) -> bool:
        return d.pin_of(f"{prefix}.{name}") is None

    if holder.sex in HAIR_BY_SEX:
        styles, weights, volume = HAIR_BY_SEX[holder.sex]
        if holder.band == 0 and "bald" in styles:  # no bald boys
            keep = [k for k, s in enumerate(styles) if s != "bald"]
            styles, weights = tuple(styles[k] for k in keep), tuple(weights[k] for k in keep)
        if free("hair.style"):
            pins["hair.style"] = d.choice(f"{prefix}.hair.style_for_sex", styles, weights)
        if free("hair.volume"):
            pins["hair.volume"] = d.uniform(f"{prefix}.hair.volume_for_sex", *volume)
    if holder.band == 0:
        pins.update({name: v for name, v in CHILD_FIXED.items() if free(name)})
        for name, r in CHILD.items():
            if free(name):
                pins[name] = d.uniform(f"{prefix}.{name}_for_age", *r)
    look = holder.look
    if free("hair.color"):
        if holder.hair is not None:
            pins["hair.color"] = holder.hair
        elif holder.band is not None and d.bernoulli(f"{prefix}.hair.gray_for_age", GRAY_BY_BAND[holder.band]):
            pins["hair.color"] = "gray"
        elif (look is not None and look.hair) or holder.band is not None:
            hair = look.hair if look is not None and look.hair else NOT_GRAY
            pins["hair.color"] = d.choice(f"{prefix}.hair.color_for_look", [n for n, _ in hair], [w for _, w in hair])
    if holder.eyes is not None and free("eyes.color"):
        pins["eyes.color"] = holder.eyes
    elif look is not None and look.eyes and free("eyes.color"):
        pins["eyes.color"] = d.choice(f"{prefix}.eyes.color_for_look", [n for n, _ in look.eyes],
                                      [w for _, w in look.eyes])
    if look is not None and look.skin is not None and free("skin.tone"):
        pins["skin.tone"] = d.uniform(f"{prefix}.skin.tone_for_look", *look.skin)
    return {f"{prefix}.{k}": v for k, v in pins.items()}


def _steered(d: Draws, prefix: str, holder: Holder | None, draw: Callable[[Draws], np.ndarray]) -> np.ndarray:
    """`draw(dd)` with the face factors under `prefix` pinned to the holder's (steer) in an
    overlay of `d`: the caller's pins stay as they were (and only they count as pin hits)."""
    pins = steer(d, prefix, holder) if holder is not None else {}
    return draw(d.overlay(pins) if pins else d)


def face_traits(factors: dict[str, Any], src: str) -> dict[str, Any]:
    """What a portrait's face shows, from the factors its source recorded (none for a user's photo)."""
    p = FACE_PREFIX.get(src)
    out = {k: factors[f"{p}.{k}"] for k in TRAITS if p and f"{p}.{k}" in factors}
    if "skin.tone" in out:
        out["skin.tone"] = round(float(out["skin.tone"]), 3)
    return out


def procedural(d: Draws, hw: tuple[int, int], folder: str | None = None, holder: Holder | None = None) -> np.ndarray:
    from ..faces.procedural import render_face

    p = FACE_PREFIX["procedural"]
    return _steered(d, p, holder, lambda dd: render_face(dd, hw, prefix=p))


def genegan(d: Draws, hw: tuple[int, int], folder: str | None = None, holder: Holder | None = None) -> np.ndarray:
    try:
        from ..gan.photo import genegan_photo
    except ImportError as e:
        raise UserError(f"photo source 'genegan' is not available ({e}); it needs synthgen.gan.photo and torch "
                        "(pip install 'synthgen[torch]') and a trained checkpoint; or use photo.source: procedural") \
            from None
    return _steered(d, FACE_PREFIX["genegan"], holder, lambda dd: genegan_photo(dd, hw))  # its face: "photo.genegan.face"


@lru_cache(maxsize=8)
def photo_files(folder: str) -> tuple[str, ...]:
    p = Path(folder).expanduser()
    if not p.is_dir():
        raise UserError(f"photo folder {folder!r} does not exist (document.photo.folder)")
    files = tuple(sorted(str(x) for x in p.rglob("*") if x.suffix.lower() in IMAGE_SUFFIXES and x.is_file()))
    if not files:
        raise UserError(f"photo folder {folder!r} holds no .jpg/.png images (document.photo.folder)")
    return files


@lru_cache(maxsize=64)
def _read(path: str) -> np.ndarray:
    return read_rgb(path, "photo", "remove it from the folder")


def from_folder(d: Draws, hw: tuple[int, int], folder: str | None = None, holder: Holder | None = None) -> np.ndarray:
    if not folder:
        raise UserError("photo source 'folder' needs a folder: set document.photo.folder")
    files = photo_files(folder)
    im = _read(files[d.integers("photo.file", 0, len(files) - 1)])
    h, w = hw
    H, W = im.shape[:2]
    s = min(W / w, H / h)  # the largest crop of the slot's aspect, centred
    cw, ch = int(round(w * s)), int(round(h * s))
    x, y = (W - cw) // 2, (H - ch) // 2
    return cv2.resize(im[y : y + ch, x : x + cw], (w, h), interpolation=cv2.INTER_AREA)


# name -> f(d, (height, width), folder, holder) -> H x W x 3 uint8 RGB
PHOTO_SOURCES: dict[str, Callable[..., np.ndarray]] = {
    "procedural": procedural,
    "genegan": genegan,
    "folder": from_folder,
}


# -- the factors declared (synthgen/factors.py) --------------------------------------------------


def holders(profile: str, opts: dict[str, Any], look: Look | None) -> list[Holder]:
    """Every kind of holder (Holder.of) a card of this identity profile can have: either sex,
    each age band reachable at issue, and a licence's recorded hair and eye colours."""
    from ..templates import names as N
    from ..templates.identity import issue_age_bands

    coded = profile == "us_licence"  # the profile that records hair and eyes (AAMVA codes)
    hairs = sorted({HAIR_CODES.get(h) for h in N.HAIR}, key=str) if coded else [None]
    eyes = sorted({EYE_CODES.get(e) for e in N.EYES}, key=str) if coded else [None]
    return [Holder(sex, band, look, h, e) for sex in ("F", "M") for band in sorted(issue_age_bands(profile, opts))
            for h in hairs for e in eyes]


def declare_steer(cat, prefix: str, kinds: list[Holder]) -> None:
    """What `steer(d, prefix, holder)` draws for any of the holders `kinds`; the face factors it
    pins (declared by the face) may then hold the steered values: their ranges are widened to
    them (a bound: `depends`)."""
    for h in kinds:
        if h.sex in HAIR_BY_SEX:
            styles, weights, volume = HAIR_BY_SEX[h.sex]
            if h.band == 0:
                styles = tuple(s for s in styles if s != "bald")
            cat.choice(f"{prefix}.hair.style_for_sex", styles)
            cat.uniform(f"{prefix}.hair.volume_for_sex", *volume)
            cat.uniform(f"{prefix}.hair.volume", *volume, depends=True)
        if h.band == 0:
            for name, r in CHILD.items():
                cat.uniform(f"{prefix}.{name}_for_age", *r)
                cat.uniform(f"{prefix}.{name}", *r, depends=True)
        look = h.look
        if h.hair is None:
            if h.band is not None:
                cat.bernoulli(f"{prefix}.hair.gray_for_age")
            if (look is not None and look.hair) or h.band is not None:
                hair = look.hair if look is not None and look.hair else NOT_GRAY
                cat.choice(f"{prefix}.hair.color_for_look", [n for n, _ in hair])
        if h.eyes is None and look is not None and look.eyes:
            cat.choice(f"{prefix}.eyes.color_for_look", [n for n, _ in look.eyes])
        if look is not None and look.skin is not None:
            cat.uniform(f"{prefix}.skin.tone_for_look", *look.skin)


def declare_source(cat, src: str, folder: str | None, kinds: list[Holder]) -> None:
    """What `PHOTO_SOURCES[src](d, hw, folder, holder)` draws for any of the holders `kinds`."""
    if src == "folder":
        cat.integers("photo.file", 0, len(photo_files(folder)) - 1, src="document.photo.folder")
        return
    from ..faces.procedural import declare_face

    prefix = FACE_PREFIX[src]
    if src == "procedural":
        declare_face(cat, prefix)
    else:  # genegan: the face, the op, and when adding glasses the donor face (gan/photo.py)
        declare_face(cat, "photo.genegan.face")
        cat.choice("photo.genegan.op", ["add", "remove"])
        declare_face(cat, "photo.genegan.donor")
    declare_steer(cat, prefix, kinds)
