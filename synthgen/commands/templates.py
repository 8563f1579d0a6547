"""`synthgen templates list | validate PATH | preview PATH`: the document templates
(templates/<name>/template.yaml)."""

from __future__ import annotations

import argparse

from ._args import seed_arg

ORDER = 60
INTERRUPTED = "nothing was written (a preview sheet is written when every card is drawn)"  # cli.py

EPILOG = """examples:
  synthgen templates list
  synthgen templates validate templates/passport_td3
  synthgen templates validate my_card/template.yaml
  synthgen templates preview my_card -n 8 -o my_card.png         # cards of one template, labels drawn
  synthgen templates preview my_card --in-scene --augment 0.3    # placed in scenes, augmented
  synthgen preview idcard_cn -n 8 -o sheet.png        # look at cards of a document pipeline

A template is a folder: template.yaml plus its assets (images, fonts) in that folder. Loading
checks the schema (unknown keys, colours, ranges), that every box lies on the card, that every
{attribute} a field prints belongs to the identity profile, that each font has a glyph for
every character a field can print, that asset paths stay inside the folder and exist, and that
the MRZ box can hold its lines. A problem is one line naming the file, the place and the fix
(exit code 2)."""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    t = sub.add_parser("templates", help="list, validate or preview document templates (ID cards, passports)",
                       description="List the shipped document templates, validate a template folder, or "
                       "write a contact sheet of cards drawn from one.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    s = t.add_subparsers(dest="action", metavar="ACTION", required=True)
    s.add_parser("list", help="shipped templates with size, profile and fields")
    v = s.add_parser("validate", help="check a template (name, folder or template.yaml)")
    v.add_argument("path", nargs="+", help="template name, folder or template.yaml (several allowed)")
    p = s.add_parser("preview", help="contact sheet of cards from one template, labels drawn (no pipeline needed)",
                     description="Validate a template, render cards from it (each with its own identity) and "
                     "write a PNG contact sheet: field and caption quads green, char quads red, the photo and "
                     "card outline too. Flat and unaugmented unless asked.")
    p.add_argument("path", help="template name, folder or template.yaml")
    p.add_argument("-n", type=int, default=8, help="number of cards, 1 to 1024 (default 8)")
    p.add_argument("-o", "--out", default=None, help="PNG file to write (default template-NAME.png)")
    p.add_argument("--start", type=int, default=0, help="first card index, 0 or more (default 0)")
    p.add_argument("--seed", type=seed_arg, default=None, help="seed, a whole number from 0 to 2**64 - 1 (default 0)")
    p.add_argument("--in-scene", action="store_true", help="place each card on a background in perspective")
    p.add_argument("--augment", type=float, default=0.0, metavar="STRENGTH",
                   help="augmentation strength, 0 to 1 (default 0: the cards as drawn)")
    p.add_argument("--cell", type=int, default=0, help="tile size in px (default: the card's width, at most 1024)")
    p.add_argument("--no-chars", action="store_true", help="draw line quads only")
    return t


def run(a: argparse.Namespace) -> int:
    from ..templates.loading import available, load_template
    from ..templates.schema import TEMPLATES

    if a.action == "list":
        names = available()
        if not names:
            print(f"no templates in {TEMPLATES}")
            return 0
        for n in names:
            t = load_template(n)
            c = t.cfg
            w, h = t.size_px
            extra = ", ".join(x for x in (f"MRZ {c.mrz.format}" if c.mrz else "", "photo" if c.photo else "") if x)
            print(f"{n:18s} {c.size_mm[0]:g} x {c.size_mm[1]:g} mm ({w} x {h} px)  profile {c.identity.profile:12s} "
                  f"{len(c.fields)} fields{', ' + extra if extra else ''}  {c.description}")
        return 0
    if a.action == "preview":
        return _preview(a)
    return _validate(a.path)


def _validate(paths: list[str]) -> int:
    """Every template, not only up to the first bad one: "ok: ..." on stdout for each good one,
    one `synthgen: error: ...` line on stderr for each bad one; exit code 2 if any is bad."""
    import sys

    from ..errors import UserError
    from ..templates.loading import load_template

    bad = 0
    for p in paths:
        try:
            t = load_template(p)
        except UserError as e:
            bad += 1
            print(f"synthgen: error: {' '.join(str(e).split(chr(10))).strip()}", file=sys.stderr)
            continue
        c = t.cfg
        print(f"ok: {t.file}: {c.name}, {len(c.fields)} fields, {len(c.captions)} captions, "
              f"{len(c.background)} background layers" + (f", MRZ {c.mrz.format}" if c.mrz else ""))
    return 2 if bad else 0


def _preview(a: argparse.Namespace) -> int:
    """A document pipeline around the one template: every card drawn from it, portraits per card."""
    from ..config import validate
    from ..errors import UserError
    from ..pipeline import Pipeline
    from ..renderers.registry import renderer_class
    from ..run.job import parse_seed
    from ..templates.loading import load_template
    from .preview import CELL, check_sheet, write_sheet

    t = load_template(a.path)  # one line and exit 2 for a bad template, before any work
    if not 0.0 <= a.augment <= 1.0:
        raise UserError(f"--augment {a.augment}: the strength must be from 0 to 1")
    cell = a.cell or min(1024, max(CELL[0], t.size_px[0]))
    out = f"template-{t.name}.png" if a.out is None else a.out  # -o '' is refused by check_sheet
    n = check_sheet(a.n, a.start, cell, out)
    # the document kind says what a pipeline around one template is
    data = renderer_class("document").template_config(t, in_scene=a.in_scene, strength=a.augment)
    cfg = validate(data, f"synthgen templates preview {a.path}")
    pipe = Pipeline(cfg, seed=0 if a.seed is None else parse_seed(a.seed))
    write_sheet(pipe, a.start, n, out, cell, not a.no_chars)
    print(f"wrote {out}: {n} cards of template {t.name} ({t.file})")
    return 0
