"""Checkpoints: `model.safetensors` (weights) + `config.json` (architecture, attribute, provenance)
in one folder. No pickle anywhere.

A training checkpoint (kind "genegan") holds the generator (`gen.*`), the critics and, when the
run keeps one, the moving average of the generator (`ema.*`), which is what inference loads;
`optim.safetensors` beside it holds the optimisers' state for `--resume`. A generator-only
checkpoint (kind "generator", what synthgen ships) holds the inference weights alone. A config
without `model.compose` (written before issue 25) is the reference GeneGAN ("none"); one without
`model.mask_input` has the mask head without its image branch. A corrupt, truncated or mismatched checkpoint is a one-line
`UserError` (the CLI exits 2), never a traceback or a half-loaded model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from ..errors import UserError
from .model import GeneGANConfig, Generator

FORMAT = "synthgen-genegan"
VERSION = 1
WEIGHTS, CONFIG, OPTIM = "model.safetensors", "config.json", "optim.safetensors"


def shipped() -> Path:
    """The glasses checkpoint shipped inside the package."""
    return Path(__file__).resolve().parent.parent / "data" / "gan" / "glasses"


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _optim_state(opt: Any, prefix: str) -> dict[str, torch.Tensor]:
    out = {}
    for idx, st in opt.state_dict()["state"].items():
        for name, v in st.items():
            out[f"{prefix}.{idx}.{name}"] = torch.as_tensor(v).detach().to("cpu").contiguous()
    return out


def save(folder: str | Path, model: Any, meta: dict | None = None, generator_only: bool = False,
         half: bool = False, attr: str = "glasses") -> Path:
    """Write `folder/model.safetensors` and `folder/config.json`. `model` is a Trainer, a GeneGAN
    or a Generator; generator_only drops the critics (what inference needs) and, from a Trainer,
    keeps the moving average of the generator. A full save of a Trainer also writes its moving
    average (ema.*) and `folder/optim.safetensors`."""
    from safetensors.torch import save as st_save

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    trainer = model if hasattr(model, "opt_g") else None
    net = getattr(model, "model", model)  # Trainer -> GeneGAN
    cfg = net.cfg
    if generator_only and hasattr(net, "gen"):
        net = trainer.inference_gen if trainer is not None else net.gen
    state = {k: v.detach().to("cpu").contiguous() for k, v in net.state_dict().items()}
    if trainer is not None and not generator_only and trainer.ema is not None:
        state.update({"ema." + k: v.detach().to("cpu").contiguous() for k, v in trainer.ema.state_dict().items()})
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    kind = "generator" if isinstance(net, Generator) else "genegan"
    conf = {"format": FORMAT, "version": VERSION, "kind": kind, "attr": attr, "model": cfg.to_json(),
            "dtype": "float16" if half else "float32", "meta": meta or {}}
    if kind == "genegan":
        conf["ema"] = trainer is not None and trainer.ema is not None
    if trainer is not None and not generator_only:
        opt = {**_optim_state(trainer.opt_g, "opt_g"), **_optim_state(trainer.opt_d, "opt_d")}
        _atomic_write(folder / OPTIM, st_save(opt))
    elif (folder / OPTIM).exists():
        (folder / OPTIM).unlink()  # a stale optimiser state must not resume other weights
    _atomic_write(folder / WEIGHTS, st_save(state))
    _atomic_write(folder / CONFIG, json.dumps(conf, indent=1).encode())
    return folder


def _paths(path: str | Path) -> tuple[Path, Path]:
    p = Path(path)
    folder = p.parent if p.suffix in (".safetensors", ".json") else p
    if not folder.is_dir():
        raise UserError(f"{p}: no such checkpoint folder (expected a folder with {CONFIG} and {WEIGHTS})")
    for f in (folder / CONFIG, folder / WEIGHTS):
        if not f.is_file():
            raise UserError(f"{folder}: checkpoint lacks {f.name}; point --ckpt at a folder written by 'synthgen gan train'")
    return folder / CONFIG, folder / WEIGHTS


def read_config(path: str | Path) -> dict:
    conf_path, _ = _paths(path)
    try:
        conf = json.loads(conf_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(f"{conf_path}: not valid JSON ({e}); the checkpoint is corrupt, retrain or re-copy it") from None
    if not isinstance(conf, dict) or conf.get("format") != FORMAT:
        raise UserError(f"{conf_path}: not a synthgen GeneGAN checkpoint config (format != {FORMAT!r})")
    if conf.get("version") != VERSION:
        raise UserError(f"{conf_path}: checkpoint version {conf.get('version')!r}, this synthgen reads {VERSION}")
    return conf


def load_generator(path: str | Path | None = None, device: str = "cpu") -> tuple[Generator, dict]:
    """The generator of a checkpoint (full or generator-only), in eval mode, float32 on `device`."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = shipped() if path is None else path
    conf = read_config(path)
    _, wpath = _paths(path)
    try:
        cfg = GeneGANConfig.from_json(conf.get("model") or {})
    except (TypeError, ValueError) as e:
        raise UserError(f"{path}: bad model settings in {CONFIG} ({e})") from None
    try:
        state = load_file(str(wpath), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise UserError(f"{wpath}: corrupt or truncated weights ({str(e).splitlines()[0][:120]}); "
                        "retrain or re-copy the checkpoint") from None
    if conf.get("kind") == "genegan":  # the moving average when the run kept one
        pre = "ema." if any(k.startswith("ema.") for k in state) else "gen."
        state = {k[len(pre):]: v for k, v in state.items() if k.startswith(pre)}
    gen = Generator(cfg)
    want = gen.state_dict()
    missing = sorted(set(want) - set(state))
    extra = sorted(set(state) - set(want))
    bad = sorted(k for k in set(want) & set(state) if tuple(want[k].shape) != tuple(state[k].shape))
    if missing or extra or bad:
        what = (f"missing {missing[:2]}" if missing else "") or (f"unexpected {extra[:2]}" if extra else "") \
            or f"shape mismatch in {bad[:2]}"
        raise UserError(f"{wpath}: weights do not match {CONFIG} ({what}); the two files are from different runs")
    gen.load_state_dict({k: v.float() for k, v in state.items()})
    if not all(torch.isfinite(p).all() for p in gen.parameters()):
        raise UserError(f"{wpath}: weights contain NaN or inf; the training run diverged, retrain")
    return gen.to(device).eval(), conf


def _load_optim(opt: Any, state: dict[str, torch.Tensor], prefix: str) -> None:
    want = opt.state_dict()
    st: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in state.items():
        if k.startswith(prefix + "."):
            _, idx, name = k.split(".", 2)
            st.setdefault(int(idx), {})[name] = v
    opt.load_state_dict({"state": st, "param_groups": want["param_groups"]})


def load_trainer(path: str | Path, trainer: Any) -> Any:
    """Load a full checkpoint (generator + critics, moving average, optimiser state when saved)
    into `trainer` to continue training. A masked checkpoint without the mask head's image branch
    resumes into a trainer with one (mask_input): the branch keeps its zero start, so the model
    continues exactly where it stopped, critics and optimiser state included (the branch's
    parameters come last in the generator, so the saved optimiser state still lines up)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    conf = read_config(path)
    folder, wpath = _paths(path)[1].parent, _paths(path)[1]
    if conf.get("kind") != "genegan":
        raise UserError(f"{path}: a generator-only checkpoint cannot resume training (it has no critics); "
                        "start a new run from its weights with --init")
    saved = conf.get("model", {}).get("compose", "none")
    if saved != trainer.cfg.compose:
        raise UserError(f"{path}: the checkpoint was trained with compose {saved!r}, this run asks for "
                        f"{trainer.cfg.compose!r}; resume with --compose {saved}")
    saved_mi = bool(conf.get("model", {}).get("mask_input", False))
    if saved_mi and not trainer.cfg.mask_input:
        raise UserError(f"{path}: the checkpoint's mask head reads the input image (mask_input); resume with --mask-input")
    added = ()
    if trainer.cfg.mask_input and not saved_mi:
        added = tuple(k for k in trainer.model.state_dict() if k.startswith("gen.dec.mask_image."))
    try:
        state = load_file(str(wpath), device="cpu")
        own = trainer.model.state_dict()
        ema = {k[4:]: v.float() for k, v in state.items() if k.startswith("ema.")}
        model = {k: v.float() for k, v in state.items() if not k.startswith("ema.")}
        model.update({k: own[k] for k in added})  # the new branch: its zero start
        trainer.model.load_state_dict(model)
        if trainer.ema is not None:
            if ema:
                own_ema = trainer.ema.state_dict()
                ema.update({k[4:]: own_ema[k[4:]] for k in added})
                trainer.ema.load_state_dict(ema)
            else:
                trainer.reset_ema()
        if (folder / OPTIM).is_file():
            opt = load_file(str(folder / OPTIM), device="cpu")
            _load_optim(trainer.opt_g, opt, "opt_g")
            _load_optim(trainer.opt_d, opt, "opt_d")
    except (SafetensorError, OSError, ValueError, RuntimeError, KeyError) as e:
        raise UserError(f"{wpath}: cannot resume from it ({str(e).splitlines()[0][:120]})") from None
    meta = conf.get("meta", {})
    trainer.steps = int(meta.get("steps", 0))
    trainer.seconds = float(meta.get("seconds", 0.0))
    return trainer


def warm_start(path: str | Path, trainer: Any) -> dict:
    """Start `trainer`'s generator from the inference weights of checkpoint `path` (any kind, any
    compose): every layer both have is copied; a layer only this run has (the mask head, when a
    reference checkpoint starts a masked run) keeps its initial value. The critics, the step count
    and the optimisers start fresh. Returns the source's config."""
    gen, conf = load_generator(path)
    src = gen.state_dict()
    own = trainer.model.gen.state_dict()
    bad = sorted(k for k in src if k in own and tuple(src[k].shape) != tuple(own[k].shape))
    if bad:
        raise UserError(f"{path}: --init weights do not fit this model ({bad[0]}: {tuple(src[bad[0]].shape)} vs "
                        f"{tuple(own[bad[0]].shape)}); give the same --widths and --u-channels")
    own.update({k: v for k, v in src.items() if k in own})
    trainer.model.gen.load_state_dict(own)
    trainer.reset_ema()
    return conf


def export(src: str | Path, dst: str | Path) -> Path:
    """A generator-only fp16 copy of checkpoint `src` (what synthgen ships and inference needs)."""
    gen, conf = load_generator(src)
    return save(dst, gen, meta=conf.get("meta", {}), generator_only=True, half=True, attr=conf.get("attr", "glasses"))
