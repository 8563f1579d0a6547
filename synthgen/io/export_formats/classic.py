"""The two formats of `io/exports.py` in the registry: ICDAR 2015 text files and the
clovaai/deep-text-recognition-benchmark LMDB (their code and docs are in that module)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..exports import ExportStats, export_icdar2015, export_lmdb


class Icdar2015:
    task = "det"
    title = "detection: images + gt_<key>.txt (x1,y1,...,x4,y4,text; ### don't-care)"

    @classmethod
    def export(cls, src: str, out: str, *, kinds: Iterable[str] | None = None, progress: bool = True,
               name: str | None = None, **options: Any) -> ExportStats:
        from dataclasses import fields

        from ...errors import UserError
        from .base import Options

        known = {f.name for f in fields(Options)} | {"map_size"}  # crop options: accepted, unused (as before)
        bad = sorted(set(options) - known)
        if bad:
            raise UserError(f"export icdar2015: unknown option(s) {', '.join(bad)}")
        # export_icdar2015 makes the refusals every other detection format makes (text kinds
        # only, no dataset of recognition crops), for this registry path and its Python API alike
        return export_icdar2015(src, out, kinds=kinds, progress=progress)


class Lmdb:
    task = "rec"
    title = "recognition: LMDB of crops (image-%09d, label-%09d, num-samples)"

    @classmethod
    def export(cls, src: str, out: str, *, kinds: Iterable[str] | None = None, progress: bool = True,
               name: str | None = None, **options: Any) -> ExportStats:
        from ...errors import UserError

        options.pop("split", None)  # no LMDB file name carries a split
        bad = sorted(set(options) - {"height", "pad", "image_format", "quality", "map_size"})
        if bad:
            raise UserError(f"export lmdb: unknown option(s) {', '.join(bad)}; options are height, image_format, "
                            "map_size, pad, quality")
        return export_lmdb(src, out, kinds=kinds, progress=progress, **options)  # it refuses kinds without text
