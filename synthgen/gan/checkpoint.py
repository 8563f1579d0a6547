"""Checkpoints: `model.safetensors` (weights) + `config.json` (architecture, attribute, provenance)
in one folder. No pickle anywhere. A corrupt, truncated or mismatched checkpoint is a one-line
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
WEIGHTS, CONFIG = "model.safetensors", "config.json"


def shipped() -> Path:
    """The glasses checkpoint shipped inside the package."""
    return Path(__file__).resolve().parent.parent / "data" / "gan" / "glasses"


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save(folder: str | Path, model: Any, meta: dict | None = None, generator_only: bool = False,
         half: bool = False, attr: str = "glasses") -> Path:
    """Write `folder/model.safetensors` and `folder/config.json`. `model` is a Trainer, a GeneGAN
    or a Generator; generator_only drops the critics (what inference needs)."""
    from safetensors.torch import save as st_save

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    net = getattr(model, "model", model)  # Trainer -> GeneGAN
    cfg = net.cfg
    if generator_only and hasattr(net, "gen"):
        net = net.gen
    state = {k: v.detach().to("cpu").contiguous() for k, v in net.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    kind = "generator" if isinstance(net, Generator) else "genegan"
    conf = {"format": FORMAT, "version": VERSION, "kind": kind, "attr": attr, "model": cfg.to_json(),
            "dtype": "float16" if half else "float32", "meta": meta or {}}
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
    if conf.get("kind") == "genegan":
        state = {k[4:]: v for k, v in state.items() if k.startswith("gen.")}
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


def load_trainer(path: str | Path, trainer: Any) -> Any:
    """Load a full checkpoint (generator + critics) into `trainer.model` to continue training."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    conf = read_config(path)
    _, wpath = _paths(path)
    if conf.get("kind") != "genegan":
        raise UserError(f"{path}: a generator-only checkpoint cannot resume training (it has no critics)")
    try:
        state = load_file(str(wpath), device="cpu")
        trainer.model.load_state_dict({k: v.float() for k, v in state.items()})
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise UserError(f"{wpath}: cannot resume from it ({str(e).splitlines()[0][:120]})") from None
    trainer.steps = int(conf.get("meta", {}).get("steps", 0))
    return trainer


def export(src: str | Path, dst: str | Path) -> Path:
    """A generator-only fp16 copy of checkpoint `src` (what synthgen ships and inference needs)."""
    gen, conf = load_generator(src)
    return save(dst, gen, meta=conf.get("meta", {}), generator_only=True, half=True, attr=conf.get("attr", "glasses"))
