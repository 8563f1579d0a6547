#!/usr/bin/env python3
"""Rebuild the shipped real-photo texture tiles in ``synthgen/data/textures/``.

Sources (offline, licences recorded in ``synthgen/data/textures/LICENSE.md``):

* scikit-image 0.24.0's data images (read straight out of its wheel, no install needed):
  brick, grass, gravel (CC0, from CC0Textures / DeviantArt, greyscale), coffee (CC0, Rachel
  Michetti), chelsea (CC0, Stefan van der Walt; only the fur), rocket (public domain, SpaceX;
  only sky and ground), hubble_deep_field (public domain, NASA), moon (public domain, NASA).
* Debian package mate-backgrounds 1.26.0-1 (GPL-2+, authors per file in its copyright file):
  the nature photos Aqua, Blinds, Dune, FreshFlower, Garden, GreenMeadow, LadyBird, RainDrops,
  Storm, TwoWings, Wood, YellowFlower.

Images with legible text or faces (skimage page/text/astronaut/camera) are not used.
Each source is scaled so its shorter side is 512 px (900 for the large MATE photos) and cut
into 512 x 512 tiles on a fixed half-overlapping grid (plus a coarser pass at 2/3 scale), written as JPEG quality 85.
Tiles are named ``<category>__<source>__<k>.jpg``; the category (wood, stone, brick,
foliage, flowers, sky, water, fur, space, sand, ceramic) is what the background draw records.

Usage
-----
    pip download scikit-image==0.24.0 --no-deps -d /tmp/sk         # the wheel
    apt-get download mate-backgrounds                               # the .deb
    python scripts/make_textures.py --skimage-wheel /tmp/sk/scikit_image-0.24.0-*.whl \\
        --mate-deb mate-backgrounds_1.26.0-1_all.deb

Deterministic: same inputs -> same tiles (fixed grid, OpenCV INTER_AREA, libjpeg quality 85).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "synthgen" / "data" / "textures"
TILE = 512
QUALITY = 85
MAX_BYTES = 12_000_000

# name -> (category, licence line, region (x0, y0, x1, y1) as fractions or None, short side px)
SKIMAGE = {
    "brick.png": ("brick", "CC0 1.0 (CC0Textures 'Bricks25', via scikit-image)", None, 512),
    "grass.png": ("foliage", "CC0 1.0 (DeviantArt linolafett 'Grass 01', via scikit-image)", None, 512),
    "gravel.png": ("stone", "CC0 1.0 (CC0Textures 'Gravel04', via scikit-image)", None, 512),
    "coffee.png": ("wood", "CC0 1.0 (photo by Rachel Michetti, via scikit-image); the table top only",
                   (0.0, 0.72, 1.0, 1.0), 512),
    "chelsea.png": ("fur", "CC0 1.0 (photo by Stefan van der Walt, via scikit-image); fur only, no face",
                    (0.0, 0.0, 0.22, 1.0), 512),
    "rocket.jpg": ("sky", "public domain (SpaceX, via scikit-image); sky only", (0.0, 0.0, 1.0, 0.3), 512),
    "hubble_deep_field.jpg": ("space", "public domain (NASA, via scikit-image)", None, 512),
    "moon.png": ("stone", "public domain (NASA, via scikit-image)", None, 512),
}
MATE = {
    "Aqua.jpg": ("water", None), "Blinds.jpg": ("foliage", None), "Dune.jpg": ("sand", None),
    "FreshFlower.jpg": ("flowers", None), "Garden.jpg": ("flowers", None), "GreenMeadow.jpg": ("foliage", None),
    "LadyBird.jpg": ("foliage", None), "RainDrops.jpg": ("foliage", None), "Storm.jpg": ("sky", None),
    "TwoWings.jpg": ("flowers", None), "Wood.jpg": ("wood", None), "YellowFlower.jpg": ("flowers", None),
}
MATE_SIDE = 900


def tiles_of(img: np.ndarray, short: int) -> list[np.ndarray]:
    """Tiles on a fixed grid (half-tile overlap) at scale `short`, and at 2/3 of it when that
    still holds a tile (coarser texture). Upscaling (small crops) is cubic, never blocky."""
    out = []
    for side in sorted({short, max(TILE, short * 2 // 3)}, reverse=True):
        h, w = img.shape[:2]
        s = side / min(h, w)
        im = cv2.resize(img, (max(TILE, round(w * s)), max(TILE, round(h * s))),
                        interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
        H, W = im.shape[:2]
        nx, ny = 1 + max(0, (W - TILE) * 2 // TILE), 1 + max(0, (H - TILE) * 2 // TILE)
        xs = np.linspace(0, W - TILE, nx).round().astype(int)
        ys = np.linspace(0, H - TILE, ny).round().astype(int)
        for y in ys:
            for x in xs:
                t = im[y : y + TILE, x : x + TILE]
                if float(cv2.cvtColor(t, cv2.COLOR_BGR2GRAY).std()) >= 6.0:  # no flat (e.g. all-black) tiles
                    out.append(t)
    return out


def crop(img: np.ndarray, region) -> np.ndarray:
    if region is None:
        return img
    h, w = img.shape[:2]
    x0, y0, x1, y1 = region
    return img[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)]


def as_bgr(buf: bytes) -> np.ndarray:
    im = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_COLOR)
    if im is None:
        raise SystemExit("cannot decode a source image")
    return im


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skimage-wheel", type=Path, required=True)
    ap.add_argument("--mate-deb", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    if a.out.is_dir():
        shutil.rmtree(a.out)
    a.out.mkdir(parents=True)
    rows: list[tuple[str, str, int]] = []  # (source, licence, tiles)

    def write(cat: str, src: str, tiles: list[np.ndarray]) -> None:
        stem = Path(src).stem.lower().replace("_", "-")
        for k, t in enumerate(tiles):
            ok, enc = cv2.imencode(".jpg", t, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
            assert ok
            (a.out / f"{cat}__{stem}__{k:02d}.jpg").write_bytes(enc.tobytes())

    with zipfile.ZipFile(a.skimage_wheel) as z:
        for name, (cat, lic, region, short) in SKIMAGE.items():
            img = crop(as_bgr(z.read(f"skimage/data/{name}")), region)
            t = tiles_of(img, short)
            write(cat, name, t)
            rows.append((f"scikit-image 0.24.0 skimage/data/{name}", lic, len(t)))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(a.mate_deb), tmp], check=True)
        base = Path(tmp) / "usr/share/backgrounds/mate/nature"
        for name, (cat, region) in MATE.items():
            img = crop(cv2.imread(str(base / name), cv2.IMREAD_COLOR), region)
            t = tiles_of(img, MATE_SIDE)
            write(cat, name, t)
            rows.append((f"Debian mate-backgrounds 1.26.0-1 nature/{name}", "GPL-2+ (see below)", len(t)))
        copyright_text = (Path(tmp) / "usr/share/doc/mate-backgrounds/copyright").read_text(encoding="utf-8")
    gpl = Path("/usr/share/common-licenses/GPL-2").read_text(encoding="utf-8")
    lines = ["# Texture tiles: sources and licences", "",
             "Made by `scripts/make_textures.py` (see its docstring). Every tile is a 512 x 512 crop of a",
             "scaled copy of one source image, JPEG quality 85. File names: `<category>__<source>__<k>.jpg`.", "",
             "| source | licence | tiles |", "| --- | --- | --- |"]
    lines += [f"| {s} | {lic} | {n} |" for s, lic, n in rows]
    lines += ["", "## mate-backgrounds: Debian copyright file (verbatim)", "", "```", copyright_text.strip(), "```",
              "", "## GNU General Public License, version 2 (/usr/share/common-licenses/GPL-2)", "", "```", gpl.strip(),
              "```", ""]
    (a.out / "LICENSE.md").write_text("\n".join(lines), encoding="utf-8")
    total = sum(p.stat().st_size for p in a.out.iterdir())
    n = sum(r[2] for r in rows)
    print(f"{n} tiles from {len(rows)} images, {total:,} bytes in {a.out}")
    if total > MAX_BYTES:
        raise SystemExit(f"textures are {total:,} bytes, over the {MAX_BYTES:,} budget")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
