"""`synthgen templates list | validate PATH`: the document templates (templates/<name>/template.yaml)."""

from __future__ import annotations

import argparse

ORDER = 60

EPILOG = """examples:
  synthgen templates list
  synthgen templates validate templates/passport_td3
  synthgen templates validate my_card/template.yaml
  synthgen preview idcard_cn -n 8 -o sheet.png        # look at cards of a document pipeline

A template is a folder: template.yaml plus its assets (images, fonts) in that folder. Loading
checks the schema (unknown keys, colours, ranges), that every box lies on the card, that every
{attribute} a field prints belongs to the identity profile, that each font has a glyph for
every character a field can print, that asset paths stay inside the folder and exist, and that
the MRZ box can hold its lines. A problem is one line naming the file, the place and the fix
(exit code 2)."""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    t = sub.add_parser("templates", help="list or validate document templates (ID cards, passports)",
                       description="List the shipped document templates or validate a template folder.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    s = t.add_subparsers(dest="action", metavar="ACTION", required=True)
    s.add_parser("list", help="shipped templates with size, profile and fields")
    v = s.add_parser("validate", help="check a template (name, folder or template.yaml)")
    v.add_argument("path", nargs="+", help="template name, folder or template.yaml (several allowed)")
    return t


def run(a: argparse.Namespace) -> int:
    from ..templates.schema import TEMPLATES, available, load_template

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
    for p in a.path:
        t = load_template(p)
        c = t.cfg
        print(f"ok: {t.file}: {c.name}, {len(c.fields)} fields, {len(c.captions)} captions, "
              f"{len(c.background)} background layers" + (f", MRZ {c.mrz.format}" if c.mrz else ""))
    return 0
