"""Card photos from GeneGAN: a procedural face, then glasses added or removed by the shipped
checkpoint (`source: genegan` in a template's photo slot).

The GAN works at 64 x 64; the photo slot is larger. So the face is rendered twice from one
spec, at the slot's size and at 64 x 64, and only the GAN's *change* (Dec(B, u) - Dec(B, 0) to
add, Dec(A, 0) - Dec(A, u) to remove) is warped up onto the sharp render: the face stays crisp and
the decoder's blur cancels out of the difference. Both renders share the head frame, so the warp
is an exact similarity transform. A checkpoint with compose "mask" needs no difference: its mask
and decoded image are warped up and composed over the sharp render (mask * decoded + (1 - mask)
* render), so every pixel the mask leaves alone is the render's own.

Process safety: the model loads lazily on the first call in each process (never in a parent
that then forks: a copy inherited through fork is discarded and reloaded, keyed by pid), and
torch is set to one thread in that process. Same sample -> same bytes on the same machine and
torch build; across CPUs with different vector units the float sums may differ in the last bit,
which can move a pixel by 1.
"""

from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

from ..faces.procedural import _Canvas, face_spec, render_spec

GAN_SIZE = 64
_FLOOR, _RAMP = 4.0, 8.0  # grey levels: changes under FLOOR are dropped, over FLOOR + RAMP kept whole
_STATE: dict[str, Any] = {"pid": None, "model": None}


def _model():
    if _STATE["pid"] != os.getpid():
        from . import require_torch

        require_torch("photo source 'genegan' (or --set document.photo.source=procedural)")
        import torch

        from .infer import GeneGAN

        torch.set_num_threads(1)
        _STATE["model"] = GeneGAN.load(None, "cpu", batch=1)
        _STATE["pid"] = os.getpid()
    return _STATE["model"]


def _frame(s: dict[str, Any], h: int, w: int) -> tuple[float, float, float]:
    c = _Canvas(np.empty((h, w, 3), np.uint8), s)
    return c.unit, c.cx, c.cy


def _lift(delta: np.ndarray, s: dict[str, Any], h: int, w: int) -> np.ndarray:
    """Warp a 64 x 64 change image onto the h x w render of the same spec (similarity transform
    that maps the low-res head frame onto the high-res one)."""
    ul, xl, yl = _frame(s, GAN_SIZE, GAN_SIZE)
    uh, xh, yh = _frame(s, h, w)
    k = uh / ul
    # pixel centres: x_h + 0.5 = k (x_l + 0.5 - xl) + xh  (cv2 shapes use corner-origin coordinates)
    m = np.float32([[k, 0, xh - k * xl + 0.5 * k - 0.5], [0, k, yh - k * yl + 0.5 * k - 0.5]])
    return cv2.warpAffine(delta, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def genegan_photo(d: Any, size_hw: tuple[int, int], prefix: str = "photo.genegan") -> np.ndarray:
    """An h x w RGB uint8 portrait whose glasses were added or removed by GeneGAN.
    Factors: `<prefix>.op` (add|remove), `<prefix>.face.*` (the face), `<prefix>.donor.*` (the
    face whose glasses are transplanted, when adding)."""
    h, w = int(size_hw[0]), int(size_hw[1])
    gan = _model()  # without torch: one line naming the install
    import torch

    s = face_spec(d, f"{prefix}.face")
    op = d.choice(f"{prefix}.op", ["add", "remove"])
    had = op == "remove"
    hi = render_spec(s, (h, w), {"glasses": had})
    lo = render_spec(s, GAN_SIZE, {"glasses": had})
    if gan.compose == "mask":
        from .data import to_tensor

        with torch.no_grad():
            a, _ = gan.encode(lo)
            u = gan.encode(render_spec(face_spec(d, f"{prefix}.donor"), GAN_SIZE, {"glasses": True}))[1] \
                if op == "add" else None
            # the input image only where the mask head reads it (mask_input; not the shipped model)
            base = to_tensor(lo[None], gan.device) if gan.gen.dec.mask_image is not None else None
            img, m = gan.gen.dec.parts(a, u, base)  # decoded image and mask, composed below at full size
        img = np.ascontiguousarray(img[0].clamp(-1, 1).add(1).mul(127.5).permute(1, 2, 0).numpy(), dtype=np.float32)
        mk = np.ascontiguousarray(m[0, 0].numpy(), dtype=np.float32)
        big_m = _lift(mk, s, h, w)[:, :, None]
        big_g = _lift(img, s, h, w)
        out = big_m * big_g + (1.0 - big_m) * hi.astype(np.float32)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
    with torch.no_grad():
        if op == "add":
            donor = render_spec(face_spec(d, f"{prefix}.donor"), GAN_SIZE, {"glasses": True})
            a, _ = gan.encode(lo)
            _, u = gan.encode(donor)
            pair = gan.gen.dec(torch.cat([a, a]), torch.cat([u, torch.zeros_like(u)]))
        else:
            a, u = gan.encode(lo)
            pair = gan.gen.dec(torch.cat([a, a]), torch.cat([torch.zeros_like(u), u]))
    pair = pair.clamp(-1, 1).mul(127.5).permute(0, 2, 3, 1).numpy()
    delta = np.ascontiguousarray(pair[0] - pair[1], dtype=np.float32)  # target minus reconstruction
    # keep the strong, local change (the glasses) and drop the decoder's faint global drift
    mag = cv2.GaussianBlur(np.abs(delta).mean(2), (5, 5), 0)
    delta *= np.clip((mag - _FLOOR) / _RAMP, 0.0, 1.0)[:, :, None]
    out = hi.astype(np.float32) + _lift(delta, s, h, w)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
