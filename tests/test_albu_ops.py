"""albumentations pipelines as one more op (`augment.albumentations`, synthgen/augment/albu_ops.py).

The op contract over a set of albumentations transforms, geometric and photometric: same
draws -> same bytes (and through pickling and replay); labels follow the pixels (a bright dot
drawn at every quad corner lands where the moved quad's corner says; a quad's coverage mask
pushed through as the ink mask matches the moved quad's mask; an Affine's quads are its recorded
matrix applied, an independent reference); text whose quad leaves the frame becomes `ignore`
(or goes); strength 0 is the identity and strength scales each transform's chance; the factors
are declared; a bad file exits 2 in one line naming it."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

A = pytest.importorskip("albumentations")

import synthgen  # noqa: E402
from synthgen.augment import REGISTRY, augment, op_table  # noqa: E402
from synthgen.augment import albu_ops  # noqa: E402
from synthgen.augment.geometric import visible_fraction  # noqa: E402
from synthgen.cli import main  # noqa: E402
from synthgen.config import AugmentCfg  # noqa: E402
from synthgen.core import Instance  # noqa: E402
from synthgen.draws import Draws  # noqa: E402
from synthgen.errors import UserError  # noqa: E402

from .helpers import quad_coverage  # noqa: E402

op_table(None)  # registration
OFF = {n: {"p": 0.0} for n in REGISTRY}  # synthgen's own ops off: only the albumentations op runs
H, W = 120, 200
EXAMPLE = albu_ops.SHIPPED / "example.yaml"
REPLICATE = cv2.BORDER_REPLICATE

GEOMETRIC = {
    "Affine": lambda: A.Affine(rotate=(-12, 12), shear=(-8, 8), scale=(0.85, 1.15), translate_percent=(-0.05, 0.05),
                               border_mode=REPLICATE, p=1),
    "Rotate": lambda: A.Rotate(limit=15, border_mode=REPLICATE, p=1),
    "SafeRotate": lambda: A.SafeRotate(limit=12, border_mode=REPLICATE, p=1),
    "ShiftScaleRotate": lambda: A.ShiftScaleRotate(shift_limit=0.04, scale_limit=0.1, rotate_limit=10,
                                                   border_mode=REPLICATE, p=1),
    "Perspective": lambda: A.Perspective(scale=(0.03, 0.07), border_mode=REPLICATE, p=1),
    "HorizontalFlip": lambda: A.HorizontalFlip(p=1),
    "VerticalFlip": lambda: A.VerticalFlip(p=1),
}
PHOTOMETRIC = {
    "RandomBrightnessContrast": lambda: A.RandomBrightnessContrast(p=1),
    "GaussNoise": lambda: A.GaussNoise(std_range=(0.05, 0.1), p=1),
    "MotionBlur": lambda: A.MotionBlur(blur_limit=(3, 7), p=1),
    "ImageCompression": lambda: A.ImageCompression(quality_range=(30, 60), p=1),
    "CLAHE": lambda: A.CLAHE(p=1),
    "HueSaturationValue": lambda: A.HueSaturationValue(p=1),
}
TRANSFORMS = {**GEOMETRIC, **PHOTOMETRIC}
FLIPS = ("HorizontalFlip", "VerticalFlip")


def cfg_of(value, strength: float = 1.0, **kw) -> AugmentCfg:
    return AugmentCfg(strength=strength, ops=OFF, albumentations=value, **kw)


def scene(dots: bool = False) -> tuple[np.ndarray, list[Instance]]:
    """A textured frame with two dark word quads well inside it (an upright one and one turned
    20 degrees), each with two char quads; `dots`: a black frame with a bright 3 x 3 dot centred
    on every quad corner instead (corners off the pixel grid: the dot's centroid is the corner)."""
    yy, xx = np.mgrid[0:H, 0:W]
    img = np.stack([(xx * 1.2) % 256, (yy * 2.1) % 256, ((xx + yy) * 0.7) % 256], -1).astype(np.uint8)
    quads = [np.array([[60.5, 40.5], [110.5, 40.5], [110.5, 64.5], [60.5, 64.5]], np.float32)]
    c, a = np.array([140.5, 78.5]), np.radians(20)
    R = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    quads.append((np.array([[-22, -9], [22, -9], [22, 9], [-22, 9]]) @ R.T + c).astype(np.float32))
    if dots:
        img = np.zeros((H, W, 3), np.uint8)
        for q in quads:
            for x, y in q:  # a dot of area 3 x 3 centred on (x, y): bilinear splat of a 3 px square
                _splat(img, x, y)
    inst = []
    for q in quads:
        if not dots:
            cv2.fillPoly(img, [np.round(q).astype(np.int32)], (20, 20, 20))
        mid_t, mid_b = (q[0] + q[1]) / 2, (q[3] + q[2]) / 2
        chars = np.stack([[q[0], mid_t, mid_b, q[3]], [mid_t, q[1], q[2], mid_b]]).astype(np.float32)
        inst.append(Instance(quad=q, text="ab", chars=chars, kind="word"))
    return img, inst


def _splat(img: np.ndarray, x: float, y: float) -> None:
    """A 3 x 3 px white square centred on the point (x, y) (pixel-corner coordinates), area-weighted."""
    for py in range(int(y) - 3, int(y) + 3):
        for px in range(int(x) - 3, int(x) + 3):
            ox = max(0.0, min(px + 1, x + 1.5) - max(px, x - 1.5))
            oy = max(0.0, min(py + 1, y + 1.5) - max(py, y - 1.5))
            if ox * oy > 0:
                img[py, px] = np.clip(img[py, px].astype(float) + 255 * ox * oy, 0, 255).astype(np.uint8)


def centroid(img: np.ndarray, x: float, y: float, r: int = 5) -> tuple[float, float] | None:
    """The brightness centroid (pixel-corner coordinates) of the window of radius r around (x, y)."""
    g = img.astype(np.float64).mean(-1)
    x0, y0 = int(np.floor(x)) - r, int(np.floor(y)) - r
    if x0 < 0 or y0 < 0 or x0 + 2 * r + 1 > W or y0 + 2 * r + 1 > H:
        return None
    win = g[y0:y0 + 2 * r + 1, x0:x0 + 2 * r + 1]
    win = np.clip(win - 8.0, 0, None)  # border replication and interpolation leave faint light
    if win.sum() < 200:
        return None
    ys, xs = np.mgrid[y0:y0 + 2 * r + 1, x0:x0 + 2 * r + 1]
    return float((xs * win).sum() / win.sum() + 0.5), float((ys * win).sum() / win.sum() + 0.5)


def coverage(quad: np.ndarray, ss: int = 4) -> np.ndarray:
    """Area coverage (0..255) of each pixel by the convex quad, from ss x ss sub-samples."""
    return quad_coverage(quad, H, W, ss)


def iou(a: np.ndarray, b: np.ndarray, up: int = 4) -> float:
    a = cv2.resize(a, None, fx=up, fy=up, interpolation=cv2.INTER_LINEAR) > 127
    b = cv2.resize(b, None, fx=up, fy=up, interpolation=cv2.INTER_LINEAR) > 127
    return float((a & b).sum() / max(1, (a | b).sum()))


def same(a, b) -> bool:
    """Two augment() results are the same bytes and labels."""
    return (np.array_equal(a[0], b[0]) and len(a[1]) == len(b[1])
            and all(np.array_equal(x.quad, y.quad) and np.array_equal(x.chars, y.chars) and x.ignore == y.ignore
                    for x, y in zip(a[1], b[1])))


# -- the shipped example --------------------------------------------------------------------------
def test_example_is_albumentations_own_format_with_a_geometric_transform():
    from albumentations.core.transforms_interface import DualTransform

    t = A.load(str(EXAMPLE), data_format="yaml")  # albumentations reads it itself
    leaves = [x for x in albu_ops._nodes(t) if isinstance(x, A.BasicTransform)]
    assert len(leaves) >= 4
    assert any(isinstance(x, DualTransform) for x in leaves)  # a geometric one (Affine, Perspective)
    assert albu_ops.resolve("example") == EXAMPLE
    assert albu_ops.load("example").classes()[:2] == ["Affine", "Perspective"]


# -- the contract ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_same_draws_same_bytes_pickling_and_it_changes_something(name):
    img, inst = scene()
    cfg = cfg_of([TRANSFORMS[name]()], 0.8)
    a = augment(img, inst, Draws(3, 11), cfg)
    b = augment(img, inst, Draws(3, 11), pickle.loads(pickle.dumps(cfg)))
    assert same(a, b)
    # the seed is the one factor behind it: pinning the recorded seed replays it
    d = Draws(3, 11)
    augment(img, inst, d, cfg)
    assert same(augment(img, inst, Draws(9, 9, pinned={"aug.albu.seed": d.factors["aug.albu.seed"]}), cfg), a)
    changed = [not same(augment(img, inst, Draws(5, i), cfg_of([TRANSFORMS[name]()])), (img, inst)) for i in range(6)]
    assert any(changed), f"{name} never changed anything at strength 1"


@pytest.mark.parametrize("name", sorted(GEOMETRIC))
@pytest.mark.parametrize("index", range(4))
def test_labels_follow_pixels_geometric(name, index):
    """A bright dot at every quad corner lands where the moved quad's corner is (0.12 px), and
    each quad's coverage pushed through as the ink mask matches the moved quad (IoU >= 0.97)."""
    img, inst = scene(dots=True)
    masks = np.stack([coverage(x.quad) for x in inst], -1)
    out, moved, ink = augment(img, inst, Draws(7, index), cfg_of([GEOMETRIC[name]()]), ink=masks)
    assert len(moved) == len(inst)
    checked = 0
    for k, m in enumerate(moved):
        assert not np.array_equal(m.quad, inst[k].quad)
        assert m.ignore == (name in FLIPS)  # a flip mirrors the text: don't-care; nothing else leaves the frame
        for x, y in m.quad:
            c = centroid(out, x, y)
            if c is None:
                continue
            assert np.hypot(c[0] - x, c[1] - y) < 0.12, (name, index, (x, y), c)
            checked += 1
        if np.all((m.quad >= 2) & (m.quad <= (W - 3, H - 3))):
            assert iou(ink[:, :, k], coverage(m.quad)) >= 0.97, (name, index, k)
        # the char quads tile the word as before (same mapping)
        assert iou(np.maximum(coverage(m.chars[0]), coverage(m.chars[1])), coverage(m.quad)) >= 0.97
    assert checked >= 6


@pytest.mark.parametrize("name", sorted(PHOTOMETRIC))
def test_labels_stay_under_photometric_transforms(name):
    img, inst = scene()
    for i in range(3):
        out, moved, _ = augment(img, inst, Draws(7, i), cfg_of([PHOTOMETRIC[name]()]))
        assert [m.quad.tobytes() for m in moved] == [m.quad.tobytes() for m in inst]
        assert [m.chars.tobytes() for m in moved] == [m.chars.tobytes() for m in inst]
        assert out.shape == img.shape and out.dtype == np.uint8


def test_affine_quads_are_the_recorded_matrix_applied():
    """Independent reference: the recorded `matrix` (albumentations' pixel-centre coordinates)
    applied to the corners gives the moved quad; so the factors say what ran."""
    img, inst = scene()
    for i in range(5):
        d = Draws(2, i)
        _, moved, _ = augment(img, inst, d, cfg_of([GEOMETRIC["Affine"]()]))
        rec = d.factors["derived.aug.albu[0].Affine"]
        M = np.array(rec["matrix"])
        for m, o in zip(moved, inst):
            p = np.c_[o.quad - 0.5, np.ones(4)] @ M.T
            assert np.allclose(p[:, :2] / p[:, 2:] + 0.5, m.quad, atol=1e-3)
        assert set(rec) >= {"rotate", "scale", "matrix"} and "shape" not in rec


def test_flip_mirrors_the_quads_and_marks_them_dont_care():
    img, inst = scene()
    _, moved, _ = augment(img, inst, Draws(0, 0), cfg_of([A.HorizontalFlip(p=1)]))
    for m, o in zip(moved, inst):
        assert np.allclose(m.quad, np.c_[W - o.quad[:, 0], o.quad[:, 1]], atol=1e-4)  # x -> W - x (pixel corners)
        assert m.ignore


def test_text_leaving_the_frame_becomes_ignore_or_goes():
    img, inst = scene()
    far = [A.Affine(translate_percent={"x": (0.6, 0.6), "y": (0.6, 0.6)}, border_mode=REPLICATE, p=1)]
    _, moved, _ = augment(img, inst, Draws(0, 0), cfg_of(far))
    assert [m.ignore for m in moved] == [True, True]
    assert np.allclose(moved[0].quad, inst[0].quad + (0.6 * W, 0.6 * H), atol=1e-3)
    _, kept, _ = augment(img, inst, Draws(0, 0), cfg_of(far, out_of_frame="drop"))
    assert kept == []
    # half a word out: a char cut by the frame makes it don't-care, like our own ops
    part = [A.Affine(translate_px={"x": (-80, -80), "y": (0, 0)}, border_mode=REPLICATE, p=1)]
    _, moved, _ = augment(img, inst, Draws(0, 0), cfg_of(part))
    first = moved[0]
    assert first.quad[:, 0].min() < 0 < first.quad[:, 0].max() and first.ignore


def test_labels_in_bounds_over_a_pipeline():
    pipe = synthgen.load_pipeline("ocr_scene_narrow", **{"augment.albumentations": "example", "augment.strength": 1.0,
                                                         "image.width": 192, "image.height": 192})
    ran = set()
    for i in range(12):
        s = pipe.sample(i)
        ran |= {k.split("].")[-1] for k in s.factors if k.startswith("derived.aug.albu[")}
        for inst in s.instances:
            assert np.isfinite(inst.quad).all()
            if not inst.ignore:
                assert visible_fraction(inst.quad, 192, 192) >= pipe.cfg.augment.min_visible
                if inst.chars is not None and len(inst.chars) and not np.all((inst.quad >= 0) & (inst.quad <= 192)):
                    assert min(visible_fraction(c, 192, 192) for c in inst.chars) >= 0.75
    assert {"Affine", "Perspective", "RandomBrightnessContrast"} <= ran


# -- strength ----------------------------------------------------------------------------------
def test_strength_zero_is_the_identity():
    img, inst = scene()
    d = Draws(1, 0)
    out, moved, _ = augment(img, inst, d, cfg_of([A.Affine(rotate=(10, 20), p=1), A.GaussNoise(p=1)], 0.0))
    assert out is img and moved is inst and d.factors == {}
    a = synthgen.load_pipeline("ocr_line", **{"augment.strength": 0}).sample(3)
    b = synthgen.load_pipeline("ocr_line", **{"augment.strength": 0, "augment.albumentations": "example"}).sample(3)
    assert np.array_equal(a.image, b.image) and a.factors == b.factors


def test_strength_scales_each_chance_and_only_adds_transforms():
    img, inst = scene()
    t = lambda: [A.RandomBrightnessContrast(p=1.0), A.OneOf([A.MotionBlur(), A.GaussianBlur()], p=0.8)]  # noqa: E731
    fired = {}
    for s in (0.25, 0.5, 0.75):
        fired[s] = []
        for i in range(400):
            d = Draws(4, i)
            augment(img, inst, d, cfg_of(t(), s))
            fired[s].append({k.split("].")[-1] for k in d.factors if k.startswith("derived.")})
    for s, runs in fired.items():
        n = len(runs)
        k = sum("RandomBrightnessContrast" in r for r in runs)
        assert abs(k / n - s) < 4 * np.sqrt(s * (1 - s) / n), (s, k)  # chance p x s = s
        k = sum(bool(r & {"MotionBlur", "GaussianBlur"}) for r in runs)
        assert abs(k / n - 0.8 * s) < 4 * np.sqrt(0.8 * s * (1 - 0.8 * s) / n), (s, k)  # the OneOf's p x s
    # raising the strength only adds transforms: what ran at s runs at s' > s
    assert all(a <= b for a, b in zip(fired[0.25], fired[0.5])) and all(a <= b for a, b in zip(fired[0.5], fired[0.75]))


# -- pipelines, the Python API, replay ------------------------------------------------------------
def test_pipeline_same_bytes_twice_pickled_replayed_and_with_ink():
    over = {"augment.albumentations": "example", "augment.strength": 1.0, "image.width": 160, "image.height": 160}
    pipe = synthgen.load_pipeline("ocr_scene_narrow", **over)
    for i in (0, 5):
        a, b = pipe.sample(i), pipe.sample(i)
        c = pickle.loads(pickle.dumps(pipe)).sample(i)
        r = pipe.replay(i, json.loads(json.dumps(a.factors)))  # the factors as a shard's JSON holds them
        k = pipe.sample(i, debug_ink=True)  # the ink mask travels too; the image is the same
        for x in (b, c, r, k):
            assert np.array_equal(a.image, x.image)
            assert [q.quad.tobytes() for q in a.instances] == [q.quad.tobytes() for q in x.instances]
        assert a.factors == b.factors == c.factors
        assert "aug.albu.seed" in a.factors


def test_a_compose_passed_in_python_equals_its_file(tmp_path):
    """An A.Compose through the API is kept as A.to_dict and gives the very bytes of the same
    pipeline saved with A.save and named by path; its dataset name is short."""
    comp = A.Compose([A.Affine(rotate=(-8, 8), border_mode=REPLICATE, p=0.7), A.RandomGamma(p=0.6)])
    path = tmp_path / "mine.json"
    A.save(comp, str(path))
    small = {"image.width": 128, "image.height": 128, "augment.strength": 1.0}
    p1 = synthgen.load_pipeline("ocr_scene_narrow", **small, **{"augment.albumentations": comp})
    p2 = synthgen.load_pipeline("ocr_scene_narrow", **small, **{"augment.albumentations": str(path)})
    assert isinstance(p1.cfg.augment.albumentations, dict)
    assert "albumentations_compose-" in p1.name and len(p1.name) < 120
    p3 = pickle.loads(pickle.dumps(p1))
    for i in range(4):
        a, b, c = p1.sample(i), p2.sample(i), p3.sample(i)
        assert np.array_equal(a.image, b.image) and np.array_equal(a.image, c.image)
        assert a.factors == b.factors
    # a list of transforms works the same
    p4 = synthgen.load_pipeline("ocr_scene_narrow", **small, **{"augment.albumentations": list(comp.transforms)})
    assert np.array_equal(p4.sample(1).image, p1.sample(1).image)


def test_a_relative_file_travels_as_its_content_and_is_fingerprinted_by_it(tmp_path, monkeypatch):
    """A relative albumentations path was sent to workers as written, so a Ray worker (its own
    working directory) read another file or none; and the manifests' configs, the render
    fingerprint and the augment job's record held the path only, so an edited file at the same
    path was the same config. Now the driver embeds the file's content in what it sends and
    records. (The specs are caught at run/job.Job: no Ray, nothing rendered.)"""
    import yaml

    import synthgen.run.job as run_job
    from synthgen.augment import job as aug_job
    from synthgen.config import fingerprint, load_config

    src = tmp_path / "lines"
    synthgen.render("ocr_line", n=2, out=str(src), shard_size=2, workers=1, progress=False)
    driver, worker = tmp_path / "driver", tmp_path / "worker"
    driver.mkdir(), worker.mkdir()
    monkeypatch.chdir(driver)
    text = EXAMPLE.read_text()
    (driver / "mine.yaml").write_text(text)

    class Caught(Exception):
        pass

    seen = []

    def catch(kind, out, head, tasks, spec, **kw):
        seen.append((head, spec))
        raise Caught

    monkeypatch.setattr(run_job, "Job", catch)

    def specs():
        seen.clear()
        with pytest.raises(Caught):
            aug_job.augment_dataset(str(src), str(tmp_path / "aug"), 0.5, executor="serial",
                                    overrides={"augment.albumentations": "mine.yaml"}, progress=False)
        with pytest.raises(Caught):
            synthgen.render("ocr_line", n=2, out=str(tmp_path / "ren"), executor="serial", progress=False,
                            overrides={"augment.albumentations": "mine.yaml"})
        return seen[0], seen[1]

    (aug_head, aug_spec), (ren_head, ren_spec) = specs()
    content = yaml.safe_load(text)
    assert json.loads(aug_spec.cfg_json)["albumentations"] == content
    assert json.loads(ren_spec.config_json)["augment"]["albumentations"] == content
    assert aug_head["augment"]["config"]["albumentations"] == content
    assert ren_head["config"]["augment"]["albumentations"] == content
    # a worker elsewhere needs no file: it augments the same bytes as the driver
    first = aug_job.augment_one(aug_spec, 0)
    monkeypatch.chdir(worker)
    aug_job._cfg.cache_clear()
    albu_ops._SPECS.clear()
    assert aug_job.augment_one(aug_spec, 0) == first
    monkeypatch.chdir(driver)
    # the same path with other content is another config, whichever way it is named
    fp = fingerprint(load_config("ocr_line", {"augment.albumentations": "mine.yaml"})[0])
    (driver / "mine.yaml").write_text(text.replace("p: 0.6", "p: 0.55", 1))
    (aug_head2, _), (ren_head2, _) = specs()
    assert aug_head2["augment"]["config"] != aug_head["augment"]["config"]
    assert ren_head2["fingerprint"] != ren_head["fingerprint"] and ren_head2["config"] != ren_head["config"]
    assert fingerprint(load_config("ocr_line", {"augment.albumentations": "mine.yaml"})[0]) != fp
    assert ren_head2["name"] == ren_head["name"]  # names still say the file, as written


def test_factors_are_declared_and_the_seed_pinnable():
    pipe = synthgen.load_pipeline("ocr_scene_narrow", **{"augment.albumentations": "example",
                                                         "image.width": 128, "image.height": 128})
    space = pipe.factor_space()
    assert space["aug.albu.seed"].kind == "integer" and space["aug.albu.seed"].pinnable
    want = {f"derived.aug.albu.{c}" for c in ("Affine", "Perspective", "RandomBrightnessContrast", "MotionBlur",
                                              "GaussianBlur", "GaussNoise", "ImageCompression")}
    assert want <= set(space)
    a = pipe.sample(2, pinned={"aug.albu.seed": 12345})
    b = pipe.sample(2, pinned={"aug.albu.seed": 12345})
    assert np.array_equal(a.image, b.image) and a.factors["aug.albu.seed"] == 12345
    for k in a.factors:
        if k.startswith("derived.aug.albu["):
            assert any(s.matches(k) for s in space.values()), k
    with pytest.raises(UserError, match="aug.albu.seed"):
        pipe.sample(2, pinned={"aug.albu.seed": -1})
    # without the op the factors do not exist (a pin of one is refused)
    with pytest.raises(UserError, match="no such factor"):
        synthgen.load_pipeline("ocr_scene_narrow", **{"factors.pin": {"aug.albu.seed": 1}})


def test_unknown_augment_keys_are_still_refused():
    with pytest.raises(UserError, match="augment.albumentation: unknown key"):
        synthgen.load_pipeline("ocr_line", **{"augment.albumentation": "example"})


# -- bad input -------------------------------------------------------------------------------------
def _write(folder: Path, name: str, transforms: list[dict] | str) -> str:
    p = folder / name
    if isinstance(transforms, str):
        p.write_text(transforms)
    else:
        p.write_text(json.dumps({"__version__": "2.0.8", "transform": {
            "__class_fullname__": "Compose", "p": 1.0, "transforms": transforms}}))
    return str(p)


def _bad_files(tmp_path: Path) -> dict[str, tuple[str, str]]:
    return {
        "missing": (str(tmp_path / "nope.yaml"), "does not exist"),
        "malformed yaml": (_write(tmp_path, "broken.yaml", "transform: [\n  p: 1\n"), "malformed YAML"),
        "malformed json": (_write(tmp_path, "broken.json", '{"transform": '), "malformed JSON"),
        "not a pipeline": (_write(tmp_path, "list.yaml", "- 1\n- 2\n"), "not an albumentations pipeline"),
        "unknown transform": (_write(tmp_path, "unk.json", [{"__class_fullname__": "Affyne", "p": 1}]),
                              "unknown transform 'Affyne'"),
        "bad value": (_write(tmp_path, "p.json", [{"__class_fullname__": "Affine", "p": 3}]),
                      "less than or equal to 1"),
        "misspelt argument": (_write(tmp_path, "arg.json", [{"__class_fullname__": "Affine", "p": 1, "rotat": 5}]),
                              "no argument(s) 'rotat'"),
        "needs bboxes": (_write(tmp_path, "bb.json", [{"__class_fullname__": "BBoxSafeRandomCrop", "p": 1}]),
                         "does not run on synthgen's sample"),
        "changes the size": (_write(tmp_path, "r90.json", [{"__class_fullname__": "RandomRotate90", "p": 1}]),
                             "keeps the frame's size"),
        "changes the type": (_write(tmp_path, "norm.json", [{"__class_fullname__": "Normalize", "p": 1}]),
                             "float32"),
        "no keypoints": (_write(tmp_path, "tt.json", [{"__class_fullname__": "ToTensorV2", "p": 1}]),
                         "cannot move keypoints"),
        "distortion": (_write(tmp_path, "el.json", [{"__class_fullname__": "ElasticTransform", "p": 1}]),
                       "whole pixels"),
        "reflecting border": (_write(tmp_path, "refl.json", [{"__class_fullname__": "Rotate", "p": 1,
                                                              "border_mode": 4}]), "BORDER_REFLECT_101"),
        "one or other": (_write(tmp_path, "oo.json", [{"__class_fullname__": "OneOrOther", "p": 0.5, "transforms": [
            {"__class_fullname__": "Blur", "p": 1}, {"__class_fullname__": "GaussNoise", "p": 1}]}]), "use OneOf"),
        "unknown shipped name": ("exampel", "unknown name 'exampel'"),
        "leaves the shipped folder": ("../pipelines/x", "neither an albumentations file"),
    }


def test_bad_files_exit_2_in_one_line_naming_the_file(tmp_path, capsys):
    out = tmp_path / "out"
    for case, (value, needle) in _bad_files(tmp_path).items():
        rc = main(["render", "ocr_line", "--n", "2", "--out", str(out), "--set", f"augment.albumentations={value}"])
        err = capsys.readouterr().err.strip()
        assert rc == 2, case
        assert len(err.splitlines()) == 1 and "Traceback" not in err, (case, err)
        assert needle in err and "augment.albumentations" in err, (case, err)
        if value.endswith((".yaml", ".json")):
            assert value in err, (case, err)
        assert not out.exists(), case


def test_a_compose_that_cannot_be_serialised_is_one_line():
    with pytest.raises(UserError, match="cannot be serialised"):
        synthgen.load_pipeline("ocr_line", **{"augment.albumentations": A.Compose([A.Lambda(image=lambda x, **k: x)])})
    with pytest.raises(UserError, match="got int"):
        synthgen.load_pipeline("ocr_line", **{"augment.albumentations": 3})


def test_missing_albumentations_gives_the_install_hint(tmp_path, monkeypatch):
    path = _write(tmp_path, "ok.json", [{"__class_fullname__": "Blur", "p": 1}])
    monkeypatch.setitem(sys.modules, "albumentations", None)  # import albumentations -> ImportError
    monkeypatch.setattr(albu_ops, "_SPECS", {})
    with pytest.raises(UserError, match=r"pip install 'synthgen\[albumentations\]'"):
        synthgen.load_pipeline("ocr_line", **{"augment.albumentations": path})
    # and without the option nothing needs it
    synthgen.load_pipeline("ocr_line").sample(0)


# -- the audit ------------------------------------------------------------------------------------
def test_audit_tunes_a_pipeline_with_the_albumentations_op(tmp_path):
    from synthgen.audit import audit

    r = audit("ocr_line", n=10, grid=(0.0, 0.5, 1.0), steps=1, out=str(tmp_path / "a"), progress=False,
              overrides={"augment.albumentations": "example"})
    assert r["source"] == "ocr_line" and 0.0 <= r["tuned_strength"] <= 1.0
    assert {0.0, 0.5, 1.0} <= {c["strength"] for c in r["curve"]}
    assert (tmp_path / "a" / "audit.json").is_file() and (tmp_path / "a" / "curve.png").is_file()
