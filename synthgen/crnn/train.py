"""Training loop, evaluation and checkpoints of the demo CRNN.

Checkpoints are one `torch.save` dict of tensors and plain values (state dict, model config,
charset string, metadata), so `torch.load(path, weights_only=True)` reads them: no pickle of
code objects."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .charset import Charset
from .metrics import edit_distance  # noqa: F401 (CER; also this module's public name)
from .data import batch_from, line_text
from .model import CRNN, PRESETS, out_lengths


def make_model(charset: Charset, width: int = 1, hidden: int = 96, seed: int = 0, stem: str = "stride",
               **arch: Any) -> CRNN:
    """A fresh model whose initial weights depend on `seed` only: initialised inside a forked
    torch RNG state, so the caller's global torch state is neither used nor changed. `arch`:
    CRNN's channels / double / layers (see `preset_model` for the named sizes)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return CRNN(len(charset), width=width, hidden=hidden, stem=stem, **arch)


def preset_model(charset: Charset, size: str = "small", seed: int = 0, stem: str = "stride", **changes: Any) -> CRNN:
    """A fresh model of a named size (`model.PRESETS`: small = the demo, base = 2-8 M
    parameters); `changes` replace preset values (e.g. hidden=128)."""
    if size not in PRESETS:
        raise ValueError(f"size {size!r}: use one of {', '.join(PRESETS)}")
    kw = {**PRESETS[size], **{k: v for k, v in changes.items() if v is not None}}
    return make_model(charset, seed=seed, stem=stem, **kw)


def ctc_loss(model: CRNN, batch: dict[str, Any], device: str, reduction: str = "mean") -> torch.Tensor:
    logp = model(batch["x"].to(device, non_blocking=True)).float()  # B x T x C
    T = logp.shape[1]
    lengths = out_lengths(batch["widths"]).clamp(max=T)
    targets = batch["targets"] if str(device) == "cpu" else batch["targets"].to(device)
    return nn.functional.ctc_loss(logp.transpose(0, 1), targets, lengths, batch["target_lengths"],
                                  blank=0, reduction=reduction, zero_infinity=True)


def train(model: CRNN, batches: Iterator[dict[str, Any]], steps: int, lr: float = 3e-3, device: str = "cpu",
          log: Callable[[str], None] | None = print, log_every: int = 50, warmup: float = 0.15,
          clip: float = 5.0, amp: bool = False) -> list[float]:
    """`steps` AdamW steps with a one-cycle schedule (linear warmup over the first `warmup`
    share of the steps from lr/25 to `lr`, then cosine decay to lr/25e4), gradient norm
    clipped at `clip`; returns the loss per step. `amp` (CUDA only): float16 autocast with
    a gradient scaler (CTC and the log-softmax stay float32)."""
    model.to(device).train()
    amp = bool(amp) and str(device).startswith("cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    if warmup * steps <= 1:  # OneCycleLR divides by zero when its warmup ends at step 0
        warmup = 2 / steps if steps > 2 else 0.25
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=warmup)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    losses, t0, seen = [], time.monotonic(), 0
    for step in range(steps):
        batch = next(batches)
        with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
            loss = ctc_loss(model, batch, device)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        scaler.step(opt)
        scaler.update()
        sched.step()
        losses.append(float(loss.detach()))
        seen += len(batch["texts"])
        if log and ((step + 1) % log_every == 0 or step + 1 == steps):
            dt = time.monotonic() - t0
            log(f"step {step + 1}/{steps}  ctc {np.mean(losses[-log_every:]):.3f}  "
                f"{seen / dt:.0f} lines/s  {dt:.0f}s")
    model.eval()
    return losses


@torch.no_grad()
def predict(model: CRNN, charset: Charset, images: Sequence[np.ndarray], device: str = "cpu",
            batch_size: int = 64) -> list[str]:
    """Greedy transcriptions of RGB line crops (batched by similar width)."""
    model.eval()
    order = sorted(range(len(images)), key=lambda j: images[j].shape[1] * 32 / max(1, images[j].shape[0]))
    out: list[str] = [""] * len(images)
    for k in range(0, len(order), batch_size):
        idx = order[k : k + batch_size]
        b = batch_from([images[j] for j in idx], [""] * len(idx), charset)
        logp = model(b["x"].to(device))
        best = logp.argmax(-1).cpu()
        lengths = out_lengths(b["widths"]).clamp(max=best.shape[1])
        for j, row, n in zip(idx, best, lengths):
            out[j] = charset.decode_greedy(row[: int(n)].tolist())
    return out


def score(preds: Sequence[str], truths: Sequence[str]) -> dict[str, float]:
    """Line accuracy (exact match), error rate (1 - accuracy) and character error rate."""
    n = len(truths)
    if n == 0:  # an empty set has no rates (not 0% or 100%)
        return {"n": 0, "accuracy": float("nan"), "error_rate": float("nan"), "cer": float("nan")}
    right = sum(p == t for p, t in zip(preds, truths))
    edits = sum(edit_distance(p, t) for p, t in zip(preds, truths))
    chars = max(1, sum(len(t) for t in truths))
    return {"n": n, "accuracy": right / n, "error_rate": 1 - right / n, "cer": edits / chars}


def evaluate(model: CRNN, charset: Charset, samples: Iterable[Any], device: str = "cpu") -> dict[str, float]:
    """Score on `Sample`s or stored items (anything with .image/.instances or the item dict)."""
    images, truths = [], []
    for s in samples:
        if isinstance(s, dict):
            from .data import item_image

            images.append(item_image(s))
            truths.append(line_text(s["instances"]))
        else:
            images.append(s.image)
            truths.append(line_text(s.instances))
    return score(predict(model, charset, images, device), truths)


def save(path: str, model: CRNN, charset: Charset, meta: dict[str, Any] | None = None) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    tmp = path + ".partial"
    torch.save({"state_dict": state, "config": dict(model.config), "charset": charset.chars,
                "meta": dict(meta or {})}, tmp)
    os.replace(tmp, path)


def load(path: str, device: str = "cpu") -> tuple[CRNN, Charset, dict[str, Any]]:
    from ..errors import UserError

    if not os.path.exists(path):
        raise UserError(f"no CRNN checkpoint at {path!r}; train one first: python scripts/train_crnn.py --out "
                        f"{os.path.dirname(path) or '.'}")
    ck = torch.load(path, map_location=device, weights_only=True)
    charset = Charset(ck["charset"])
    cfg = dict(ck["config"])
    arch = {k: cfg[k] for k in ("channels", "double", "layers") if k in cfg}  # bigger sizes only
    model = CRNN(cfg["n_classes"], width=cfg["width"], hidden=cfg["hidden"], stem=cfg.get("stem", "pool"), **arch)
    model.load_state_dict(ck["state_dict"])
    return model.to(device).eval(), charset, ck.get("meta") or {}


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

