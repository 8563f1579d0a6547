"""A template's files: asset paths confined to the template's folder, and its fonts (shipped
families or files in the folder)."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..renderers.fonts import FONTS, FontFace, font_files, load_faces
from .schema import FontRef


def asset_path(file: Path, folder: Path, where: str, rel: str) -> Path:
    """A path named in a template, confined to the template's folder."""
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts:
        raise UserError(f"{file}: {where}: asset path {rel!r} leaves the template folder; "
                        "put the file inside the folder and give a relative path")
    full = (folder / p).resolve()
    if not full.is_relative_to(folder.resolve()):  # a symlink pointing out
        raise UserError(f"{file}: {where}: asset path {rel!r} leaves the template folder (through a link)")
    if not full.is_file():
        raise UserError(f"{file}: {where}: asset {rel!r} does not exist in {folder}")
    return full


def template_font(file: Path, folder: Path, role: str, ref: FontRef) -> FontFace:
    where = f"fonts.{role}"
    if ref.path is not None:
        return load_faces(str(asset_path(file, folder, where, ref.path)))[0]
    fam = FONTS / str(ref.family)
    files = font_files(fam) if fam.is_dir() else []
    if not files:
        shipped_fams = sorted(p.name for p in FONTS.iterdir() if p.is_dir()) if FONTS.is_dir() else []
        raise UserError(f"{file}: {where}: unknown font family {ref.family!r}; shipped: {', '.join(shipped_fams)}")
    if ref.file is None:
        return load_faces(str(files[0]))[0]
    match = [f for f in files if f.name == ref.file]
    if not match:
        raise UserError(f"{file}: {where}: family {ref.family!r} has no file {ref.file!r}; "
                        f"it has {', '.join(f.name for f in files)}")
    return load_faces(str(match[0]))[0]
