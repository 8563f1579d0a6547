"""Photo sources for a document's portrait slot: name -> function (d, (h, w), folder) -> RGB uint8.

* `procedural`: `synthgen.gan.faces.render_face` (head, hair, skin tone, clothing, light; no torch).
* `genegan`: `synthgen.gan.photo.genegan_photo` (a trained GeneGAN; imported only when used).
* `folder`: a user folder of photos, centre-cropped to the slot's aspect.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..draws import Draws
from ..errors import UserError
from ..io.images import read_rgb

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


# Hair styles that read as the card holder's sex (the face model has no sex attribute of its own).
HAIR_BY_SEX = {"M": (("short", "bald", "curly"), (4.0, 1.0, 1.5)), "F": (("long", "bob", "curly"), (3.0, 2.0, 1.5))}


def _steered(d: Draws, name: str, sex: str | None, draw: Callable[[], np.ndarray]) -> np.ndarray:
    """Run `draw` with the face's own hair-style factor `name` steered by a temporary pin to a
    style that reads as `sex` (the face model has no sex attribute); the recorded factor is the
    style drawn, so the sample replays as it is. A user's own pin on `name` wins."""
    if sex not in HAIR_BY_SEX or d.pin_of(name) is not None:
        return draw()
    styles, weights = HAIR_BY_SEX[sex]
    d.pinned[name] = d.choice(f"{name}_for_sex", styles, weights)
    try:
        return draw()
    finally:
        del d.pinned[name]


def procedural(d: Draws, hw: tuple[int, int], folder: str | None = None, sex: str | None = None) -> np.ndarray:
    from ..gan.faces import render_face

    return _steered(d, "photo.hair.style", sex, lambda: render_face(d, hw, prefix="photo"))


def genegan(d: Draws, hw: tuple[int, int], folder: str | None = None, sex: str | None = None) -> np.ndarray:
    try:
        from ..gan.photo import genegan_photo
    except ImportError as e:
        raise UserError(f"photo source 'genegan' is not available ({e}); it needs synthgen.gan.photo and torch "
                        "(pip install 'synthgen[torch]') and a trained checkpoint; or use photo.source: procedural") \
            from None
    return _steered(d, "photo.genegan.face.hair.style", sex, lambda: genegan_photo(d, hw))


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


def from_folder(d: Draws, hw: tuple[int, int], folder: str | None = None, sex: str | None = None) -> np.ndarray:
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


# name -> f(d, (height, width), folder, sex) -> H x W x 3 uint8 RGB
PHOTO_SOURCES: dict[str, Callable[..., np.ndarray]] = {
    "procedural": procedural,
    "genegan": genegan,
    "folder": from_folder,
}
