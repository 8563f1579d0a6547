"""Template validation: every kind of bad template is exit code 2 with one line naming the file,
the place in it and the problem; the shipped templates validate; `templates list` works."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from synthgen.cli import main
from synthgen.resources import shipped

BASE = shipped("templates") / "id_td1" / "template.yaml"


def make(tmp_path: Path, edit, name: str = "card") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    edit(data, folder)
    (folder / "template.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def field(name, **kw):
    def edit(data, folder):
        data["fields"][name].update(kw)
    return edit


def set_key(path, value):
    def edit(data, folder):
        node = data
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    return edit


MRZ = {"format": "TD1", "box_mm": [4.0, 40.0, 77.6, 13.0], "font": "ocrb"}  # the base (a TD1 front) has none


def with_mrz(*edits):
    def edit(data, folder):
        data["mrz"] = dict(MRZ)
        for e in edits:
            e(data, folder)
    return edit


def add_layer(layer, files=()):
    def edit(data, folder):
        data["background"].append(layer)
        for f in files:
            (folder / f).write_bytes(b"\x89PNG\r\n\x1a\n")
    return edit


def add_fonts_role(role, ref):
    def edit(data, folder):
        data["fonts"][role] = ref
    return edit


# (id, edit, words the one-line message must contain besides the file name)
BAD = [
    ("field outside card", field("surname", box_mm=[70, 9, 30, 3.8]), ["fields.surname.box_mm", "outside the card"]),
    ("unknown attribute", field("surname", text="{nickname}"), ["fields.surname.text", "unknown identity attribute",
                                                               "nickname"]),
    ("font lacks glyphs", field("surname", text="{surname} 张"), ["fields.surname", "lacks glyphs"]),
    ("asset escapes folder", add_layer({"kind": "image", "path": "../escape.png", "box_mm": [0, 0, 5, 5]}),
     ["background[5].path", "leaves the template folder"]),
    ("absolute asset path", add_layer({"kind": "image", "path": "/etc/passwd", "box_mm": [0, 0, 5, 5]}),
     ["background[5].path", "leaves the template folder"]),
    ("missing asset", add_layer({"kind": "image", "path": "art/logo.png", "box_mm": [0, 0, 5, 5]}),
     ["background[5].path", "does not exist"]),
    ("unknown key", field("surname", colour=[1, 2, 3]), ["fields.surname.colour", "unknown key"]),
    ("unknown layer kind", add_layer({"kind": "hologram", "box_mm": [0, 0, 5, 5]}), ["background[5]",
                                                                                      "unknown layer kind"]),
    ("unknown font role", field("surname", font="script"), ["fields.surname.font", "unknown font role", "script"]),
    ("unknown font family", add_fonts_role("fancy", {"family": "comic"}), ["fonts.fancy", "unknown font family"]),
    ("mrz box too small", with_mrz(set_key(["mrz", "box_mm"], [4, 37, 20, 15])), ["mrz.box_mm", "too small"]),
    ("mrz on a non-icao profile", with_mrz(set_key(["identity", "profile"], "us_licence")), ["mrz", "icao"]),
    ("unknown profile", set_key(["identity", "profile"], "martian"), ["identity.profile", "unknown identity profile"]),
    ("date without format", field("birth_date", text="{birth_date}"), ["fields.birth_date.text", "needs a format"]),
    ("size larger than box", field("surname", size_mm=[5, 6]), ["fields.surname.size_mm", "does not fit"]),
    ("bad colour", field("surname", color=[300, 0, 0]), ["fields.surname.color", "0-255"]),
    ("inverted size range", field("surname", size_mm=[3, 2]), ["fields.surname.size_mm", "[low, high]"]),
    ("unknown portrait hair colour", set_key(["photo", "look"], {"hair_color": {"purple": 1}}),
     ["photo.look.hair_color", "unknown colour", "purple"]),
    ("portrait skin tone out of range", set_key(["photo", "look"], {"skin_tone": [2, 9]}),
     ["photo.look.skin_tone", "within 0-7"]),
    ("reserved field name", set_key(["fields", "mrz_line"], {"box_mm": [26, 9, 10, 3.8], "text": "{sex}"}),
     ["fields.mrz_line", "reserved"]),
]


@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_bad_template_is_one_line_exit_2(tmp_path, capsys, case):
    _, edit, words = case
    folder = make(tmp_path, edit)
    rc = main(["templates", "validate", str(folder)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert str(folder / "template.yaml") in err, err
    for w in words:
        assert w in err, (w, err)


def test_malformed_yaml_and_not_a_mapping(tmp_path, capsys):
    for text, word in (("name: [unclosed\n", "malformed YAML"), ("- a\n- b\n", "must be a YAML mapping")):
        folder = tmp_path / f"t{len(word)}"
        folder.mkdir()
        (folder / "template.yaml").write_text(text)
        assert main(["templates", "validate", str(folder)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and word in err and str(folder / "template.yaml") in err


def test_a_date_like_value_in_a_template_is_text_not_a_traceback(tmp_path, capsys):
    # YAML 1.1 would read 2020-13-01 as a date (month 13: ValueError); templates read dates as text
    folder = make(tmp_path, field("surname", size_mm=[3.0, 3.2]))
    f = folder / "template.yaml"
    data = yaml.safe_load(f.read_text())
    f.write_text(yaml.safe_dump(data).replace(f"name: {data['name']}", "name: 2020-13-01"))
    assert main(["templates", "validate", str(folder)]) == 0
    assert "2020-13-01" in capsys.readouterr().out


def test_preview_a_template_folder_without_a_pipeline(tmp_path, capsys):
    import cv2

    folder = make(tmp_path, field("surname", size_mm=[3.0, 3.2]))  # a user's edited copy of id_td1
    out = tmp_path / "sheet.png"
    assert main(["templates", "preview", str(folder), "-n", "2", "-o", str(out), "--cell", "300"]) == 0
    sheet = cv2.imread(str(out))
    assert sheet is not None and sheet.shape[1] == 600  # two cards side by side
    assert "2 cards of template" in capsys.readouterr().out
    # a bad template, a bad strength: one line, exit 2, nothing written
    bad = make(tmp_path, field("surname", box_mm=[70, 9, 30, 3.8]), name="bad")
    for args, word in (([str(bad)], "outside the card"), ([str(folder), "--augment", "1.5"], "from 0 to 1")):
        out2 = tmp_path / "no.png"
        assert main(["templates", "preview", *args, "-o", str(out2)]) == 2
        err = capsys.readouterr().err
        assert word in err and err.count("\n") == 1 and not out2.exists()


def test_missing_template_and_unknown_name(tmp_path, capsys):
    assert main(["templates", "validate", str(tmp_path)]) == 2
    assert "no template.yaml" in capsys.readouterr().err
    assert main(["templates", "validate", "no_such_card"]) == 2
    assert "unknown template" in capsys.readouterr().err


def test_a_symlink_out_of_the_folder_is_refused(tmp_path, capsys):
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\n")

    def edit(data, folder):
        (folder / "logo.png").symlink_to(outside)
        data["background"].append({"kind": "image", "path": "logo.png", "box_mm": [0, 0, 5, 5]})

    folder = make(tmp_path, edit)
    assert main(["templates", "validate", str(folder)]) == 2
    assert "leaves the template folder" in capsys.readouterr().err


def test_asset_inside_folder_is_used(tmp_path):
    import cv2
    import numpy as np

    def edit(data, folder):
        (folder / "art").mkdir()
        cv2.imwrite(str(folder / "art" / "logo.png"), np.full((20, 20, 3), (0, 0, 255), np.uint8))
        data["background"].append({"kind": "image", "path": "art/logo.png", "box_mm": [70, 2, 10, 10]})

    folder = make(tmp_path, edit)
    assert main(["templates", "validate", str(folder)]) == 0
    import synthgen

    pipe = synthgen.load_pipeline("id_td1", **{"document.templates": {str(folder): 1}, "augment.strength": 0})
    s = pipe.sample(0)
    assert tuple(s.image[70, 750]) == (255, 0, 0)  # the asset's red, RGB


def test_shipped_templates_validate_and_list(capsys):
    names = sorted(p.name for p in shipped("templates").iterdir() if (p / "template.yaml").is_file())
    assert {"idcard_cn_front", "idcard_cn_back", "passport_td3", "id_td1", "licence_us"} <= set(names)
    assert main(["templates", "validate", *names]) == 0
    assert main(["templates", "list"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in names)


def test_bad_template_in_a_pipeline_is_exit_2(tmp_path, capsys):
    folder = make(tmp_path, field("surname", box_mm=[70, 9, 30, 3.8]))
    out = tmp_path / "sheet.png"
    rc = main(["preview", "id_td1", "-n", "1", "-o", str(out), "--set", f"document.templates={{{folder}: 1}}"])
    assert rc == 2 and not out.exists()
    assert "outside the card" in capsys.readouterr().err
