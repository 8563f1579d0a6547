"""A kind owns its kind (issue 21, item 6): a renderer class declares its config sections, crop,
score-map and size rules, and the rest of synthgen asks the registry. A toy kind written outside
the package (a module in tmp_path) is registered, configured, rendered, written to shards and
listed by `synthgen factors`, without editing synthgen; installed as an entry point it works in
the CLI (a fresh process) too."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tarfile
import uuid

import numpy as np
import pytest

import synthgen
from synthgen.config import fingerprint, load_config
from synthgen.errors import UserError
from synthgen.renderers import registry

TOY = '''
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from synthgen.core import Instance


class ToyCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = Field(32, ge=8, le=256)
    colors: list[str] = ["red", "green", "blue"]


RGB = {"red": (200, 30, 30), "green": (30, 160, 30), "blue": (30, 30, 200)}


class ToyRenderer:
    """A box of one colour on white; its quad is a `word` labelled with the colour."""

    sections = {"toy": ToyCfg}
    score_always = True
    stride_multiples = ("toy.size",)

    @classmethod
    def check_config(cls, cfg):
        if not cfg.toy.colors:
            raise ValueError("toy.colors: give at least one colour")

    def __init__(self, cfg, seed):
        self.tc = cfg.toy

    def render(self, d, index, want_ink=False, meta=None):
        n = self.tc.size
        color = d.choice("toy.color", self.tc.colors, src="toy.colors")
        w = d.integers("toy.width", n // 4, n - 4, src="toy.size")
        img = np.full((n, n, 3), 255, np.uint8)
        img[n // 4 : 3 * n // 4, 2 : 2 + w] = RGB[color]
        quad = np.array([[2, n // 4], [2 + w, n // 4], [2 + w, 3 * n // 4], [2, 3 * n // 4]], np.float32)
        ink = None
        if want_ink:
            ink = np.zeros((n, n), np.uint8)
            ink[n // 4 : 3 * n // 4, 2 : 2 + w] = 255
        if meta is not None:
            meta["toy"] = {"color": color}
        return img, [Instance(quad, color, None, "word")], ink
'''

CONFIG = """\
name: toy
kind: toy
description: a toy plug-in kind
toy:
  size: 32
augment:
  strength: 0.0
output:
  format: png
"""


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A plug-in module outside the package (a unique name per test) and a pipeline file."""
    mod = f"toykind_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{mod}.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = tmp_path / "toy.yaml"
    cfg.write_text(CONFIG)
    saved = dict(registry.RENDERERS)
    yield mod, cfg
    registry.RENDERERS.clear()
    registry.RENDERERS.update(saved)
    registry._INFO.pop("toy", None)


def test_plugin_kind_config_render_shards_factors(toy, tmp_path):
    mod, cfg_path = toy
    with pytest.raises(UserError, match="unknown kind 'toy'"):
        load_config(cfg_path)
    registry.register("toy", f"{mod}:ToyRenderer")
    assert "toy" in registry.kinds() and registry.is_crop("toy") is False

    # config: the kind's own section, validated by its model; nothing of other kinds
    cfg, _ = load_config(cfg_path)
    assert cfg.kind == "toy" and cfg.toy.size == 32 and cfg.toy.colors == ["red", "green", "blue"]
    dump = cfg.model_dump(mode="json")
    assert dump["toy"] == {"size": 32, "colors": ["red", "green", "blue"]}
    assert not {"image", "text", "layout", "line", "document"} & set(dump)
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert fingerprint(load_config(cfg_path, {"toy.size": 32})[0]) == fingerprint(cfg)
    with pytest.raises(UserError, match="toy.bogus"):
        load_config(cfg_path, {"toy.bogus": 1})
    with pytest.raises(UserError, match="toy.size must be a multiple of labels.stride=4"):
        load_config(cfg_path, {"toy.size": 30})
    assert load_config(cfg_path, {"toy.size": 30, "labels.stride": 2})[0].toy.size == 30
    with pytest.raises(UserError, match="toy.colors: give at least one colour"):
        load_config(cfg_path, {"toy.colors": []})
    with pytest.raises(UserError, match="text: is for kind: scene"):
        load_config(cfg_path, {"text.size": [10, 20]})
    with pytest.raises(UserError, match="toy: is for kind: toy"):
        load_config("ocr_scene", {"toy.size": 32})

    # render: load_pipeline / sample, the score map always (score_always), meta from the kind
    pipe = synthgen.load_pipeline(str(cfg_path))
    s = pipe.sample(3)
    assert s.image.shape == (32, 32, 3) and s.meta["pipeline_kind"] == "toy"
    assert s.factors["toy.color"] in ("red", "green", "blue") and s.meta["toy"]["color"] == s.factors["toy.color"]
    assert s.instances[0].text == s.factors["toy.color"] and s.maps["score"].shape == (8, 8)
    assert s.maps["score"].any()
    again = synthgen.load_pipeline(str(cfg_path)).sample(3)
    assert np.array_equal(again.image, s.image) and again.factors == s.factors
    pinned = pipe.sample(3, pinned={"toy.color": "blue"})
    assert pinned.factors["toy.color"] == "blue" and tuple(pinned.image[16, 4]) == (30, 30, 200)
    with pytest.raises(UserError, match="no such factor"):
        pipe.sample(3, pinned={"toy.colour": "blue"})

    # factors: listed from the kind's draws, with their config keys
    space = pipe.factor_space()
    assert space["toy.color"].options == ["red", "green", "blue"] and space["toy.color"].src == "toy.colors"
    assert space["toy.width"].kind == "integer" and space["toy.width"].src == "toy.size"

    # shards: the render job with forked workers (they inherit the registration)
    out = tmp_path / "ds"
    man = synthgen.render(str(cfg_path), n=6, out=str(out), shard_size=4, workers=2, progress=False)
    assert man["state"] == "complete" and [x["count"] for x in man["shards"]] == [4, 2]
    assert man["config"]["kind"] == "toy" and man["config"]["toy"]["size"] == 32
    names = {}
    for sh in man["shards"]:
        with tarfile.open(out / sh["name"]) as tf:
            for m in tf.getmembers():
                names[m.name] = tf.extractfile(m).read()
    assert sorted(k for k in names if k.endswith(".png") and ".score" not in k) == [f"{i:09d}.png" for i in range(6)]
    assert all(f"{i:09d}.score.png" in names for i in range(6))
    rec = json.loads(names["000000003.json"])
    assert rec["factors"]["toy.color"] == s.factors["toy.color"] and rec["meta"]["toy"] == s.meta["toy"]


def test_plugin_kind_from_an_entry_point_in_the_cli(tmp_path):
    """Installed as an entry point (group synthgen.renderers), the kind is found in a fresh
    process: `synthgen factors` and `synthgen render` work with no register() call."""
    mod = f"toykind_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{mod}.py").write_text(TOY)
    dist = tmp_path / f"{mod}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {mod}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[synthgen.renderers]\ntoy = {mod}:ToyRenderer\n")
    cfg = tmp_path / "toy.yaml"
    cfg.write_text(CONFIG)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    code = "import sys; from synthgen.cli import main; sys.exit(main(sys.argv[1:]))"

    def cli(*args):
        return subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)

    r = cli("factors", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "toy.color" in r.stdout and "toy.colors" in r.stdout and "toy.width" in r.stdout
    r = cli("render", str(cfg), "--n", "3", "--out", str(tmp_path / "ds"), "--workers", "1")
    assert r.returncode == 0, r.stderr
    man = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert man["state"] == "complete" and man["config"]["kind"] == "toy" and man["n"] == 3


def test_register_refuses_what_cannot_work(toy):
    mod, _ = toy
    with pytest.raises(ValueError, match="shipped"):
        registry.register("line", f"{mod}:ToyRenderer")
    with pytest.raises(ValueError, match="lower-case"):
        registry.register("Toy Kind", f"{mod}:ToyRenderer")
    with pytest.raises(ValueError, match="render"):
        registry.register("toy", object)

    class Shared:  # a kind may not redeclare a section every kind shares
        sections = {"labels": dict}

        def render(self, d, index, want_ink=False, meta=None):
            raise AssertionError

    registry.register("toy", Shared)
    with pytest.raises(ValueError, match="shared by every kind"):
        registry.kind_info("toy")


def test_shipped_kinds_declare_themselves():
    scene, line, doc = (registry.kind_info(k) for k in ("scene", "line", "document"))
    assert scene.section_names == ("image", "text", "layout") and scene.score_always and not scene.crop
    assert line.section_names == ("line",) and line.crop and not line.score_always
    assert doc.section_names == ("document",) and not doc.crop and not doc.score_always
    assert registry.section_owners()["line"] == {"line": line.sections[0][1]}


def test_stride_rules_belong_to_the_kind():
    """The image-size rule is the scene's: `--set labels.stride=3` is a valid line or document
    config (a line crop stores no EAST maps unless asked; a card is padded to the stride)."""
    cfg, _ = load_config("ocr_line", {"labels.stride": 3})
    assert cfg.labels.stride == 3 and cfg.labels.store == []
    assert synthgen.load_pipeline("ocr_line", **{"labels.stride": 3}).sample(0).image.shape[0] == cfg.line.height
    with pytest.raises(UserError, match="line.height must be a multiple of labels.stride=3 when labels.store"):
        load_config("ocr_line", {"labels.stride": 3, "labels.store": ["score"]})
    assert load_config("ocr_line", {"labels.stride": 3, "labels.store": ["score"], "line.height": 33})[0].line.height == 33
    doc, _ = load_config("passport_td3", {"labels.stride": 3})
    s = synthgen.load_pipeline("idcard_cn", **{"labels.stride": 3, "labels.store": ["score"]}).sample(0)
    assert s.maps["score"].shape == (-(-s.image.shape[0] // 3), -(-s.image.shape[1] // 3)) and doc.labels.stride == 3
    with pytest.raises(UserError, match="image.width and image.height must be a multiple of labels.stride=3"):
        load_config("ocr_scene", {"labels.stride": 3})
    assert load_config("ocr_scene", {"labels.stride": 3, "image.width": 510, "image.height": 384})[0].image.width == 510


def test_cli_set_stride_on_ocr_line(tmp_path):
    from synthgen.cli import main

    out = tmp_path / "lines"
    assert main(["render", "ocr_line", "--n", "2", "--set", "labels.stride=3", "--out", str(out), "--workers", "1",
                 "-q"]) == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["state"] == "complete" and man["config"]["labels"]["stride"] == 3


def test_text_kinds_defined_once():
    from synthgen import core, pipeline
    from synthgen.audit import judges

    assert core.TEXT_KINDS == ("word", "line", "field") and core.KINDS[:3] == core.TEXT_KINDS
    assert pipeline.TEXT_KINDS is core.TEXT_KINDS and judges.TEXT_KINDS is core.TEXT_KINDS
