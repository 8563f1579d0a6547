"""albumentations pipelines as one more op of the augmentation stage (`augment.albumentations`).

The value is one of
- a file albumentations wrote (`A.save(transform, path, data_format="yaml" | "json")`; `.yaml`,
  `.yml` or `.json`; read as `A.load` reads it: `yaml.safe_load` / `json.load`, then
  `A.from_dict`), relative to the working directory like every other path of a config. Read on
  the driver: workers get its content, and manifests and fingerprints record it (`embedded`),
  so a Ray worker in another directory needs no copy and an edited file is another config;
- a shipped name (`example`: `synthgen/data/albumentations/example.yaml`), confined to that
  folder like a pipeline name to `pipelines/`;
- an `A.Compose`, a single transform or a list of transforms, passed through the Python API
  (`load_pipeline("ocr_scene", **{"augment.albumentations": A.Compose([...])})`): the config
  keeps its serialised form (`A.to_dict`), so it is fingerprinted, pickled and sent to workers
  like any other value.

It runs after synthgen's own ops, at the stage's `strength` s:
- **chance**: every transform's `p` is the chance at strength 1 (our ops' convention: chance =
  p x s). A transform's p becomes p x s, and so does a `OneOf`'s (its chosen transform runs
  forced, so its own p is the chance anything of it runs); the composes that run each of their
  transforms by its own p (`Compose`, `Sequential`, `SomeOf`, `RandomOrder`) keep theirs.
  `OneOrOther` always runs one of its two, so no strength can scale it: it is refused (use
  `OneOf`). Magnitudes are the file's own; s = 0 runs nothing.
- **randomness**: one factor, `aug.albu.seed` (a recorded, pinnable integer from the sample's
  draws), seeds albumentations; every transform and compose of the tree gets its own generators
  from (seed, its place in the tree), so one transform's chance and parameters never depend on
  whether another ran, and raising s only adds transforms. Same sample, same bytes; a replay
  pins the seed. Each applied transform's parameters, as albumentations reports them
  (`save_applied_params`), are recorded as `derived.aug.albu[j].<Transform>` (j: the order
  they ran in; a dict of its scalar and small-array parameters; the input shape and bulk
  arrays such as a noise map are left out).
- **labels**: word quads, char quads and 7 points along each quad edge travel as keypoints
  (`KeypointParams(format="xy", remove_invisible=False)`, in albumentations' convention:
  integer = pixel centre, so ours shift by half a pixel there and back, as the stage's own
  mapping does). A quad mostly out of the frame becomes `ignore` (or is dropped), exactly as
  after our geometric ops (stage.place_instances), and a quad grows to hold its bent edges
  (distortions). A quad whose corner order turned (a flip or transpose mirrored its text) keeps
  its mapped corners but becomes `ignore`: mirrored text does not read as its transcription.
  The ink mask (`debug_ink`, the audit) goes through as albumentations' `mask` (bilinear).

Refused when loaded, in one line naming the file and the fix: a missing or malformed file,
an unknown transform or argument, a transform that does not run on synthgen's sample (an
RGB uint8 image, keypoints, a mask: ones that need bboxes or metadata), that changes the
image's size or type, that drops keypoints or cannot move them, a distortion (Elastic,
Grid, Optical, PiecewiseAffine, ThinPlateSpline: albumentations 2.0 moves their keypoints to
whole pixels and clamps them into the frame; measured 1 to 2.5 px off the pixels) or
RandomGridShuffle, or a reflecting / wrapping border (it mirrors text into the frame with no
label).
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..core import Instance
from ..draws import Draws
from ..errors import UserError

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "albumentations"
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
KEY = "augment.albumentations"
INSTALL = "pip install 'synthgen[albumentations]' (albumentations 2.0.x)"
SEED = "aug.albu"  # factor aug.albu.seed
RECORD = "aug.albu"  # derived.aug.albu[j].<Transform>
SMALL = 16  # arrays of at most this many numbers are recorded (a 3 x 3 matrix); larger ones are not
# parameters albumentations reports that are not drawn: the input shape, the configured border
# and interpolation, the bbox copy of a matrix, the output shape
NOT_DRAWN = {"shape", "output_shape", "interpolation", "mask_interpolation", "fill", "fill_mask", "border_mode",
             "bbox_matrix", "matrix_bbox"}
BAD_BORDERS = {cv2.BORDER_REFLECT: "BORDER_REFLECT", cv2.BORDER_REFLECT_101: "BORDER_REFLECT_101",
               cv2.BORDER_WRAP: "BORDER_WRAP"}
PROBE_H, PROBE_W = 67, 101  # an odd frame: a transform that resizes to a fixed size shows it
PROBE_RUNS = 8  # forced runs with different seeds: a transform that only sometimes changes the size shows it


def albumentations():
    """The albumentations module (2.0.x), or a one-line error with the install hint."""
    try:
        import albumentations as A
    except ImportError:
        raise UserError(f"{KEY} needs albumentations, which is not installed: {INSTALL}") from None
    if not str(A.__version__).startswith("2.0."):
        raise UserError(f"{KEY} needs albumentations 2.0.x, found {A.__version__}: {INSTALL}")
    return A


def shipped() -> list[str]:
    return sorted(p.stem for p in SHIPPED.glob("*") if p.suffix in FORMATS)


# -- the config value ---------------------------------------------------------------------------
def normalise(value: Any) -> Any:
    """What the config keeps for `augment.albumentations`: None, a file path or shipped name
    (str, as written), or albumentations' serialised dict (a Compose, a transform or a list of
    transforms passed in Python become `A.to_dict(...)`). Raises UserError for anything else."""
    if value is None or isinstance(value, dict):
        if isinstance(value, dict) and "transform" not in value and "__class_fullname__" in value:
            value = {"transform": value}  # a bare transform dict (no A.to_dict wrapper)
        return value
    if isinstance(value, str):
        v = value.strip()
        if not v:
            raise UserError(f"{KEY}: empty; give an albumentations file (.yaml / .json) or a shipped name "
                            f"({', '.join(shipped())})")
        return v
    if isinstance(value, Path):
        return str(value)
    A = albumentations()
    if isinstance(value, (list, tuple)):
        if not all(isinstance(t, (A.BasicTransform, A.BaseCompose)) for t in value):
            raise UserError(f"{KEY}: a list must hold albumentations transforms only")
        value = A.Compose(list(value))
    if isinstance(value, (A.BasicTransform, A.BaseCompose)):
        try:
            return A.to_dict(value)
        except (ValueError, NotImplementedError, TypeError) as e:
            raise UserError(f"{KEY}: the transform passed in Python cannot be serialised ({_line(e)}); "
                            "synthgen keeps it as A.to_dict(...) to fingerprint it and send it to workers: "
                            "use transforms A.to_dict can write") from None
    raise UserError(f"{KEY}: got {type(value).__name__}; give an albumentations file (.yaml / .json), a shipped "
                    f"name ({', '.join(shipped())}), or an A.Compose / list of transforms in Python")


def describe(value: Any) -> str:
    """How errors name the value: the file, or the Compose passed in Python."""
    return value if isinstance(value, str) else "the transforms passed in Python"


def resolve(name: str) -> Path:
    """A path (.yaml / .yml / .json, must exist) or a shipped name (confined to the shipped folder)."""
    p = Path(name)
    if p.suffix.lower() in FORMATS:
        if not p.is_file():
            raise UserError(f"{KEY}: file {name!r} does not exist; give the path of a file albumentations wrote "
                            f"(A.save(transform, path, data_format='yaml')) or a shipped name ({', '.join(shipped())})")
        return p
    if p.is_absolute() or len(p.parts) != 1 or p.name in (".", ".."):
        raise UserError(f"{KEY}: {name!r} is neither an albumentations file (.yaml, .yml or .json) nor a shipped "
                        f"name ({', '.join(shipped())})")
    for suffix in FORMATS:
        cand = SHIPPED / f"{name}{suffix}"
        if cand.is_file():
            return cand
    raise UserError(f"{KEY}: unknown name {name!r}; shipped: {', '.join(shipped()) or 'none'} "
                    "(or give a path to a .yaml / .json file albumentations wrote)")


def _line(e: BaseException) -> str:
    s = " ".join(str(e).split())
    return s if len(s) <= 240 else s[:237] + "..."


def read(path: Path) -> dict[str, Any]:
    """The serialised dict in an albumentations file (what A.load reads)."""
    import yaml

    fmt = FORMATS[path.suffix.lower()]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{KEY}: {path}: cannot read: {_line(e)}") from None
    try:
        data = yaml.safe_load(text) if fmt == "yaml" else json.loads(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"{KEY}: {path}: malformed YAML{where}: {getattr(e, 'problem', None) or _line(e)}; "
                        "write it with A.save(transform, path, data_format='yaml')") from None
    except ValueError as e:
        raise UserError(f"{KEY}: {path}: malformed JSON: {_line(e)}; write it with A.save(transform, path)") from None
    if isinstance(data, dict) and "transform" not in data and "__class_fullname__" in data:
        data = {"transform": data}
    if not isinstance(data, dict) or not isinstance(data.get("transform"), dict):
        raise UserError(f"{KEY}: {path}: not an albumentations pipeline (expected a mapping with `transform:` "
                        "as A.save writes it)")
    return data


# -- building: what the value describes, checked once -----------------------------------------
def _nodes(t) -> list:
    """Every compose and transform of the tree, pre-order (the root first)."""
    out = [t]
    if isinstance(t, albumentations().BaseCompose):  # (ColorJitter has a `transforms` of its own)
        for c in t.transforms:
            out += _nodes(c)
    return out


def _build(serialised: dict[str, Any], source: str):
    """A.from_dict of the serialised dict, with every error in one line naming `source`."""
    A = albumentations()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown arguments are refused below, not warned
            t = A.from_dict(serialised)
    except KeyError as e:
        raise UserError(f"{KEY}: {source}: unknown transform {e.args[0]!r} in albumentations {A.__version__}; "
                        "check the spelling (`__class_fullname__`), e.g. Affine, RandomBrightnessContrast") from None
    except Exception as e:  # pydantic ValidationError (a bad argument value), TypeError (a wrong argument)
        raise UserError(f"{KEY}: {source}: {_line(e)}") from None
    if t is None or not isinstance(t, (A.BasicTransform, A.BaseCompose)):
        raise UserError(f"{KEY}: {source}: does not describe an albumentations transform")
    return t


def _check(tree, source: str) -> None:
    """Refuse what cannot keep the labels true (see the module docstring), in one line."""
    from albumentations.augmentations.geometric.distortion import BaseDistortion
    from albumentations.core.transforms_interface import DualTransform, ImageOnlyTransform

    A = albumentations()
    for t in _nodes(tree):
        name = type(t).__name__
        if isinstance(t, A.OneOrOther):
            raise UserError(f"{KEY}: {source}: OneOrOther always applies one of its two transforms, so strength "
                            "cannot scale it; use OneOf([...], p=...)")
        if isinstance(t, A.BaseCompose):
            continue
        # arguments the class does not take; albumentations' own A.save writes some for a few
        # classes (SafeRotate: Affine's), and those are accepted: a typo is not among them
        bad_args = [a for a in getattr(t, "invalid_args", None) or [] if a not in _emitted(t)]
        if bad_args:
            raise UserError(f"{KEY}: {source}: {name} has no argument(s) {', '.join(map(repr, bad_args))}; "
                            "see its documentation for the arguments albumentations 2.0 takes")
        border = getattr(t, "border_mode", None)
        if border in BAD_BORDERS:
            raise UserError(f"{KEY}: {source}: {name} border_mode {BAD_BORDERS[border]} mirrors text into the frame "
                            "with no label; use border_mode: 0 (BORDER_CONSTANT) or 1 (BORDER_REPLICATE)")
        if isinstance(t, BaseDistortion):
            raise UserError(f"{KEY}: {source}: {name} moves keypoints to whole pixels and clamps them into the frame "
                            "(albumentations 2.0's distortions), so quads would not follow the text; use synthgen's "
                            "own elastic op for bends (augment.ops.elastic)")
        if isinstance(t, A.RandomGridShuffle):
            raise UserError(f"{KEY}: {source}: RandomGridShuffle cuts text into shuffled tiles that no quad can "
                            "follow; remove it")
        if not isinstance(t, (ImageOnlyTransform, DualTransform)) or (
                isinstance(t, DualTransform) and type(t).apply_to_keypoints is DualTransform.apply_to_keypoints):
            raise UserError(f"{KEY}: {source}: {name} cannot move keypoints, so the labels could not follow it; "
                            "use transforms that support keypoints (albumentations' docs list their targets)")
        _probe(t, name, source)


def _emitted(t) -> set[str]:
    """The argument names albumentations' own serialisation writes for this transform."""
    try:
        return set(t.to_dict()["transform"])
    except Exception:
        return set()


def _probe(t, name: str, source: str) -> None:
    """Run one transform, forced, on a small synthgen-like sample: it must run, keep the frame's
    size and type, and keep every keypoint."""
    import copy

    A = albumentations()
    t = copy.deepcopy(t)
    t.p = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no transform to process keypoints" for a photometric one
        c = A.Compose([t], keypoint_params=A.KeypointParams(format="xy", remove_invisible=False), seed=0)
    yy, xx = np.mgrid[0:PROBE_H, 0:PROBE_W]
    img = np.stack([(xx * 5) % 256, (yy * 7) % 256, ((xx + yy) * 3) % 256], -1).astype(np.uint8)
    kp = np.array([[10.0, 10.0], [80.0, 12.0], [50.0, 33.0], [20.0, 55.0], [90.0, 60.0]], np.float32)
    for seed in range(PROBE_RUNS):  # with and without the ink mask (renders have none, the audit has one)
        c.set_random_seed(seed)
        data = {"image": img, "keypoints": kp}
        if seed % 2:
            data["mask"] = np.zeros((PROBE_H, PROBE_W), np.uint8)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = c(**data)
        except Exception as e:
            raise UserError(f"{KEY}: {source}: {name} does not run on synthgen's sample (an RGB image, keypoints, "
                            f"an optional mask; no bboxes or metadata): {type(e).__name__}: {_line(e)}") from None
        o = out["image"]
        if o.shape != img.shape or o.dtype != img.dtype:
            raise UserError(f"{KEY}: {source}: {name} turns a {PROBE_W}x{PROBE_H} uint8 RGB image into "
                            f"{o.shape[1] if o.ndim > 1 else '?'}x{o.shape[0]} {o.dtype} "
                            f"{'RGB' if o.ndim == 3 and o.shape[-1] == 3 else 'non-RGB'}; synthgen keeps the "
                            "frame's size and type (sizes follow the config): remove it or keep the size")
        if np.asarray(out["keypoints"]).shape[0] != kp.shape[0]:
            raise UserError(f"{KEY}: {source}: {name} removes keypoints (remove_invisible is off), so labels "
                            "would be lost; remove it")


class Spec:
    """A loaded, checked value: its serialised dict and the checked tree."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.source = describe(value)
        if isinstance(value, str):
            self.path = resolve(value)
            self.serialised = read(self.path)
        else:
            self.path = None
            self.serialised = value
        tree = _build(self.serialised, self.source)
        _check(tree, self.source)
        self.leaves = [t for t in _nodes(tree) if not isinstance(t, albumentations().BaseCompose)]

    def classes(self) -> list[str]:
        """The transforms that can run (p > 0), by class name, in tree order, each once."""
        return list(dict.fromkeys(type(t).__name__ for t in self.leaves if t.p > 0))


def _key(value: Any) -> str:
    if isinstance(value, str):
        p = Path(value)
        try:  # a file that changed is read again
            st = p.stat()
            return f"{value}\0{st.st_mtime_ns}\0{st.st_size}"
        except OSError:
            return value
    return json.dumps(value, sort_keys=True, default=str)


_SPECS: dict[str, Spec] = {}


def load(value: Any) -> Spec:
    """The checked spec of a config value (cached per value; a file per its mtime and size)."""
    k = _key(value)
    s = _SPECS.get(k)
    if s is None:
        if len(_SPECS) > 32:
            _SPECS.clear()
        s = _SPECS[k] = Spec(value)
    return s


def embedded(value: Any) -> Any:
    """The value as it is sent to workers and recorded: a file's path (relative to the driver's
    working directory, which a Ray worker does not share) becomes the file's serialised content,
    read here on the driver, so every worker runs the very transforms the driver checked and an
    edited file at the same path is another config; a shipped name (inside the package), a dict
    or None are kept."""
    if isinstance(value, str) and Path(value).suffix.lower() in FORMATS:
        return load(value).serialised
    return value


def short_name(value: Any) -> str:
    """A short stand-in for a serialised Compose in dataset names."""
    return "compose-" + hashlib.sha256(_key(value).encode()).hexdigest()[:8]


# -- running ------------------------------------------------------------------------------------
def _scaled(spec: Spec, strength: float):
    """A fresh Compose of the spec's transforms with every chance scaled (module docstring),
    keypoints and a bilinear mask; (compose, its nodes pre-order)."""
    A = albumentations()
    tree = _build(spec.serialised, spec.source)
    for t in _nodes(tree):
        if isinstance(t, A.BasicTransform) or isinstance(t, A.OneOf):
            t.p = min(1.0, float(t.p) * strength)
    if isinstance(tree, A.Compose):
        transforms, p = list(tree.transforms), float(tree.p)
    else:
        transforms, p = [tree], 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no transform to process keypoints" when all are photometric
        comp = A.Compose(transforms, p=p, keypoint_params=A.KeypointParams(format="xy", remove_invisible=False),
                         mask_interpolation=cv2.INTER_LINEAR, save_applied_params=True, seed=0)
    return comp, _nodes(comp)


_LOCAL = threading.local()  # composes hold per-call state (generators, params): one per thread


def compose_for(value: Any, strength: float):
    cache = getattr(_LOCAL, "cache", None)
    if cache is None:
        cache = _LOCAL.cache = {}
    k = (_key(value), round(float(strength), 9))
    hit = cache.get(k)
    if hit is None:
        if len(cache) > 16:
            cache.clear()
        hit = cache[k] = _scaled(load(value), float(strength))
    return hit


def reseed(nodes: list, seed: int) -> None:
    """Own generators for every node: (seed, its place in the tree). Parents first: a compose
    hands its generators down, then each child takes its own."""
    for k, t in enumerate(nodes):
        t.set_random_state(np.random.default_rng([seed, k]), random.Random(f"synthgen/albu/{seed}/{k}"))


def plain(v: Any) -> Any:
    """A parameter as a JSON value; None for what is not recorded (bulk arrays, objects)."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, np.ndarray):
        return v.tolist() if v.size <= SMALL and v.dtype.kind in "biuf" else None
    if isinstance(v, (list, tuple)):
        if len(v) > SMALL:
            return None
        out = [plain(x) for x in v]
        return None if any(x is None for x in out) else out
    if isinstance(v, dict):
        out = {str(k): plain(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x is not None}
    return None


def record(d: Draws, applied: list) -> None:
    for j, (name, params) in enumerate(applied):
        p = {k: plain(v) for k, v in params.items() if k not in NOT_DRAWN}
        d.derive(f"{RECORD}[{j}].{name}", {k: v for k, v in p.items() if v is not None})


def _signed_area(q: np.ndarray) -> float:
    x, y = q[:, 0].astype(np.float64), q[:, 1].astype(np.float64)
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def apply(value: Any, image: np.ndarray, instances: list[Instance], ink: np.ndarray | None, d: Draws,
          strength: float, cfg: Any) -> tuple[np.ndarray, list[Instance], np.ndarray | None]:
    """The op: (image, instances, ink) after the albumentations pipeline at `strength`."""
    from .stage import _edge_samples, place_instances

    comp, nodes = compose_for(value, strength)
    reseed(nodes, d.seed_for(SEED))
    H, W = image.shape[:2]
    parts = [inst.quad.reshape(-1, 2) for inst in instances] + [
        inst.chars.reshape(-1, 2) for inst in instances if inst.chars is not None and len(inst.chars)]
    parts += [_edge_samples(inst.quad) for inst in instances]
    pts = np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, 2))
    data: dict[str, Any] = {"image": image, "keypoints": (pts - 0.5).astype(np.float32)}
    if ink is not None:
        data["mask"] = ink
    try:
        out = comp(**data)
    except Exception as e:
        raise UserError(f"{KEY}: {describe(value)}: failed on a {W}x{H} image: "
                        f"{type(e).__name__}: {_line(e)}") from None
    img = out["image"]
    if img.shape != image.shape or img.dtype != image.dtype:
        raise UserError(f"{KEY}: {describe(value)}: turned a {W}x{H} image into {img.shape[1]}x{img.shape[0]} "
                        f"{img.dtype}; synthgen keeps the frame's size and type: remove that transform")
    record(d, out.get("applied_transforms") or [])
    moved = np.asarray(out["keypoints"], np.float64)[:, :2] + 0.5
    if moved.shape != pts.shape:
        raise UserError(f"{KEY}: {describe(value)}: {len(pts) - len(moved)} keypoints were removed; remove the "
                        "transform that drops keypoints")
    new_ink = out.get("mask") if ink is not None else None
    if not instances or np.array_equal(np.asarray(out["keypoints"], np.float32), data["keypoints"]):
        return img, instances, new_ink  # nothing moved: the labels stay exactly as they were
    n_main = sum(4 + (4 * len(i.chars) if i.chars is not None and len(i.chars) else 0) for i in instances)
    main, edges = moved[:n_main].astype(np.float32), moved[n_main:]
    mirrored = []
    for j, inst in enumerate(instances):
        a0, a1 = _signed_area(np.asarray(inst.quad).reshape(4, 2)), _signed_area(main[4 * j: 4 * j + 4])
        mirrored.append(abs(a0) > 1e-6 and abs(a1) > 1e-6 and (a0 > 0) != (a1 > 0))
    return img, place_instances(instances, main, edges, W, H, cfg, mirrored=mirrored), new_ink


def declare(cat, value: Any) -> None:
    """The factors `apply` records: the seed, and one derived entry per transform that can run."""
    from ..factors import SEED_MAX

    cat.integers(f"{SEED}.seed", 0, SEED_MAX, src=KEY)  # what Draws.seed_for draws (Catalogue.seed, with its key)
    for name in load(value).classes():
        cat.derived(f"{RECORD}[*].{name}")
